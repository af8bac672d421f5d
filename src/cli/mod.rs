//! Command-line definitions of every program, kept in the library so tests can
//! render man pages and completions from them and check they have not drifted.

pub mod codec;
pub mod helpers;
pub mod legacy;
pub mod srs;
pub mod srsc;
pub mod srsd;

pub use codec::CodecArgs;

/// Prints a command-line parse error (or the help or version it carries)
/// and gives the exit status: 0 for help and version, 64 otherwise.
pub fn report(e: &clap::Error) -> crate::exit::Exit {
    let _ = e.print();
    if e.use_stderr() {
        crate::exit::Exit::Usage
    } else {
        crate::exit::Exit::Ok
    }
}
