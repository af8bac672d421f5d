//! Every integration test in one binary, as ripgrep does: one build and
//! one link for all of them. Each module was a test binary of its own;
//! `tests/common` is the one harness they share.
//!
//! Run one module's tests with `cargo test --test integration MODULE::`.

#[path = "../common/mod.rs"]
mod common;

mod cli;
mod completion;
mod config;
mod daemon;
mod database;
mod domain_form;
mod exim;
mod generated;
mod input;
mod install;
mod interop;
mod milter;
mod pipe_helpers;
mod postfix;
mod properties;
mod relay;
mod sendmail;
mod srsd;
mod srsrelay;
mod supervise;
mod units;
mod vectors;
