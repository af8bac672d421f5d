//! `srsd`: the SRS daemon for Postfix, sendmail and Exim. Parses the options
//! and logging, then hands over to the library's supervisor.

use std::ffi::OsString;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use mail_srs::cli::srsd::{Cli, LogTo};
use mail_srs::daemon::notify::Notifier;
use mail_srs::daemon::signals::{OsSignals, Signals};
use mail_srs::daemon::{background, supervise};
use mail_srs::exit::Exit;

fn main() -> ExitCode {
    let args: Vec<OsString> = std::env::args_os().collect();
    let cli = match Cli::load(&args) {
        Ok(cli) => cli,
        Err(e) => return mail_srs::cli::srsd::report_load_error(&e).into(),
    };
    if cli.check_config {
        return cli.check_and_report().into();
    }
    if cli.background {
        return background::start_logged(&args, cli.log == LogTo::Stderr, Duration::from_secs(30))
            .into();
    }
    if std::env::var_os(background::CHILD_ENV).is_some() {
        background::detach();
    }
    // Before any thread: a SIGHUP from now on waits for the handler.
    let signals = match OsSignals::block() {
        Ok(s) => Signals::Os(s),
        Err(e) => {
            eprintln!("srsd: cannot block signals: {e}");
            return Exit::Software.into();
        }
    };
    if let Err(e) = mail_srs::log::init_for(
        "srsd",
        cli.log == LogTo::Syslog,
        cli.log_level.into(),
        &cli.syslog_socket,
    ) {
        eprintln!(
            "srsd: cannot connect to syslog at {}: {e}",
            cli.syslog_socket.display()
        );
        return Exit::Unavailable.into();
    }
    let (state, warnings) = match cli.prepare() {
        Ok(prepared) => prepared,
        Err(e) => {
            log::error!("{e}");
            return Exit::Config.into();
        }
    };
    warnings.iter().for_each(|w| log::warn!("{w}"));
    mail_srs::daemon::raise_open_files_limit();
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
    .into()
}
