//! Closing idle connections, and all connections at shutdown, from outside.
//!
//! A tokio timer per read makes every `epoll_wait` carry a timeout, and
//! polling a wake-up future beside each read takes a lock per request; both
//! cost more than the SRS work. Instead, a reaper thread advances a coarse
//! tick and shuts down the socket of each connection that has made no
//! progress for the idle timeout: the connection's pending read sees end of
//! file and it ends normally. A request only stores the tick in an atomic.
//!
//! A connection unregisters before its socket is closed, and the reaper acts
//! only under the registry lock, so it never touches a reused descriptor.

use std::collections::HashMap;
use std::os::fd::RawFd;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use nix::sys::socket::{Shutdown, shutdown};

struct Slot {
    last: AtomicU64,
    fd: RawFd,
}

#[derive(Default)]
struct Registry {
    slots: HashMap<u64, Arc<Slot>>,
    /// Set at shutdown: every connection, present or arriving, stops reading.
    closing: bool,
}

struct Inner {
    tick: AtomicU64,
    limit: u64,
    registry: Mutex<Registry>,
    next_id: AtomicU64,
    stop: AtomicBool,
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
}

impl Drop for Guard {
    fn drop(&mut self) {
        if let Ok(mut r) = self.inner.registry.lock() {
            r.slots.remove(&self.id);
        }
    }
}

impl Reaper {
    /// Starts a reaper closing connections idle for `timeout` (to within a quarter of it).
    pub fn start(timeout: Duration) -> Reaper {
        let period = (timeout / 4).clamp(Duration::from_millis(10), Duration::from_secs(1));
        let limit = (timeout.as_nanos() / period.as_nanos()).max(1) as u64;
        let inner = Arc::new(Inner {
            tick: AtomicU64::new(0),
            limit,
            registry: Mutex::new(Registry::default()),
            next_id: AtomicU64::new(0),
            stop: AtomicBool::new(false),
        });
        let watched = inner.clone();
        let thread = std::thread::Builder::new()
            .name("srsd-reaper".into())
            .spawn(move || {
                while !watched.stop.load(Ordering::Relaxed) {
                    std::thread::park_timeout(period);
                    let now = watched.tick.fetch_add(1, Ordering::Relaxed) + 1;
                    let Ok(r) = watched.registry.lock() else {
                        return;
                    };
                    for slot in r.slots.values() {
                        if now.saturating_sub(slot.last.load(Ordering::Relaxed)) > watched.limit {
                            let _ = shutdown(slot.fd, Shutdown::Both);
                        }
                    }
                }
            })
            .ok();
        Reaper { inner, thread }
    }

    /// Registers the connection on socket `fd`, active now.
    pub fn register(&self, fd: RawFd) -> Guard {
        let id = self.inner.next_id.fetch_add(1, Ordering::Relaxed);
        let slot = Arc::new(Slot {
            last: AtomicU64::new(self.inner.tick.load(Ordering::Relaxed)),
            fd,
        });
        if let Ok(mut r) = self.inner.registry.lock() {
            if r.closing {
                let _ = shutdown(fd, Shutdown::Read);
            }
            r.slots.insert(id, slot.clone());
        }
        Guard {
            id,
            slot,
            inner: self.inner.clone(),
        }
    }

    /// Stops every connection from reading further requests; replies being
    /// written still go out.
    pub fn close_all(&self) {
        if let Ok(mut r) = self.inner.registry.lock() {
            r.closing = true;
            for slot in r.slots.values() {
                let _ = shutdown(slot.fd, Shutdown::Read);
            }
        }
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
