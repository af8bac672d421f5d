//! What `srsd` does, and `srsrelay` through it: load the settings, set up
//! logging, then hand over to the library's supervisor.

use std::ffi::OsString;
use std::sync::Arc;
use std::time::Duration;

use crate::cli::srsd::{LogTo, SrsdCli};
use crate::daemon::notify::Notifier;
use crate::daemon::signals::{OsSignals, Signals};
use crate::daemon::{background, supervise};
use crate::exit::Exit;

/// Runs the daemon with `args` (the program name first) as program `prog`,
/// and gives its exit status.
pub fn main(args: Vec<OsString>, prog: &'static str) -> Exit {
    let cli = match SrsdCli::load(&args) {
        Ok(cli) => cli,
        Err(e) => return crate::cli::srsd::report_load_error(prog, &e),
    };
    if cli.check_config {
        return cli.check_and_report(prog);
    }
    if background::is_detached_copy() {
        background::detach();
    } else if cli.background {
        return background::start_logged(
            prog,
            &args,
            cli.log == LogTo::Stderr,
            Duration::from_secs(30),
        );
    }
    // Before any thread: a SIGHUP from now on waits for the handler.
    let signals = match OsSignals::block() {
        Ok(s) => Signals::Os(s),
        Err(e) => {
            eprintln!("{prog}: cannot block signals: {e}");
            return Exit::Software;
        }
    };
    if let Err(e) = crate::log::init_for(
        prog,
        cli.log == LogTo::Syslog,
        cli.log_level.into(),
        &cli.syslog_socket,
    ) {
        eprintln!(
            "{prog}: cannot connect to syslog at {}: {e}",
            cli.syslog_socket.display()
        );
        return Exit::Unavailable;
    }
    let (state, warnings) = match cli.prepare() {
        Ok(prepared) => prepared,
        Err(e) => {
            log::error!("{e}");
            return Exit::Config;
        }
    };
    warnings.iter().for_each(|w| log::warn!("{w}"));
    if cli.listeners().iter().any(|l| l.protocol.relays()) {
        report_keys(&cli);
    }
    crate::daemon::raise_open_files_limit();
    let (plan, clock) = (cli.plan(), cli.clock());
    let reload = Arc::new(move || cli.reload(&args));
    match supervise::supervise(
        plan,
        state,
        reload,
        clock,
        signals,
        Arc::new(Notifier::from_env()),
    ) {
        Ok(()) => {
            log::info!("stopped");
            Exit::Ok
        }
        Err(e) => {
            log::error!("{e}");
            e.exit()
        }
    }
}

/// How many keys the keys file holds in how many lines, as srsrelay has
/// always said at start; more than two (one, and a second during a
/// rotation) is warned about: each extra key is another chance for a
/// forger's guess.
fn report_keys(cli: &SrsdCli) {
    let Some(path) = &cli.codec.secret_file else {
        return;
    };
    let Ok(file) = crate::secrets::read_file(path, crate::secrets::LineEnds::Strip) else {
        return;
    };
    let lines = std::fs::read(path)
        .map(|b| b.split(|&c| c == b'\n').filter(|l| !l.is_empty()).count())
        .unwrap_or(0);
    let keys = file.secrets.0.len();
    log::info!("{keys} key(s) in {lines} line(s) of {}", path.display());
    if keys > 2 {
        log::warn!(
            "{} holds {keys} keys: one is normal, two during a rotation; each more gives a forger another chance",
            path.display()
        );
    }
}
