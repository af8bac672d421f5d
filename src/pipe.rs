//! What `srs-forwarder` and `srs-reverser` do with the message the MTA pipes
//! to them: find the envelope, rewrite it, and hand the message to sendmail.
//! Anything that keeps a message from being handed on is "try again later"
//! (exit 75), so the MTA keeps it; each problem is one line on stderr, which
//! Courier and qmail log.

use std::io;
use std::time::SystemTime;

use crate::cli::pipe_helpers::{Common, ForwarderCli, ReverserCli};
use crate::engine::{Answer, NotRewritten, Rewriter};
use crate::envelope::{self, Head};
use crate::exit::Exit;
use crate::reinject::reinject;
use crate::srs::{Form, Srs, overlong_local_part};

/// Says `message` on stderr as `prog` and gives exit 75: the MTA keeps the
/// message and tries again.
fn defer(prog: &str, message: impl std::fmt::Display) -> Exit {
    eprintln!("{prog}: {message}");
    Exit::TempFail
}

/// The codec from the helper's options, with its warnings said on stderr.
fn codec(prog: &str, common: &Common, our_domain: Option<&str>) -> Result<Srs, Exit> {
    match common.srs(our_domain) {
        Ok((srs, warnings)) => {
            warnings
                .iter()
                .for_each(|w| eprintln!("{prog}: warning: {w}"));
            Ok(srs)
        }
        Err(e) => Err(defer(prog, e)),
    }
}

/// The address database of the helper's options: failures defer the
/// message (exit 75).
fn database(
    prog: &str,
    common: &Common,
) -> Result<Option<(crate::database::Database, crate::engine::StoreWhen)>, Exit> {
    common.codec.database().map_err(|e| defer(prog, e))
}

/// Hands the message (its read `head`, then the rest of stdin) to sendmail.
fn hand_on(prog: &str, common: &Common, sender: &str, recipients: &[String], head: Head) -> Exit {
    match reinject(
        &common.sendmail(),
        sender,
        recipients,
        head.bytes,
        Box::new(io::stdin()),
    ) {
        Ok(()) => Exit::Ok,
        Err(e) => {
            eprintln!("{prog}: {e}");
            e.exit()
        }
    }
}

/// `srs-forwarder`: the message on stdin goes to the recipients with its
/// envelope sender rewritten into SRS (the null and local senders stay).
pub fn forward(cli: &ForwarderCli) -> Exit {
    const PROG: &str = "srs-forwarder";
    let alias = cli.alias.clone().or_else(|| std::env::var("HOST").ok());
    if cli.common.check_config {
        let no_alias = alias
            .is_none()
            .then(|| "no SRS domain: give --alias, domain in --config, or set HOST".to_owned());
        return cli
            .common
            .check_and_report(PROG, no_alias.into_iter().collect());
    }
    let Some(alias) = alias else {
        return defer(
            PROG,
            "no SRS domain: give --alias, domain in --config, or set HOST",
        );
    };
    let srs = match codec(PROG, &cli.common, None) {
        Ok(srs) => srs,
        Err(exit) => return exit,
    };
    let head = match Head::read(&mut io::stdin().lock()) {
        Ok(h) => h,
        Err(e) => return defer(PROG, format!("cannot read the message: {e}")),
    };
    let Some(sender) = envelope::sender(cli.common.sender.as_deref(), &head) else {
        return defer(
            PROG,
            "cannot tell the envelope sender: set SENDER or give --sender",
        );
    };
    let new_sender = if sender.is_empty() || sender == "<>" {
        String::new()
    } else {
        let db = match database(PROG, &cli.common) {
            Ok(db) => db,
            Err(exit) => return exit,
        };
        let mut lookup = Rewriter::new(&srs, &alias, SystemTime::now());
        lookup.store = db
            .as_ref()
            .map(|(db, when)| crate::engine::Store::new(db, *when, &srs));
        match lookup.forward(&sender, &alias, Form::External) {
            Answer::Found(a) => {
                if let Some(len) = overlong_local_part(&a) {
                    eprintln!(
                        "{PROG}: warning: {a}: local part is {len} characters, over the 64 of RFC 5321"
                    );
                }
                a
            }
            Answer::NotFound(NotRewritten::Forward(e)) => {
                eprintln!("{PROG}: warning: sender {sender:?} kept as it is: {e}");
                sender
            }
            Answer::NotFound(_) => sender,
            Answer::TempFail(why) => return defer(PROG, why),
        }
    };
    hand_on(PROG, &cli.common, &new_sender, &cli.recipients, head)
}

/// `srs-reverser`: a bounce to an SRS address goes to the original sender,
/// keeping its null sender. An address that does not check out is refused
/// (exit 67), or with `--drop-invalid` read, dropped and logged.
pub fn reverse(cli: &ReverserCli) -> Exit {
    const PROG: &str = "srs-reverser";
    if cli.common.check_config {
        return cli.common.check_and_report(PROG, Vec::new());
    }
    let Some(recipient) = envelope::recipient(cli.recipient.as_deref()) else {
        return defer(PROG, "no SRS recipient: give --recipient or set RECIPIENT");
    };
    let srs = match codec(PROG, &cli.common, cli.alias.as_deref()) {
        Ok(srs) => srs,
        Err(exit) => return exit,
    };
    let original = match srs.reverse_in(Form::Internal, &recipient, SystemTime::now()) {
        // The address carries a key of the address database.
        Ok(key) if crate::database::is_key(&key) => {
            let db = match database(PROG, &cli.common) {
                Ok(Some((db, _))) => db,
                Ok(None) => {
                    return defer(
                        PROG,
                        format!(
                            "{recipient} carries a database key: configure the database that holds it"
                        ),
                    );
                }
                Err(exit) => return exit,
            };
            match db.fetch(&key, SystemTime::now()) {
                Ok(Some(sender)) => sender,
                Ok(None) => {
                    eprintln!("{PROG}: {recipient}: database key not found (expired?)");
                    return Exit::NoUser;
                }
                Err(e) => return defer(PROG, e),
            }
        }
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
    let head = match Head::read(&mut io::stdin().lock()) {
        Ok(h) => h,
        Err(e) => return defer(PROG, format!("cannot read the message: {e}")),
    };
    // A bounce has the null sender and keeps it.
    let sender = envelope::sender(cli.common.sender.as_deref(), &head).unwrap_or_default();
    let sender = if sender == "<>" {
        String::new()
    } else {
        sender
    };
    hand_on(PROG, &cli.common, &sender, &[original], head)
}
