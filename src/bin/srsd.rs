//! `srsd`: the SRS daemon for Postfix, sendmail and Exim.
//!
//! Start-up order: settings and keys (fail fast, exit 78), logging (syslog is
//! connected before any chroot), listeners from systemd or bound here, socket
//! ownership and pid file, privileges given up, and only then the runtime and
//! its threads.

use std::ffi::OsString;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};

use mail_srs::cli::srsd::{Cli, LoadError, LogTo};
use mail_srs::clock::{Clock, FixedClock, SystemClock};
use mail_srs::daemon::notify::Notifier;
use mail_srs::daemon::{self, Bound, Listener, Shared, activation, background, privdrop};
use mail_srs::exit::Exit;
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::watch;

fn main() -> ExitCode {
    let args: Vec<OsString> = std::env::args_os().collect();
    let cli = match Cli::load(&args) {
        Ok(cli) => cli,
        Err(LoadError::Usage(e)) => return mail_srs::cli::report(&e).into(),
        Err(e @ LoadError::File(_)) => {
            eprintln!("srsd: {e}");
            return Exit::Config.into();
        }
    };
    if cli.background {
        return start_in_background(&cli, &args).into();
    }
    if std::env::var_os(background::CHILD_ENV).is_some() {
        background::detach();
    }
    match cli.log {
        LogTo::Stderr => mail_srs::log::init("srsd", cli.log_level.into()),
        LogTo::Syslog => {
            if let Err(e) =
                mail_srs::log::init_syslog("srsd", cli.log_level.into(), &cli.syslog_socket)
            {
                eprintln!(
                    "srsd: cannot connect to syslog at {}: {e}",
                    cli.syslog_socket.display()
                );
                return Exit::Unavailable.into();
            }
        }
    }
    run(cli, args).into()
}

/// Runs srsd detached and returns once it serves (or failed to start).
fn start_in_background(cli: &Cli, args: &[OsString]) -> Exit {
    if cli.log == LogTo::Stderr {
        eprintln!(
            "srsd: warning: in the background, log messages go to this terminal for as long as it exists; use --log syslog"
        );
    }
    match background::start(args, Duration::from_secs(30)) {
        Ok(background::Started::Ready(pid)) => {
            eprintln!("srsd: running in the background as process {pid}");
            Exit::Ok
        }
        Ok(background::Started::Exited(code)) => match code.and_then(|c| u8::try_from(c).ok()) {
            Some(78) => Exit::Config,
            Some(64) => Exit::Usage,
            Some(73) => Exit::CantCreate,
            _ => Exit::Unavailable,
        },
        Err(e) => {
            eprintln!("srsd: cannot start in the background: {e}");
            Exit::Unavailable
        }
    }
}

fn run(cli: Cli, args: Vec<OsString>) -> Exit {
    let notifier = Arc::new(Notifier::from_env());
    match cli
        .check()
        .and_then(|w| cli.check_chroot_paths().map(|()| w))
    {
        Ok(warnings) => warnings.iter().for_each(|w| log::warn!("{w}")),
        Err(e) => {
            log::error!("{e}");
            return Exit::Config;
        }
    }
    let state = match cli.state() {
        Ok((state, warnings)) => {
            warnings.iter().for_each(|w| log::warn!("{w}"));
            state
        }
        Err(e) => {
            log::error!("{e}");
            return Exit::Config;
        }
    };
    raise_open_files_limit();
    let (mut listeners, names) = match listeners(&cli) {
        Ok(l) => l,
        Err(exit) => return exit,
    };
    if let Some(path) = &cli.pid_file
        && let Err(e) = daemon::pidfile::write(path)
    {
        log::error!("cannot write pid file {}: {e}", path.display());
        return Exit::CantCreate;
    }
    if let Err(e) = privdrop::drop_privileges(
        cli.user.as_deref(),
        cli.group.as_deref(),
        cli.chroot.as_deref(),
    ) {
        log::error!("{e}");
        return Exit::Config;
    }
    // From here on, paths are seen from inside the chroot.
    let pid_file = match (&cli.chroot, &cli.pid_file) {
        (Some(root), Some(path)) => seen_inside(root, path, "pid file"),
        (None, path) => path.clone(),
        (_, None) => None,
    };
    if let Some(root) = &cli.chroot {
        for l in &mut listeners {
            if let Bound::Unix(_, path @ Some(_)) = &mut l.bound {
                *path = path.take().and_then(|p| seen_inside(root, &p, "socket"));
            }
        }
    }
    let clock: Arc<dyn Clock> = match cli.now {
        Some(s) => Arc::new(FixedClock(UNIX_EPOCH + Duration::from_secs(s))),
        None => Arc::new(SystemClock),
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            log::error!("cannot start the runtime: {e}");
            return Exit::Software;
        }
    };
    let shared = Shared::new(state);
    let limits = cli.limits();
    let result = runtime.block_on(async {
        let (stop, stopped) = watch::channel(false);
        // Install the handlers before announcing readiness: until then a
        // SIGHUP would take its default action and end the daemon.
        let (Ok(hup), Ok(term), Ok(int)) = (
            signal(SignalKind::hangup()),
            signal(SignalKind::terminate()),
            signal(SignalKind::interrupt()),
        ) else {
            return Err(std::io::Error::other("cannot install signal handlers"));
        };
        let signals = tokio::spawn(handle_signals(
            [hup, term, int],
            cli,
            args,
            shared.clone(),
            stop,
            notifier.clone(),
        ));
        log::info!("serving {} on {}", shared.load().domain, names.join(", "));
        notifier.send("READY=1\nSTATUS=serving");
        let result = daemon::run(listeners, shared, clock, limits, stopped).await;
        signals.abort();
        result
    });
    // A reload stuck on a hung file must not hold the exit.
    runtime.shutdown_timeout(Duration::from_secs(1));
    if let Some(path) = pid_file
        && let Err(e) = std::fs::remove_file(&path)
    {
        log::warn!("cannot remove pid file {}: {e}", path.display());
    }
    match result {
        Ok(()) => {
            log::info!("stopped");
            Exit::Ok
        }
        Err(e) => {
            log::error!("stopped: {e}");
            Exit::Unavailable
        }
    }
}

