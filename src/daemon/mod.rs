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
pub mod pidfile;
pub mod privdrop;
mod purge;
mod ratelimit;
mod relay;
pub mod signals;
pub mod supervise;

use std::io;
use std::os::fd::AsRawFd;
use std::sync::{Arc, RwLock};
use std::time::{Duration, SystemTime};

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, watch};
use tokio::task::JoinSet;

use crate::clock::Clock;
use crate::engine::{self, Rewriter, store::Replayable};
use crate::metrics::Metrics;
use crate::protocol::Protocol;
use crate::protocol::Service;
use crate::protocol::metrics::MetricsSession;
use crate::srs::Srs;
use idle::Reaper;
pub use listen::{Address, Bound, ListenSpec};
use ratelimit::RateLimit;

/// What a reload replaces: the codec and the SRS domain.
#[derive(Debug)]
pub struct State {
    /// The codec, with the secrets.
    pub srs: Srs,
    /// The domain forward rewrites into.
    pub domain: String,
    /// The address database, if one is configured.
    pub database: Option<Arc<crate::database::Database>>,
    /// Which senders go to the database.
    pub store_when: crate::engine::StoreWhen,
}

impl State {
    /// A state without an address database.
    pub fn new(srs: Srs, domain: String) -> State {
        State {
            srs,
            domain,
            database: None,
            store_when: crate::engine::StoreWhen::Never,
        }
    }

    /// How lookups use the database.
    pub fn store(&self) -> Option<crate::engine::Store<'_>> {
        self.database
            .as_deref()
            .map(|db| crate::engine::Store::new(db, self.store_when, &self.srs))
    }
}

/// The state every connection reads, and the counters they update; a
/// reload swaps the state whole, and a request in flight keeps the state it
/// started with.
#[derive(Clone, Debug)]
pub struct Shared {
    state: Arc<RwLock<Arc<State>>>,
    metrics: Arc<Metrics>,
}

impl Shared {
    /// Shares `state`, with counters for a daemon started at `started`.
    pub fn new(state: State, started: SystemTime) -> Shared {
        Shared {
            state: Arc::new(RwLock::new(Arc::new(state))),
            metrics: Arc::new(Metrics::new(started, crate::protocol::names())),
        }
    }

    /// The current state.
    pub fn load(&self) -> Arc<State> {
        match self.state.read() {
            Ok(g) => g.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Replaces the state for every request that starts from now on.
    pub fn replace(&self, state: State) {
        let mut g = match self.state.write() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        };
        *g = Arc::new(state);
    }

    /// The daemon's counters.
    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }
}

/// Limits on what clients may do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Connections served at once; more wait in the listen queue. Half of
    /// them is split evenly among the listeners as a reserve only that
    /// listener may use; the other half is shared. Default 10240.
    pub max_connections: usize,
    /// A connection with nothing to read or unable to take a reply for this
    /// long is closed. Default 300 s (Postfix's own idle limit is 100 s).
    pub idle_timeout: Duration,
    /// A request must be complete this long after its first byte, or the
    /// connection is closed: a client trickling bytes is never idle.
    /// Default 10 s.
    pub request_timeout: Duration,
    /// At shutdown, connections get this long to finish the replies they
    /// owe; then they are cut off. Default 5 s.
    pub drain_timeout: Duration,
    /// What the protocols are configured with.
    pub protocols: crate::protocol::Settings,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_connections: 10_240,
            idle_timeout: Duration::from_secs(300),
            request_timeout: Duration::from_secs(10),
            drain_timeout: Duration::from_secs(5),
            protocols: crate::protocol::Settings::default(),
        }
    }
}

/// A listener ready to serve.
pub struct Listener {
    /// What the listener speaks.
    pub protocol: &'static dyn Protocol,
    /// Its listening socket, bound here or passed by systemd.
    pub bound: Bound,
}

/// What the connections share.
struct Context {
    shared: Shared,
    clock: Arc<dyn Clock>,
    limits: Limits,
    refusals: RateLimit,
    accept_errors: RateLimit,
    oversized: RateLimit,
    reaper: Reaper,
}

/// Connection slots for one listener: its own reserve first, then the pool
/// all listeners share, so a flood on one listener cannot starve the others.
struct Slots {
    own: Arc<Semaphore>,
    pool: Arc<Semaphore>,
}

