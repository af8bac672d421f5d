//! The address database: for senders too long for SRS, the SRS address
//! carries a short key and the sender is stored under it, as postsrsd 2.x
//! does (`original-envelope = database`). The layout is postsrsd's, so each
//! reads the other's entries:
//!
//! - the key is the RFC 4648 base32hex (upper case) of the SHA-1 of the
//!   sender as given, followed by `@1`; the SRS address is then made from
//!   `KEY@1`, so it still carries a hash and a timestamp, and a forged or
//!   expired address is refused before any lookup;
//! - SQLite: table `kv (k TEXT UNIQUE ON CONFLICT REPLACE, v TEXT, lt
//!   INTEGER)` with `lt` the Unix time the entry expires, purged
//!   periodically;
//! - Redis: the key `PostSRSd/KEY@1`, set with `SETEX` so Redis expires it.
//!
//! Every failure is a [`DbError`], which the protocols turn into a
//! temporary failure so that the MTA retries: mail is never sent with an
//! address that will not reverse.
//!
//! Two ways in: [`Database::store`] and [`Database::fetch`] wait, for the
//! programs that serve one request (`srs`, the pipe helpers);
//! [`Database::run`] is for the daemon, whose serving thread must never
//! wait. It hands a batch of [`Op`]s to a thread of its own that commits
//! what is queued together (SQLite), or sends them on one multiplexed
//! connection (Redis).

use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use sha1::{Digest, Sha1};
use thiserror::Error;

/// How long a database call may take before it counts as a failure.
pub const TIMEOUT: Duration = Duration::from_secs(2);

/// The Redis key prefix postsrsd 2.x uses.
const REDIS_PREFIX: &str = "PostSRSd/";

/// Stores a sender (SQLite); an existing key is replaced.
const INSERT: &str = "INSERT INTO kv (k, v, lt) VALUES (?1, ?2, ?3)";

/// The sender under a key, if it has not expired (SQLite).
const SELECT: &str = "SELECT v FROM kv WHERE k = ?1 AND lt > ?2";

/// Longest queue of batches waiting for the SQLite thread; beyond it,
/// requests get a temporary failure at once rather than wait.
const QUEUE: usize = 4096;

/// Most batches the SQLite thread commits in one transaction.
const GROUP: usize = 256;

/// Why the database could not answer. Never names a value stored in it.
#[derive(Clone, Debug, Error)]
pub enum DbError {
    /// The `database` setting is not `sqlite:PATH` or `redis://...`.
    #[error("database {0:?}: expected sqlite:/path/to/file or redis://host:port/db")]
    BadSpec(String),
    /// SQLite refused: a corrupt, unwritable or locked file.
    #[error("sqlite database {path}: {message}")]
    Sqlite {
        /// The file.
        path: String,
        /// SQLite's reason.
        message: String,
    },
    /// Redis is down, slow or refused.
    #[error("redis database {url}: {message}")]
    Redis {
        /// The server, without a password.
        url: String,
        /// The reason.
        message: String,
    },
}

/// One database call a lookup needs.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Op {
    /// Store `sender` under `key`, its [`key_of`].
    Store {
        /// The key.
        key: String,
        /// The sender.
        sender: String,
    },
    /// The sender stored under this key (upper case), if any.
    Fetch(String),
}

/// What an [`Op`] gave: `None` for a store, or for a key not found.
pub type Done = Result<Option<String>, DbError>;

/// Where the original senders are stored.
pub enum Database {
    /// One file, shared by the processes on this host.
    Sqlite(Sqlite),
    /// One server, shared by several forwarding hosts.
    Redis(Redis),
}

impl std::fmt::Debug for Database {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.describe())
    }
}

/// The key a sender is stored under: base32hex of its SHA-1, then `@1`.
pub fn key_of(sender: &str) -> String {
    let mut key = data_encoding::BASE32HEX_NOPAD.encode(&Sha1::digest(sender.as_bytes()));
    key.push_str("@1");
    key
}

