//! `srs-forwarder RECIPIENT...`: re-inject the message on stdin with an SRS sender.

use std::ffi::OsString;
use std::io;
use std::process::ExitCode;
use std::time::SystemTime;

use mail_srs::cli::helpers::{ForwarderCli, parse};
use mail_srs::envelope::{self, Head};
use mail_srs::exit::Exit;
use mail_srs::reinject::reinject;
use mail_srs::srs::{Form, Forwarded, overlong_local_part};

const PROG: &str = "srs-forwarder";

fn main() -> ExitCode {
    let args: Vec<OsString> = std::env::args_os().collect();
    run(&args).into()
}

/// Anything that is not the message's fault leaves it queued: exit 75.
fn defer(message: impl std::fmt::Display) -> Exit {
    eprintln!("{PROG}: {message}");
    Exit::TempFail
}

fn run(args: &[OsString]) -> Exit {
    let cli: ForwarderCli = match parse(args, PROG) {
        Ok(cli) => cli,
        Err(exit) => return exit,
    };
    let Some(alias) = cli.alias.clone().or_else(|| std::env::var("HOST").ok()) else {
        return defer("no SRS domain: give --alias, domain in --config, or set HOST");
    };
    let srs = match cli.common.srs(None) {
        Ok((srs, warnings)) => {
            warnings
                .iter()
                .for_each(|w| eprintln!("{PROG}: warning: {w}"));
            srs
        }
        Err(e) => return defer(e),
    };
    let mut stdin = io::stdin().lock();
    let head = match Head::read(&mut stdin) {
        Ok(h) => h,
        Err(e) => return defer(format!("cannot read the message: {e}")),
    };
    let Some(sender) = envelope::sender(cli.common.sender.as_deref(), &head) else {
        return defer("cannot tell the envelope sender: set SENDER or give --sender");
    };
    let new_sender = if sender.is_empty() || sender == "<>" {
        String::new()
    } else {
        match srs.forward_in(Form::External, &sender, &alias, SystemTime::now()) {
            Ok(Forwarded::Rewritten(a)) => {
                if let Some(len) = overlong_local_part(&a) {
                    eprintln!(
                        "{PROG}: warning: {a}: local part is {len} characters, over the 64 of RFC 5321"
                    );
                }
                a
            }
            Ok(Forwarded::Unchanged(_)) => sender,
            Err(e) => {
                eprintln!("{PROG}: warning: sender {sender:?} kept as it is: {e}");
                sender
            }
        }
    };
    drop(stdin);
    match reinject(
        &cli.common.sendmail(),
        &new_sender,
        &cli.recipients,
        head.bytes,
        Box::new(io::stdin()),
    ) {
        Ok(()) => Exit::Ok,
        Err(e) => {
            eprintln!("{PROG}: {e}");
            e.exit()
        }
    }
}