impl Slots {
    async fn acquire(&self) -> Option<OwnedSemaphorePermit> {
        if let Ok(p) = self.own.clone().try_acquire_owned() {
            return Some(p);
        }
        tokio::select! {
            biased;
            p = self.own.clone().acquire_owned() => p.ok(),
            p = self.pool.clone().acquire_owned() => p.ok(),
        }
    }
}

/// Waits until `flag` is true, or its sender is gone (which can never say
/// "go on", so it counts as true).
async fn until_true(flag: &mut watch::Receiver<bool>) {
    while !*flag.borrow_and_update() {
        if flag.changed().await.is_err() {
            return;
        }
    }
}

/// Serves `listeners` until `shutdown` turns true; then stops accepting,
/// lets each connection finish the request it is answering for at most the
/// drain time, cuts off the rest, and removes the Unix sockets. A listener
/// that fails for good, or the reaper thread ending, stops every listener and
/// returns the error: a daemon that half serves is worse than one that exits
/// and is restarted. Must run inside a tokio runtime.
pub async fn run(
    listeners: Vec<Listener>,
    shared: Shared,
    clock: Arc<dyn Clock>,
    limits: Limits,
    mut shutdown: watch::Receiver<bool>,
) -> io::Result<()> {
    let (reaper, mut reaper_ended) = Reaper::start(limits.idle_timeout, limits.request_timeout)
        .map_err(|e| io::Error::other(format!("cannot start the idle reaper thread: {e}")))?;
    let reserve = limits.max_connections / (2 * listeners.len().max(1));
    let pool = Arc::new(Semaphore::new(
        limits.max_connections - reserve * listeners.len(),
    ));
    let window = Duration::from_secs(60);
    let ctx = Arc::new(Context {
        shared,
        clock,
        reaper,
        limits,
        refusals: RateLimit::new(10, window, "refused reverses"),
        accept_errors: RateLimit::new(10, window, "accept errors"),
        oversized: RateLimit::new(10, window, "over-long replies"),
    });
    let (halt, halted) = watch::channel(false);
    let purger = purge::Purger::start(ctx.shared.clone(), ctx.clock.clone());
    let mut loops = JoinSet::new();
    let mut paths = Vec::new();
    for l in listeners {
        let ctx = ctx.clone();
        let slots = Slots {
            own: Arc::new(Semaphore::new(reserve)),
            pool: pool.clone(),
        };
        let halted = halted.clone();
        match l.bound {
            Bound::Unix(std_listener, path) => {
                std_listener.set_nonblocking(true)?;
                let listener = tokio::net::UnixListener::from_std(std_listener)?;
                paths.extend(path);
                loops.spawn(accept_loop(listener, l.protocol, ctx, slots, halted));
            }
            Bound::Tcp(std_listener) => {
                std_listener.set_nonblocking(true)?;
                let listener = tokio::net::TcpListener::from_std(std_listener)?;
                loops.spawn(accept_loop(listener, l.protocol, ctx, slots, halted));
            }
        }
    }
    let mut result = tokio::select! {
        () = until_true(&mut shutdown) => Ok(()),
        Some(ended) = loops.join_next() => Err(match ended {
            Ok(Err(e)) => e,
            _ => io::Error::other("a listener stopped"),
        }),
        _ = &mut reaper_ended => Err(io::Error::other("the idle reaper thread stopped")),
    };
    if let Err(e) = &result {
        log::error!("{e}; stopping every listener so that srsd can be restarted");
    }
    let _ = halt.send(true);
    ctx.reaper.close_all();
    let drain = async {
        while let Some(ended) = loops.join_next().await {
            if let (Ok(Err(e)), Ok(())) = (ended, &result) {
                result = Err(e);
            }
        }
    };
    if tokio::time::timeout(ctx.limits.drain_timeout, drain)
        .await
        .is_err()
    {
        let cut = ctx.reaper.kill_all();
        log::warn!(
            "{cut} connections still busy after the drain time of {} s were closed",
            ctx.limits.drain_timeout.as_secs_f32()
        );
        while loops.join_next().await.is_some() {}
    }
    drop(purger);
    ctx.refusals.flush();
    ctx.accept_errors.flush();
    ctx.oversized.flush();
    for path in paths {
        match std::fs::remove_file(&path) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => log::warn!("cannot remove socket {}: {e}", path.display()),
        }
    }
    result
}

/// The most input read and dropped after a reply that closes the connection.
const LINGER_BYTES: usize = 64 * 1024;

