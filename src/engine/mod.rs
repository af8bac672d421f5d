//! The rewrite engine every protocol shares: a [`Rewriter`] forwards and
//! reverses addresses with the codec, our domain and the time of the
//! request, stores long senders in the address database when asked, and
//! records what it did ([`Record`]) for the metrics and the log. The
//! protocols encode its [`Answer`]s; nothing here does I/O but the one-shot
//! database calls of [`store`].

mod record;
pub mod store;

use crate::srs::{Form, ForwardError, Forwarded, ReverseError, Srs, Unchanged};
use std::time::SystemTime;

pub use record::{Record, Refusal};
pub use store::{Prepared, Store, StoreWhen};

/// Which map a request asks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    /// Sender to SRS address.
    Forward,
    /// SRS address to the address it stands for.
    Reverse,
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
pub struct Rewriter<'a> {
    /// The codec, with the secrets of the current state.
    pub srs: &'a Srs,
    /// The SRS domain forward rewrites into.
    pub domain: &'a str,
    /// The time of the request.
    pub now: SystemTime,
    /// What the lookups made with this value did.
    pub record: Record,
    /// The address database, when senders are stored in one.
    pub store: Option<Store<'a>>,
    /// For the daemon: the database's answers, got before the call, in
    /// place of calls that would wait (see [`Prepared`]).
    pub prepared: Option<&'a Prepared>,
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

impl<'a> Rewriter<'a> {
    /// Lookups with `srs` into `domain` at `now`, nothing recorded yet.
    pub fn new(srs: &'a Srs, domain: &'a str, now: SystemTime) -> Rewriter<'a> {
        Rewriter {
            srs,
            domain,
            now,
            record: Record::default(),
            store: None,
            prepared: None,
        }
    }
}

impl Rewriter<'_> {
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

    /// Starts a lookup.
    fn begin(&self) {
        if let Some(p) = self.prepared {
            p.begin();
        }
    }

    /// Whether the lookup under way logs what it did (see [`Prepared`]).
    pub(crate) fn logs(&self) -> bool {
        self.prepared.is_none_or(Prepared::logs)
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
            match store.run(op, self.now, self.prepared) {
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

impl Rewriter<'_> {
    /// The sender stored under the database key `key` that `address`, an
    /// SRS address whose hash and age checked out, reversed to.
    fn stored(&self, address: &str, key: &str) -> Answer {
        let Some(store) = &self.store else {
            log::warn!(
                "{address} carries a database key: not reversed, a database (original-envelope = database) is needed"
            );
            return Answer::NotFound(NotRewritten::DatabaseNeeded);
        };
        match store.run(
            crate::database::Op::Fetch(key.to_owned()),
            self.now,
            self.prepared,
        ) {
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
