//! `srsc`: ask a running srsd to forward or reverse addresses.

use std::process::ExitCode;

fn main() -> ExitCode {
    mail_srs::programs::srsc::main(std::env::args_os().collect()).into()
}