/// A listening socket of either kind.
trait Accept: Send + 'static {
    type Stream: AsyncRead + AsyncWrite + AsRawFd + Unpin + Send + 'static;
    /// The next connection, and who made it, for the log.
    fn accept_stream(&self) -> impl Future<Output = io::Result<(Self::Stream, String)>> + Send;
}

impl Accept for tokio::net::UnixListener {
    type Stream = tokio::net::UnixStream;
    async fn accept_stream(&self) -> io::Result<(Self::Stream, String)> {
        let (s, _) = self.accept().await?;
        let client = match s.peer_cred() {
            Ok(c) => match c.pid() {
                Some(pid) => format!("uid {} pid {pid}", c.uid()),
                None => format!("uid {}", c.uid()),
            },
            Err(_) => "a local client".to_owned(),
        };
        Ok((s, client))
    }
}

impl Accept for tokio::net::TcpListener {
    type Stream = tokio::net::TcpStream;
    async fn accept_stream(&self) -> io::Result<(Self::Stream, String)> {
        let (s, peer) = self.accept().await?;
        // Replies are small and the client waits for each one.
        let _ = s.set_nodelay(true);
        Ok((s, peer.to_string()))
    }
}

async fn accept_loop<L: Accept>(
    listener: L,
    protocol: &'static dyn Protocol,
    ctx: Arc<Context>,
    slots: Slots,
    mut halted: watch::Receiver<bool>,
) -> io::Result<()> {
    let mut connections = JoinSet::new();
    let result = loop {
        while connections.try_join_next().is_some() {}
        if *halted.borrow_and_update() {
            break Ok(());
        }
        let stream = tokio::select! {
            changed = halted.changed() => match changed {
                Ok(()) => continue,
                Err(_) => break Ok(()),
            },
            // A finished connection's task is freed as it ends, not at the
            // next accept: a quiet listener would otherwise keep the memory
            // of every connection since its last one.
            Some(_) = connections.join_next() => continue,
            s = listener.accept_stream() => s,
        };
        let (stream, client) = match stream {
            Ok(accepted) => accepted,
            // Out of descriptors or a client that went away: not fatal.
            Err(e) if is_transient(&e) => {
                ctx.accept_errors.warn(format_args!(
                    "accept on a {} listener: {e}",
                    protocol.name()
                ));
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
            Err(e) => {
                break Err(io::Error::new(
                    e.kind(),
                    format!("accept on a {} listener failed: {e}", protocol.name()),
                ));
            }
        };
        // Accept first, then wait for a slot: a permit taken before accept
        // would sit idle on a quiet listener while a busy one starves.
        let permit = tokio::select! {
            changed = halted.changed() => match changed {
                Ok(()) => continue,
                Err(_) => break Ok(()),
            },
            p = slots.acquire() => match p {
                Some(p) => p,
                None => break Ok(()),
            },
        };
        let ctx = ctx.clone();
        connections.spawn(async move {
            connection(stream, &client, protocol, &ctx).await;
            drop(permit);
        });
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
    ) || e.raw_os_error().is_some_and(|n| {
        use nix::errno::Errno;
        [Errno::ENFILE, Errno::EMFILE, Errno::ENOBUFS, Errno::ENOMEM].contains(&Errno::from_raw(n))
    })
}

/// Serves one connection until the client leaves, goes idle, breaks the
/// protocol, or the daemon shuts down between requests. Idle and shutdown
/// arrive as end of file, from the reaper.
async fn connection<S: AsyncRead + AsyncWrite + AsRawFd + Unpin>(
    mut stream: S,
    client: &str,
    protocol: &'static dyn Protocol,
    ctx: &Context,
) {
    log::debug!("{} connection opened by {client}", protocol.name());
    let metrics = ctx.shared.metrics();
    metrics.connection(protocol.name(), 1);
    let requests = metrics.requests(protocol.name());
    let mut session = match protocol.service() {
        Service::Lookups(session) => session,
        Service::Metrics => Box::new(MetricsSession(ctx.shared.metrics.clone())),
        Service::Relay(side) => {
            relay::connection(stream, client, side, protocol, ctx).await;
            metrics.connection(protocol.name(), -1);
            log::debug!("{} connection closed ({client})", protocol.name());
            return;
        }
    };
    let guard = ctx.reaper.register(stream.as_raw_fd());
    let mut input = Vec::with_capacity(512);
    let mut out = Vec::with_capacity(512);
    let mut chunk = [0u8; 4096];
    let mut linger = false;
    loop {
        let n = match stream.read(&mut chunk).await {
            Ok(n) if n > 0 => n,
            _ => break,
        };
        guard.touch();
        guard.pending(true);
        input.extend_from_slice(&chunk[..n]);
        let state = ctx.shared.load();
        let mut call = SessionCall {
            session: &mut session,
            input: &input,
            out: &mut out,
            settings: &ctx.limits.protocols,
        };
        let who = Caller {
            protocol,
            name: client,
            requests,
        };
        let progress = serve_call(ctx, who, &state, ctx.clock.now(), &mut call).await;
        if progress.oversized > 0 {
            ctx.oversized.warn(format_args!(
                "{} answer(s) over the {} protocol's length limit refused",
                progress.oversized,
                protocol.name()
            ));
        }
        input.drain(..progress.consumed);
        if input.is_empty() {
            guard.pending(false);
        }
        if !out.is_empty() {
            // A client that stops reading is shut down by the reaper.
            if stream.write_all(&out).await.is_err() {
                break;
            }
            out.clear();
            guard.touch();
        }
        if progress.close {
            linger = progress.linger;
            break;
        }
    }
    let _ = stream.shutdown().await;
    if linger {
        // Read what the client already sent (bounded in bytes; the reaper
        // bounds the time), so closing does not reset the connection.
        let mut left = LINGER_BYTES;
        while left > 0 {
            match stream.read(&mut chunk).await {
                Ok(n) if n > 0 => left = left.saturating_sub(n),
                _ => break,
            }
        }
    }
    // Unregister before the descriptor is closed and can be reused.
    drop(guard);
    drop(stream);
    metrics.connection(protocol.name(), -1);
    log::debug!("{} connection closed ({client})", protocol.name());
}

/// Who a call serves, for the metrics and the log.
pub(crate) struct Caller<'a> {
    protocol: &'static dyn Protocol,
    name: &'a str,
    /// The protocol's request counters, looked up once per connection.
    requests: Option<&'a crate::metrics::Requests>,
}

