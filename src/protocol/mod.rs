//! The wire protocols srsd speaks, without I/O.
//!
//! Each protocol turns the bytes received so far into replies: it answers
//! every complete request at the front of the input, appends the replies to an
//! output buffer and says how many bytes it consumed and whether the
//! connection must close. The daemon only moves bytes; tests and fuzzers call
//! the same functions.

/// Longest request or reply line of the line-based protocols (tcp_table and
/// the line protocol), newline included, on the daemon's side and srsc's.
pub const MAX_LINE: usize = 4096;

pub mod line;
pub mod netstring;
pub mod socketmap;
pub mod tcp_table;

use std::time::SystemTime;

use crate::srs::{Form, ForwardError, Forwarded, ReverseError, Srs, Unchanged};

/// Which map a request asks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    /// Sender to SRS address.
    Forward,
    /// SRS address to the address it stands for.
    Reverse,
}

/// The answer to one lookup, before a protocol encodes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Answer {
    /// The rewritten address.
    Found(String),
    /// Nothing to rewrite (never a failure in map protocols). The reason is
    /// formatted only by the protocols that send it.
    NotFound(Why),
}

/// Why a lookup found nothing to rewrite.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Why {
    /// Postfix's partial keys (`user`, `@domain`) are never rewritten.
    PartialKey,
    /// The sender is at a local domain.
    LocalDomain,
    /// A forward was asked for an SRS address at our own domain: what the
    /// reverse map is for (a client on the wrong map or port).
    SrsAddressOnForward,
    /// The sender is an SRS address we signed.
    AlreadyRewritten,
    /// Forward refused the sender.
    Forward(ForwardError),
    /// Reverse refused the address.
    Reverse(ReverseError),
}

impl std::fmt::Display for Why {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Why::PartialKey => f.write_str("partial key"),
            Why::LocalDomain => f.write_str("local domain"),
            Why::SrsAddressOnForward => f.write_str(
                "an SRS address at our domain needs a reverse, not a forward (reverse map or port?)",
            ),
            Why::AlreadyRewritten => f.write_str("already rewritten"),
            Why::Forward(e) => e.fmt(f),
            Why::Reverse(e) => e.fmt(f),
        }
    }
}

/// What a lookup found out about the address, for the daemon's log.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// A reverse that failed a check an honest address passes (forgery,
    /// expired, future): worth a log line.
    Suspicious(ReverseError),
    /// Anything else.
    Ordinary,
}

/// Everything a request needs: the codec, our domain and the time.
pub struct Lookup<'a> {
    /// The codec.
    pub srs: &'a Srs,
    /// The SRS domain forward rewrites into.
    pub domain: &'a str,
    /// The time of the request.
    pub now: SystemTime,
}

impl Lookup<'_> {
    /// Forward or reverse `key` as a map lookup: anything that does not apply
    /// is `NotFound`, and partial keys (`user`, `@domain`) are never rewritten.
    pub fn map(&self, direction: Direction, key: &str) -> (Answer, Refusal) {
        if key.starts_with('@') || !key.bytes().any(|b| b == b'@') {
            return (Answer::NotFound(Why::PartialKey), Refusal::Ordinary);
        }
        match direction {
            Direction::Forward => (
                self.forward(key, self.domain, Form::Internal),
                Refusal::Ordinary,
            ),
            Direction::Reverse => self.reverse(key, Form::Internal),
        }
    }

    /// Forwards `sender` through `alias`.
    pub fn forward(&self, sender: &str, alias: &str, form: Form) -> Answer {
        match self.srs.forward_in(form, sender, alias, self.now) {
            Ok(Forwarded::Rewritten(a)) => Answer::Found(a),
            Ok(Forwarded::Unchanged(Unchanged::LocalDomain))
                if crate::srs::looks_like_srs(sender) =>
            {
                Answer::NotFound(Why::SrsAddressOnForward)
            }
            Ok(Forwarded::Unchanged(Unchanged::LocalDomain)) => Answer::NotFound(Why::LocalDomain),
            Ok(Forwarded::Unchanged(Unchanged::AlreadyOurs)) => {
                Answer::NotFound(Why::AlreadyRewritten)
            }
            Err(e) => Answer::NotFound(Why::Forward(e)),
        }
    }

    /// Reverses `address`.
    pub fn reverse(&self, address: &str, form: Form) -> (Answer, Refusal) {
        match self.srs.reverse_in(form, address, self.now) {
            Ok(a) => (Answer::Found(a), Refusal::Ordinary),
            Err(e) => {
                let refusal = match e {
                    ReverseError::BadHash
                    | ReverseError::HashTooShort { .. }
                    | ReverseError::Expired { .. }
                    | ReverseError::Future => Refusal::Suspicious(e),
                    _ => Refusal::Ordinary,
                };
                (Answer::NotFound(Why::Reverse(e)), refusal)
            }
        }
    }
}

/// What one call of a protocol's `serve` did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Progress {
    /// Bytes of input consumed; drop them before the next call.
    pub consumed: usize,
    /// The connection must close once the replies are written.
    pub close: bool,
    /// The close cuts the client's input short (an oversize or malformed
    /// request): read what it already sent first, or the kernel answers it
    /// with a reset that can destroy the reply before the client reads it.
    pub linger: bool,
    /// Reverse refusals worth logging, in order.
    pub refusals: Vec<ReverseError>,
    /// Answers refused because they would exceed the protocol's length
    /// limit (a reply the MTA could not read).
    pub oversized: usize,
}

impl Progress {
    fn note(&mut self, refusal: Refusal) {
        if let Refusal::Suspicious(e) = refusal {
            self.refusals.push(e);
        }
    }
}
