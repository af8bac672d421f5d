//! srsrelay's SMTP, ESMTP and LMTP pass-through, without I/O: a bump in the
//! wire between an MTA and an upstream server that signs `MAIL FROM` (the
//! pack service) or reverses SRS recipients in `RCPT TO` (the unpack
//! service), and otherwise passes bytes on untouched.
//!
//! The session sees the client's bytes and upstream's, and says what goes
//! where. Replies reach the client in command order, also under PIPELINING:
//! each command leaves an entry in a queue, either a reply upstream owes or
//! one the relay makes itself (a refused SRS recipient, STARTTLS), and a
//! reply of the relay's waits until the replies before it have come.

use std::collections::VecDeque;
use std::time::Duration;

mod envelope;
mod smtp;

use crate::engine::Rewriter;
use envelope::{Held, Reversal, Signing, reverse_recipient, sign_sender};
use smtp::{Line, chunk, line_end};

/// Longest command line read from the client, CRLF included: RFC 5321's 512
/// octets plus room for ESMTP parameters (SMTPUTF8, DSN's ORCPT, AUTH).
pub const MAX_COMMAND: usize = 2048;
/// Longest reply line read from upstream, CRLF included: RFC 5321's 512
/// octets plus room for extensions.
pub const MAX_REPLY: usize = 2048;

/// Which service a connection came to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    /// Outgoing mail: the envelope sender is signed.
    Pack,
    /// Bounces: SRS recipients are reversed.
    Unpack,
}

/// How the relay is configured.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RelaySettings {
    /// Senders at these domains (case-insensitive) are not signed.
    pub domains: Vec<String>,
    /// The upstream server, `host:port`.
    pub upstream: String,
    /// Upstream speaks LMTP: one reply per accepted recipient after the data.
    pub lmtp: bool,
    /// How long connecting to upstream may take.
    pub connect_timeout: Duration,
    /// How long upstream may take to answer, or to take what is sent.
    pub reply_timeout: Duration,
    /// Sign with the domain of the first recipient's `ORCPT` when it is one
    /// of ours (`srs-domain-from = recipient`): `MAIL FROM` is answered
    /// here and sent upstream before the first `RCPT TO`.
    pub domain_from_orcpt: bool,
}

impl Default for RelaySettings {
    fn default() -> Self {
        RelaySettings {
            domains: Vec::new(),
            upstream: String::new(),
            lmtp: false,
            connect_timeout: Duration::from_secs(30),
            reply_timeout: Duration::from_secs(600),
            domain_from_orcpt: false,
        }
    }
}

/// The relay's own replies.
pub const REFUSED_SRS: &[u8] = b"550 5.1.1 Invalid SRS address\r\n";
/// STARTTLS cannot be relayed: the relay must read the envelope.
pub const NO_TLS: &[u8] =
    b"454 4.7.0 TLS not available: this relay reads the envelope; use TLS on the upstream hop\r\n";
/// The address database cannot answer: the client tries again later.
pub const DATABASE_TEMPFAIL: &[u8] =
    b"451 4.3.0 SRS address database unavailable, try again later\r\n";
/// The relay's reply to a `MAIL FROM` it keeps back (see
/// [`RelaySettings::domain_from_orcpt`]).
pub const HELD_MAIL: &[u8] = b"250 2.1.0 Ok\r\n";
/// A command line over [`MAX_COMMAND`].
pub const TOO_LONG: &[u8] = b"500 5.5.2 Line too long\r\n";
/// Upstream cannot be reached.
pub const UNREACHABLE: &[u8] = b"421 4.4.1 Upstream server unreachable, try again later\r\n";
/// Upstream went away.
pub const UPSTREAM_GONE: &[u8] = b"421 4.4.2 Upstream server connection lost, try again later\r\n";
/// Upstream answered something that is not an SMTP reply.
pub const UPSTREAM_INVALID: &[u8] =
    b"421 4.4.2 Upstream server sent an invalid reply, try again later\r\n";
