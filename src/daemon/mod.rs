//! The srsd daemon: listeners, connections and shared state, with the clock,
//! the listeners and the shutdown signal passed in so tests run it in-process.
//!
//! One current-thread tokio runtime serves every connection: a lookup costs a
//! fraction of a microsecond, so one core answers far more than any MTA asks,
//! and ten thousand idle connections cost a few kilobytes each.

pub mod activation;
pub mod background;
mod idle;
pub mod listen;
pub mod notify;
pub mod privdrop;
mod ratelimit;

use std::io;
use std::os::fd::AsRawFd;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::{Semaphore, watch};
use tokio::task::JoinSet;

use crate::clock::Clock;
use crate::protocol::{Lookup, line, socketmap, tcp_table};
use crate::srs::Srs;
use idle::Reaper;
pub use listen::{Address, Bound, ListenSpec, Protocol};
use ratelimit::RateLimit;

/// What a reload replaces: the codec and the SRS domain.
#[derive(Debug)]
pub struct State {
    /// The codec, with the secrets.
    pub srs: Srs,
    /// The domain forward rewrites into.
    pub domain: String,
}

/// The state every connection reads; a reload swaps it whole, and a request
/// in flight keeps the state it started with.
#[derive(Clone, Debug)]
pub struct Shared(Arc<RwLock<Arc<State>>>);

impl Shared {
    /// Shares `state`.
    pub fn new(state: State) -> Shared {
        Shared(Arc::new(RwLock::new(Arc::new(state))))
    }

    /// The current state.
    pub fn load(&self) -> Arc<State> {
        match self.0.read() {
            Ok(g) => g.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Replaces the state for every request that starts from now on.
    pub fn replace(&self, state: State) {
        let mut g = match self.0.write() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        };
        *g = Arc::new(state);
    }
}

/// Limits on what clients may do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Connections served at once; more wait in the listen queue. Default 10240.
    pub max_connections: usize,
    /// A connection with nothing to read or unable to take a reply for this
    /// long is closed. Default 300 s (Postfix's own idle limit is 100 s).
    pub idle_timeout: Duration,
    /// Longest socketmap netstring. Default 100000 (Postfix's limit).
    pub max_netstring: usize,
    /// Keep line-protocol connections open after a reply (Perl's srsd closes,
    /// and Exim's `${readsocket}` needs that). Default off.
    pub line_keep_alive: bool,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_connections: 10_240,
            idle_timeout: Duration::from_secs(300),
            max_netstring: socketmap::MAX_NETSTRING,
            line_keep_alive: false,
        }
    }
}

/// A listener ready to serve.
pub struct Listener {
    /// What it speaks.
    pub protocol: Protocol,
    /// The socket.
    pub bound: Bound,
}

/// What the connections share.
struct Context {
    shared: Shared,
    clock: Arc<dyn Clock>,
    limits: Limits,
    refusals: RateLimit,
    reaper: Reaper,
}

/// Serves `listeners` until `shutdown` turns true; then stops accepting, lets
/// each connection finish the request it is answering, and removes the Unix
/// sockets. Must run inside a tokio runtime.
pub async fn run(
    listeners: Vec<Listener>,
    shared: Shared,
    clock: Arc<dyn Clock>,
    limits: Limits,
    shutdown: watch::Receiver<bool>,
) -> io::Result<()> {
    let permits = Arc::new(Semaphore::new(limits.max_connections));
    let ctx = Arc::new(Context {
        shared,
        clock,
        reaper: Reaper::start(limits.idle_timeout),
        limits,
        refusals: RateLimit::new(10, Duration::from_secs(60)),
    });
    let mut loops = JoinSet::new();
    let mut paths = Vec::new();
    for l in listeners {
        let (ctx, permits, shutdown) = (ctx.clone(), permits.clone(), shutdown.clone());
        match l.bound {
            Bound::Unix(std_listener, path) => {
                std_listener.set_nonblocking(true)?;
                let listener = tokio::net::UnixListener::from_std(std_listener)?;
                paths.extend(path);
                loops.spawn(accept_loop(listener, l.protocol, ctx, permits, shutdown));
            }
            Bound::Tcp(std_listener) => {
                std_listener.set_nonblocking(true)?;
                let listener = tokio::net::TcpListener::from_std(std_listener)?;
                loops.spawn(accept_loop(listener, l.protocol, ctx, permits, shutdown));
            }
        }
    }
    let closer = {
        let (ctx, mut shutdown) = (ctx.clone(), shutdown.clone());
        tokio::spawn(async move {
            while !*shutdown.borrow_and_update() {
                if shutdown.changed().await.is_err() {
                    break;
                }
            }
            ctx.reaper.close_all();
        })
    };
    let mut result = Ok(());
    while let Some(r) = loops.join_next().await {
        if let Ok(Err(e)) = r {
            result = Err(e);
        }
    }
    closer.abort();
    for path in paths {
        let _ = std::fs::remove_file(path);
    }
    result
}