/// Whether `address` (a reversed SRS address) is a database key, `KEY@1`.
pub fn is_key(address: &str) -> bool {
    address
        .rsplit_once('@')
        .is_some_and(|(_, host)| host == "1")
}

fn unix(t: SystemTime) -> i64 {
    t.duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

impl Database {
    /// Opens `spec`: `sqlite:PATH` (the file and its table are created when
    /// missing) or `redis://HOST:PORT/DB`.
    pub fn open(spec: &str) -> Result<Database, DbError> {
        if let Some(path) = spec.strip_prefix("sqlite:") {
            return Sqlite::open(path).map(Database::Sqlite);
        }
        if spec.starts_with("redis://") || spec.starts_with("unix://") {
            return Redis::open(spec).map(Database::Redis);
        }
        Err(DbError::BadSpec(spec.to_owned()))
    }

    /// "sqlite /var/lib/mail-srs/srs.db" or "redis 127.0.0.1:6379", for logs.
    pub fn describe(&self) -> String {
        match self {
            Database::Sqlite(s) => format!("sqlite {}", s.path),
            Database::Redis(r) => format!("redis {}", r.url),
        }
    }

    /// Stores `sender` under `key` until `now + lifetime`.
    pub fn store(
        &self,
        key: &str,
        sender: &str,
        lifetime: Duration,
        now: SystemTime,
    ) -> Result<(), DbError> {
        match self {
            Database::Sqlite(s) => s.store(key, sender, unix(now + lifetime)),
            Database::Redis(r) => r.store(key, sender, lifetime),
        }
    }

    /// The sender stored under `key` (any case), if it has not expired.
    pub fn fetch(&self, key: &str, now: SystemTime) -> Result<Option<String>, DbError> {
        let key = key.to_ascii_uppercase();
        match self {
            Database::Sqlite(s) => s.fetch(&key, unix(now)),
            Database::Redis(r) => r.fetch(&key),
        }
    }

    /// Runs `ops` without blocking the caller's thread, entries living
    /// `lifetime` from `now`; gives one result per op, in order. For the
    /// daemon: see the module's documentation.
    pub async fn run(&self, ops: Vec<Op>, lifetime: Duration, now: SystemTime) -> Vec<Done> {
        let ops: Vec<Op> = ops
            .into_iter()
            .map(|op| match op {
                Op::Fetch(key) => Op::Fetch(key.to_ascii_uppercase()),
                store => store,
            })
            .collect();
        match self {
            Database::Sqlite(s) => s.run(ops, unix(now + lifetime), unix(now)).await,
            Database::Redis(r) => r.run(ops, lifetime).await,
        }
    }

    /// Removes the entries expired at `now` (SQLite; Redis expires its own)
    /// and says how many.
    pub fn purge(&self, now: SystemTime) -> Result<usize, DbError> {
        match self {
            Database::Sqlite(s) => s.purge(unix(now)),
            Database::Redis(_) => Ok(0),
        }
    }
}

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
    path: String,
    writer: Mutex<rusqlite::Connection>,
    readers: Mutex<Vec<rusqlite::Connection>>,
    worker: Mutex<Option<std::sync::mpsc::SyncSender<Batch>>>,
}

/// Ops for the SQLite thread, with the times they need and where the
/// answers go.
struct Batch {
    ops: Vec<Op>,
    expires: i64,
    now: i64,
    reply: tokio::sync::oneshot::Sender<Vec<Done>>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    match m.lock() {
        Ok(g) => g,
        Err(poisoned) => poisoned.into_inner(),
    }
}

