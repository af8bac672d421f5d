//! The metrics listener: one HTTP/1.x `GET /metrics` (or `/`) per
//! connection, answered with the OpenMetrics text of
//! [`crate::metrics::Metrics`] and closed, which is all a Prometheus scrape
//! or `curl` needs. Hand-written rather than an HTTP crate: one request line
//! read under the daemon's limits is the whole protocol, and the daemon's
//! reaper, connection slots and drain then apply to it like any other.

use std::sync::Arc;
use std::time::SystemTime;

use super::Progress;

use crate::engine::Rewriter;
use crate::metrics::Metrics;

/// The longest request head read (request line and headers).
pub const MAX_HEAD: usize = 8192;

/// The metrics protocol.
#[derive(Clone, Copy)]
pub struct MetricsProtocol;

impl super::Protocol for MetricsProtocol {
    fn name(&self) -> &'static str {
        "metrics"
    }

    fn service(&self) -> super::Service {
        super::Service::Metrics
    }
}

/// A metrics connection: the daemon's counters, handed to this listener
/// alone. It answers from them, and does no lookup.
pub struct MetricsSession(pub Arc<Metrics>);

impl super::Session for MetricsSession {
    fn fork(&self) -> Box<dyn super::Session> {
        Box::new(MetricsSession(self.0.clone()))
    }

    fn serve(
        &mut self,
        input: &[u8],
        lookup: &Rewriter<'_>,
        _settings: &super::Settings,
        out: &mut Vec<u8>,
    ) -> Progress {
        serve(input, &self.0, lookup.now, out)
    }
}

/// Answers the request whose head is at the front of `input`, once the
/// head is complete, and closes.
pub fn serve(input: &[u8], metrics: &Metrics, now: SystemTime, out: &mut Vec<u8>) -> Progress {
    let end = memchr::memmem::find(input, b"\r\n\r\n")
        .map(|e| e + 4)
        .or_else(|| memchr::memmem::find(input, b"\n\n").map(|e| e + 2));
    let Some(end) = end.filter(|&e| e <= MAX_HEAD) else {
        if input.len() < MAX_HEAD {
            return Progress::default();
        }
        reply(
            out,
            "431 Request Header Fields Too Large",
            "text/plain",
            b"request head too long\n",
        );
        return closing(input.len(), true);
    };
    let line = input[..end]
        .split(|&b| b == b'\n')
        .next()
        .unwrap_or_default();
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    let mut words = line.split(|&b| b == b' ');
    let (method, path) = (
        words.next().unwrap_or_default(),
        words.next().unwrap_or_default(),
    );
    let path = path.split(|&b| b == b'?').next().unwrap_or_default();
    match (method, path) {
        (b"GET" | b"HEAD", b"/metrics" | b"/") => {
            let body = metrics.exposition(now);
            let body = if method == b"HEAD" {
                b"" as &[u8]
            } else {
                body.as_bytes()
            };
            reply(out, "200 OK", crate::metrics::CONTENT_TYPE, body);
        }
        (b"GET" | b"HEAD", _) => reply(
            out,
            "404 Not Found",
            "text/plain",
            b"the metrics are at /metrics\n",
        ),
        _ => reply(
            out,
            "405 Method Not Allowed",
            "text/plain",
            b"only GET and HEAD\n",
        ),
    }
    closing(end, false)
}

fn closing(consumed: usize, linger: bool) -> Progress {
    Progress {
        consumed,
        close: true,
        linger,
        ..Progress::default()
    }
}

fn reply(out: &mut Vec<u8>, status: &str, content_type: &str, body: &[u8]) {
    out.extend_from_slice(
        format!(
            "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            body.len()
        )
        .as_bytes(),
    );
    out.extend_from_slice(body);
}
