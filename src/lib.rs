//! The library behind `srs`, `srsd`, `srsc`, `srsrelay`, `srs-forwarder` and
//! `srs-reverser`:
//! the Sender Rewriting Scheme, byte-compatible with Perl Mail::SRS, libsrs2,
//! postsrsd and pysrs.
//!
//! It exists for those programs and their tests; its API may change between
//! releases.
//!
//! Logging policy: the codec and parsers log nothing; they return typed
//! errors and the programs decide what a postmaster sees.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

// Linux only (see the README): waitid without reaping, sigwait and
// abstract socket names are relied on.
#[cfg(not(target_os = "linux"))]
compile_error!("mail-srs runs on Linux only; see the README's Portability section");

pub mod batch;
pub mod cli;
pub mod client;
pub mod clock;
pub mod config;
pub mod daemon;
pub mod database;
pub mod engine;
pub mod envelope;
pub mod exit;
pub mod files;
pub mod log;
pub mod metrics;
pub mod pipe;
pub mod programs;
pub mod protocol;
pub mod reinject;
pub mod secrets;
pub mod settings;
pub mod srs;

pub use srs::{Forwarded, Options, Srs};
