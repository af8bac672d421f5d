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

mod redis;
mod sqlite;

use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use sha1::{Digest, Sha1};
use thiserror::Error;

pub use redis::Redis;
pub use sqlite::Sqlite;

/// How long a database call may take before it counts as a failure.
pub const TIMEOUT: Duration = Duration::from_secs(2);

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

/// Whether `address` (a reversed SRS address) is a database key, `KEY@1`:
/// its last `@` is followed by `1` alone. (Asked of every reverse: a
/// suffix test, where a search for the last `@` cost 236 instructions.)
pub fn is_key(address: &str) -> bool {
    address.ends_with("@1")
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
        let op = Op::Store {
            key: key.to_owned(),
            sender: sender.to_owned(),
        };
        self.call(&op, lifetime, now).map(|_| ())
    }

    /// The sender stored under `key` (any case), if it has not expired.
    pub fn fetch(&self, key: &str, now: SystemTime) -> Result<Option<String>, DbError> {
        self.call(&Op::Fetch(key.to_ascii_uppercase()), Duration::ZERO, now)
    }

    /// Runs `op` now, waiting for the answer (for the programs that serve
    /// one request at a time).
    fn call(&self, op: &Op, lifetime: Duration, now: SystemTime) -> Done {
        match self {
            Database::Sqlite(s) => s.call(op, unix(now + lifetime), unix(now)),
            Database::Redis(r) => r.call(op, lifetime),
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

    /// The files this process created in opening the database (SQLite's
    /// file and its `-wal` and `-shm`, when it did not exist before), so
    /// that srsd started as root can hand them to the user it runs as.
    pub fn created_files(&self) -> Vec<std::path::PathBuf> {
        match self {
            Database::Sqlite(s) if s.created => ["", "-wal", "-shm"]
                .iter()
                .map(|suffix| std::path::PathBuf::from(format!("{}{suffix}", s.path)))
                .filter(|p| p.exists())
                .collect(),
            _ => Vec::new(),
        }
    }

    /// Whether this process may store in the database (SQLite: an insert
    /// in a transaction rolled back; Redis is not asked): for srsd to check
    /// after giving up root, so that a file it cannot write is named at
    /// start rather than found out by every long sender.
    pub fn check_writable(&self) -> Result<(), DbError> {
        match self {
            Database::Sqlite(s) => s.check_writable(),
            Database::Redis(_) => Ok(()),
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

/// A mutex's guard, also from a thread that panicked holding it.
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    match m.lock() {
        Ok(g) => g,
        Err(poisoned) => poisoned.into_inner(),
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
