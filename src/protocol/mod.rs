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

use std::cell::{Cell, RefCell};
use std::time::SystemTime;

use crate::srs::{Form, ForwardError, Forwarded, ReverseError, Srs, Unchanged};

pub use crate::database::Database;

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

/// A wire protocol the daemon serves. The daemon's listeners, limits,
/// reload and shutdown work the same for every protocol, so a new one is a
/// value of this trait and a row in [`PROTOCOLS`], nothing more.
pub trait Wire: Send + Sync + 'static {
    /// The name `--listen` and systemd's `FileDescriptorName=` use.
    fn name(&self) -> &'static str;

    /// A new connection: whatever the protocol keeps between its requests
    /// (a milter's macros and envelope, say). The map protocols keep nothing.
    fn open(&self) -> Box<dyn Session>;

    /// Whether its requests are lookups, counted in the metrics by
    /// direction and outcome (all but the metrics listener itself).
    fn looks_up(&self) -> bool {
        true
    }

    /// For srsrelay's services: which side. Their connections also talk to
    /// an upstream server, so the daemon runs them as a
    /// [`relay::RelaySession`], not through [`Wire::open`].
    fn relay(&self) -> Option<relay::Side> {
        None
    }
}

/// One connection of a protocol: how the bytes it received become replies.
pub trait Session: Send {
    /// Answers every complete request at the front of `input` into `out`.
    fn serve(
        &mut self,
        input: &[u8],
        lookup: &Lookup<'_>,
        settings: &Settings,
        out: &mut Vec<u8>,
    ) -> Progress;

    /// A copy of the session as it is now, to go back to when a call's
    /// output is thrown away (see [`Prepared`]).
    fn fork(&self) -> Box<dyn Session>;
}

/// Every protocol: the one table of their names.
pub static PROTOCOLS: [&dyn Wire; 8] = [
    &socketmap::Socketmap,
    &tcp_table::TcpTable(Direction::Forward),
    &tcp_table::TcpTable(Direction::Reverse),
    &line::Line,
    &milter::Milter,
    &metrics::MetricsWire,
    &relay::RelayWire(relay::Side::Pack),
    &relay::RelayWire(relay::Side::Unpack),
];

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
    NotFound(NotRewritten),
    /// The address database could not answer: the MTA must try again later
    /// (socketmap `TEMP`, tcp_table `400`, `451` in SMTP, exit 75).
    TempFail(String),
}

impl std::fmt::Display for Answer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Answer::Found(a) => f.write_str(a),
            Answer::NotFound(why) => write!(f, "not rewritten: {why}"),
            Answer::TempFail(why) => write!(f, "temporary failure: {why}"),
        }
    }
}

impl Answer {
    /// The reverse refusal worth a log line, if this answer is one: a check
    /// that an honest address passes (a forgery, an expired or future
    /// address) failed.
    pub fn suspicious(&self) -> Option<ReverseError> {
        match self {
            Answer::NotFound(NotRewritten::Reverse(
                e @ (ReverseError::BadHash
                | ReverseError::HashTooShort { .. }
                | ReverseError::Expired { .. }
                | ReverseError::Future),
            )) => Some(*e),
            _ => None,
        }
    }

    /// The address for a caller that prints an answer for every sender
    /// (`srs forward`, the line protocol): the rewritten address, or `sender`
    /// itself when it needs no rewriting; why not otherwise.
    pub fn or_unchanged(self, sender: &str) -> Result<String, Answer> {
        match self {
            Answer::Found(a) => Ok(a),
            Answer::NotFound(
                NotRewritten::LocalDomain
                | NotRewritten::AlreadyRewritten
                | NotRewritten::SrsAddressOnForward,
            ) => Ok(sender.to_owned()),
            other => Err(other),
        }
    }
}

/// Why a lookup did not rewrite an address.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NotRewritten {
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
    /// The address carries a database key, and no database is configured.
    DatabaseNeeded,
    /// The address carries a database key the database does not hold (an
    /// entry expired, or another database).
    UnknownKey,
}

