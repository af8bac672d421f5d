//! The daemon run in-process (listeners, clock and shutdown injected):
//! request/reply tables for each protocol, malformed, oversize, split and
//! pipelined input, idle timeout, connection limit, reload and shutdown.

mod limits;

use crate::common;

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};

use common::engine::Engine;
use mail_srs::daemon::{Bound, Limits, Listener, Shared, State};
use mail_srs::srs::{Options, Srs};
use tempfile::TempDir;

/// Day 20780 (stamp JM).
const NOW: u64 = 1_795_435_200;
/// alice@origin.example forwarded with secret s3cret on day 20780.
const ALICE: &str = "SRS0=F0KE=JM=origin.example=alice@fwd.example";

fn state(secrets: &[&[u8]]) -> State {
    let opts = Options {
        local_domains: vec!["local.example".into()],
        ..Options::default()
    };
    State::new(Srs::new(secrets, opts).unwrap(), "fwd.example".into())
}

/// A daemon on a socketmap and a line Unix socket and two tcp_table ports.
struct Daemon {
    dir: TempDir,
    /// The forward tcp_table listener's descriptor, to break it from outside.
    forward_fd: std::os::fd::RawFd,
    forward: u16,
    reverse: u16,
    shared: Shared,
    engine: Engine,
}

impl Daemon {
    fn start(limits: Limits) -> Daemon {
        Daemon::start_with(limits, false)
    }