/// A `MAIL FROM` whose sender the relay cannot read: never passed on
/// unsigned.
pub const BAD_SENDER: &[u8] = b"501 5.1.7 Bad sender address syntax\r\n";
/// A `RCPT TO` on the unpack side whose recipient the relay cannot read:
/// never passed on unreversed.
pub const BAD_RECIPIENT: &[u8] = b"501 5.1.3 Bad recipient address syntax\r\n";

/// srsrelay's service on one side, as a listener protocol.
pub struct Relay(pub Side);

impl super::Protocol for Relay {
    fn name(&self) -> &'static str {
        match self.0 {
            Side::Pack => "relay-pack",
            Side::Unpack => "relay-unpack",
        }
    }

    fn service(&self) -> super::Service {
        super::Service::Relay(self.0)
    }
}

/// A reply the client is owed, in command order.
#[derive(Clone, Debug)]
enum Pending {
    /// Upstream owes the reply to this kind of command.
    Upstream(Expect),
    /// The relay answers this one itself.
    Local(&'static [u8]),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Expect {
    Greeting,
    Hello,
    Mail,
    /// A `MAIL FROM` the relay kept back and already answered: its reply
    /// is not passed on, and a refusal stands for the recipients' replies.
    HeldMail,
    Rcpt,
    Data,
    /// The end of the message (the dot, or BDAT LAST): one reply, or under
    /// LMTP one per accepted recipient; `left` is set at the first.
    MessageEnd {
        left: Option<usize>,
    },
    Chunk,
    Reset,
    Quit,
    Other,
}

/// What the client's bytes are, at the current point.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    Command,
    /// Skipping the rest of an over-long command line.
    SkipLine,
    /// Message text after 354, and what the current line holds so far.
    Data {
        line: Line,
    },
    /// A BDAT chunk with this many bytes still to pass.
    Chunk {
        left: u64,
    },
}

/// What one call of a relay session did: the relay's counterpart of a
/// lookup protocol's [`super::Progress`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RelayProgress {
    /// Bytes of input consumed.
    pub consumed: usize,
    /// Close both connections once what is owed is written.
    pub close: bool,
    /// Upstream sent something that is not an SMTP reply (with `close`).
    pub invalid_reply: bool,
}

/// One relayed connection.
#[derive(Clone, Debug)]
pub struct RelaySession {
    side: Side,
    mode: Mode,
    /// A DATA awaits its reply: what the client sends next is message text
    /// or a command depending on it, so nothing is read until it comes.
    awaiting_data_reply: bool,
    pending: VecDeque<Pending>,
    /// Recipients upstream accepted in this transaction (LMTP's reply count).
    accepted: usize,
    /// Lines of an upstream reply not yet complete.
    reply: Vec<u8>,
    quitting: bool,
    /// A sender kept back until the first recipient.
    held: Option<Held>,
    /// Upstream's refusal of a kept-back sender: the client gets it in place
    /// of each recipient's reply in this transaction.
    mail_refused: Option<Vec<u8>>,
}

impl RelaySession {
    /// A connection to `side`, before upstream's greeting.
    pub fn new(side: Side) -> RelaySession {
        RelaySession {
            side,
            mode: Mode::Command,
            awaiting_data_reply: false,
            pending: VecDeque::from([Pending::Upstream(Expect::Greeting)]),
            accepted: 0,
            reply: Vec::new(),
            quitting: false,
            held: None,
            mail_refused: None,
        }
    }

    /// Whether upstream owes a reply (so its silence is a timeout).
    pub fn waiting_for_upstream(&self) -> bool {
        self.pending
            .iter()
            .any(|p| matches!(p, Pending::Upstream(_)))
    }

    /// Whether the client asked to quit and upstream answered: upstream
    /// closing now is the normal end.
    pub fn quitting(&self) -> bool {
        self.quitting && !self.waiting_for_upstream()
    }