impl std::fmt::Display for NotRewritten {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            NotRewritten::PartialKey => f.write_str("partial key"),
            NotRewritten::LocalDomain => f.write_str("local domain"),
            NotRewritten::SrsAddressOnForward => f.write_str(
                "an SRS address at our domain needs a reverse, not a forward (reverse map or port?)",
            ),
            NotRewritten::AlreadyRewritten => f.write_str("already rewritten"),
            NotRewritten::Forward(e) => e.fmt(f),
            NotRewritten::Reverse(e) => e.fmt(f),
            NotRewritten::DatabaseNeeded => f.write_str(
                "the address carries a database key (KEY@1); configure the database that holds it",
            ),
            NotRewritten::UnknownKey => f.write_str("database key not found (expired?)"),
        }
    }
}

/// The answer of a lookup whose database answer is not prepared yet: the
/// daemon throws it away (see [`Prepared`]), unless the database was asked
/// too many times for one input.
const NOT_PREPARED: &str = "the database was not asked in time";

/// Everything a request needs: the codec, our domain and the time; and what
/// its lookups did, for the metrics and the log.
pub struct Lookup<'a> {
    /// The codec, with the secrets of the current state.
    pub srs: &'a Srs,
    /// The SRS domain forward rewrites into.
    pub domain: &'a str,
    /// The time of the request.
    pub now: SystemTime,
    /// What the lookups made with this value did.
    pub record: Record,
    /// The daemon's counters, for the metrics listener.
    pub metrics: Option<&'a crate::metrics::Metrics>,
    /// The address database, when senders are stored in one.
    pub store: Option<Store<'a>>,
}

/// How senders are stored in the address database.
#[derive(Clone, Copy, Debug)]
pub struct Store<'a> {
    /// The database.
    pub db: &'a crate::database::Database,
    /// Every sender, or only those whose SRS address would be too long.
    pub when: StoreWhen,
    /// How long an entry lives: the maximum age plus one day.
    pub lifetime: std::time::Duration,
    /// For the daemon: the database's answers, got before the call, in
    /// place of calls that would wait.
    pub prepared: Option<&'a Prepared>,
}

/// The database's answers for one call of a protocol's `serve`, got ahead
/// of it, so that the daemon's serving thread never waits on the database.
///
/// The daemon serves; a lookup that needs an answer not prepared notes the
/// [`Op`](crate::database::Op) as wanted and answers a temporary failure.
/// When anything was wanted, the daemon throws that call's output and
/// session away, gets the answers ([`Database::run`]), and serves the same
/// input again. Lookups are deterministic, so the second call finds what
/// it needs; a call that needs nothing costs nothing more.
#[derive(Debug, Default)]
pub struct Prepared {
    answers: std::collections::HashMap<crate::database::Op, crate::database::Done>,
    wanted: RefCell<Vec<crate::database::Op>>,
    /// Lookups made in this call so far.
    calls: Cell<usize>,
    /// Lookups logged by an earlier call over the same input, which this
    /// one repeats: not logged again.
    logged: Cell<usize>,
    /// The first lookup of this call that lacked an answer.
    first_wanted: Cell<Option<usize>>,
}

impl Prepared {
    /// The answer to `op`, or `None` after noting it as wanted.
    fn answer(&self, op: crate::database::Op) -> Option<crate::database::Done> {
        if let Some(done) = self.answers.get(&op) {
            return Some(done.clone());
        }
        self.wanted.borrow_mut().push(op);
        if self.first_wanted.get().is_none() {
            self.first_wanted
                .set(Some(self.calls.get().saturating_sub(1)));
        }
        None
    }

    /// Counts a lookup starting.
    fn begin(&self) {
        self.calls.set(self.calls.get() + 1);
    }

    /// Whether the lookup under way logs what it did: not when an earlier
    /// call logged it, nor once a lookup of this call lacked an answer
    /// (this call's output will be thrown away).
    fn logs(&self) -> bool {
        self.calls.get() > self.logged.get() && self.first_wanted.get().is_none()
    }

    /// Ends a call: the ops it wanted, none if its output stands. Lookups
    /// it logged are not logged again when the input is served again.
    pub fn finish(&self) -> Vec<crate::database::Op> {
        if let Some(first) = self.first_wanted.take() {
            self.logged.set(self.logged.get().max(first));
        }
        self.calls.set(0);
        self.wanted.take()
    }

