//! What srsd counts, in the OpenMetrics text format Prometheus scrapes, and
//! the reading of that text back for `srsc stats`.
//!
//! Every series exists from the start, at zero, so a rate over a quiet
//! daemon is 0 rather than missing.

use std::fmt::Write as _;
use std::time::{Duration, SystemTime};

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

use crate::engine::{Direction, Outcome, Record};
use crate::srs::ReverseError;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    protocol: &'static str,
    direction: &'static str,
    outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ReasonLabels {
    reason: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ResultLabels {
    result: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ProtocolLabels {
    protocol: &'static str,
}

/// The label of a suspicious reverse refusal, or `None` for the others.
fn forgery_reason(e: &ReverseError) -> Option<&'static str> {
    Some(match e {
        ReverseError::BadHash => "bad_hash",
        ReverseError::HashTooShort { .. } => "hash_too_short",
        ReverseError::Expired { .. } => "expired",
        ReverseError::Future => "future",
        _ => return None,
    })
}

const FORGERY_REASONS: [&str; 4] = ["bad_hash", "hash_too_short", "expired", "future"];

/// The daemon's counters, shared by every connection; updates are atomic.
pub struct Metrics {
    registry: Registry,
    /// Each lookup protocol's request counters, by direction and outcome,
    /// looked up in the family once, at start: counting a request is then
    /// an atomic add, not a hash of its labels.
    requests: Vec<(&'static str, Requests)>,
    forgeries: Family<ReasonLabels, Counter>,
    reloads: Family<ResultLabels, Counter>,
    connections: Family<ProtocolLabels, Gauge>,
    uptime: Gauge,
    started: SystemTime,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics")
            .field("started", &self.started)
            .finish_non_exhaustive()
    }
}

/// One lookup protocol's request counters, by direction and outcome.
pub struct Requests([[Counter; 4]; 2]);

impl Requests {
    /// Adds what the lookups of one call did.
    pub fn add(&self, record: &Record) {
        for direction in Direction::ALL {
            for outcome in Outcome::ALL {
                let n = record.counted(direction, outcome);
                if n > 0 {
                    self.0[direction as usize][outcome as usize].inc_by(u64::from(n));
                }
            }
        }
    }
}

impl Metrics {
    /// Counters at zero for a daemon started at `started` serving
    /// `protocols`: each one's name, and whether its requests are lookups.
    pub fn new(
        started: SystemTime,
        protocols: impl IntoIterator<Item = (&'static str, bool)>,
    ) -> Metrics {
        let mut registry = Registry::with_prefix("srsd");
        let requests = Family::<RequestLabels, Counter>::default();
        let forgeries = Family::<ReasonLabels, Counter>::default();
        let reloads = Family::<ResultLabels, Counter>::default();
        let connections = Family::<ProtocolLabels, Gauge>::default();
        let uptime = Gauge::default();
        let mut by_protocol = Vec::new();
        for (protocol, looks_up) in protocols {
            connections.get_or_create_owned(&ProtocolLabels { protocol });
            if !looks_up {
                continue;
            }
            let counter = |direction: Direction, outcome: Outcome| {
                requests.get_or_create_owned(&RequestLabels {
                    protocol,
                    direction: direction.name(),
                    outcome: outcome.name(),
                })
            };
            by_protocol.push((
                protocol,
                Requests(Direction::ALL.map(|d| Outcome::ALL.map(|o| counter(d, o)))),
            ));
        }
        for reason in FORGERY_REASONS {
            forgeries.get_or_create_owned(&ReasonLabels { reason });
        }
        for result in ["ok", "failed"] {
            reloads.get_or_create_owned(&ResultLabels { result });
        }
        registry.register(
            "requests",
            "Lookups answered, by protocol, direction and outcome",
            requests.clone(),
        );
        registry.register(
            "forgeries",
            "Reverses refused for a reason an honest address never gives",
            forgeries.clone(),
        );
        registry.register(
            "reloads",
            "Reloads of the keys and settings, by result",
            reloads.clone(),
        );
        registry.register(
            "connections_open",
            "Client connections open now",
            connections.clone(),
        );
        registry.register(
            "uptime_seconds",
            "Seconds since srsd started",
            uptime.clone(),
        );
        Metrics {
            registry,
            requests: by_protocol,
            forgeries,
            reloads,
            connections,
            uptime,
            started,
        }
    }

    /// The request counters of `protocol`, for a connection to count its
    /// calls into without looking them up each time; `None` for a protocol
    /// that does no lookups.
    pub fn requests(&self, protocol: &str) -> Option<&Requests> {
        self.requests
            .iter()
            .find(|(p, _)| *p == protocol)
            .map(|(_, r)| r)
    }

    /// Counts a suspicious reverse refusal.
    pub fn forgery(&self, e: &ReverseError) {
        if let Some(reason) = forgery_reason(e) {
            self.forgeries.get_or_create(&ReasonLabels { reason }).inc();
        }
    }

    /// Counts a reload.
    pub fn reload(&self, ok: bool) {
        let result = if ok { "ok" } else { "failed" };
        self.reloads.get_or_create(&ResultLabels { result }).inc();
    }

    /// A connection of `protocol` opened (`+1`) or closed (`-1`).
    pub fn connection(&self, protocol: &'static str, change: i64) {
        self.connections
            .get_or_create(&ProtocolLabels { protocol })
            .inc_by(change);
    }

    /// The OpenMetrics text of every series, uptime as of `now`.
    pub fn exposition(&self, now: SystemTime) -> String {
        let up = now.duration_since(self.started).unwrap_or(Duration::ZERO);
        self.uptime
            .set(i64::try_from(up.as_secs()).unwrap_or(i64::MAX));
        let mut text = String::with_capacity(4096);
        // Writing to a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut text, &self.registry);
        text
    }
}

/// The content type of [`Metrics::exposition`].
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// One sample of a scrape: `name{label="value",...} value`.
#[derive(Clone, Debug, PartialEq)]
pub struct Sample {
    /// The series name, `srsd_requests_total` say.
    pub name: String,
    /// Its labels, in the order written.
    pub labels: Vec<(String, String)>,
    /// Its value.
    pub value: f64,
}

impl Sample {
    /// The value of label `name`, or "".
    pub fn label(&self, name: &str) -> &str {
        self.labels
            .iter()
            .find(|(n, _)| n == name)
            .map_or("", |(_, v)| v.as_str())
    }
}

/// The samples of an exposition; comment lines are skipped. `None` names
/// the first line that is not a sample.
pub fn parse(text: &str) -> Result<Vec<Sample>, String> {
    let mut samples = Vec::new();
    for line in text.lines() {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        samples.push(parse_sample(line).ok_or_else(|| format!("not a sample: {line:?}"))?);
    }
    Ok(samples)
}

fn parse_sample(line: &str) -> Option<Sample> {
    let (series, value) = line.rsplit_once(' ')?;
    let value: f64 = value.parse().ok()?;
    let (name, labels) = match series.split_once('{') {
        None => (series, Vec::new()),
        Some((name, rest)) => {
            let mut labels = Vec::new();
            for pair in rest.strip_suffix('}')?.split(',').filter(|p| !p.is_empty()) {
                let (k, v) = pair.split_once('=')?;
                let v = v.strip_prefix('"')?.strip_suffix('"')?;
                labels.push((k.to_owned(), v.to_owned()));
            }
            (name, labels)
        }
    };
    Some(Sample {
        name: name.to_owned(),
        labels,
        value,
    })
}

/// The figures of a scrape as a person reads them: one line each,
/// `what  value`, zeros left out except for the totals.
pub fn summary(samples: &[Sample]) -> String {
    let mut out = String::new();
    let total = |name: &str| -> f64 {
        samples
            .iter()
            .filter(|s| s.name == name)
            .map(|s| s.value)
            .sum()
    };
    let uptime = total("srsd_uptime_seconds") as u64;
    let _ = writeln!(
        out,
        "uptime             {}d {:02}:{:02}:{:02}",
        uptime / 86400,
        uptime / 3600 % 24,
        uptime / 60 % 60,
        uptime % 60
    );
    let _ = writeln!(out, "connections open   {}", total("srsd_connections_open"));
    let _ = writeln!(out, "requests           {}", total("srsd_requests_total"));
    let mut requests: Vec<&Sample> = samples
        .iter()
        .filter(|s| s.name == "srsd_requests_total" && s.value > 0.0)
        .collect();
    requests.sort_by_key(|s| {
        (
            s.label("protocol"),
            s.label("direction"),
            s.label("outcome"),
        )
    });
    for s in requests {
        let _ = writeln!(
            out,
            "  {:<12} {:<8} {:<10} {}",
            s.label("protocol"),
            s.label("direction"),
            s.label("outcome"),
            s.value
        );
    }
    let _ = writeln!(out, "forgeries refused  {}", total("srsd_forgeries_total"));
    let mut forgeries: Vec<&Sample> = samples
        .iter()
        .filter(|s| s.name == "srsd_forgeries_total" && s.value > 0.0)
        .collect();
    forgeries.sort_by_key(|s| s.label("reason"));
    for s in forgeries {
        let _ = writeln!(out, "  {:<31} {}", s.label("reason"), s.value);
    }
    let reloads = |result: &str| -> f64 {
        samples
            .iter()
            .filter(|s| s.name == "srsd_reloads_total" && s.label("result") == result)
            .map(|s| s.value)
            .sum()
    };
    let _ = writeln!(
        out,
        "reloads            {} ok, {} failed",
        reloads("ok"),
        reloads("failed")
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::Rewriter;

    #[test]
    fn every_series_starts_at_zero_and_counts() {
        let t0 = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        let m = Metrics::new(t0, crate::protocol::names());
        let srs = crate::Srs::new(&["k"], crate::Options::default()).unwrap();
        let lookup = Rewriter::new(&srs, "fwd.example", t0);
        lookup.map(Direction::Forward, "a@b.example");
        lookup.map(Direction::Reverse, "SRS0=xxxx=AA=b.example=a@fwd.example");
        m.requests("socketmap").unwrap().add(&lookup.record);
        m.forgery(&ReverseError::BadHash);
        m.reload(false);
        m.connection("line", 1);
        let text = m.exposition(t0 + Duration::from_secs(90_061));
        let samples = parse(&text).unwrap();
        let value = |name: &str, labels: &[(&str, &str)]| -> f64 {
            samples
                .iter()
                .find(|s| s.name == name && labels.iter().all(|(k, v)| s.label(k) == *v))
                .unwrap_or_else(|| panic!("{name} {labels:?} missing from\n{text}"))
                .value
        };
        let req = |p, d, o| {
            value(
                "srsd_requests_total",
                &[("protocol", p), ("direction", d), ("outcome", o)],
            )
        };
        assert_eq!(req("socketmap", "forward", "rewritten"), 1.0);
        assert_eq!(req("socketmap", "reverse", "refused"), 1.0);
        assert_eq!(req("milter", "reverse", "refused"), 0.0);
        assert_eq!(
            value("srsd_forgeries_total", &[("reason", "bad_hash")]),
            1.0
        );
        assert_eq!(value("srsd_forgeries_total", &[("reason", "expired")]), 0.0);
        assert_eq!(value("srsd_reloads_total", &[("result", "failed")]), 1.0);
        assert_eq!(value("srsd_connections_open", &[("protocol", "line")]), 1.0);
        assert_eq!(value("srsd_uptime_seconds", &[]), 90_061.0);
        assert!(text.ends_with("# EOF\n"), "{text}");
        let summary = summary(&samples);
        assert!(
            summary.starts_with("uptime             1d 01:01:01\n"),
            "{summary}"
        );
        assert!(
            summary.contains("\n  socketmap    forward  rewritten  1\n"),
            "{summary}"
        );
        assert!(
            summary.contains("\nreloads            0 ok, 1 failed\n"),
            "{summary}"
        );
    }

    #[test]
    fn a_line_that_is_no_sample_is_named() {
        assert_eq!(
            parse("# HELP x\nx 1\nbroken\n"),
            Err("not a sample: \"broken\"".to_owned())
        );
    }
}
