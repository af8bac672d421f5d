//! SQLite: one file shared by the processes on one host.

use std::sync::Mutex;

use super::{DbError, Done, Op, TIMEOUT, lock};

/// Stores a sender (SQLite); an existing key is replaced.
const INSERT: &str = "INSERT INTO kv (k, v, lt) VALUES (?1, ?2, ?3)";

/// The sender under a key, if it has not expired (SQLite).
const SELECT: &str = "SELECT v FROM kv WHERE k = ?1 AND lt > ?2";

/// The table and its index, created when missing.
const SCHEMA: &str = "CREATE TABLE IF NOT EXISTS kv (k TEXT NOT NULL UNIQUE ON CONFLICT REPLACE, \
                      v TEXT NOT NULL, lt INTEGER NOT NULL); \
                      CREATE INDEX IF NOT EXISTS ltidx ON kv (lt)";

/// Longest queue of batches waiting for the SQLite thread; beyond it,
/// requests get a temporary failure at once rather than wait.
const QUEUE: usize = 4096;

/// Most batches the SQLite thread commits in one transaction.
const GROUP: usize = 256;

/// An SQLite file in WAL mode, so that readers never wait for the writer,
/// with a busy timeout for the other processes on it (srs, another srsd).
/// Writes share one connection, so that this process's writers queue on a
/// mutex rather than in SQLite's sleeping busy handler; reads take a
/// connection of their own from a stack of idle ones.
///
/// [`Database::run`] goes to a thread of its own instead, started at the
/// first call and ended when this value is dropped (at a reload). It takes
/// every batch queued and runs them in one transaction: one commit for
/// all the clients that asked meanwhile.
pub struct Sqlite {
    pub(super) path: String,
    /// This process made the file (it did not exist before).
    pub(super) created: bool,
    writer: Mutex<rusqlite::Connection>,
    readers: Mutex<Vec<rusqlite::Connection>>,
    worker: Mutex<Option<std::sync::mpsc::SyncSender<Queued>>>,
}

/// Ops for the SQLite thread, with the times they need and where the
/// answers go.
struct Queued {
    ops: Vec<Op>,
    expires: i64,
    now: i64,
    reply: tokio::sync::oneshot::Sender<Vec<Done>>,
}

impl Sqlite {
    pub(super) fn open(path: &str) -> Result<Sqlite, DbError> {
        let created = FileId::of(path).is_none();
        let writer = Opened::open(path, true)?.conn;
        Ok(Sqlite {
            path: path.to_owned(),
            created,
            writer: Mutex::new(writer),
            readers: Mutex::new(Vec::new()),
            worker: Mutex::new(None),
        })
    }

    /// A connection to `path` in WAL mode with the busy timeout.
    fn connect(path: &str) -> Result<rusqlite::Connection, DbError> {
        let fail = |e| sqlite_error(path, e);
        let conn = rusqlite::Connection::open(path).map_err(fail)?;
        conn.busy_timeout(TIMEOUT).map_err(fail)?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(fail)?;
        // In WAL mode, NORMAL syncs at checkpoints, not at each insert: a
        // power cut may lose the last entries (bounces to those addresses
        // are then not found), never corrupt the file.
        conn.pragma_update(None, "synchronous", 1).map_err(fail)?;
        Ok(conn)
    }

    fn fail(&self, e: impl std::fmt::Display) -> DbError {
        sqlite_error(&self.path, e)
    }

    /// Runs `op` now, waiting: a store on the shared writer, a fetch on an
    /// idle reader (or a new one).
    pub(super) fn call(&self, op: &Op, expires: i64, now: i64) -> Done {
        if let Op::Store { .. } = op {
            return apply(&lock(&self.writer), op, expires, now).map_err(|e| self.fail(e));
        }
        let idle = lock(&self.readers).pop();
        let conn = match idle {
            Some(conn) => conn,
            None => Self::connect(&self.path)?,
        };
        let found = apply(&conn, op, expires, now).map_err(|e| self.fail(e));
        // A connection that failed may be broken: it is not kept.
        if found.is_ok() {
            lock(&self.readers).push(conn);
        }
        found
    }

