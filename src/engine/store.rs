//! The address database seen from a lookup: when senders are stored, and
//! for the daemon, whose serving thread never waits on the database, the
//! answers got ahead of a call and the replay that gets them.

use std::cell::{Cell, RefCell};
use std::time::SystemTime;

use super::{Record, Rewriter};
use crate::database::{Database, Done, Op};
use crate::srs::Srs;

/// How senders are stored in the address database.
#[derive(Clone, Copy, Debug)]
pub struct Store<'a> {
    /// The database.
    pub db: &'a Database,
    /// Every sender, or only those whose SRS address would be too long.
    pub when: StoreWhen,
    /// How long an entry lives: the maximum age plus one day.
    pub lifetime: std::time::Duration,
}

impl<'a> Store<'a> {
    /// Storing in `db` when `when` says, entries living `srs`'s maximum age
    /// plus one day.
    pub fn new(db: &'a Database, when: StoreWhen, srs: &Srs) -> Store<'a> {
        Store {
            db,
            when,
            lifetime: std::time::Duration::from_secs(
                86_400 * (u64::from(srs.options().max_age) + 1),
            ),
        }
    }

    /// Runs `op`: with the answer `prepared` holds for the daemon (`None`
    /// when it is not there yet), or waiting for the database.
    pub(super) fn run(&self, op: Op, now: SystemTime, prepared: Option<&Prepared>) -> Option<Done> {
        if let Some(prepared) = prepared {
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

/// The database's answers for one call of a protocol's `serve`, got ahead
/// of it, so that the daemon's serving thread never waits on the database.
///
/// The daemon serves; a lookup that needs an answer not prepared notes the
/// [`Op`](Op) as wanted and answers a temporary failure.
/// When anything was wanted, the daemon throws that call's output and
/// session away, gets the answers ([`Database::run`]), and serves the same
/// input again. Lookups are deterministic, so the second call finds what
/// it needs; a call that needs nothing costs nothing more.
#[derive(Debug, Default)]
pub struct Prepared {
    answers: std::collections::HashMap<Op, Done>,
    wanted: RefCell<Vec<Op>>,
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
    pub(super) fn answer(&self, op: Op) -> Option<Done> {
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
    pub(super) fn begin(&self) {
        self.calls.set(self.calls.get() + 1);
    }

    /// Whether the lookup under way logs what it did: not when an earlier
    /// call logged it, nor once a lookup of this call lacked an answer
    /// (this call's output will be thrown away).
    pub(super) fn logs(&self) -> bool {
        self.calls.get() > self.logged.get() && self.first_wanted.get().is_none()
    }

    /// Ends a call: the ops it wanted, none if its output stands. Lookups
    /// it logged are not logged again when the input is served again.
    pub fn finish(&self) -> Vec<Op> {
        if let Some(first) = self.first_wanted.take() {
            self.logged.set(self.logged.get().max(first));
        }
        self.calls.set(0);
        self.wanted.take()
    }

    /// Adds the answers to `ops`, given in order.
    pub fn add(&mut self, ops: Vec<Op>, done: Vec<Done>) {
        self.answers.extend(ops.into_iter().zip(done));
    }
}

/// How many times one input may be served again for database answers (a
/// lookup may depend on an earlier one's answer); after that, lookups
/// still lacking an answer answer a temporary failure.
const MAX_REPLAYS: usize = 4;

/// One call of a connection's protocol over the input it holds, which can
/// be undone and made again (see [`Prepared`]).
pub trait Replayable {
    /// What [`Replayable::undo`] needs to put the connection back as it is
    /// now.
    type Mark;
    /// What the call says (bytes consumed, closing).
    type Output;
    /// Remembers the connection as it is now.
    fn mark(&self) -> Self::Mark;
    /// Puts the connection back as `mark` found it, output included.
    fn undo(&mut self, mark: Self::Mark);
    /// Serves the input with `lookup`.
    fn serve(&mut self, lookup: &Rewriter<'_>) -> Self::Output;
}

/// Serves `call` with lookups by `srs` into `domain` at `now`, and gives
/// its output and what its lookups did. With `store`, the database's
/// answers are got first and without blocking the caller's thread: the
/// call is served, undone when it lacked answers, and served again once the
/// database has given them.
pub async fn serve<C: Replayable>(
    srs: &Srs,
    domain: &str,
    now: SystemTime,
    store: Option<Store<'_>>,
    call: &mut C,
) -> (C::Output, Record) {
    let Some(store) = store else {
        let lookup = Rewriter::new(srs, domain, now);
        let output = call.serve(&lookup);
        return (output, lookup.record);
    };
    let mut prepared = Prepared::default();
    let mut round = 1;
    loop {
        let mark = call.mark();
        let wanted = {
            let mut lookup = Rewriter::new(srs, domain, now);
            lookup.store = Some(store);
            lookup.prepared = Some(&prepared);
            let output = call.serve(&lookup);
            let wanted = prepared.finish();
            if wanted.is_empty() || round == MAX_REPLAYS {
                return (output, lookup.record);
            }
            wanted
        };
        call.undo(mark);
        let done = store.db.run(wanted.clone(), store.lifetime, now).await;
        prepared.add(wanted, done);
        round += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::database::key_of;
    use crate::engine::{Answer, Direction, NOT_PREPARED};

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
            let mut lookup = Rewriter::new(&srs, "fwd.example", now);
            lookup.store = Some(Store::new(&db, StoreWhen::TooLong, &srs));
            lookup.prepared = Some(prepared);
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
