//! Signals as messages: SIGHUP is a reload, SIGTERM and SIGINT a stop. The
//! supervisor reads them from a channel, so a test drives it by sending on
//! that channel and the real daemon by the operating system's signals.

use std::io;

use nix::sys::signal::{SigSet, Signal as Os};
use tokio::sync::mpsc;

/// What the supervisor is asked to do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Signal {
    /// Re-read the configuration, keys and local domains (SIGHUP).
    Reload,
    /// Drain and stop (SIGTERM, SIGINT).
    Stop,
}

/// Where the supervisor's signals come from.
pub enum Signals {
    /// The operating system's, blocked by [`OsSignals::block`].
    Os(OsSignals),
    /// A channel, for tests and for programs that embed the daemon.
    Channel(mpsc::Receiver<Signal>),
}

/// SIGHUP, SIGTERM and SIGINT, blocked in this thread (and so in every
/// thread it starts) until a dedicated thread waits for them. Blocked from
/// the start, a SIGHUP that comes before the daemon serves waits instead of
/// ending it.
pub struct OsSignals {
    set: SigSet,
}

impl OsSignals {
    /// Blocks the three signals in the calling thread. Call it before any
    /// other thread starts.
    pub fn block() -> io::Result<OsSignals> {
        let mut set = SigSet::empty();
        for s in [Os::SIGHUP, Os::SIGTERM, Os::SIGINT] {
            set.add(s);
        }
        set.thread_block().map_err(io::Error::from)?;
        Ok(OsSignals { set })
    }

    /// Starts the thread that turns the signals into messages on a channel.
    /// It ends when the receiver is dropped and one more signal comes.
    pub fn start(self) -> io::Result<mpsc::Receiver<Signal>> {
        let (tx, rx) = mpsc::channel(16);
        std::thread::Builder::new()
            .name("srsd-signals".into())
            .spawn(move || {
                while let Ok(signal) = self.set.wait() {
                    let message = match signal {
                        Os::SIGHUP => Signal::Reload,
                        _ => Signal::Stop,
                    };
                    if tx.blocking_send(message).is_err() {
                        break;
                    }
                }
            })?;
        Ok(rx)
    }
}