    pub(super) async fn run(&self, ops: Vec<Op>, expires: i64, now: i64) -> Vec<Done> {
        let n = ops.len();
        let (reply, answer) = tokio::sync::oneshot::channel();
        let batch = Queued {
            ops,
            expires,
            now,
            reply,
        };
        let queued = {
            let mut worker = lock(&self.worker);
            let sender = worker.get_or_insert_with(|| self.start());
            match sender.try_send(batch) {
                Err(std::sync::mpsc::TrySendError::Disconnected(batch)) => {
                    // The thread is gone (it never panics; but if it did):
                    // a new one.
                    *sender = self.start();
                    sender.try_send(batch)
                }
                other => other,
            }
        };
        // The thread's own calls give up after TIMEOUT (the busy timeout);
        // a thread stuck for longer (a hung disk) still answers no later.
        let why = match queued {
            Ok(()) => match tokio::time::timeout(2 * TIMEOUT, answer).await {
                Ok(Ok(done)) => return done,
                Ok(Err(_)) => "the database thread stopped",
                Err(_) => "no answer in time",
            },
            Err(std::sync::mpsc::TrySendError::Full(_)) => "too many requests queued",
            Err(std::sync::mpsc::TrySendError::Disconnected(_)) => "the database thread stopped",
        };
        vec![Err(self.fail(why)); n]
    }

    /// Starts the thread that runs batches, and gives its queue.
    fn start(&self) -> std::sync::mpsc::SyncSender<Queued> {
        let (sender, queue) = std::sync::mpsc::sync_channel(QUEUE);
        let path = self.path.clone();
        let started = std::thread::Builder::new()
            .name("srs-sqlite".into())
            .spawn(move || serve_batches(&path, &queue));
        if let Err(e) = started {
            // The queue's receiver is gone with the closure: every batch
            // sent to it fails at once, as a temporary failure.
            log::error!("cannot start the sqlite thread: {e}");
        }
        sender
    }

    pub(super) fn check_writable(&self) -> Result<(), DbError> {
        let conn = Self::connect(&self.path)?;
        let tried = conn
            .execute_batch("BEGIN IMMEDIATE")
            .and_then(|()| conn.execute(INSERT, rusqlite::params!["", "", 0]));
        let _ = conn.execute_batch("ROLLBACK");
        match tried {
            Ok(_) => Ok(()),
            // Another process holds the lock: that passes, and says nothing
            // of whether this one may write.
            Err(rusqlite::Error::SqliteFailure(e, _))
                if matches!(
                    e.code,
                    rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked
                ) =>
            {
                Ok(())
            }
            Err(e) => Err(self.fail(e)),
        }
    }

    pub(super) fn purge(&self, now: i64) -> Result<usize, DbError> {
        lock(&self.writer)
            .prepare_cached("DELETE FROM kv WHERE lt <= ?1")
            .and_then(|mut s| s.execute(rusqlite::params![now]))
            .map_err(|e| self.fail(e))
    }
}

/// Which file a path names: its device and inode. A connection remembers
/// the one it opened, so that a file deleted or renamed over while srsd
/// holds it open is noticed (SQLite would go on writing into the old one,
/// where no later process looks).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct FileId {
    dev: u64,
    ino: u64,
}

impl FileId {
    /// The file at `path` now, if there is one.
    fn of(path: &str) -> Option<FileId> {
        use std::os::unix::fs::MetadataExt;
        std::fs::metadata(path).ok().map(|m| FileId {
            dev: m.dev(),
            ino: m.ino(),
        })
    }
}

/// A connection of the SQLite thread and the file it opened.
struct Opened {
    conn: rusqlite::Connection,
    file: Option<FileId>,
}

impl Opened {
    /// Opens `path`; with `schema`, creates the table when it is missing.
    pub(super) fn open(path: &str, schema: bool) -> Result<Opened, DbError> {
        let conn = Sqlite::connect(path)?;
        if schema {
            conn.execute_batch(SCHEMA)
                .map_err(|e| sqlite_error(path, e))?;
        }
        Ok(Opened {
            conn,
            file: FileId::of(path),
        })
    }

    /// This connection if `path` still names its file; otherwise (the file
    /// was deleted, or another renamed over it) a new connection to what
    /// the path names now, the table created, and an error logged: every
    /// address stored in the old file from then on would be lost at the
    /// next restart. One `stat` a call.
    fn current(self, path: &str) -> Result<Opened, DbError> {
        if self.file.is_some() && FileId::of(path) == self.file {
            return Ok(self);
        }
        log::error!(
            "sqlite database {path}: the file was deleted or replaced while open; \
             opening {path} again (entries stored in the old file are not in it)"
        );
        drop(self);
        Opened::open(path, true)
    }
}