    /// Handles the client's bytes at the front of `input`: commands, message
    /// text, chunks. What goes upstream is appended to `upstream`, replies
    /// the relay makes to `client`.
    ///
    /// Line ends are made canonical on the way, as Postfix's
    /// `smtpd_forbid_bare_newline = normalize` reads them: CR LF, a bare LF
    /// and a bare CR each end a line, and upstream gets CR LF. So the relay
    /// and every upstream agree on where each command and each message
    /// ends, and nothing the relay took for message text reaches upstream
    /// as a command (SMTP smuggling). BDAT chunks are counted bytes and
    /// pass untouched.
    pub fn from_client(
        &mut self,
        input: &[u8],
        lookup: &Rewriter<'_>,
        settings: &RelaySettings,
        client: &mut Vec<u8>,
        upstream: &mut Vec<u8>,
    ) -> RelayProgress {
        let mut progress = RelayProgress::default();
        while progress.consumed < input.len() {
            let rest = &input[progress.consumed..];
            match self.mode {
                Mode::Data { line } => {
                    let (used, ended) = self.text(rest, line, upstream);
                    progress.consumed += used;
                    if used == 0 {
                        break;
                    }
                    if ended {
                        self.mode = Mode::Command;
                        self.pending
                            .push_back(Pending::Upstream(Expect::MessageEnd { left: None }));
                    }
                }
                Mode::Chunk { left } => {
                    let n = usize::try_from(left).unwrap_or(usize::MAX).min(rest.len());
                    upstream.extend_from_slice(&rest[..n]);
                    progress.consumed += n;
                    let left = left - n as u64;
                    self.mode = if left == 0 {
                        Mode::Command
                    } else {
                        Mode::Chunk { left }
                    };
                }
                Mode::SkipLine => match line_end(rest) {
                    Some((eol, len)) => {
                        progress.consumed += eol + len;
                        self.mode = Mode::Command;
                    }
                    // A CR last may be half of a CR LF.
                    None if rest.ends_with(b"\r") => {
                        progress.consumed = input.len() - 1;
                        break;
                    }
                    None => progress.consumed = input.len(),
                },
                Mode::Command => {
                    if self.awaiting_data_reply {
                        break;
                    }
                    let Some((eol, len)) = line_end(rest) else {
                        if rest.len() >= MAX_COMMAND {
                            self.answer(TOO_LONG, client);
                            self.mode = Mode::SkipLine;
                            progress.consumed = input.len();
                        }
                        break;
                    };
                    progress.consumed += eol + len;
                    if eol + 2 > MAX_COMMAND {
                        self.answer(TOO_LONG, client);
                        continue;
                    }
                    self.command(&rest[..eol], lookup, settings, client, upstream);
                }
            }
        }
        progress
    }

    /// Passes message text from the front of `rest` upstream with its line
    /// ends made CR LF, up to and including the line end after a lone dot:
    /// how much of `rest` it used, and whether the message ended. A CR
    /// last in `rest` is left for the next call, which sees whether an LF
    /// follows it.
    fn text(&mut self, rest: &[u8], mut line: Line, upstream: &mut Vec<u8>) -> (usize, bool) {
        let mut at = 0;
        while at < rest.len() {
            let Some((n, len)) = line_end(&rest[at..]) else {
                let mut end = rest.len();
                if rest.ends_with(b"\r") {
                    end -= 1;
                }
                line = line.then(&rest[at..end]);
                upstream.extend_from_slice(&rest[at..end]);
                at = end;
                break;
            };
            let content = &rest[at..at + n];
            line = line.then(content);
            upstream.extend_from_slice(content);
            upstream.extend_from_slice(b"\r\n");
            at += n + len;
            if line == Line::Dot {
                return (at, true);
            }
            line = Line::Empty;
        }
        self.mode = Mode::Data { line };
        (at, false)
    }

