//! `srsd`: the SRS daemon for Postfix, sendmail and Exim.

use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};

use clap::Parser;
use mail_srs::cli::srsd::Cli;
use mail_srs::clock::{Clock, FixedClock, SystemClock};
use mail_srs::daemon::{self, Listener, Shared};
use mail_srs::exit::Exit;
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::watch;

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                Exit::Usage
            } else {
                Exit::Ok
            }
            .into();
        }
    };
    mail_srs::log::init("srsd", cli.log_level.into());
    run(cli).into()
}

fn run(cli: Cli) -> Exit {
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
    let mut listeners = Vec::new();
    for spec in cli.listeners() {
        match daemon::listen::bind(&spec.address, Some(cli.socket_mode.unwrap_or(0o666))) {
            Ok(bound) => listeners.push(Listener {
                protocol: spec.protocol,
                bound,
            }),
            Err(e) => {
                log::error!("cannot listen on {spec}: {e}");
                return Exit::Unavailable;
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
    let names: Vec<String> = cli.listeners().iter().map(ToString::to_string).collect();
    let result = runtime.block_on(async {
        let (stop, stopped) = watch::channel(false);
        let signals = tokio::spawn(handle_signals(cli, shared.clone(), stop));
        log::info!("serving {} on {}", shared.load().domain, names.join(", "));
        let result = daemon::run(listeners, shared, clock, limits, stopped).await;
        signals.abort();
        result
    });
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

/// SIGHUP reloads the keys and local domains (a broken file keeps the old
/// state); SIGTERM and SIGINT stop the daemon.
async fn handle_signals(cli: Cli, shared: Shared, stop: watch::Sender<bool>) {
    let (Ok(mut hup), Ok(mut term), Ok(mut int)) = (
        signal(SignalKind::hangup()),
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) else {
        log::error!("cannot install signal handlers");
        let _ = stop.send(true);
        return;
    };
    loop {
        tokio::select! {
            _ = hup.recv() => match cli.state() {
                Ok((state, warnings)) => {
                    warnings.iter().for_each(|w| log::warn!("{w}"));
                    shared.replace(state);
                    log::info!("reloaded");
                }
                Err(e) => log::error!("reload failed, keeping the previous keys: {e}"),
            },
            _ = term.recv() => break,
            _ = int.recv() => break,
        }
    }
    log::info!("stopping");
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
