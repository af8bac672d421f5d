//! Running a daemon whole: listeners (bound here or passed by systemd),
//! socket ownership, the pid file, giving up root, readiness and reload
//! notification, reload on a signal, and a bounded drain at stop. Each
//! protocol plugs in through [`crate::protocol::Protocol`]; nothing here knows
//! one from another. The binary parses options and calls [`supervise`]; tests
//! call it too, with a signal channel.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use thiserror::Error;
use tokio::sync::{mpsc, watch};

use super::notify::Notifier;
use super::signals::{Signal, Signals};
use super::{
    Bound, Limits, ListenSpec, Listener, Shared, State, activation, listen, pidfile, privdrop,
};
use crate::clock::Clock;
use crate::exit::Exit;

/// How long a reload may take to read its files (a hung network mount).
pub const RELOAD_LIMIT: Duration = Duration::from_secs(10);

/// Reads everything a reload replaces: the state and the warnings to log,
/// or one message saying why the running state stays. Runs on a blocking
/// thread.
pub type Reload = Arc<dyn Fn() -> Result<(State, Vec<String>), String> + Send + Sync>;

/// Everything the supervisor does around serving, from the options.
#[derive(Clone, Debug, Default)]
pub struct Plan {
    /// Listeners to bind, unless systemd passed sockets.
    pub listen: Vec<ListenSpec>,
    /// Mode of the Unix sockets bound here.
    pub socket_mode: u32,
    /// Owner of the Unix sockets bound here.
    pub socket_owner: Option<String>,
    /// Group of the Unix sockets bound here.
    pub socket_group: Option<String>,
    /// Where to write the process ID.
    pub pid_file: Option<PathBuf>,
    /// The user to become once the sockets are bound.
    pub user: Option<String>,
    /// The group to become once the sockets are bound.
    pub group: Option<String>,
    /// The directory to change root to once the sockets are bound.
    pub chroot: Option<PathBuf>,
    /// Limits on clients, and the protocols' settings.
    pub limits: Limits,
}