    /// One command line from the client, without its line end; it goes
    /// upstream (if it does) ended by CR LF.
    fn command(
        &mut self,
        line: &[u8],
        lookup: &Rewriter<'_>,
        settings: &RelaySettings,
        client: &mut Vec<u8>,
        upstream: &mut Vec<u8>,
    ) {
        let verb = line
            .split(|&b| b == b' ')
            .next()
            .unwrap_or_default()
            .to_ascii_uppercase();
        if matches!(verb.as_slice(), b"MAIL" | b"RSET") {
            self.held = None;
            self.mail_refused = None;
        }
        let expect = match verb.as_slice() {
            b"MAIL" if self.side == Side::Pack => match sign_sender(line, lookup, settings) {
                Signing::Pass => Expect::Mail,
                Signing::Signed(signed) => {
                    upstream.extend_from_slice(&signed);
                    self.pending.push_back(Pending::Upstream(Expect::Mail));
                    return;
                }
                Signing::Refused(reply) => {
                    self.answer(reply, client);
                    return;
                }
                Signing::Hold(held) => {
                    self.held = Some(held);
                    self.answer(HELD_MAIL, client);
                    return;
                }
            },
            b"RCPT" if self.held.is_some() => {
                let held = self.held.take().unwrap_or_else(|| unreachable!());
                match held.sign(line, lookup, settings) {
                    Signing::Signed(mail) => upstream.extend_from_slice(&mail),
                    Signing::Pass | Signing::Hold(_) => upstream.extend_from_slice(held.line()),
                    Signing::Refused(reply) => {
                        self.held = Some(held);
                        self.answer(reply, client);
                        return;
                    }
                }
                self.pending.push_back(Pending::Upstream(Expect::HeldMail));
                Expect::Rcpt
            }
            b"MAIL" => Expect::Mail,
            b"RCPT" if self.side == Side::Unpack => match reverse_recipient(line, lookup, settings)
            {
                Reversal::NotSrs => Expect::Rcpt,
                Reversal::Reversed(rewritten) => {
                    upstream.extend_from_slice(&rewritten);
                    self.pending.push_back(Pending::Upstream(Expect::Rcpt));
                    return;
                }
                Reversal::Refused(reply) => {
                    self.answer(reply, client);
                    return;
                }
            },
            b"RCPT" => Expect::Rcpt,
            b"DATA" if line.len() == 4 => {
                self.awaiting_data_reply = true;
                Expect::Data
            }
            b"BDAT" => match chunk(line) {
                Some((size, last)) => {
                    if size > 0 {
                        self.mode = Mode::Chunk { left: size };
                    }
                    if last {
                        Expect::MessageEnd { left: None }
                    } else {
                        Expect::Chunk
                    }
                }
                None => Expect::Other,
            },
            b"STARTTLS" => {
                self.answer(NO_TLS, client);
                return;
            }
            b"EHLO" | b"HELO" | b"LHLO" => Expect::Hello,
            b"RSET" => Expect::Reset,
            b"QUIT" => {
                self.quitting = true;
                Expect::Quit
            }
            _ => Expect::Other,
        };
        upstream.extend_from_slice(line);
        upstream.extend_from_slice(b"\r\n");
        self.pending.push_back(Pending::Upstream(expect));
    }

    /// Queues a reply of the relay's own, sent once the replies before it are.
    fn answer(&mut self, reply: &'static [u8], client: &mut Vec<u8>) {
        self.pending.push_back(Pending::Local(reply));
        self.flush_local(client);
    }

    fn flush_local(&mut self, client: &mut Vec<u8>) {
        while let Some(Pending::Local(reply)) = self.pending.front() {
            client.extend_from_slice(reply);
            self.pending.pop_front();
        }
    }

