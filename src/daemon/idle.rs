//! Closing idle and slow connections, and all connections at shutdown, from
//! outside.
//!
//! A tokio timer per read makes every `epoll_wait` carry a timeout, and
//! polling a wake-up future beside each read takes a lock per request; both
//! cost more than the SRS work. Instead, a reaper thread advances a coarse
//! tick and shuts down the socket of each connection that has made no
//! progress for the idle timeout, or whose request has been arriving for
//! longer than the request deadline (a client trickling one byte at a time
//! keeps a connection busy, never idle). The connection's pending read sees
//! end of file and it ends normally. A request only stores ticks in atomics.
//!
//! A connection unregisters before its socket is closed, and the reaper acts
//! only under the registry lock, so it never touches a reused descriptor.

use std::collections::HashMap;
use std::io;
use std::os::fd::RawFd;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::Duration;

use nix::sys::socket::{Shutdown, shutdown};
use tokio::sync::oneshot;

/// "No request is arriving" in [`Slot::since`].
const NO_REQUEST: u64 = u64::MAX;

struct Slot {
    /// Tick of the last progress (bytes read or a reply written).
    last: AtomicU64,
    /// Tick at which the first byte of the request still arriving came.
    since: AtomicU64,
    fd: RawFd,
}

#[derive(Default)]
struct Registry {
    slots: HashMap<u64, Arc<Slot>>,
    /// Set at shutdown: every connection, present or arriving, stops reading.
    closing: bool,
    /// Set when the drain time is over: every connection is cut off.
    killing: bool,
}

struct Inner {
    tick: AtomicU64,
    /// Idle limit, in ticks.
    idle: u64,
    /// Request deadline, in ticks.
    deadline: u64,
    registry: Mutex<Registry>,
    next_id: AtomicU64,
    stop: AtomicBool,
    /// Tests make the thread panic, as a bug would.
    #[cfg(test)]
    crash: AtomicBool,
}

impl Inner {
    /// The registry, even if a thread panicked while holding it: the map is
    /// never left half-updated, and a reaper that gave up would leave the
    /// daemon half-serving.
    fn registry(&self) -> MutexGuard<'_, Registry> {
        self.registry.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn sweep(&self) {
        let now = self.tick.fetch_add(1, Ordering::Relaxed) + 1;
        let r = self.registry();
        for slot in r.slots.values() {
            let idle = now.saturating_sub(slot.last.load(Ordering::Relaxed)) > self.idle;
            let since = slot.since.load(Ordering::Relaxed);
            let late = since != NO_REQUEST && now.saturating_sub(since) > self.deadline;
            if idle || late {
                let _ = shutdown(slot.fd, Shutdown::Both);
            }
        }
    }
}

/// The registry of connections and the reaper thread watching them.
pub struct Reaper {
    inner: Arc<Inner>,
    thread: Option<JoinHandle<()>>,
}

/// A registered connection. Drop it before closing the socket.
pub struct Guard {
    id: u64,
    slot: Arc<Slot>,
    inner: Arc<Inner>,
}

impl Guard {
    /// Records progress now.
    pub fn touch(&self) {
        self.slot
            .last
            .store(self.inner.tick.load(Ordering::Relaxed), Ordering::Relaxed);
    }

    /// Records whether part of a request is waiting for the rest: the
    /// deadline runs from the first byte of a request until it is answered.
    pub fn pending(&self, waiting: bool) {
        if !waiting {
            self.slot.since.store(NO_REQUEST, Ordering::Relaxed);
        } else if self.slot.since.load(Ordering::Relaxed) == NO_REQUEST {
            self.slot
                .since
                .store(self.inner.tick.load(Ordering::Relaxed), Ordering::Relaxed);
        }
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        self.inner.registry().slots.remove(&self.id);
    }
}

