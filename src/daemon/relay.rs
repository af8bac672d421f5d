//! One connection to an srsrelay service: the client's bytes and upstream's
//! go through a [`RelaySession`], which says what goes where. The message
//! streams through, so memory per connection does not grow with its size.

use std::os::fd::AsRawFd;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;

use super::Context;
use crate::engine::Rewriter;
use crate::engine::store::Replayable;
use crate::protocol::Protocol;
use crate::protocol::relay::{self, RelaySession, Side};

/// Client bytes held unread at most (a client that sends while a DATA
/// awaits its reply); reading stops there until the session takes them.
const MAX_HELD: usize = 64 * 1024;

/// Serves one relayed connection until either side ends it.
pub(super) async fn connection<S: AsyncRead + AsyncWrite + AsRawFd + Unpin>(
    mut client: S,
    who: &str,
    side: Side,
    protocol: &'static dyn Protocol,
    ctx: &Context,
) {
    let settings = &ctx.limits.protocols.relay;
    let metrics = ctx.shared.metrics();
    let requests = metrics.requests(protocol.name());
    let guard = ctx.reaper.register(client.as_raw_fd());
    let connected = tokio::time::timeout(
        settings.connect_timeout,
        TcpStream::connect(settings.upstream.as_str()),
    )
    .await;
    let mut upstream = match connected {
        Ok(Ok(s)) => {
            let _ = s.set_nodelay(true);
            s
        }
        Ok(Err(e)) => return unreachable(&mut client, &settings.upstream, &e.to_string()).await,
        Err(_) => {
            let why = format!(
                "no connection within {} s",
                settings.connect_timeout.as_secs()
            );
            return unreachable(&mut client, &settings.upstream, &why).await;
        }
    };
    let mut session = RelaySession::new(side);
    let (mut from_client, mut from_upstream) = (Vec::new(), Vec::new());
    let (mut to_client, mut to_upstream) = (Vec::new(), Vec::new());
    loop {
        let reply_due = session.waiting_for_upstream();
        tokio::select! {
            read = client.read_buf(&mut from_client), if from_client.len() < MAX_HELD => match read {
                Ok(n) if n > 0 => guard.touch(),
                // The client is gone: upstream is closed with nothing more
                // sent, so a message cut short is never completed.
                _ => break,
            },
            read = tokio::time::timeout(settings.reply_timeout, upstream.read_buf(&mut from_upstream)) => {
                match read {
                    Ok(Ok(n)) if n > 0 => {}
                    Ok(_) if session.quitting() => break,
                    Ok(_) => {
                        log::warn!("{}: upstream {} closed the connection of {who}", protocol.name(), settings.upstream);
                        to_client.extend_from_slice(relay::UPSTREAM_GONE);
                        let _ = client.write_all(&to_client).await;
                        break;
                    }
                    Err(_) if !reply_due => continue,
                    Err(_) => {
                        log::warn!("{}: upstream {} gave no reply within {} s", protocol.name(), settings.upstream, settings.reply_timeout.as_secs());
                        to_client.extend_from_slice(relay::UPSTREAM_GONE);
                        let _ = client.write_all(&to_client).await;
                        break;
                    }
                }
            }
        }
        let state = ctx.shared.load();
        let now = ctx.clock.now();
        let up = session.from_upstream(&from_upstream, settings.lmtp, &mut to_client);
        from_upstream.drain(..up.consumed);
        if up.invalid_reply {
            log::warn!(
                "{}: upstream {} sent an invalid reply to {who}",
                protocol.name(),
                settings.upstream
            );
        }
        // A reply may let the client's held bytes be read (after a 354).
        let mut call = ClientCall {
            session: &mut session,
            held: &from_client,
            to_client: &mut to_client,
            to_upstream: &mut to_upstream,
            settings,
        };
        let client_of = super::Caller {
            protocol,
            name: who,
            requests,
        };
        let down = super::serve_call(ctx, client_of, &state, now, &mut call).await;
        from_client.drain(..down.consumed);
        guard.pending(!from_client.is_empty());
        if !to_upstream.is_empty() {
            let sent =
                tokio::time::timeout(settings.reply_timeout, upstream.write_all(&to_upstream))
                    .await;
            if !matches!(sent, Ok(Ok(()))) {
                to_client.extend_from_slice(relay::UPSTREAM_GONE);
                let _ = client.write_all(&to_client).await;
                break;
            }
            to_upstream.clear();
        }
        if !to_client.is_empty() {
            if client.write_all(&to_client).await.is_err() {
                break;
            }
            to_client.clear();
            guard.touch();
        }
        if up.close || down.close {
            break;
        }
    }
    let _ = client.shutdown().await;
    drop(guard);
}

/// The session's call over what the client sent.
struct ClientCall<'a> {
    session: &'a mut RelaySession,
    held: &'a [u8],
    to_client: &'a mut Vec<u8>,
    to_upstream: &'a mut Vec<u8>,
    settings: &'a relay::RelaySettings,
}

impl Replayable for ClientCall<'_> {
    type Mark = (RelaySession, usize, usize);
    type Output = relay::RelayProgress;

    fn mark(&self) -> Self::Mark {
        (
            self.session.clone(),
            self.to_client.len(),
            self.to_upstream.len(),
        )
    }

    fn undo(&mut self, (session, client, upstream): Self::Mark) {
        *self.session = session;
        self.to_client.truncate(client);
        self.to_upstream.truncate(upstream);
    }

    fn serve(&mut self, lookup: &Rewriter<'_>) -> Self::Output {
        self.session.from_client(
            self.held,
            lookup,
            self.settings,
            self.to_client,
            self.to_upstream,
        )
    }
}

/// Upstream cannot be reached: `421` to the client, and a log line.
async fn unreachable<S: AsyncWrite + Unpin>(client: &mut S, upstream: &str, why: &str) {
    log::warn!("upstream {upstream} unreachable: {why}");
    let _ = client.write_all(relay::UNREACHABLE).await;
    let _ = client.shutdown().await;
}
