//! The daemon engine run whole inside a test, on a thread of its own, with
//! injected listeners, a fixed clock and a shutdown the test owns.

use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::SystemTime;

use mail_srs::clock::FixedClock;
use mail_srs::daemon::{self, Limits, Listener, Shared, State};
use tokio::sync::watch;

/// A running engine; stopped when dropped, or by [`Engine::stop`].
pub struct Engine {
    stop: Option<watch::Sender<bool>>,
    thread: Option<JoinHandle<std::io::Result<()>>>,
}

impl Engine {
    /// Serves `listeners` with `state`, the clock fixed at `now`.
    pub fn start(
        listeners: Vec<Listener>,
        state: State,
        now: SystemTime,
        limits: Limits,
    ) -> Engine {
        Engine::start_shared(
            listeners,
            Shared::new(state, std::time::UNIX_EPOCH),
            now,
            limits,
        )
    }

    /// Serves `listeners` with `shared`, which the test may keep (to reload
    /// or read the counters).
    pub fn start_shared(
        listeners: Vec<Listener>,
        shared: Shared,
        now: SystemTime,
        limits: Limits,
    ) -> Engine {
        let (stop, stopped) = watch::channel(false);
        let thread = std::thread::spawn(move || {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap()
                .block_on(daemon::run(
                    listeners,
                    shared,
                    Arc::new(FixedClock(now)),
                    limits,
                    stopped,
                ))
        });
        Engine {
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    /// Stops the engine and gives what `run` returned.
    pub fn stop(self) -> std::io::Result<()> {
        if let Some(stop) = &self.stop {
            stop.send(true).unwrap();
        }
        self.ended()
    }

    /// Waits (at most 30 s, so an engine that hangs fails the test) for
    /// `run` to return without being asked, and gives what it returned.
    pub fn ended(mut self) -> std::io::Result<()> {
        super::joined_within_30s(self.thread.take().unwrap())
    }

    /// Drops the shutdown sender without sending on it, then waits as
    /// [`Engine::ended`] does.
    pub fn lose_the_stop(mut self) -> std::io::Result<()> {
        self.stop = None;
        self.ended()
    }
}

impl Drop for Engine {
    fn drop(&mut self) {
        if let Some(stop) = &self.stop {
            let _ = stop.send(true);
        }
    }
}
