//! `srs`: forward and reverse addresses, make and rotate secrets.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

use super::CodecArgs;

/// Rewrite envelope senders with the Sender Rewriting Scheme, and back.
///
/// `srs forward` turns a sender into an SRS address at your forwarding domain;
/// `srs reverse` turns an SRS address back into the original sender, after
/// checking its hash and age. With no ADDRESS arguments, addresses are read
/// from standard input, one per line, and one line is written for each.
#[derive(Parser, Debug, PartialEq, Eq)]
#[command(name = "srs", version, help_expected = true, max_term_width = 100)]
pub struct Cli {
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