    /// Adds the answers to `ops`, given in order.
    pub fn add(&mut self, ops: Vec<crate::database::Op>, done: Vec<crate::database::Done>) {
        self.answers.extend(ops.into_iter().zip(done));
    }
}

impl<'a> Store<'a> {
    /// Storing in `db` when `when` says, entries living `srs`'s maximum age
    /// plus one day.
    pub fn new(db: &'a crate::database::Database, when: StoreWhen, srs: &Srs) -> Store<'a> {
        Store {
            db,
            when,
            lifetime: std::time::Duration::from_secs(
                86_400 * (u64::from(srs.options().max_age) + 1),
            ),
            prepared: None,
        }
    }

    /// Runs `op`: with the prepared answer in the daemon (`None` when it is
    /// not prepared yet), or waiting for the database.
    fn run(&self, op: crate::database::Op, now: SystemTime) -> Option<crate::database::Done> {
        use crate::database::Op;
        if let Some(prepared) = self.prepared {
            return prepared.answer(op);
        }
        Some(match op {
            Op::Store { key, sender } => self
                .db
                .store(&key, &sender, self.lifetime, now)
                .map(|()| None),
            Op::Fetch(key) => self.db.fetch(&key, now),
        })
    }
}

/// `database-when`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum StoreWhen {
    /// Every sender forward rewrites.
    #[default]
    Always,
    /// Only senders whose SRS address would have a local part over 64.
    TooLong,
    /// None (`original-envelope = embedded`): the database is only read,
    /// for the keys of addresses made before.
    Never,
}

/// How a lookup ended, as the metrics count it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// An address came back.
    Rewritten,
    /// Nothing to do: a local sender, an address already ours, a partial key.
    Unchanged,
    /// The input was refused: bad syntax, a forgery, an expired address.
    Refused,
    /// The address database failed: a temporary failure was answered.
    Failed,
}

impl Outcome {
    /// Every outcome, in the order of [`Outcome::name`]'s table.
    pub const ALL: [Outcome; 4] = [
        Outcome::Rewritten,
        Outcome::Unchanged,
        Outcome::Refused,
        Outcome::Failed,
    ];

    /// The label value in the metrics.
    pub fn name(self) -> &'static str {
        match self {
            Outcome::Rewritten => "rewritten",
            Outcome::Unchanged => "unchanged",
            Outcome::Refused => "refused",
            Outcome::Failed => "failed",
        }
    }

    /// How `answer` counts.
    pub fn of(answer: &Answer) -> Outcome {
        match answer {
            Answer::Found(_) => Outcome::Rewritten,
            Answer::NotFound(
                NotRewritten::Forward(_)
                | NotRewritten::Reverse(_)
                | NotRewritten::DatabaseNeeded
                | NotRewritten::UnknownKey,
            ) => Outcome::Refused,
            Answer::NotFound(_) => Outcome::Unchanged,
            Answer::TempFail(_) => Outcome::Failed,
        }
    }
}

impl Direction {
    /// Both directions.
    pub const ALL: [Direction; 2] = [Direction::Forward, Direction::Reverse];

    /// The label value in the metrics and the name of the map.
    pub fn name(self) -> &'static str {
        match self {
            Direction::Forward => "forward",
            Direction::Reverse => "reverse",
        }
    }
}

/// A reverse refused for a reason an honest address never gives (see
/// [`Answer::suspicious`]), with the address, for the log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refusal {
    /// The address as the client sent it.
    pub address: String,
    /// Why it was refused.
    pub why: ReverseError,
}

/// What the lookups of one call did: answers by direction and outcome, and
/// the suspicious refusals. A connection reads it after each call; it is
/// never shared between threads.
#[derive(Debug, Default)]
pub struct Record {
    counts: [[Cell<u32>; 4]; 2],
    refusals: RefCell<Vec<Refusal>>,
}

impl Record {
    /// Counts one answer in `direction`.
    pub fn count(&self, direction: Direction, outcome: Outcome) {
        let cell = &self.counts[direction as usize][outcome as usize];
        cell.set(cell.get().saturating_add(1));
    }

