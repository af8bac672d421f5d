//! `srs-forwarder` and `srs-reverser`: the pipe helpers' options.

use std::ffi::OsString;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser};

use super::CodecArgs;
use crate::reinject::Sendmail;

/// Options both helpers share.
#[derive(Args, Debug, PartialEq, Eq)]
pub struct Common {
    /// Read keys and codec options from srsd's configuration file (its domain is the alias)
    #[arg(short, long, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// The sendmail program that re-injects the message
    #[arg(long, value_name = "PATH", default_value = "/usr/sbin/sendmail")]
    pub sendmail: PathBuf,

    /// An argument for sendmail before -i -f SENDER -- RECIPIENT... (repeatable)
    #[arg(long, value_name = "ARG", allow_hyphen_values = true)]
    pub sendmail_option: Vec<OsString>,

    /// Seconds sendmail may take before it is killed and the message deferred
    #[arg(long, value_name = "SECONDS", default_value_t = 600)]
    pub timeout: u64,

    /// The envelope sender [default: $SENDER, then the message's Return-Path: or mbox From line]
    #[arg(long, value_name = "ADDRESS")]
    pub sender: Option<String>,

    /// Check the configuration, the keys and sendmail, print every problem, and exit 0 or 78; no message is read
    #[arg(short = 't', long)]
    pub check_config: bool,

    /// Codec and secrets
    #[command(flatten)]
    pub codec: CodecArgs,
}

impl Common {
    /// The codec from the keys and options (`our_domain` counts as local),
    /// with what the postmaster should be warned about.
    pub fn srs(
        &self,
        our_domain: Option<&str>,
    ) -> Result<(crate::Srs, Vec<super::codec::Warning>), super::codec::SetupError> {
        let (secrets, warnings) = self
            .codec
            .secrets()?
            .ok_or(super::codec::SetupError::NoSecret)?;
        let mut codec = self.codec.clone();
        codec.local_domain.extend(our_domain.map(str::to_owned));
        Ok((codec.build(&secrets)?, warnings))
    }

    /// What `--check-config` finds wrong: the keys and codec options, and
    /// the sendmail program, each problem once.
    pub fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        if let Err(e) = self.srs(None) {
            problems.push(e.to_string());
        }
        let sendmail = &self.sendmail;
        match std::fs::metadata(sendmail) {
            Err(e) => problems.push(format!("sendmail program {}: {e}", sendmail.display())),
            Ok(m) if !m.is_file() => problems.push(format!(
                "sendmail program {}: not a regular file",
                sendmail.display()
            )),
            Ok(_) => {
                if let Err(e) =
                    nix::unistd::access(sendmail.as_path(), nix::unistd::AccessFlags::X_OK)
                {
                    problems.push(format!(
                        "sendmail program {}: cannot be run: {}",
                        sendmail.display(),
                        e.desc()
                    ));
                }
            }
        }
        problems
    }

    /// `--check-config` as the helper `prog` runs it: every problem, and
    /// `problems` found before, on its own line and 78; or
    /// "configuration OK" and 0.
    pub fn check_and_report(&self, prog: &str, mut problems: Vec<String>) -> crate::exit::Exit {
        problems.extend(self.problems());
        super::report_problems(prog, &problems)
    }

    /// How to call sendmail.
    pub fn sendmail(&self) -> Sendmail {
        Sendmail {
            program: self.sendmail.clone(),
            options: self.sendmail_option.clone(),
            timeout: Duration::from_secs(self.timeout.max(1)),
        }
    }
}

/// Forward a message read on standard input to RECIPIENT... through sendmail,
/// with the envelope sender rewritten by SRS.
///
/// For Courier aliases, .forward and .qmail files:
/// `| /usr/bin/srs-forwarder --config /etc/mail-srs/srsd.conf dest@example.com`.
/// Exits 75 (try again later) whenever the message could not be handed on.
#[derive(Parser, Debug, PartialEq, Eq)]
#[command(
    name = "srs-forwarder",
    version,
    help_expected = true,
    max_term_width = 100
)]
pub struct ForwarderCli {
    /// The SRS domain [default: the configuration's domain, then $HOST]
    #[arg(short, long, value_name = "DOMAIN", value_parser = super::parse_domain)]
    pub alias: Option<String>,

