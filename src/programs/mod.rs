//! What the command-line programs do, behind their `main`: each takes its
//! arguments and gives its exit status, so the binaries stay one call.

pub mod srs;
pub mod srsc;
pub mod srsd;
pub mod srsrelay;
