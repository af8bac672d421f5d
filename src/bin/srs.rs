//! `srs`: forward and reverse SRS addresses, make and rotate secrets.
//! Also accepts the command line of Debian's Perl `srs`.

use std::process::ExitCode;

fn main() -> ExitCode {
    mail_srs::programs::srs::main(std::env::args_os().collect()).into()
}