/// Serves `call` with `state` at `now` (see [`engine::store::serve`]), and
/// counts what its lookups did.
async fn serve_call<C: Replayable>(
    ctx: &Context,
    client: Caller<'_>,
    state: &State,
    now: SystemTime,
    call: &mut C,
) -> C::Output {
    let (output, done) =
        engine::store::serve(&state.srs, &state.domain, now, state.store(), call).await;
    record_done(ctx, &client, &done);
    output
}

/// A map protocol's or the milter's call: the session, the input, the
/// replies.
struct SessionCall<'a> {
    session: &'a mut Box<dyn crate::protocol::Session>,
    input: &'a [u8],
    out: &'a mut Vec<u8>,
    settings: &'a crate::protocol::Settings,
}

impl Replayable for SessionCall<'_> {
    type Mark = (Box<dyn crate::protocol::Session>, usize);
    type Output = crate::protocol::Progress;

    fn mark(&self) -> Self::Mark {
        (self.session.fork(), self.out.len())
    }

    fn undo(&mut self, (session, len): Self::Mark) {
        *self.session = session;
        self.out.truncate(len);
    }

    fn serve(&mut self, lookup: &Rewriter<'_>) -> Self::Output {
        self.session
            .serve(self.input, lookup, self.settings, self.out)
    }
}

/// Counts what the lookups of one call did, and logs the refusals worth it
/// with the address and the client.
fn record_done(ctx: &Context, client: &Caller<'_>, done: &crate::engine::Record) {
    if let Some(requests) = client.requests {
        requests.add(done);
    }
    for refusal in done.take_refusals() {
        ctx.shared.metrics().forgery(&refusal.why);
        ctx.refusals.warn(format_args!(
            "refused reverse of {} from {} ({}): {}",
            refusal.address,
            client.name,
            client.protocol.name(),
            refusal.why
        ));
    }
}

/// Lets the daemon hold as many connections as the hard limit allows.
pub fn raise_open_files_limit() {
    use nix::sys::resource::{Resource, getrlimit, setrlimit};
    if let Ok((soft, hard)) = getrlimit(Resource::RLIMIT_NOFILE)
        && soft < hard
        && setrlimit(Resource::RLIMIT_NOFILE, hard, hard).is_err()
    {
        log::warn!("cannot raise the open files limit from {soft}");
    }
}
