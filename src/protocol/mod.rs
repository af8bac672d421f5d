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
pub mod metrics;
pub mod milter;
pub mod netstring;
pub mod relay;
pub mod socketmap;
pub mod tcp_table;

use crate::engine::{Direction, Rewriter};

/// What the protocols may be configured with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Settings {
    /// Longest socketmap netstring. Default 100000 (Postfix's limit).
    pub max_netstring: usize,
    /// Keep line-protocol connections open after a reply (Perl's srsd closes,
    /// and Exim's `${readsocket}` needs that). Default off.
    pub line_keep_alive: bool,
    /// How the milter behaves.
    pub milter: milter::MilterSettings,
    /// Where srsrelay's services relay to, and for which domains.
    pub relay: relay::RelaySettings,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            max_netstring: socketmap::MAX_NETSTRING,
            line_keep_alive: false,
            milter: milter::MilterSettings::default(),
            relay: relay::RelaySettings::default(),
        }
    }
}

/// A protocol the daemon serves, held as `&'static dyn Protocol` (one of
/// [`PROTOCOLS`], compared by name). The daemon's listeners, limits, reload
/// and shutdown work the same for every protocol, so a new one is a value
/// of this trait and a row in [`PROTOCOLS`], nothing more.
pub trait Protocol: Send + Sync + 'static {
    /// The name `--listen` and systemd's `FileDescriptorName=` use.
    fn name(&self) -> &'static str;

    /// How the daemon serves a connection of it.
    fn service(&self) -> Service;
}

/// How the daemon serves a connection, by the kind of protocol.
pub enum Service {
    /// Requests answered by the rewrite engine, with this session for the
    /// connection (counted in the metrics by direction and outcome).
    Lookups(Box<dyn Session>),
    /// One of srsrelay's services: the connection also talks to the
    /// upstream server (see [`relay::RelaySession`]).
    Relay(relay::Side),
    /// The daemon's counters, over HTTP (see [`metrics`]).
    Metrics,
}

/// One connection of a lookup protocol: how the bytes it received become
/// replies.
pub trait Session: Send {
    /// Answers every complete request at the front of `input` into `out`.
    fn serve(
        &mut self,
        input: &[u8],
        lookup: &Rewriter<'_>,
        settings: &Settings,
        out: &mut Vec<u8>,
    ) -> Progress;

    /// A copy of the session as it is now, to go back to when a call's
    /// output is thrown away (see [`crate::engine::Prepared`]).
    fn fork(&self) -> Box<dyn Session>;
}

/// The session of a protocol that keeps nothing between requests: the
/// function that answers them is the whole of it.
#[derive(Clone, Copy)]
pub struct Stateless(pub fn(&[u8], &Rewriter<'_>, &Settings, &mut Vec<u8>) -> Progress);

impl Session for Stateless {
    fn serve(
        &mut self,
        input: &[u8],
        lookup: &Rewriter<'_>,
        settings: &Settings,
        out: &mut Vec<u8>,
    ) -> Progress {
        (self.0)(input, lookup, settings, out)
    }

    fn fork(&self) -> Box<dyn Session> {
        Box::new(*self)
    }
}

/// Each protocol's name, and whether its requests are lookups (counted in
/// the metrics by direction and outcome).
pub fn names() -> impl Iterator<Item = (&'static str, bool)> {
    PROTOCOLS.iter().map(|p| (p.name(), p.looks_up()))
}

impl dyn Protocol {
    /// Whether its requests are lookups (it mints SRS addresses).
    pub fn looks_up(&self) -> bool {
        matches!(self.service(), Service::Lookups(_))
    }

    /// Whether it is one of srsrelay's services.
    pub fn relays(&self) -> bool {
        matches!(self.service(), Service::Relay(_))
    }
}

impl PartialEq for dyn Protocol {
    fn eq(&self, other: &Self) -> bool {
        self.name() == other.name()
    }
}

impl Eq for dyn Protocol {}

impl std::fmt::Debug for dyn Protocol {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// The protocol called `name`.
pub fn named(name: &str) -> Option<&'static dyn Protocol> {
    PROTOCOLS.iter().copied().find(|p| p.name() == name)
}

/// "socketmap, tcp-forward, tcp-reverse, line, ...", for messages.
pub fn listing() -> String {
    PROTOCOLS.map(|p| p.name()).join(", ")
}

/// Every protocol: the one table of their names.
pub static PROTOCOLS: [&dyn Protocol; 8] = [
    &socketmap::Socketmap,
    &tcp_table::TcpTable(Direction::Forward),
    &tcp_table::TcpTable(Direction::Reverse),
    &line::Line,
    &milter::Milter,
    &metrics::MetricsProtocol,
    &relay::Relay(relay::Side::Pack),
    &relay::Relay(relay::Side::Unpack),
];

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
    /// Answers refused because they would exceed the protocol's length
    /// limit (a reply the MTA could not read).
    pub oversized: usize,
}

impl Progress {
    /// The next request line of a line-based protocol: the bytes after what
    /// was consumed up to the newline, without it, marked consumed. `None`
    /// when the line is not complete yet, or when it is longer than
    /// [`MAX_LINE`] with its newline: then `too_long` is the reply and the
    /// connection closes once it has read what the client sent.
    fn next_line<'a>(
        &mut self,
        input: &'a [u8],
        out: &mut Vec<u8>,
        too_long: &[u8],
    ) -> Option<&'a [u8]> {
        let rest = &input[self.consumed..];
        let eol = memchr::memchr(b'\n', rest);
        if eol.map_or(rest.len() >= MAX_LINE, |e| e + 1 > MAX_LINE) {
            out.extend_from_slice(too_long);
            self.consumed = input.len();
            self.close = true;
            self.linger = true;
            return None;
        }
        let eol = eol?;
        self.consumed += eol + 1;
        Some(&rest[..eol])
    }
}