    /// How many answers in `direction` ended in `outcome`.
    pub fn counted(&self, direction: Direction, outcome: Outcome) -> u32 {
        self.counts[direction as usize][outcome as usize].get()
    }

    /// Takes the suspicious refusals noted so far, oldest first.
    pub fn take_refusals(&self) -> Vec<Refusal> {
        self.refusals.take()
    }

    fn note(&self, direction: Direction, address: &str, answer: &Answer) {
        self.count(direction, Outcome::of(answer));
        if let Some(why) = answer.suspicious() {
            self.refusals.borrow_mut().push(Refusal {
                address: address.to_owned(),
                why,
            });
        }
    }
}

impl<'a> Lookup<'a> {
    /// Lookups with `srs` into `domain` at `now`, nothing recorded yet.
    pub fn new(srs: &'a Srs, domain: &'a str, now: SystemTime) -> Lookup<'a> {
        Lookup {
            srs,
            domain,
            now,
            record: Record::default(),
            metrics: None,
            store: None,
        }
    }
}

impl Lookup<'_> {
    /// Forward or reverse `key` as a map lookup: anything that does not apply
    /// is `NotFound`, and partial keys (`user`, `@domain`) are never rewritten.
    pub fn map(&self, direction: Direction, key: &str) -> Answer {
        if key.starts_with('@') || !key.bytes().any(|b| b == b'@') {
            self.record.count(direction, Outcome::Unchanged);
            return Answer::NotFound(NotRewritten::PartialKey);
        }
        match direction {
            Direction::Forward => self.forward(key, self.domain, Form::Internal),
            Direction::Reverse => self.reverse(key, Form::Internal),
        }
    }

    /// The answers prepared by the daemon, if this lookup has them.
    fn prepared(&self) -> Option<&Prepared> {
        self.store.and_then(|s| s.prepared)
    }

    /// Starts a lookup.
    fn begin(&self) {
        if let Some(p) = self.prepared() {
            p.begin();
        }
    }

    /// Whether the lookup under way logs what it did (see [`Prepared`]).
    fn logs(&self) -> bool {
        self.prepared().is_none_or(Prepared::logs)
    }

    /// Forwards `sender` through `alias`.
    pub fn forward(&self, sender: &str, alias: &str, form: Form) -> Answer {
        self.begin();
        let answer = self.forward_answer(sender, alias, form);
        if self.logs() {
            log::debug!("forward {sender}: {answer}");
        }
        self.record.note(Direction::Forward, sender, &answer);
        answer
    }

    fn forward_answer(&self, sender: &str, alias: &str, form: Form) -> Answer {
        let plain = self.srs.forward_in(form, sender, alias, self.now);
        if let (Some(store), Ok(Forwarded::Rewritten(signed))) = (&self.store, &plain)
            && store.when != StoreWhen::Never
            && !crate::srs::looks_like_srs(sender)
            && (store.when == StoreWhen::Always
                || crate::srs::overlong_local_part(signed).is_some())
        {
            let key = crate::database::key_of(sender);
            let op = crate::database::Op::Store {
                key: key.clone(),
                sender: sender.to_owned(),
            };
            match store.run(op, self.now) {
                None => return Answer::TempFail(NOT_PREPARED.into()),
                Some(Err(e)) => {
                    if self.logs() {
                        log::warn!("{sender} not stored: {e}");
                    }
                    return Answer::TempFail(e.to_string());
                }
                Some(Ok(_)) => {}
            }
            return match self.srs.forward_in(Form::External, &key, alias, self.now) {
                Ok(Forwarded::Rewritten(a)) => Answer::Found(a),
                Ok(_) => Answer::NotFound(NotRewritten::LocalDomain),
                Err(e) => Answer::NotFound(NotRewritten::Forward(e)),
            };
        }
        match plain {
            Ok(Forwarded::Rewritten(a)) => Answer::Found(a),
            Ok(Forwarded::Unchanged(Unchanged::LocalDomain))
                if crate::srs::looks_like_srs(sender) =>
            {
                Answer::NotFound(NotRewritten::SrsAddressOnForward)
            }
            Ok(Forwarded::Unchanged(Unchanged::LocalDomain)) => {
                Answer::NotFound(NotRewritten::LocalDomain)
            }
            Ok(Forwarded::Unchanged(Unchanged::AlreadyOurs)) => {
                Answer::NotFound(NotRewritten::AlreadyRewritten)
            }
            Err(e) => Answer::NotFound(NotRewritten::Forward(e)),
        }
    }

    /// Reverses `address`.
    pub fn reverse(&self, address: &str, form: Form) -> Answer {
        self.begin();
        let answer = match self.srs.reverse_in(form, address, self.now) {
            Ok(key) if crate::database::is_key(&key) => self.stored(address, &key),
            Ok(a) => Answer::Found(a),
            Err(e) => Answer::NotFound(NotRewritten::Reverse(e)),
        };
        if self.logs() {
            log::debug!("reverse {address}: {answer}");
        }
        self.record.note(Direction::Reverse, address, &answer);
        answer
    }
}