/// Why the daemon did not start, or stopped on its own.
#[derive(Debug, Error)]
pub enum SuperviseError {
    /// Sockets from systemd or an owner or group that cannot be used.
    #[error("{0}")]
    Config(String),
    /// A listener could not be bound.
    #[error("cannot listen on {spec}: {source}")]
    Listen {
        /// The listener, as `--listen` gave it.
        spec: String,
        /// The operating system's reason.
        source: io::Error,
    },
    /// The pid file could not be written.
    #[error("cannot write pid file {}: {source}", path.display())]
    PidFile {
        /// The pid file's path.
        path: PathBuf,
        /// The reason it could not be written.
        source: io::Error,
    },
    /// Root could not be given up.
    #[error(transparent)]
    Privileges(#[from] privdrop::PrivError),
    /// The runtime or the signal thread could not start.
    #[error("cannot start: {0}")]
    Start(io::Error),
    /// Serving failed for good (a listener or the reaper thread).
    #[error("stopped: {0}")]
    Serving(io::Error),
}

impl SuperviseError {
    /// The exit status for the service manager.
    pub fn exit(&self) -> Exit {
        match self {
            SuperviseError::Config(_) | SuperviseError::Privileges(_) => Exit::Config,
            SuperviseError::Listen { .. } | SuperviseError::Serving(_) => Exit::Unavailable,
            SuperviseError::PidFile { .. } => Exit::CantCreate,
            SuperviseError::Start(_) => Exit::Software,
        }
    }
}

/// Runs the daemon until a stop signal (or a failure): binds the listeners
/// of `plan` (or takes systemd's), writes the pid file, gives up root, then
/// serves `state` on a current-thread runtime. Reload signals call `reload`
/// off the serving thread; a stop drains within the drain time, then the
/// sockets and the pid file are removed.
pub fn supervise(
    plan: Plan,
    state: State,
    reload: Reload,
    clock: Arc<dyn Clock>,
    signals: Signals,
    notifier: Arc<Notifier>,
) -> Result<(), SuperviseError> {
    let (mut listeners, names) = listeners(&plan)?;
    if let Some(path) = &plan.pid_file {
        pidfile::write(path).map_err(|source| SuperviseError::PidFile {
            path: path.clone(),
            source,
        })?;
    }
    let database = state.database.clone();
    if let Some(db) = &database {
        // A database file srsd made as root goes to the user it runs as.
        for path in db.created_files() {
            privdrop::chown_path(&path, plan.user.as_deref(), plan.group.as_deref())?;
        }
    }
    privdrop::drop_privileges(
        plan.user.as_deref(),
        plan.group.as_deref(),
        plan.chroot.as_deref(),
    )?;
    if let (Some(db), Some(user), None) = (&database, &plan.user, &plan.chroot) {
        db.check_writable().map_err(|e| {
            SuperviseError::Config(format!("{e} (as user {user}, which srsd runs as)"))
        })?;
    }
    // From here on, paths are seen from inside the chroot.
    let pid_file = match (&plan.chroot, &plan.pid_file) {
        (Some(root), Some(path)) => seen_inside(root, path, "pid file"),
        (None, path) => path.clone(),
        (_, None) => None,
    };
    if let Some(root) = &plan.chroot {
        for l in &mut listeners {
            if let Bound::Unix(_, path @ Some(_)) = &mut l.bound {
                *path = path.take().and_then(|p| seen_inside(root, &p, "socket"));
            }
        }
    }
    let signals = match signals {
        Signals::Os(os) => os.start().map_err(SuperviseError::Start)?,
        Signals::Channel(rx) => rx,
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(SuperviseError::Start)?;
    let shared = Shared::new(state, clock.now());
    let result = runtime.block_on(async {
        let (stop, stopped) = watch::channel(false);
        let handler = tokio::spawn(handle_signals(
            signals,
            reload,
            shared.clone(),
            stop,
            notifier.clone(),
        ));
        log::info!(
            "serving {} on {} (mail-srs {})",
            shared.load().domain,
            names.join(", "),
            env!("CARGO_PKG_VERSION")
        );
        notifier.send("READY=1\nSTATUS=serving");
        let result = super::run(listeners, shared, clock, plan.limits, stopped).await;
        handler.abort();
        result
    });
    // A reload stuck on a hung file must not hold the exit.
    runtime.shutdown_timeout(Duration::from_secs(1));
    if let Some(path) = pid_file
        && let Err(e) = std::fs::remove_file(&path)
    {
        log::warn!("cannot remove pid file {}: {e}", path.display());
    }
    result.map_err(SuperviseError::Serving)
}

/// `path`, named from outside the chroot `root`, as seen inside it; `None`,
/// with a warning that the file will be left at exit, when it is outside.
fn seen_inside(root: &Path, path: &Path, what: &str) -> Option<PathBuf> {
    match crate::files::inside_chroot(root, path) {
        Ok(p) => Some(p),
        Err(e) => {
            log::warn!("{what} will be left behind at exit: {e}");
            None
        }
    }
}

/// The listeners systemd passed, or those of the plan bound now, with their
/// names for the log (a TCP port 0 is named with the port it got).
fn listeners(plan: &Plan) -> Result<(Vec<Listener>, Vec<String>), SuperviseError> {
    match activation::listeners() {
        Ok(Some(ls)) => {
            let names = ls
                .iter()
                .map(|l| format!("{} (from systemd)", l.protocol.name()))
                .collect();
            return Ok((ls, names));
        }
        Ok(None) => {}
        Err(e) => return Err(SuperviseError::Config(e.to_string())),
    }
    let mut listeners = Vec::new();
    let mut names = Vec::new();
    for spec in &plan.listen {
        let bound = listen::bind(&spec.address, Some(plan.socket_mode)).map_err(|source| {
            SuperviseError::Listen {
                spec: spec.to_string(),
                source,
            }
        })?;
        if let Bound::Unix(_, Some(path)) = &bound {
            privdrop::chown_path(
                path,
                plan.socket_owner.as_deref(),
                plan.socket_group.as_deref(),
            )?;
        }
        // A TCP port 0 is named with the port it got.
        names.push(match &bound {
            Bound::Tcp(l) => l.local_addr().map_or_else(
                |_| spec.to_string(),
                |addr| format!("{}=inet:{addr}", spec.protocol.name()),
            ),
            Bound::Unix(..) => spec.to_string(),
        });
        listeners.push(Listener {
            protocol: spec.protocol,
            bound,
        });
    }
    Ok((listeners, names))
}

/// Reloads on [`Signal::Reload`] (off the serving thread, one at a time,
/// within [`RELOAD_LIMIT`]); turns [`Signal::Stop`], or the end of the
/// signals, into the stop of the daemon.
async fn handle_signals(
    mut signals: mpsc::Receiver<Signal>,
    reload: Reload,
    shared: Shared,
    stop: watch::Sender<bool>,
    notifier: Arc<Notifier>,
) {
    let busy = Arc::new(AtomicBool::new(false));
    while let Some(signal) = signals.recv().await {
        match signal {
            Signal::Stop => break,
            Signal::Reload if busy.swap(true, Ordering::AcqRel) => {
                log::warn!("a reload is still running; this one is ignored");
            }
            Signal::Reload => {
                notifier.reloading();
                let (reload, shared, notifier, busy) = (
                    reload.clone(),
                    shared.clone(),
                    notifier.clone(),
                    busy.clone(),
                );
                tokio::spawn(async move {
                    let job = tokio::task::spawn_blocking(move || reload());
                    match tokio::time::timeout(RELOAD_LIMIT, job).await {
                        Ok(Ok(Ok((state, notes)))) => {
                            notes.iter().for_each(|n| log::warn!("{n}"));
                            shared.replace(state);
                            shared.metrics().reload(true);
                            log::info!("reloaded");
                        }
                        Ok(Ok(Err(e))) => {
                            shared.metrics().reload(false);
                            log::error!("{e}")
                        }
                        Ok(Err(e)) => {
                            shared.metrics().reload(false);
                            log::error!("reload failed, keeping the previous settings: {e}")
                        }
                        Err(_) => {
                            shared.metrics().reload(false);
                            log::error!(
                                "reload failed, keeping the previous settings: its files were not read within {} s (a hung mount?)",
                                RELOAD_LIMIT.as_secs()
                            )
                        }
                    }
                    notifier.send("READY=1");
                    busy.store(false, Ordering::Release);
                });
            }
        }
    }
    log::info!("stopping");
    notifier.send("STOPPING=1");
    let _ = stop.send(true);
}