/// `path`, named from outside the chroot `root`, as seen inside it; `None`,
/// with a warning that the file will be left at exit, when it is outside.
fn seen_inside(
    root: &std::path::Path,
    path: &std::path::Path,
    what: &str,
) -> Option<std::path::PathBuf> {
    match privdrop::inside(root, path) {
        Ok(p) => Some(p),
        Err(e) => {
            log::warn!("{what} will be left behind at exit: {e}");
            None
        }
    }
}

/// The listeners systemd passed, or those of `--listen` bound now, with
/// their names for the log.
fn listeners(cli: &Cli) -> Result<(Vec<Listener>, Vec<String>), Exit> {
    match activation::listeners() {
        Ok(Some(ls)) => {
            let names = ls
                .iter()
                .map(|l| format!("{} (from systemd)", l.protocol.name()))
                .collect();
            return Ok((ls, names));
        }
        Ok(None) => {}
        Err(e) => {
            log::error!("{e}");
            return Err(Exit::Config);
        }
    }
    let mut listeners = Vec::new();
    let mut names = Vec::new();
    for spec in cli.listeners() {
        let bound =
            match daemon::listen::bind(&spec.address, Some(cli.socket_mode.unwrap_or(0o666))) {
                Ok(b) => b,
                Err(e) => {
                    log::error!("cannot listen on {spec}: {e}");
                    return Err(Exit::Unavailable);
                }
            };
        if let Bound::Unix(_, Some(path)) = &bound
            && let Err(e) = privdrop::chown_path(
                path,
                cli.socket_owner.as_deref(),
                cli.socket_group.as_deref(),
            )
        {
            log::error!("{e}");
            return Err(Exit::Config);
        }
        names.push(spec.to_string());
        listeners.push(Listener {
            protocol: spec.protocol,
            bound,
        });
    }
    Ok((listeners, names))
}

/// How long a reload may take to read its files (a hung network mount).
const RELOAD_LIMIT: Duration = Duration::from_secs(10);

/// SIGHUP reloads the configuration file, keys and local domains (anything
/// broken keeps the old state); SIGTERM and SIGINT stop the daemon. A reload
/// reads its files on a blocking thread under [`RELOAD_LIMIT`], so serving
/// never waits for it, and a stop is never held up by it.
async fn handle_signals(
    [mut hup, mut term, mut int]: [tokio::signal::unix::Signal; 3],
    cli: Cli,
    args: Vec<OsString>,
    shared: Shared,
    stop: watch::Sender<bool>,
    notifier: Arc<Notifier>,
) {
    let running = Arc::new((cli, args));
    let busy = Arc::new(std::sync::atomic::AtomicBool::new(false));
    loop {
        tokio::select! {
            _ = hup.recv() => {
                if busy.swap(true, std::sync::atomic::Ordering::AcqRel) {
                    log::warn!("a reload is still running; this SIGHUP is ignored");
                    continue;
                }
                notifier.reloading();
                let (running, shared, notifier, busy) =
                    (running.clone(), shared.clone(), notifier.clone(), busy.clone());
                tokio::spawn(async move {
                    let job = tokio::task::spawn_blocking({
                        let running = running.clone();
                        move || running.0.reload(&running.1)
                    });
                    match tokio::time::timeout(RELOAD_LIMIT, job).await {
                        Ok(Ok(Ok((state, notes)))) => {
                            notes.iter().for_each(|n| log::warn!("{n}"));
                            shared.replace(state);
                            log::info!("reloaded");
                        }
                        Ok(Ok(Err(e))) => log::error!("{e}"),
                        Ok(Err(e)) => log::error!("reload failed, keeping the previous settings: {e}"),
                        Err(_) => log::error!(
                            "reload failed, keeping the previous settings: its files were not read within {} s (a hung mount?)",
                            RELOAD_LIMIT.as_secs()
                        ),
                    }
                    notifier.send("READY=1");
                    busy.store(false, std::sync::atomic::Ordering::Release);
                });
            }
            _ = term.recv() => break,
            _ = int.recv() => break,
        }
    }
    log::info!("stopping");
    notifier.send("STOPPING=1");
    let _ = stop.send(true);
}

/// Lets the daemon hold as many connections as the hard limit allows.
fn raise_open_files_limit() {
    use nix::sys::resource::{Resource, getrlimit, setrlimit};
    if let Ok((soft, hard)) = getrlimit(Resource::RLIMIT_NOFILE)
        && soft < hard
        && setrlimit(Resource::RLIMIT_NOFILE, hard, hard).is_err()
    {
        log::warn!("cannot raise the open files limit from {soft}");
    }
}