    /// Where the message goes
    #[arg(value_name = "RECIPIENT", required_unless_present = "check_config")]
    pub recipients: Vec<String>,

    /// Shared options
    #[command(flatten)]
    pub common: Common,
}

/// Deliver a bounce addressed to an SRS address to the original sender.
///
/// For .courier-srs0-default, .qmail-srs0-default or a .forward of an SRS
/// mailbox. The SRS recipient comes from --recipient or the MTA's environment;
/// a forged, expired or malformed address is refused with exit 67.
#[derive(Parser, Debug, PartialEq, Eq)]
// What only shapes new addresses means nothing to a reverse: hidden from
// --help, still accepted (srsd.conf may set it for srsd).
#[command(
    name = "srs-reverser",
    version,
    help_expected = true,
    max_term_width = 100,
    mut_arg("separator", |a| a.hide(true)),
    mut_arg("hash_length", |a| a.hide(true)),
    mut_arg("hash_alphabet", |a| a.hide(true)),
    mut_arg("always_rewrite", |a| a.hide(true))
)]
pub struct ReverserCli {
    /// The SRS recipient [default: $ORIGINAL_RECIPIENT, $RECIPIENT, then $LOCAL@$HOST]
    #[arg(short, long, value_name = "ADDRESS")]
    pub recipient: Option<String>,

    /// Your SRS domain: a result at it is reversed again
    #[arg(short, long, value_name = "DOMAIN", value_parser = super::parse_domain)]
    pub alias: Option<String>,

    /// Drop a message to an invalid SRS address with a log line (exit 0) instead of refusing it (exit 67)
    #[arg(long)]
    pub drop_invalid: bool,

    /// Shared options
    #[command(flatten)]
    pub common: Common,
}

/// Parses a helper's command line, reading `--config` the way srsd reads
/// its file: `domain` is the helper's `alias`, and srsd's own keys are skipped.
pub fn load<P: clap::CommandFactory + clap::FromArgMatches>(
    args: &[OsString],
) -> Result<P, crate::config::LoadError> {
    crate::config::load(
        args,
        &crate::config::Reading {
            renames: &[("domain", "alias")],
            elsewhere: &super::config_keys(),
            chroot: None,
        },
    )
}

/// A message on one line, as Courier and qmail log standard error line by
/// line: clap's usage and hints are dropped, the rest is joined.
pub fn one_line(message: &str) -> String {
    let text = message.split("Usage:").next().unwrap_or_default();
    let text = text
        .split("For more information")
        .next()
        .unwrap_or_default();
    let joined = text.split_whitespace().collect::<Vec<_>>().join(" ");
    joined.strip_prefix("error: ").unwrap_or(&joined).to_owned()
}

/// Parses a helper's command line for program `prog`: help and version are
/// printed (exit 0); any other problem is one line on stderr and exit 75, so
/// a mistake in an alias line leaves mail queued instead of bouncing it
/// (78 under `--check-config`).
pub fn parse<P: clap::CommandFactory + clap::FromArgMatches>(
    args: &[OsString],
    prog: &str,
) -> Result<P, crate::exit::Exit> {
    match load(args) {
        Ok(cli) => Ok(cli),
        Err(crate::config::LoadError::Usage(e)) if !e.use_stderr() => {
            let _ = e.print();
            Err(crate::exit::Exit::Ok)
        }
        Err(e) => {
            eprintln!("{prog}: {}", one_line(&e.to_string()));
            // A check is asked by a person, not an MTA: 78, as srsd's.
            let checking = args
                .iter()
                .take_while(|a| *a != "--")
                .any(|a| a == "-t" || a == "--check-config");
            Err(if checking {
                crate::exit::Exit::Config
            } else {
                crate::exit::Exit::TempFail
            })
        }
    }
}
