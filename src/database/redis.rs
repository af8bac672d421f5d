//! Redis: one server shared by several forwarding hosts.

use std::sync::Mutex;
use std::time::Duration;

use super::{DbError, Done, Op, TIMEOUT, lock};

/// The Redis key prefix postsrsd 2.x uses.
const REDIS_PREFIX: &str = "PostSRSd/";

/// Redis, for the programs that serve one request at a time (`srs`, the
/// pipe helpers): one connection with read and write timeouts, made at the
/// first call and made again after a failure.
///
/// [`Database::run`](super::Database::run) uses one multiplexed
/// connection instead, made at the first call and remade after an I/O
/// error, on which the requests of every client are pipelined.
pub struct Redis {
    pub(super) url: String,
    client: redis::Client,
    conn: Mutex<Option<redis::Connection>>,
    multiplexed: Mutex<Option<redis::aio::ConnectionManager>>,
}

/// The command that runs `op`, entries living `lifetime`: written once for
/// both ways in.
fn command(op: &Op, lifetime: Duration) -> redis::Cmd {
    match op {
        Op::Store { key, sender } => {
            let mut cmd = redis::cmd("SETEX");
            cmd.arg(format!("{REDIS_PREFIX}{key}"))
                .arg(lifetime.as_secs().max(1))
                .arg(sender);
            cmd
        }
        Op::Fetch(key) => {
            let mut cmd = redis::cmd("GET");
            cmd.arg(format!("{REDIS_PREFIX}{key}"));
            cmd
        }
    }
}

/// What Redis answered to `op`, as a [`Done`] (the reason on failure).
fn done(op: &Op, value: redis::Value) -> Result<Option<String>, String> {
    match op {
        Op::Store { .. } => match value {
            redis::Value::Okay => Ok(None),
            other => Err(format!("SETEX answered {other:?}")),
        },
        Op::Fetch(_) => redis::from_redis_value::<Option<String>>(value).map_err(|e| e.to_string()),
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
        // Nothing connects yet: srsd starts, and answers TEMP, while Redis
        // is down.
        let client = redis::Client::open(spec).map_err(|e| fail(e.to_string()))?;
        Ok(Redis {
            url: shown,
            client,
            conn: Mutex::new(None),
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
            pipe.add_command(command(op, lifetime));
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
            .map(|(op, value)| done(op, value).map_err(|e| self.fail(e)))
            .collect()
    }

    fn fail(&self, message: impl ToString) -> DbError {
        DbError::Redis {
            url: self.url.clone(),
            message: message.to_string(),
        }
    }

    /// Runs `op` on the one connection, made when there is none; a
    /// connection that failed is dropped, and the next call makes another.
    pub(super) fn call(&self, op: &Op, lifetime: Duration) -> Done {
        let mut held = lock(&self.conn);
        let conn = match held.take() {
            Some(c) => c,
            None => self.connect().map_err(|e| self.fail(e))?,
        };
        let mut conn = conn;
        let answer = command(op, lifetime)
            .query::<redis::Value>(&mut conn)
            .map_err(|e| self.fail(e))
            .and_then(|value| done(op, value).map_err(|e| self.fail(e)));
        if answer.is_ok() {
            *held = Some(conn);
        }
        answer
    }

    fn connect(&self) -> redis::RedisResult<redis::Connection> {
        let conn = self.client.get_connection_with_timeout(TIMEOUT)?;
        conn.set_read_timeout(Some(TIMEOUT))?;
        conn.set_write_timeout(Some(TIMEOUT))?;
        Ok(conn)
    }
}
