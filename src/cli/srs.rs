//! `srs`: forward and reverse addresses, make and rotate secrets.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

use super::CodecArgs;

/// Examples, the Perl form and the exit codes, after the options.
const AFTER_HELP: &str = "\
Examples:
  srs keygen --rotate /etc/postfix/srs-keys
  srs -k /etc/postfix/srs-keys forward --alias fwd.example alice@origin.example
  srs -k /etc/postfix/srs-keys reverse --explain SRS0=Xy3b=JM=origin.example=alice@fwd.example
  srs -k /etc/postfix/srs-keys forward -a fwd.example < senders > rewritten

Debian's Perl srs command line also works, read as Perl reads it:
  srs [--forward|--reverse] [--secret=S]... [--secretfile=FILE] [--alias=DOMAIN]
      [--separator=C] [--hashlength=N] [--address=A]... [ADDRESS...]

Exit status: 0 every address handled; 64 usage; 65 an address could not be
forwarded or reversed; 69 no random source for keygen; 73 keygen --rotate
could not write the file; 74 the output could not be written; 75 the
address database did not answer; 78 configuration (no secret, bad keys
file).";

/// Rewrite envelope senders with the Sender Rewriting Scheme, and back.
///
/// `srs forward` turns a sender into an SRS address at your forwarding domain;
/// `srs reverse` turns an SRS address back into the original sender, after
/// checking its hash and age. With no ADDRESS arguments, addresses are read
/// from standard input, one per line, and one line is written for each.
#[derive(Parser, Debug, PartialEq, Eq)]
#[command(
    name = "srs",
    version,
    help_expected = true,
    max_term_width = 100,
    after_help = AFTER_HELP
)]
pub struct SrsCli {
    /// What to do
    #[command(subcommand)]
    pub command: Command,

    /// Codec and secrets
    #[command(flatten)]
    pub codec: CodecArgs,

    /// Use this Unix time (seconds) instead of the clock, to reproduce a result
    #[arg(long, value_name = "SECONDS", global = true)]
    pub now: Option<u64>,
}

/// The subcommands of `srs`.
#[derive(Subcommand, Debug, PartialEq, Eq)]
pub enum Command {
    /// Rewrite each sender into an SRS address at the alias domain
    Forward {
        /// Your forwarding domain, or an address at it (only its domain is used)
        #[arg(short, long, value_name = "DOMAIN", value_parser = super::parse_domain)]
        alias: String,
        /// Senders to rewrite; standard input when none are given
        #[arg(value_name = "ADDRESS")]
        addresses: Vec<String>,
        /// Write one JSON object per address (input, status, output or error)
        #[arg(long)]
        json: bool,
    },
    /// Check each SRS address and print the address it stands for
    Reverse {
        /// Your forwarding domain: results at it are reversed again
        #[arg(short, long, value_name = "DOMAIN", value_parser = super::parse_domain)]
        alias: Option<String>,
        /// SRS addresses to reverse; standard input when none are given
        #[arg(value_name = "ADDRESS")]
        addresses: Vec<String>,
        /// Also say which secret matched (by position), the hash length, the age and the days left
        #[arg(long)]
        explain: bool,
        /// Write one JSON object per address (input, status, output or error)
        #[arg(long)]
        json: bool,
    },
    /// Print a new random secret, or put one on top of a keys file
    Keygen {
        /// Put the new secret on top of FILE (created if missing), keeping the old ones
        #[arg(long, value_name = "FILE")]
        rotate: Option<PathBuf>,
    },
}

/// `srs`'s command line as parsed: [`SrsCli`]'s, with the codec options and
/// `--now` hidden from `srs keygen --help`, since keygen uses none of them.
/// keygen gets hidden copies of them: clap then does not copy the visible
/// global ones into it (changing an argument after the command is built
/// would leave clap's lookup table pointing at the wrong arguments).
pub fn command() -> clap::Command {
    use clap::CommandFactory;
    let cmd = SrsCli::command();
    let global: Vec<clap::Arg> = cmd
        .get_arguments()
        .filter(|a| a.is_global_set())
        .map(|a| a.clone().hide(true))
        .collect();
    cmd.mut_subcommand("keygen", |keygen| keygen.args(global))
}

/// Parses `args` (the program name first) with [`command`].
pub fn parse<I, T>(args: I) -> Result<SrsCli, clap::Error>
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    use clap::FromArgMatches;
    let mut cmd = command();
    let matches = cmd.try_get_matches_from_mut(args)?;
    SrsCli::from_arg_matches(&matches).map_err(|e| e.format(&mut cmd))
}