    /// Handles upstream's bytes at the front of `input`: each complete reply
    /// goes to the client in its turn (EHLO's without STARTTLS).
    pub fn from_upstream(
        &mut self,
        input: &[u8],
        lmtp: bool,
        client: &mut Vec<u8>,
    ) -> RelayProgress {
        let mut progress = RelayProgress::default();
        loop {
            let rest = &input[progress.consumed..];
            let Some(eol) = memchr::memchr(b'\n', rest) else {
                if rest.len() >= MAX_REPLY {
                    client.extend_from_slice(UPSTREAM_INVALID);
                    progress.consumed = input.len();
                    progress.close = true;
                    progress.invalid_reply = true;
                }
                return progress;
            };
            let line = &rest[..=eol];
            progress.consumed += eol + 1;
            if line.len() > MAX_REPLY || line.len() < 4 || !line[..3].iter().all(u8::is_ascii_digit)
            {
                client.extend_from_slice(UPSTREAM_INVALID);
                progress.close = true;
                progress.invalid_reply = true;
                return progress;
            }
            self.reply.extend_from_slice(line);
            // "250-..." continues the reply; "250 ..." or "250" ends it.
            if line[3] == b'-' {
                continue;
            }
            let reply = std::mem::take(&mut self.reply);
            if self.reply_done(&reply, lmtp, client) {
                progress.close = true;
                return progress;
            }
        }
    }

    /// One whole reply from upstream; true when the connection must close.
    fn reply_done(&mut self, reply: &[u8], lmtp: bool, client: &mut Vec<u8>) -> bool {
        let code = &reply[..3];
        let positive = reply[0] == b'2';
        let expect = match self.pending.front_mut() {
            Some(Pending::Upstream(e)) => e,
            // Nothing asked (a 421 before closing, say): pass it on.
            _ => {
                client.extend_from_slice(reply);
                return code == b"421";
            }
        };
        let mut done = true;
        match expect {
            Expect::Hello => {
                client.extend_from_slice(&without_starttls(reply));
                self.pending.pop_front();
                self.flush_local(client);
                return code == b"421";
            }
            Expect::HeldMail => {
                self.pending.pop_front();
                if code == b"421" {
                    client.extend_from_slice(reply);
                    return true;
                }
                if positive {
                    self.accepted = 0;
                } else {
                    self.mail_refused = Some(reply.to_vec());
                }
                self.flush_local(client);
                return false;
            }
            Expect::Rcpt if self.mail_refused.is_some() => {
                let refusal = self.mail_refused.as_deref().unwrap_or_default();
                client.extend_from_slice(refusal);
                self.pending.pop_front();
                self.flush_local(client);
                return code == b"421";
            }
            Expect::Mail | Expect::Reset if positive => self.accepted = 0,
            Expect::Rcpt if positive => self.accepted += 1,
            Expect::Data => {
                self.awaiting_data_reply = false;
                if code == b"354" {
                    self.mode = Mode::Data { line: Line::Empty };
                }
            }
            Expect::MessageEnd { left } => {
                let n = left.get_or_insert(if lmtp { self.accepted.max(1) } else { 1 });
                *n -= 1;
                done = *n == 0;
                if done {
                    self.accepted = 0;
                }
            }
            _ => {}
        }
        client.extend_from_slice(reply);
        if done {
            self.pending.pop_front();
            self.flush_local(client);
        }
        code == b"421"
    }
}

/// An EHLO (or LHLO) reply without its STARTTLS line; the line before a
/// removed last line becomes the last.
fn without_starttls(reply: &[u8]) -> Vec<u8> {
    let lines: Vec<&[u8]> = reply.split_inclusive(|&b| b == b'\n').collect();
    let kept: Vec<&[u8]> = lines
        .iter()
        .enumerate()
        .filter(|(i, l)| {
            *i == 0 || {
                let text = &l[4.min(l.len())..];
                let word = text
                    .split(|&b| b == b' ' || b == b'\r' || b == b'\n')
                    .next()
                    .unwrap_or_default();
                !word.eq_ignore_ascii_case(b"STARTTLS")
            }
        })
        .map(|(_, l)| *l)
        .collect();
    let mut out = Vec::with_capacity(reply.len());
    for (i, l) in kept.iter().enumerate() {
        let start = out.len();
        out.extend_from_slice(l);
        if matches!(l[3], b'-' | b' ') {
            out[start + 3] = if i + 1 == kept.len() { b' ' } else { b'-' };
        }
    }
    out
}