impl Sqlite {
    fn open(path: &str) -> Result<Sqlite, DbError> {
        let writer = Self::connect(path)?;
        writer
            .execute_batch(
                "CREATE TABLE IF NOT EXISTS kv (k TEXT NOT NULL UNIQUE ON CONFLICT REPLACE, \
                 v TEXT NOT NULL, lt INTEGER NOT NULL); \
                 CREATE INDEX IF NOT EXISTS ltidx ON kv (lt)",
            )
            .map_err(|e| sqlite_error(path, e))?;
        Ok(Sqlite {
            path: path.to_owned(),
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

    fn store(&self, key: &str, sender: &str, expires: i64) -> Result<(), DbError> {
        lock(&self.writer)
            .prepare_cached(INSERT)
            .and_then(|mut s| s.execute(rusqlite::params![key, sender, expires]))
            .map(|_| ())
            .map_err(|e| self.fail(e))
    }

    fn fetch(&self, key: &str, now: i64) -> Result<Option<String>, DbError> {
        use rusqlite::OptionalExtension;
        let idle = lock(&self.readers).pop();
        let conn = match idle {
            Some(conn) => conn,
            None => Self::connect(&self.path)?,
        };
        let found = conn
            .prepare_cached(SELECT)
            .and_then(|mut s| {
                s.query_row(rusqlite::params![key, now], |row| row.get(0))
                    .optional()
            })
            .map_err(|e| self.fail(e));
        // A connection that failed may be broken: it is not kept.
        if found.is_ok() {
            lock(&self.readers).push(conn);
        }
        found
    }

    async fn run(&self, ops: Vec<Op>, expires: i64, now: i64) -> Vec<Done> {
        let n = ops.len();
        let (reply, answer) = tokio::sync::oneshot::channel();
        let batch = Batch {
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
    fn start(&self) -> std::sync::mpsc::SyncSender<Batch> {
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

    fn purge(&self, now: i64) -> Result<usize, DbError> {
        lock(&self.writer)
            .prepare_cached("DELETE FROM kv WHERE lt <= ?1")
            .and_then(|mut s| s.execute(rusqlite::params![now]))
            .map_err(|e| self.fail(e))
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
fn serve_batches(path: &str, queue: &std::sync::mpsc::Receiver<Batch>) {
    let mut conn: Option<rusqlite::Connection> = None;
    while let Ok(first) = queue.recv() {
        let mut batches = vec![first];
        while batches.len() < GROUP {
            match queue.try_recv() {
                Ok(b) => batches.push(b),
                Err(_) => break,
            }
        }
        let c = match conn.take().map_or_else(|| Sqlite::connect(path), Ok) {
            Ok(c) => c,
            Err(e) => {
                fail_all(batches, &e);
                continue;
            }
        };
        match run_group(&c, &batches) {
            Ok(all) => {
                for (b, done) in batches.into_iter().zip(all) {
                    let done = done
                        .into_iter()
                        .map(|d| d.map_err(|e| sqlite_error(path, e)));
                    // The asker may have gone (its client left): nothing to do.
                    let _ = b.reply.send(done.collect());
                }
                conn = Some(c);
            }
            // The connection may be broken: the next batch opens another.
            Err(e) => fail_all(batches, &sqlite_error(path, e)),
        }
    }
}

/// Answers every op of `batches` with `e`.
fn fail_all(batches: Vec<Batch>, e: &DbError) {
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
    batches: &[Batch],
) -> Result<Vec<Vec<GroupDone>>, rusqlite::Error> {
    use rusqlite::OptionalExtension;
    // Reads alone need no write lock, which other processes may hold.
    let writes = batches
        .iter()
        .any(|b| b.ops.iter().any(|op| matches!(op, Op::Store { .. })));
    conn.execute_batch(if writes { "BEGIN IMMEDIATE" } else { "BEGIN" })?;
    let mut all = Vec::with_capacity(batches.len());
    let ran = (|| {
        let mut insert = conn.prepare_cached(INSERT)?;
        let mut select = conn.prepare_cached(SELECT)?;
        for b in batches {
            let mut done = Vec::with_capacity(b.ops.len());
            for op in &b.ops {
                done.push(
                    match op {
                        Op::Store { key, sender } => insert
                            .execute(rusqlite::params![key, sender, b.expires])
                            .map(|_| None),
                        Op::Fetch(key) => select
                            .query_row(rusqlite::params![key, b.now], |row| row.get(0))
                            .optional(),
                    }
                    .map_err(|e| e.to_string()),
                );
            }
            all.push(done);
        }
        conn.execute_batch("COMMIT")
    })();
    if let Err(e) = ran {
        let _ = conn.execute_batch("ROLLBACK");
        return Err(e);
    }
    Ok(all)
}

/// Connections to Redis, pooled, each with read and write timeouts; a
/// broken one is dropped and a new one made on the next request.
///
/// [`Database::run`] uses one multiplexed connection instead, made at the
/// first call and remade after an I/O error, on which the requests of
/// every client are pipelined.
pub struct Redis {
    url: String,
    pool: r2d2::Pool<RedisManager>,
    client: redis::Client,
    multiplexed: Mutex<Option<redis::aio::ConnectionManager>>,
}

struct RedisManager(redis::Client);

impl r2d2::ManageConnection for RedisManager {
    type Connection = redis::Connection;
    type Error = redis::RedisError;

    fn connect(&self) -> Result<redis::Connection, redis::RedisError> {
        let conn = self.0.get_connection_with_timeout(TIMEOUT)?;
        conn.set_read_timeout(Some(TIMEOUT))?;
        conn.set_write_timeout(Some(TIMEOUT))?;
        Ok(conn)
    }

    fn is_valid(&self, conn: &mut redis::Connection) -> Result<(), redis::RedisError> {
        redis::cmd("PING").query::<String>(conn).map(|_| ())
    }

    fn has_broken(&self, conn: &mut redis::Connection) -> bool {
        !redis::ConnectionLike::is_open(conn)
    }
}

impl Redis {
    fn open(spec: &str) -> Result<Redis, DbError> {
        // Never log a password from the URL.
        let shown = match spec.split_once('@') {
            Some((_, host)) => format!("redis://…@{host}"),
            None => spec.to_owned(),
        };
        let fail = |message: String| DbError::Redis {
            url: shown.clone(),
            message,
        };
        let client = redis::Client::open(spec).map_err(|e| fail(e.to_string()))?;
        // Built lazily: srsd starts, and answers TEMP, while Redis is down.
        let pool = r2d2::Pool::builder()
            .max_size(16)
            .min_idle(Some(0))
            .connection_timeout(TIMEOUT)
            .test_on_check_out(false)
            .build_unchecked(RedisManager(client.clone()));
        Ok(Redis {
            url: shown,
            pool,
            client,
            multiplexed: Mutex::new(None),
        })
    }

    /// The multiplexed connection, made at the first call (it connects
    /// when first used, so this never waits).
    fn multiplexed(&self) -> Result<redis::aio::ConnectionManager, DbError> {
        let mut held = lock(&self.multiplexed);
        if let Some(m) = &*held {
            return Ok(m.clone());
        }
        let config = redis::aio::ConnectionManagerConfig::new()
            .set_connection_timeout(Some(TIMEOUT))
            .set_response_timeout(Some(TIMEOUT))
            .set_number_of_retries(1);
        let made = redis::aio::ConnectionManager::new_lazy_with_config(self.client.clone(), config)
            .map_err(|e| self.fail(e))?;
        *held = Some(made.clone());
        Ok(made)
    }

    async fn run(&self, ops: Vec<Op>, lifetime: Duration) -> Vec<Done> {
        let n = ops.len();
        let mut conn = match self.multiplexed() {
            Ok(c) => c,
            Err(e) => return vec![Err(e); n],
        };
        let mut pipe = redis::pipe();
        for op in &ops {
            match op {
                Op::Store { key, sender } => pipe
                    .cmd("SETEX")
                    .arg(format!("{REDIS_PREFIX}{key}"))
                    .arg(lifetime.as_secs().max(1))
                    .arg(sender),
                Op::Fetch(key) => pipe.cmd("GET").arg(format!("{REDIS_PREFIX}{key}")),
            };
        }
        // A broken connection is remade at its first failure; the commands
        // (idempotent) are sent once more on the new one, so that the first
        // request after Redis comes back is served.
        let mut first = true;
        let sent = loop {
            let sent =
                tokio::time::timeout(TIMEOUT, pipe.query_async::<Vec<redis::Value>>(&mut conn))
                    .await;
            match sent {
                Ok(Err(e)) if first && (e.is_io_error() || e.is_unrecoverable_error()) => {
                    first = false;
                }
                sent => break sent,
            }
        };
        let values = match sent {
            Ok(Ok(values)) if values.len() == n => values,
            Ok(Ok(values)) => {
                let e = self.fail(format!("{} replies to {n} commands", values.len()));
                return vec![Err(e); n];
            }
            Ok(Err(e)) => return vec![Err(self.fail(e)); n],
            Err(_) => return vec![Err(self.fail("no reply in time")); n],
        };
        ops.iter()
            .zip(values)
            .map(|(op, value)| match op {
                Op::Store { .. } => match value {
                    redis::Value::Okay => Ok(None),
                    other => Err(self.fail(format!("SETEX answered {other:?}"))),
                },
                Op::Fetch(_) => {
                    redis::from_redis_value::<Option<String>>(value).map_err(|e| self.fail(e))
                }
            })
            .collect()
    }

    fn fail(&self, message: impl ToString) -> DbError {
        DbError::Redis {
            url: self.url.clone(),
            message: message.to_string(),
        }
    }

    fn store(&self, key: &str, sender: &str, lifetime: Duration) -> Result<(), DbError> {
        let mut conn = self.pool.get().map_err(|e| self.fail(e))?;
        redis::cmd("SETEX")
            .arg(format!("{REDIS_PREFIX}{key}"))
            .arg(lifetime.as_secs().max(1))
            .arg(sender)
            .query::<()>(&mut *conn)
            .map_err(|e| self.fail(e))
    }

    fn fetch(&self, key: &str) -> Result<Option<String>, DbError> {
        let mut conn = self.pool.get().map_err(|e| self.fail(e))?;
        redis::cmd("GET")
            .arg(format!("{REDIS_PREFIX}{key}"))
            .query::<Option<String>>(&mut *conn)
            .map_err(|e| self.fail(e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_postsrsd_keys() {
        // postsrsd 2's test query SRS0=bxzH=2W=1=DCJGDE6N24LCRT41A4T0G1UIF0DTKKQJ@example.com
        // carries this sender's key.
        let key = key_of("test@otherdomain.com");
        assert_eq!(key, "DCJGDE6N24LCRT41A4T0G1UIF0DTKKQJ@1");
        assert!(is_key(&key));
        assert!(!is_key("a@1.example"));
    }

    #[test]
    fn sqlite_stores_fetches_expires_and_purges() {
        let dir = tempfile::TempDir::new().unwrap();
        let db =
            Database::open(&format!("sqlite:{}", dir.path().join("srs.db").display())).unwrap();
        let t0 = UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        let day = Duration::from_secs(86_400);
        db.store("AAA@1", "long@example.org", 22 * day, t0).unwrap();
        db.store("BBB@1", "short@example.org", day, t0).unwrap();
        assert_eq!(
            db.fetch("aaa@1", t0).unwrap().as_deref(),
            Some("long@example.org")
        );
        assert_eq!(db.fetch("CCC@1", t0).unwrap(), None);
        // Expired entries are not returned, and the purge removes them only.
        assert_eq!(db.fetch("BBB@1", t0 + 2 * day).unwrap(), None);
        assert_eq!(db.purge(t0 + 2 * day).unwrap(), 1);
        assert_eq!(
            db.fetch("AAA@1", t0 + 2 * day).unwrap().as_deref(),
            Some("long@example.org")
        );
        assert_eq!(db.purge(t0 + 2 * day).unwrap(), 0);
    }
}