    /// With `metrics`, also a metrics listener on the Unix socket "metrics"
    /// (not always: a fifth listener changes how the slots are split).
    fn start_with(limits: Limits, metrics: bool) -> Daemon {
        let dir = TempDir::new().unwrap();
        let unix = |name: &str| {
            let path = dir.path().join(name);
            Bound::Unix(
                std::os::unix::net::UnixListener::bind(&path).unwrap(),
                Some(path),
            )
        };
        let tcp = || std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let (tf, tr) = (tcp(), tcp());
        let (forward, reverse) = (
            tf.local_addr().unwrap().port(),
            tr.local_addr().unwrap().port(),
        );
        let forward_fd = std::os::fd::AsRawFd::as_raw_fd(&tf);
        let mut listeners = vec![
            Listener {
                protocol: mail_srs::protocol::named("socketmap").unwrap(),
                bound: unix("socketmap"),
            },
            Listener {
                protocol: mail_srs::protocol::named("line").unwrap(),
                bound: unix("line"),
            },
            Listener {
                protocol: mail_srs::protocol::named("tcp-forward").unwrap(),
                bound: Bound::Tcp(tf),
            },
            Listener {
                protocol: mail_srs::protocol::named("tcp-reverse").unwrap(),
                bound: Bound::Tcp(tr),
            },
        ];
        if metrics {
            listeners.push(Listener {
                protocol: mail_srs::protocol::named("metrics").unwrap(),
                bound: unix("metrics"),
            });
        }
        // Started a day and a second before the clock's now.
        let shared = Shared::new(
            state(&[b"s3cret"]),
            UNIX_EPOCH + Duration::from_secs(NOW - 86_401),
        );
        let engine = Engine::start_shared(
            listeners,
            shared.clone(),
            UNIX_EPOCH + Duration::from_secs(NOW),
            limits,
        );
        Daemon {
            dir,
            forward_fd,
            forward,
            reverse,
            shared,
            engine,
        }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn unix(&self, name: &str) -> UnixStream {
        let s = UnixStream::connect(self.path(name)).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        s
    }

    fn tcp(&self, port: u16) -> TcpStream {
        let s = TcpStream::connect(("127.0.0.1", port)).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        s
    }
}

fn netstring(s: &str) -> Vec<u8> {
    format!("{}:{s},", s.len()).into_bytes()
}

/// Reads exactly the netstring replies for `n` requests.
fn read_netstrings(s: &mut impl Read, n: usize) -> Vec<String> {
    let mut out = Vec::new();
    let mut buf = Vec::new();
    while out.len() < n {
        let mut byte = [0u8; 1];
        s.read_exact(&mut byte).expect("a reply");
        buf.push(byte[0]);
        if let Some(colon) = buf.iter().position(|&b| b == b':') {
            let len: usize = std::str::from_utf8(&buf[..colon]).unwrap().parse().unwrap();
            let mut payload = vec![0u8; len + 1];
            s.read_exact(&mut payload).unwrap();
            assert_eq!(payload.pop(), Some(b','));
            out.push(String::from_utf8(payload).unwrap());
            buf.clear();
        }
    }
    out
}

fn read_to_end(s: &mut impl Read) -> String {
    let mut out = Vec::new();
    s.read_to_end(&mut out).unwrap();
    String::from_utf8(out).unwrap()
}

#[test]
fn socketmap_table() {
    let d = Daemon::start(Limits::default());
    let table = [
        ("forward alice@origin.example", format!("OK {ALICE}")),
        (
            &format!("reverse {ALICE}"),
            "OK alice@origin.example".into(),
        ),
        ("forward bob@fwd.example", "NOTFOUND ".into()),
        ("forward bob@local.example", "NOTFOUND ".into()),
        (&format!("forward {ALICE}"), "NOTFOUND ".into()),
        ("forward @origin.example", "NOTFOUND ".into()),
        ("forward alice", "NOTFOUND ".into()),
        ("reverse alice@origin.example", "NOTFOUND ".into()),
        (
            "reverse SRS0=AAAA=JM=origin.example=alice@fwd.example",
            "NOTFOUND ".into(),
        ),
        (
            "reverse SRS0=+FvX=IW=origin.example=alice@fwd.example",
            "NOTFOUND ".into(),
        ),
        (
            "forward john doe@origin.example",
            "OK SRS0=l1Sz=JM=origin.example=john doe@fwd.example".into(),
        ),
        (
            "forward alice<@origin.example.>",
            "OK SRS0=F0KE=JM=origin.example=alice<@fwd.example.>".into(),
        ),
        (
            "reverse SRS0=F0KE=JM=origin.example=alice<@fwd.example.>",
            "OK alice<@origin.example.>".into(),
        ),
        (
            "bogus alice@origin.example",
            "PERM unknown map name; the maps are forward and reverse".into(),
        ),
        ("forward", "PERM request is not '<map> <key>'".into()),
    ];
    let mut s = d.unix("socketmap");
    for (request, reply) in &table {
        s.write_all(&netstring(request)).unwrap();
        assert_eq!(
            read_netstrings(&mut s, 1),
            std::slice::from_ref(reply),
            "{request}"
        );
    }
    // Non-UTF-8 key.
    s.write_all(b"14:forward \xff@x.ex,").unwrap();
    assert_eq!(read_netstrings(&mut s, 1), ["NOTFOUND "]);
}

#[test]
fn socketmap_pipelined_and_split() {
    let d = Daemon::start(Limits::default());
    let mut s = d.unix("socketmap");
    let mut all = Vec::new();
    for _ in 0..50 {
        all.extend(netstring("forward alice@origin.example"));
        all.extend(netstring(&format!("reverse {ALICE}")));
    }
    s.write_all(&all).unwrap();
    let replies = read_netstrings(&mut s, 100);
    assert!(
        replies
            .chunks(2)
            .all(|p| p[0] == format!("OK {ALICE}") && p[1] == "OK alice@origin.example")
    );
    // One byte at a time.
    for b in netstring("forward alice@origin.example") {
        s.write_all(&[b]).unwrap();
        std::thread::sleep(Duration::from_millis(1));
    }
    assert_eq!(read_netstrings(&mut s, 1), [format!("OK {ALICE}")]);
}

#[test]
fn socketmap_malformed_and_oversize_close_with_perm() {
    let d = Daemon::start(Limits::default());
    for (bad, reason) in [
        (&b"abc"[..], "PERM malformed netstring length"),
        (b"5:hello;", "PERM netstring not terminated by ','"),
        (b"100001:", "PERM netstring longer than 100000 bytes"),
        (
            b"99999999999999999999",
            "PERM netstring longer than 100000 bytes",
        ),
    ] {
        let mut s = d.unix("socketmap");
        s.write_all(bad).unwrap();
        assert_eq!(read_netstrings(&mut s, 1), [reason]);
        assert_eq!(read_to_end(&mut s), "", "closed after {bad:?}");
    }
    // A request just under the limit is read and answered.
    let mut s = d.unix("socketmap");
    let key = format!("forward {}@origin.example", "a".repeat(99_900));
    s.write_all(&netstring(&key)).unwrap();
    assert!(read_netstrings(&mut s, 1)[0].starts_with("OK SRS0="));
}

#[test]
fn tcp_table_both_directions() {
    let d = Daemon::start(Limits::default());
    let mut f = d.tcp(d.forward);
    f.write_all(b"get alice@origin.example\nget bob@fwd.example\nget john%20doe@origin.example\nput x y\nget %zz\n").unwrap();
    let mut r = d.tcp(d.reverse);
    r.write_all(format!("get {ALICE}\r\nget alice@origin.example\nget SRS0=l1Sz=JM=origin.example=john%20doe@fwd.example\n").as_bytes()).unwrap();
    let lines = |s: &mut TcpStream, n: usize| {
        let mut reader = std::io::BufReader::new(s.try_clone().unwrap());
        (0..n)
            .map(|_| {
                let mut l = String::new();
                std::io::BufRead::read_line(&mut reader, &mut l).unwrap();
                l
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(
        lines(&mut f, 5),
        [
            format!("200 {ALICE}\n"),
            "500 local%20domain\n".into(),
            "200 SRS0=l1Sz=JM=origin.example=john%20doe@fwd.example\n".into(),
            "500 only get requests are supported\n".into(),
            "500 key is not valid %-encoded UTF-8\n".into(),
        ]
    );
    assert_eq!(
        lines(&mut r, 3),
        [
            "200 alice@origin.example\n",
            "500 not%20an%20SRS%20address\n",
            "200 john%20doe@origin.example\n"
        ]
    );
    let mut long = d.tcp(d.forward);
    long.write_all(&vec![b'a'; 5000]).unwrap();
    assert_eq!(read_to_end(&mut long), "500 request too long\n");
}

#[test]
fn line_protocol_answers_once_and_closes() {
    let d = Daemon::start(Limits::default());
    for (request, reply) in [
        ("FORWARD alice@origin.example fwd.example\n".to_string(), format!("{ALICE}\n")),
        ("forward alice@origin.example postmaster@other.example\n".into(), "SRS0=F0KE=JM=origin.example=alice@other.example\n".into()),
        ("FORWARD bob@fwd.example fwd.example\n".into(), "bob@fwd.example\n".into()),
        (format!("REVERSE {ALICE}\n"), "alice@origin.example\n".into()),
        ("REVERSE SRS0=AAAA=JM=origin.example=alice@fwd.example\n".into(), "ERROR: hash does not match (forged, or signed with a secret we no longer have)\n".into()),
        ("REVERSE\n".into(), "ERROR: usage: FORWARD <sender> <alias> | REVERSE <address>\n".into()),
        ("HELO x\n".into(), "ERROR: unknown command \"HELO\"; usage: FORWARD <sender> <alias> | REVERSE <address>\n".into()),
    ] {
        let mut s = d.unix("line");
        // A second request on the same connection is not answered.
        s.write_all(format!("{request}{request}").as_bytes()).unwrap();
        assert_eq!(read_to_end(&mut s), reply, "{request}");
    }
}

#[test]
fn line_protocol_keep_alive() {
    let d = Daemon::start(Limits {
        protocols: mail_srs::protocol::Settings {
            line_keep_alive: true,
            ..Default::default()
        },
        ..Limits::default()
    });
    let mut s = d.unix("line");
    s.write_all(format!("REVERSE {ALICE}\nREVERSE {ALICE}\n").as_bytes())
        .unwrap();
    s.shutdown(std::net::Shutdown::Write).unwrap();
    assert_eq!(
        read_to_end(&mut s),
        "alice@origin.example\nalice@origin.example\n"
    );
}

#[test]
fn idle_connections_are_closed() {
    let d = Daemon::start(Limits {
        idle_timeout: Duration::from_millis(200),
        ..Limits::default()
    });
    let mut s = d.unix("socketmap");
    s.write_all(b"5:forw").unwrap(); // a request that never completes
    assert_eq!(read_to_end(&mut s), "");
}

#[test]
fn reload_swaps_keys_for_new_requests() {
    let d = Daemon::start(Limits::default());
    let mut s = d.unix("socketmap");
    d.shared.replace(state(&[b"newkey", b"s3cret"]));
    s.write_all(&netstring("forward alice@origin.example"))
        .unwrap();
    s.write_all(&netstring(&format!("reverse {ALICE}")))
        .unwrap();
    let replies = read_netstrings(&mut s, 2);
    let signed_by_new = state(&[b"newkey"])
        .srs
        .forward(
            "alice@origin.example",
            "fwd.example",
            UNIX_EPOCH + Duration::from_secs(NOW),
        )
        .unwrap();
    assert_eq!(
        replies[0],
        format!("OK {}", signed_by_new.address("")),
        "the new first key signs"
    );
    assert_eq!(
        replies[1], "OK alice@origin.example",
        "the old key still verifies"
    );
}

#[test]
fn shutdown_closes_idle_connections_and_removes_sockets() {
    let d = Daemon::start(Limits::default());
    let mut idle = d.unix("socketmap");
    let mut busy = d.tcp(d.forward);
    busy.write_all(b"get alice@origin.example\n").unwrap();
    let mut first = [0u8; 4];
    busy.read_exact(&mut first).unwrap();
    let paths = [d.path("socketmap"), d.path("line")];
    d.engine.stop().unwrap();
    assert_eq!(read_to_end(&mut idle), "");
    for p in paths {
        assert!(!p.exists(), "{} left behind", p.display());
    }
}

#[test]
fn a_dropped_shutdown_sender_stops_the_daemon() {
    let d = Daemon::start(Limits::default());
    // Drop the only sender without ever sending.
    d.engine.lose_the_stop().unwrap();
}

/// A client that never reads its replies holds a stop for the drain time at
/// most, then is cut off.
#[test]
fn stop_waits_for_the_drain_time_at_most() {
    let d = Daemon::start(Limits {
        drain_timeout: Duration::from_millis(500),
        ..Limits::default()
    });
    let mut stuck = d.tcp(d.reverse);
    common::stop_reading(&mut stuck, format!("get {ALICE}\n").as_bytes());
    // A request answered just before the stop is answered whole.
    let mut s = d.unix("socketmap");
    s.write_all(&netstring("forward alice@origin.example"))
        .unwrap();
    assert_eq!(read_netstrings(&mut s, 1), [format!("OK {ALICE}")]);
    d.engine.stop().unwrap();
}

/// One line limit for tcp_table and the line protocol: 4096 bytes with the
/// newline. socketmap replies stay within the netstring limit.
#[test]
fn line_limits_at_the_boundary() {
    let d = Daemon::start(Limits::default());
    let key = |total: usize| {
        // "get " + local + "@o.example" + "\n" = total bytes.
        let local = "a".repeat(total - "get @o.example\n".len());
        format!("get {local}@o.example\n")
    };
    let mut fits = d.tcp(d.forward);
    fits.write_all(key(4096).as_bytes()).unwrap();
    let mut reply = String::new();
    std::io::BufRead::read_line(&mut std::io::BufReader::new(fits), &mut reply).unwrap();
    // The key fits; its SRS form does not fit a reply line.
    assert_eq!(reply, "500 reply too long\n");
    let mut over = d.tcp(d.forward);
    over.write_all(key(4097).as_bytes()).unwrap();
    assert_eq!(read_to_end(&mut over), "500 request too long\n");
    let mut small = d.tcp(d.forward);
    small.write_all(key(4096 - 40).as_bytes()).unwrap();
    let mut reply = String::new();
    std::io::BufRead::read_line(&mut std::io::BufReader::new(small), &mut reply).unwrap();
    assert!(
        reply.starts_with("200 SRS0=") && reply.len() <= 4096,
        "{}",
        reply.len()
    );

    let line = |total: usize| {
        let local = "a".repeat(total - "REVERSE @o.example\n".len());
        format!("REVERSE {local}@o.example\n")
    };
    let mut fits = d.unix("line");
    fits.write_all(line(4096).as_bytes()).unwrap();
    assert_eq!(read_to_end(&mut fits), "ERROR: not an SRS address\n");
    let mut over = d.unix("line");
    over.write_all(line(4097).as_bytes()).unwrap();
    assert_eq!(read_to_end(&mut over), "ERROR: request too long\n");

    // A socketmap request at the netstring limit whose answer would be over it.
    let mut big = d.unix("socketmap");
    let local = "a".repeat(100_000 - "forward @o.example".len());
    big.write_all(&netstring(&format!("forward {local}@o.example")))
        .unwrap();
    assert_eq!(read_netstrings(&mut big, 1), ["NOTFOUND "]);
}

/// Asking the forward map to forward one of our own SRS addresses names
/// the likely mistake instead of "local domain".
#[test]
fn an_srs_address_on_the_forward_map_says_so() {
    let d = Daemon::start(Limits::default());
    let mut f = d.tcp(d.forward);
    f.write_all(format!("get {ALICE}\n").as_bytes()).unwrap();
    let mut reply = String::new();
    std::io::BufRead::read_line(&mut std::io::BufReader::new(f), &mut reply).unwrap();
    assert_eq!(
        reply,
        "500 an%20SRS%20address%20at%20our%20domain%20needs%20a%20reverse,%20not%20a%20forward%20(reverse%20map%20or%20port?)\n"
    );
}

/// The value of the series `name` with every label of `labels` in a scrape.
fn series(samples: &[mail_srs::metrics::Sample], name: &str, labels: &[(&str, &str)]) -> f64 {
    samples
        .iter()
        .find(|s| s.name == name && labels.iter().all(|(k, v)| s.label(k) == *v))
        .unwrap_or_else(|| panic!("no {name} {labels:?} in {samples:?}"))
        .value
}

fn scrape(d: &Daemon) -> Vec<mail_srs::metrics::Sample> {
    let mut client = mail_srs::client::Client::new(
        mail_srs::client::Target::Unix(d.path("metrics")),
        mail_srs::client::ClientProtocol::Socketmap,
        Duration::from_secs(10),
    );
    mail_srs::metrics::parse(&client.scrape().unwrap()).unwrap()
}

#[test]
fn metrics_count_requests_forgeries_and_connections() {
    let d = Daemon::start_with(Limits::default(), true);
    let before = scrape(&d);
    let req = |samples: &[_], p, dir, o| {
        series(
            samples,
            "srsd_requests_total",
            &[("protocol", p), ("direction", dir), ("outcome", o)],
        )
    };
    assert_eq!(req(&before, "socketmap", "forward", "rewritten"), 0.0);
    assert_eq!(series(&before, "srsd_uptime_seconds", &[]), 86_401.0);
    let mut s = d.unix("socketmap");
    for r in [
        "forward alice@origin.example",
        "forward bob@origin.example",
        "forward carol@local.example",
        &format!("reverse {ALICE}"),
        "reverse SRS0=xxxx=JM=origin.example=alice@fwd.example",
        "reverse SRS0=F0KE=AA=origin.example=alice@fwd.example",
    ] {
        s.write_all(&netstring(r)).unwrap();
    }
    read_netstrings(&mut s, 6);
    let mut line = d.unix("line");
    line.write_all(b"REVERSE not-srs@fwd.example\n").unwrap();
    read_to_end(&mut line);
    let after = scrape(&d);
    assert_eq!(req(&after, "socketmap", "forward", "rewritten"), 2.0);
    assert_eq!(req(&after, "socketmap", "forward", "unchanged"), 1.0);
    assert_eq!(req(&after, "socketmap", "reverse", "rewritten"), 1.0);
    assert_eq!(req(&after, "socketmap", "reverse", "refused"), 2.0);
    assert_eq!(req(&after, "line", "reverse", "refused"), 1.0);
    assert_eq!(
        series(&after, "srsd_forgeries_total", &[("reason", "bad_hash")]),
        2.0
    );
    assert_eq!(
        series(
            &after,
            "srsd_connections_open",
            &[("protocol", "socketmap")]
        ),
        1.0
    );
    // The line connection closed after its reply, and the metrics one is
    // counted while it is served.
    assert_eq!(
        series(&after, "srsd_connections_open", &[("protocol", "line")]),
        0.0
    );
    assert_eq!(
        series(&after, "srsd_connections_open", &[("protocol", "metrics")]),
        1.0
    );
    // Anything but GET of /metrics or / is answered and closed.
    let mut other = d.unix("metrics");
    other.write_all(b"POST /metrics HTTP/1.1\r\n\r\n").unwrap();
    assert_eq!(
        read_to_end(&mut other),
        "HTTP/1.1 405 Method Not Allowed\r\nContent-Type: text/plain\r\nContent-Length: 18\r\nConnection: close\r\n\r\nonly GET and HEAD\n"
    );
    let mut big = d.unix("metrics");
    big.write_all(&vec![b'x'; 9000]).unwrap();
    assert!(read_to_end(&mut big).starts_with("HTTP/1.1 431 Request Header Fields Too Large\r\n"),);
}
