//! The address database's clean-up: expired entries are removed at start
//! and every [`EVERY`], on a thread of its own (SQLite; Redis expires its
//! own entries). Failures are logged.
//!
//! Not a tokio timer: an interval an hour away sits in the runtime's timer
//! wheel, and every wake-up of the serving thread then pays to look at it,
//! about 320 instructions a socketmap request (callgrind;
//! docs/performance.md).

use std::sync::Arc;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::Duration;

use super::Shared;
use crate::clock::Clock;

/// How often expired database entries are removed.
pub const EVERY: Duration = Duration::from_secs(3600);

/// The running clean-up; dropping it stops the thread at once, or after
/// the purge it is in.
pub struct Purger {
    _stop: mpsc::Sender<()>,
}

impl Purger {
    /// Starts the clean-up of whatever database `shared` holds at each
    /// turn (a reload may add or drop one), at the time `clock` gives.
    pub fn start(shared: Shared, clock: Arc<dyn Clock>) -> Purger {
        let (stop, stopped) = mpsc::channel::<()>();
        let started = std::thread::Builder::new()
            .name("srsd-purge".into())
            .spawn(move || {
                loop {
                    if let Some(db) = shared.load().database.clone() {
                        match db.purge(clock.now()) {
                            Ok(n) => log::debug!("removed {n} expired database entries"),
                            Err(e) => log::warn!("cannot remove expired database entries: {e}"),
                        }
                    }
                    if stopped.recv_timeout(EVERY) != Err(RecvTimeoutError::Timeout) {
                        return;
                    }
                }
            });
        if let Err(e) = started {
            log::warn!("expired database entries will not be removed: no thread ({e})");
        }
        Purger { _stop: stop }
    }
}