/// SQLite's failure on `path`.
fn sqlite_error(path: &str, e: impl std::fmt::Display) -> DbError {
    DbError::Sqlite {
        path: path.to_owned(),
        message: e.to_string(),
    }
}

/// The SQLite thread: waits for a batch, takes every other one queued (up to
/// [`GROUP`]), runs them all in one transaction and answers each. A
/// connection that failed is closed and opened again for the next batch.
///
/// Before each group it checks that the path still names the file its
/// connection opened (see [`Opened::current`]).
fn serve_batches(path: &str, queue: &std::sync::mpsc::Receiver<Queued>) {
    let mut conn: Option<Opened> = None;
    while let Ok(first) = queue.recv() {
        let mut batches = vec![first];
        while batches.len() < GROUP {
            match queue.try_recv() {
                Ok(b) => batches.push(b),
                Err(_) => break,
            }
        }
        let opened = match conn.take() {
            Some(o) => o.current(path),
            // A missing file is created with its table; an existing one
            // whose table is gone (dropped by another process) is not
            // quietly emptied: that stays a failure the operator sees.
            None => Opened::open(path, FileId::of(path).is_none()),
        };
        let c = match opened {
            Ok(c) => c,
            Err(e) => {
                fail_all(batches, &e);
                continue;
            }
        };
        match run_group(&c.conn, &batches) {
            Ok(all) => {
                // An op that failed (a read-only file, say) may have failed
                // for the connection's sake: the next batch opens another.
                let failed = all.iter().flatten().any(Result::is_err);
                for (b, done) in batches.into_iter().zip(all) {
                    let done = done
                        .into_iter()
                        .map(|d| d.map_err(|e| sqlite_error(path, e)));
                    // The asker may have gone (its client left): nothing to do.
                    let _ = b.reply.send(done.collect());
                }
                if !failed {
                    conn = Some(c);
                }
            }
            // The connection may be broken: the next batch opens another.
            Err(e) => fail_all(batches, &sqlite_error(path, e)),
        }
    }
}

/// Answers every op of `batches` with `e`.
fn fail_all(batches: Vec<Queued>, e: &DbError) {
    for b in batches {
        let _ = b.reply.send(vec![Err(e.clone()); b.ops.len()]);
    }
}

/// What one op of a group gave, or SQLite's reason.
type GroupDone = Result<Option<String>, String>;

/// Runs `batches` in one transaction: per batch, per op, what it gave, or
/// why the whole transaction failed (then nothing was stored).
fn run_group(
    conn: &rusqlite::Connection,
    batches: &[Queued],
) -> Result<Vec<Vec<GroupDone>>, rusqlite::Error> {
    // Reads alone need no write lock, which other processes may hold.
    let writes = batches
        .iter()
        .any(|b| b.ops.iter().any(|op| matches!(op, Op::Store { .. })));
    conn.execute_batch(if writes { "BEGIN IMMEDIATE" } else { "BEGIN" })?;
    let all = batches
        .iter()
        .map(|b| {
            b.ops
                .iter()
                .map(|op| apply(conn, op, b.expires, b.now).map_err(|e| e.to_string()))
                .collect()
        })
        .collect();
    if let Err(e) = conn.execute_batch("COMMIT") {
        let _ = conn.execute_batch("ROLLBACK");
        return Err(e);
    }
    Ok(all)
}

/// Runs `op` on `conn` with its statements cached there, entries expiring
/// at `expires`, a fetch as of `now`: each operation written once, for
/// both ways in.
fn apply(
    conn: &rusqlite::Connection,
    op: &Op,
    expires: i64,
    now: i64,
) -> rusqlite::Result<Option<String>> {
    use rusqlite::OptionalExtension;
    match op {
        Op::Store { key, sender } => conn
            .prepare_cached(INSERT)?
            .execute(rusqlite::params![key, sender, expires])
            .map(|_| None),
        Op::Fetch(key) => conn
            .prepare_cached(SELECT)?
            .query_row(rusqlite::params![key, now], |row| row.get(0))
            .optional(),
    }
}
