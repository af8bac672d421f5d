//! `srs-reverser`: deliver a bounce sent to an SRS address to the original sender.

use std::ffi::OsString;
use std::io;
use std::process::ExitCode;
use std::time::SystemTime;

use mail_srs::cli::helpers::{ReverserCli, parse};
use mail_srs::envelope::{self, Head};
use mail_srs::exit::Exit;
use mail_srs::reinject::reinject;
use mail_srs::srs::Form;

const PROG: &str = "srs-reverser";

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
    let cli: ReverserCli = match parse(args, PROG) {
        Ok(cli) => cli,
        Err(exit) => return exit,
    };
    let Some(recipient) = envelope::recipient(cli.recipient.as_deref()) else {
        return defer("no SRS recipient: give --recipient or set RECIPIENT");
    };
    let srs = match cli.common.srs(cli.alias.as_deref()) {
        Ok((srs, warnings)) => {
            warnings
                .iter()
                .for_each(|w| eprintln!("{PROG}: warning: {w}"));
            srs
        }
        Err(e) => return defer(e),
    };
    let original = match srs.reverse_in(Form::Internal, &recipient, SystemTime::now()) {
        Ok(a) => a,
        Err(e) if cli.drop_invalid => {
            eprintln!("{PROG}: dropped a message to {recipient}: {e}");
            // Read the message so the MTA sees it taken.
            let _ = io::copy(&mut io::stdin().lock(), &mut io::sink());
            return Exit::Ok;
        }
        Err(e) => {
            eprintln!("{PROG}: {recipient}: {e}");
            return Exit::NoUser;
        }
    };
    let mut stdin = io::stdin().lock();
    let head = match Head::read(&mut stdin) {
        Ok(h) => h,
        Err(e) => return defer(format!("cannot read the message: {e}")),
    };
    // A bounce has the null sender and keeps it.
    let sender = envelope::sender(cli.common.sender.as_deref(), &head).unwrap_or_default();
    let sender = if sender == "<>" {
        String::new()
    } else {
        sender
    };
    drop(stdin);
    match reinject(
        &cli.common.sendmail(),
        &sender,
        &[original],
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
