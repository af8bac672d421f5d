//! `srsrelay ADDRESS PACK-PORT UNPACK-PORT UPSTREAM-HOST UPSTREAM-PORT DOMAIN...`:
//! an SMTP/LMTP relay that signs senders and reverses SRS bounce recipients,
//! run by srsd's engine.

use std::process::ExitCode;

fn main() -> ExitCode {
    mail_srs::programs::srsrelay::main(std::env::args_os().collect()).into()
}