/// A listening socket of either kind.
trait Accept: Send + 'static {
    type Stream: AsyncRead + AsyncWrite + AsRawFd + Unpin + Send + 'static;
    fn accept_stream(&self) -> impl Future<Output = io::Result<Self::Stream>> + Send;
}

impl Accept for tokio::net::UnixListener {
    type Stream = tokio::net::UnixStream;
    async fn accept_stream(&self) -> io::Result<Self::Stream> {
        self.accept().await.map(|(s, _)| s)
    }
}

impl Accept for tokio::net::TcpListener {
    type Stream = tokio::net::TcpStream;
    async fn accept_stream(&self) -> io::Result<Self::Stream> {
        let (s, _) = self.accept().await?;
        // Replies are small and the client waits for each one.
        let _ = s.set_nodelay(true);
        Ok(s)
    }
}

async fn accept_loop<L: Accept>(
    listener: L,
    protocol: Protocol,
    ctx: Arc<Context>,
    permits: Arc<Semaphore>,
    mut shutdown: watch::Receiver<bool>,
) -> io::Result<()> {
    let mut connections = JoinSet::new();
    let result = loop {
        while connections.try_join_next().is_some() {}
        if *shutdown.borrow() {
            break Ok(());
        }
        let stream = tokio::select! {
            changed = shutdown.changed() => match changed {
                // A dropped sender can never say "stop": take it as stop.
                Ok(()) => continue,
                Err(_) => break Ok(()),
            },
            s = listener.accept_stream() => s,
        };
        // Accept first, then wait for a slot: a permit taken before accept
        // would sit idle on a quiet listener while a busy one starves.
        let permit = tokio::select! {
            changed = shutdown.changed() => match changed {
                // A dropped sender can never say "stop": take it as stop.
                Ok(()) => continue,
                Err(_) => break Ok(()),
            },
            p = permits.clone().acquire_owned() => match p {
                Ok(p) => p,
                Err(_) => break Ok(()),
            },
        };
        match stream {
            Ok(stream) => {
                let ctx = ctx.clone();
                connections.spawn(async move {
                    connection(stream, protocol, &ctx).await;
                    drop(permit);
                });
            }
            // Out of descriptors or a client that went away: not fatal.
            Err(e) if is_transient(&e) => {
                log::warn!("accept on a {} listener: {e}", protocol.name());
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Err(e) => break Err(e),
        }
    };
    while connections.join_next().await.is_some() {}
    result
}

fn is_transient(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::Interrupted
    ) || matches!(e.raw_os_error(), Some(23 | 24 | 105 | 12)) // ENFILE, EMFILE, ENOBUFS, ENOMEM
}

/// Serves one connection until the client leaves, goes idle, breaks the
/// protocol, or the daemon shuts down between requests. Idle and shutdown
/// arrive as end of file, from the reaper.
async fn connection<S: AsyncRead + AsyncWrite + AsRawFd + Unpin>(
    mut stream: S,
    protocol: Protocol,
    ctx: &Context,
) {
    let guard = ctx.reaper.register(stream.as_raw_fd());
    let mut input = Vec::with_capacity(512);
    let mut out = Vec::with_capacity(512);
    let mut chunk = [0u8; 4096];
    loop {
        let n = match stream.read(&mut chunk).await {
            Ok(n) if n > 0 => n,
            _ => break,
        };
        guard.touch();
        input.extend_from_slice(&chunk[..n]);
        let state = ctx.shared.load();
        let lookup = Lookup {
            srs: &state.srs,
            domain: &state.domain,
            now: ctx.clock.now(),
        };
        let progress = match protocol {
            Protocol::Socketmap => {
                socketmap::serve(&input, &lookup, ctx.limits.max_netstring, &mut out)
            }
            Protocol::TcpTable(direction) => tcp_table::serve(&input, &lookup, direction, &mut out),
            Protocol::Line => line::serve(&input, &lookup, ctx.limits.line_keep_alive, &mut out),
        };
        for refusal in &progress.refusals {
            ctx.refusals.log(refusal);
        }
        input.drain(..progress.consumed);
        if !out.is_empty() {
            // A client that stops reading is shut down by the reaper.
            if stream.write_all(&out).await.is_err() {
                break;
            }
            out.clear();
            guard.touch();
        }
        if progress.close {
            break;
        }
    }
    let _ = stream.shutdown().await;
    // Unregister before the descriptor is closed and can be reused.
    drop(guard);
    drop(stream);
}
