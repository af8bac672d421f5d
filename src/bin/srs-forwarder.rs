//! `srs-forwarder RECIPIENT...`: re-inject the message on stdin with an SRS sender.

use std::process::ExitCode;

use mail_srs::cli::pipe_helpers::{ForwarderCli, parse};

fn main() -> ExitCode {
    let args: Vec<_> = std::env::args_os().collect();
    match parse::<ForwarderCli>(&args, "srs-forwarder") {
        Ok(cli) => mail_srs::pipe::forward(&cli),
        Err(exit) => exit,
    }
    .into()
}
