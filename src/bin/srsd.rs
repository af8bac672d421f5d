//! `srsd`: the SRS daemon for Postfix, sendmail and Exim.

use std::process::ExitCode;

fn main() -> ExitCode {
    mail_srs::programs::srsd::main(std::env::args_os().collect(), "srsd").into()
}
