//! Command-line definitions of every program, kept in the library so tests can
//! render man pages and completions from them and check they have not drifted.

pub mod codec;
pub mod helpers;
pub mod legacy;
pub mod srs;
pub mod srsc;
pub mod srsd;

pub use codec::CodecArgs;