impl Lookup<'_> {
    /// The sender stored under the database key `key` that `address`, an
    /// SRS address whose hash and age checked out, reversed to.
    fn stored(&self, address: &str, key: &str) -> Answer {
        let Some(store) = &self.store else {
            log::warn!(
                "{address} carries a database key: not reversed, a database (original-envelope = database) is needed"
            );
            return Answer::NotFound(NotRewritten::DatabaseNeeded);
        };
        match store.run(crate::database::Op::Fetch(key.to_owned()), self.now) {
            None => Answer::TempFail(NOT_PREPARED.into()),
            Some(Ok(Some(sender))) => Answer::Found(sender),
            Some(Ok(None)) => {
                if self.logs() {
                    log::info!(
                        "{address}: its database key is not in {}",
                        store.db.describe()
                    );
                }
                Answer::NotFound(NotRewritten::UnknownKey)
            }
            Some(Err(e)) => {
                if self.logs() {
                    log::warn!("{address} not reversed: {e}");
                }
                Answer::TempFail(e.to_string())
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::database::{Op, key_of};

    const LONG: &str = "0f8fad5b-d9cb-469f-a165-70867728950e.bounces-x1@bulk.example";

    /// A lookup lacking its database answer notes the op and answers a
    /// temporary failure; with the answer added, the same lookups answer
    /// for real, and only the lookups not logged before are logged.
    #[test]
    fn prepared_answers_replace_waiting_and_log_once() {
        let dir = tempfile::TempDir::new().unwrap();
        let db =
            Database::open(&format!("sqlite:{}", dir.path().join("srs.db").display())).unwrap();
        let srs = Srs::new(&[b"s3cret"], crate::srs::Options::default()).unwrap();
        let now = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_795_435_200);
        let mut prepared = Prepared::default();
        let serve = |prepared: &Prepared| {
            let mut lookup = Lookup::new(&srs, "fwd.example", now);
            lookup.store = Some(Store {
                prepared: Some(prepared),
                ..Store::new(&db, StoreWhen::TooLong, &srs)
            });
            let short = lookup.map(Direction::Forward, "short@bulk.example");
            let short_logged = lookup.logs();
            let long = lookup.map(Direction::Forward, LONG);
            let long_logged = lookup.logs();
            (short, short_logged, long, long_logged)
        };
        let (short, short_logged, long, long_logged) = serve(&prepared);
        assert!(matches!(short, Answer::Found(_)));
        assert_eq!(long, Answer::TempFail(NOT_PREPARED.into()));
        assert_eq!((short_logged, long_logged), (true, false));
        let wanted = prepared.finish();
        let store = Op::Store {
            key: key_of(LONG),
            sender: LONG.into(),
        };
        assert_eq!(wanted, [store]);
        prepared.add(wanted, vec![Ok(None)]);
        let (again, short_logged, long, long_logged) = serve(&prepared);
        assert_eq!(again, short);
        assert!(matches!(long, Answer::Found(a) if a.contains("=1=")));
        assert_eq!((short_logged, long_logged), (false, true));
        assert_eq!(prepared.finish(), []);
        // Nothing was written: the daemon runs the ops, not the lookup.
        assert_eq!(db.fetch(&key_of(LONG), now).unwrap(), None);
    }
}
