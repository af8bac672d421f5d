//! `srs-reverser`: deliver a bounce sent to an SRS address to the original sender.

use std::process::ExitCode;

use mail_srs::cli::pipe_helpers::{ReverserCli, parse};

fn main() -> ExitCode {
    let args: Vec<_> = std::env::args_os().collect();
    match parse::<ReverserCli>(&args, "srs-reverser") {
        Ok(cli) => mail_srs::pipe::reverse(&cli),
        Err(exit) => exit,
    }
    .into()
}
