//! Redis: one server shared by several forwarding hosts.

use std::sync::Mutex;
use std::time::Duration;

use super::{DbError, Done, Op, TIMEOUT, lock};

/// The Redis key prefix postsrsd 2.x uses.
const REDIS_PREFIX: &str = "PostSRSd/";

/// Connections to Redis, pooled, each with read and write timeouts; a
/// broken one is dropped and a new one made on the next request.
///
/// [`Database::run`] uses one multiplexed connection instead, made at the
/// first call and remade after an I/O error, on which the requests of
/// every client are pipelined.
pub struct Redis {
    pub(super) url: String,
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
    pub(super) fn open(spec: &str) -> Result<Redis, DbError> {
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

    pub(super) async fn run(&self, ops: Vec<Op>, lifetime: Duration) -> Vec<Done> {
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

    pub(super) fn store(&self, key: &str, sender: &str, lifetime: Duration) -> Result<(), DbError> {
        let mut conn = self.pool.get().map_err(|e| self.fail(e))?;
        redis::cmd("SETEX")
            .arg(format!("{REDIS_PREFIX}{key}"))
            .arg(lifetime.as_secs().max(1))
            .arg(sender)
            .query::<()>(&mut *conn)
            .map_err(|e| self.fail(e))
    }

    pub(super) fn fetch(&self, key: &str) -> Result<Option<String>, DbError> {
        let mut conn = self.pool.get().map_err(|e| self.fail(e))?;
        redis::cmd("GET")
            .arg(format!("{REDIS_PREFIX}{key}"))
            .query::<Option<String>>(&mut *conn)
            .map_err(|e| self.fail(e))
    }
}