impl Reaper {
    /// Starts a reaper closing connections idle for `idle`, or whose request
    /// takes longer than `deadline` (each to within a quarter of it). The
    /// receiver resolves when the reaper thread ends for any reason, so the
    /// daemon can stop instead of serving without it.
    pub fn start(
        idle: Duration,
        deadline: Duration,
    ) -> io::Result<(Reaper, oneshot::Receiver<()>)> {
        let shortest = idle.min(deadline);
        let period = (shortest / 4).clamp(Duration::from_millis(10), Duration::from_secs(1));
        let ticks = |d: Duration| (d.as_nanos() / period.as_nanos()).max(1) as u64;
        let inner = Arc::new(Inner {
            tick: AtomicU64::new(0),
            idle: ticks(idle),
            deadline: ticks(deadline),
            registry: Mutex::new(Registry::default()),
            next_id: AtomicU64::new(0),
            stop: AtomicBool::new(false),
            #[cfg(test)]
            crash: AtomicBool::new(false),
        });
        let watched = inner.clone();
        let (alive, ended) = oneshot::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("srsd-reaper".into())
            .spawn(move || {
                // Dropped when the thread ends, by return or by panic.
                let _alive = alive;
                while !watched.stop.load(Ordering::Relaxed) {
                    std::thread::park_timeout(period);
                    #[cfg(test)]
                    assert!(
                        !watched.crash.load(Ordering::Relaxed),
                        "reaper crash for a test"
                    );
                    watched.sweep();
                }
            })?;
        Ok((
            Reaper {
                inner,
                thread: Some(thread),
            },
            ended,
        ))
    }

    /// Registers the connection on socket `fd`, active now.
    pub fn register(&self, fd: RawFd) -> Guard {
        let id = self.inner.next_id.fetch_add(1, Ordering::Relaxed);
        let slot = Arc::new(Slot {
            last: AtomicU64::new(self.inner.tick.load(Ordering::Relaxed)),
            since: AtomicU64::new(NO_REQUEST),
            fd,
        });
        let mut r = self.inner.registry();
        if r.killing {
            let _ = shutdown(fd, Shutdown::Both);
        } else if r.closing {
            let _ = shutdown(fd, Shutdown::Read);
        }
        r.slots.insert(id, slot.clone());
        Guard {
            id,
            slot,
            inner: self.inner.clone(),
        }
    }

    /// Stops every connection from reading further requests; replies being
    /// written still go out.
    pub fn close_all(&self) {
        let mut r = self.inner.registry();
        r.closing = true;
        for slot in r.slots.values() {
            let _ = shutdown(slot.fd, Shutdown::Read);
        }
    }

    /// Cuts every connection off, replies being written included: the end of
    /// the drain time. Gives how many connections were still open.
    pub fn kill_all(&self) -> usize {
        let mut r = self.inner.registry();
        r.killing = true;
        for slot in r.slots.values() {
            let _ = shutdown(slot.fd, Shutdown::Both);
        }
        r.slots.len()
    }
}

impl Drop for Reaper {
    fn drop(&mut self) {
        self.inner.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            t.thread().unpark();
            let _ = t.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_daemon_hears_when_the_reaper_thread_dies() {
        let (reaper, mut ended) =
            Reaper::start(Duration::from_millis(40), Duration::from_millis(40)).unwrap();
        assert_eq!(ended.try_recv(), Err(oneshot::error::TryRecvError::Empty));
        reaper.inner.crash.store(true, Ordering::Relaxed);
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let gone =
            rt.block_on(async { tokio::time::timeout(Duration::from_secs(20), ended).await });
        assert!(matches!(gone, Ok(Err(_))), "{gone:?}");
    }

    #[test]
    fn a_poisoned_registry_does_not_stop_the_reaper() {
        let (reaper, mut ended) =
            Reaper::start(Duration::from_millis(40), Duration::from_millis(40)).unwrap();
        let inner = reaper.inner.clone();
        let _ = std::thread::spawn(move || {
            let _held = inner.registry.lock().unwrap();
            panic!("poison the registry");
        })
        .join();
        assert!(reaper.inner.registry.is_poisoned());
        let tick = reaper.inner.tick.load(Ordering::Relaxed);
        while reaper.inner.tick.load(Ordering::Relaxed) < tick + 3 {
            std::thread::sleep(Duration::from_millis(10));
        }
        assert_eq!(ended.try_recv(), Err(oneshot::error::TryRecvError::Empty));
    }
}
