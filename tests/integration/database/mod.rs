//! The address database (`original-envelope = database`): SQLite shared by
//! srs and srsd, Redis shared by two srsd processes (a real redis-server on
//! loopback, started and stopped here), failures answered TEMP, and
//! postsrsd 2.x's own addresses reversed from its layout.

mod sqlite_faults;

use crate::common;
use crate::common::srsd::Srsd;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

/// 2026-11-23 12:00 UTC, day 20780, stamp JM.
const NOW: u64 = 1_795_435_200;
/// A 60-character sender: its SRS address would have a 75-character local part.
const LONG: &str = "0f8fad5b-d9cb-469f-a165-70867728950e.bounces-x1@bulk.example";

/// srsd at day 20780 for fwd.example with `keys` and `args`, serving a
/// socketmap socket `name` in `dir`.
fn srsd(dir: &Path, name: &str, keys: &Path, args: &[&str]) -> Srsd {
    let listen = format!("socketmap=unix:{}", dir.join(name).display());
    let keys = keys.display().to_string();
    let now = NOW.to_string();
    Srsd::start(
        &[
            &[
                "--now",
                &now,
                "-d",
                "fwd.example",
                "-k",
                &keys,
                "--listen",
                &listen,
            ][..],
            args,
        ]
        .concat(),
    )
}

fn keys(dir: &Path) -> PathBuf {
    let path = dir.join("keys");
    std::fs::write(&path, "database-test-secret\n").unwrap();
    std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
    path
}

fn srs(keys: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_srs"))
        .args(["--now", &NOW.to_string(), "-k"])
        .arg(keys)
        .args(args)
        .output()
        .unwrap()
}

/// srsd in `dir` storing every sender in the SQLite file `srs.db` there:
/// srsd, the keys file, the database file and its `--database` value.
fn storing_srsd(dir: &Path) -> (Srsd, PathBuf, PathBuf, String) {
    let keys = keys(dir);
    let file = dir.join("srs.db");
    let db = format!("sqlite:{}", file.display());
    let d = srsd(
        dir,
        "srs",
        &keys,
        &["--original-envelope", "database", "--database", &db],
    );
    (d, keys, file, db)
}

/// `srs` storing `sender` in another SQLite file, `file`, as a restore or
/// another host would make it.
fn stored_elsewhere(keys: &Path, file: &Path, sender: &str) {
    let o = srs(
        keys,
        &[
            "--original-envelope",
            "database",
            "--database",
            &format!("sqlite:{}", file.display()),
            "forward",
            "-a",
            "fwd.example",
            sender,
        ],
    );
    assert_eq!(o.status.code(), Some(0));
}

/// srsd with `args` that must stop at start: its exit status and what it
/// said.
fn srsd_at_start(dir: &Path, keys: &Path, args: &[&str]) -> (Option<i32>, String) {
    let o = Command::new(env!("CARGO_BIN_EXE_srsd"))
        .args(["-d", "fwd.example", "-k"])
        .arg(keys)
        .args(args)
        .arg("--listen")
        .arg(format!("socketmap=unix:{}", dir.join("never").display()))
        .output()
        .unwrap();
    (
        o.status.code(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).trim().to_owned()
}

/// postsrsd 2.x's own test query, answered byte for byte: with secret
/// tops3cr3t on 2020-01-01 it forwards test@otherdomain.com through its
/// database as this address.
#[test]
fn postsrsd_2_database_addresses() {
    let dir = tempfile::TempDir::new().unwrap();
    let keys = dir.path().join("keys");
    std::fs::write(&keys, "tops3cr3t\n").unwrap();
    std::fs::set_permissions(&keys, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
    let db = format!("sqlite:{}", dir.path().join("srs.db").display());
    let day = "1577880000"; // 2020-01-01 12:00 UTC
    let address = "SRS0=bxzH=2W=1=DCJGDE6N24LCRT41A4T0G1UIF0DTKKQJ@example.com";
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_srs"))
            .args(["--now", day, "-k"])
            .arg(&keys)
            .args(args)
            .output()
            .unwrap()
    };
    // Without a database such an address is not found, and never KEY@1.
    let o = run(&["reverse", address]);
    assert_eq!(
        (
            o.status.code(),
            stdout(&o),
            String::from_utf8_lossy(&o.stderr).into_owned()
        ),
        (
            Some(65),
            String::new(),
            format!(
                "srs: {address}: the address carries a database key (KEY@1); configure the database that holds it\n"
            )
        )
    );
    let o = run(&[
        "--original-envelope",
        "database",
        "--database",
        &db,
        "forward",
        "-a",
        "example.com",
        "test@otherdomain.com",
    ]);
    assert_eq!(stdout(&o), address);
    let o = run(&["--database", &db, "reverse", &address.to_lowercase()]);
    assert_eq!(
        (o.status.code(), stdout(&o)),
        (Some(0), "test@otherdomain.com".to_owned())
    );
    // A forged address is refused before any lookup.
    let o = run(&[
        "--database",
        &db,
        "reverse",
        &address.replace("bxzH", "bxzI"),
    ]);
    assert_eq!(o.status.code(), Some(65));
}

/// SQLite: srs and srsd on one file at once, each reversing the other's
/// addresses; only long senders stored with database-when too-long.
#[test]
fn sqlite_shared_by_srs_and_srsd() {
    let dir = tempfile::TempDir::new().unwrap();
    let keys = keys(dir.path());
    let db = format!("sqlite:{}", dir.path().join("srs.db").display());
    let opts = [
        "--original-envelope",
        "database",
        "--database",
        &db,
        "--database-when",
        "too-long",
    ];
    let d = srsd(dir.path(), "srs", &keys, &opts);
    let senders: Vec<String> = (0..40).map(|i| format!("{i:02}-{LONG}")).collect();
    // Both write at once: srs in threads, srsd through srsc.
    let by_srs: Vec<_> = senders[..20]
        .chunks(5)
        .map(|chunk| {
            let (keys, chunk, db) = (keys.clone(), chunk.to_vec(), db.clone());
            std::thread::spawn(move || {
                let mut args = vec![
                    "--original-envelope",
                    "database",
                    "--database",
                    &db,
                    "forward",
                    "-a",
                    "fwd.example",
                ];
                args.extend(chunk.iter().map(String::as_str));
                let o = srs(&keys, &args);
                assert_eq!(
                    o.status.code(),
                    Some(0),
                    "{}",
                    String::from_utf8_lossy(&o.stderr)
                );
                stdout(&o).lines().map(str::to_owned).collect::<Vec<_>>()
            })
        })
        .collect();
    let by_srsd: Vec<String> = senders[20..]
        .iter()
        .map(|s| {
            let (code, out, err) = d.ask("forward", s);
            assert_eq!(code, 0, "{err}");
            out
        })
        .collect();
    let by_srs: Vec<String> = by_srs
        .into_iter()
        .flat_map(common::joined_within_30s)
        .collect();
    for (sender, signed) in senders.iter().zip(by_srs.iter().chain(&by_srsd)) {
        let local = signed.rsplit_once('@').unwrap().0;
        assert!(
            local.len() <= 64 && local.starts_with("SRS0=") && local.contains("=1="),
            "{signed}"
        );
        // Each reverses the other's.
        assert_eq!(d.ask("reverse", signed), (0, sender.clone(), String::new()));
        let o = srs(&keys, &["--database", &db, "reverse", signed]);
        assert_eq!(stdout(&o), *sender);
    }
    // A short sender stays embedded.
    let (_, short, _) = d.ask("forward", "alice@origin.example");
    assert!(
        short.starts_with("SRS0=") && short.contains("=origin.example=alice@"),
        "{short}"
    );
}

/// Two srsd sharing Redis reverse each other's addresses; entries get the
/// maximum age plus one day as TTL; Redis stopped gives TEMP, and service
/// comes back with it.
#[test]
fn redis_shared_by_two_srsd() {
    let dir = tempfile::TempDir::new().unwrap();
    let Some(redis) = common::redis::Redis::start_free(dir.path()) else {
        return;
    };
    let keys = keys(dir.path());
    let url = format!("redis://127.0.0.1:{}/0", redis.port);
    let opts = ["--original-envelope", "database", "--database", &url];
    let a = srsd(dir.path(), "a", &keys, &opts);
    let b = srsd(dir.path(), "b", &keys, &opts);
    let (code, signed, err) = a.ask("forward", LONG);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        b.ask("reverse", &signed),
        (0, LONG.to_owned(), String::new())
    );
    let (_, signed_b, _) = b.ask("forward", &format!("b-{LONG}"));
    assert_eq!(
        a.ask("reverse", &signed_b),
        (0, format!("b-{LONG}"), String::new())
    );
    // The key, and its TTL: 22 days.
    let key = signed.split('=').nth(4).unwrap().split('@').next().unwrap();
    let ttl: u64 = redis
        .cli(&["TTL", &format!("PostSRSd/{key}@1")])
        .parse()
        .unwrap();
    assert!((22 * 86_400 - 60..=22 * 86_400).contains(&ttl), "TTL {ttl}");
    // Redis stopped: TEMP both ways; an srsd started now starts, and says
    // TEMP too.
    let (port, data) = redis.stop();
    let (code, _, err) = a.ask("forward", &format!("c-{LONG}"));
    assert_eq!(code, 75, "{err}");
    let (code, _, err) = b.ask("reverse", &signed);
    assert_eq!(code, 75, "{err}");
    let late = srsd(dir.path(), "late", &keys, &opts);
    let (code, _, err) = late.ask("forward", &format!("e-{LONG}"));
    assert_eq!(code, 75, "{err}");
    // Back: served again, with what it held gone (no persistence here), so
    // a fresh address works and the old key is unknown.
    let _redis = common::redis::Redis::start(&data, port).unwrap();
    let mut again = String::new();
    common::wait_until(
        "srsd to store in Redis again",
        Duration::from_secs(30),
        || {
            let (code, address, _) = a.ask("forward", &format!("d-{LONG}"));
            again = address;
            code == 0
        },
    );
    assert_eq!(
        b.ask("reverse", &again),
        (0, format!("d-{LONG}"), String::new())
    );
    let (code, again, _) = late.ask("forward", &format!("f-{LONG}"));
    assert_eq!(code, 0, "the srsd started while Redis was down serves now");
    assert_eq!(
        b.ask("reverse", &again),
        (0, format!("f-{LONG}"), String::new())
    );
    let (code, _, err) = b.ask("reverse", &signed);
    assert_eq!(
        (code, err.as_str()),
        (1, format!("srsc: {signed}: not rewritten").as_str())
    );
}

/// Settings that cannot work are configuration errors, named, exit 78.
#[test]
fn bad_database_settings_are_named() {
    let dir = tempfile::TempDir::new().unwrap();
    let keys = keys(dir.path());
    let o = srs(
        &keys,
        &["--database", "mysql://x", "reverse", "a@b.example"],
    );
    assert_eq!(
        (
            o.status.code(),
            String::from_utf8_lossy(&o.stderr).into_owned()
        ),
        (
            Some(78),
            "srs: database \"mysql://x\": expected sqlite:/path/to/file or redis://host:port/db\n"
                .to_owned()
        )
    );
    let o = srs(
        &keys,
        &[
            "--original-envelope",
            "database",
            "forward",
            "-a",
            "fwd.example",
            LONG,
        ],
    );
    assert_eq!(
        (o.status.code(), String::from_utf8_lossy(&o.stderr).into_owned()),
        (
            Some(78),
            "srs: original-envelope = database needs a database (sqlite:PATH or redis://HOST:PORT/DB)\n"
                .to_owned()
        )
    );
    let o = Command::new(env!("CARGO_BIN_EXE_srsd"))
        .args(["-t", "-d", "fwd.example", "-k"])
        .arg(&keys)
        .args(["--database", "mysql://x", "--listen"])
        .arg(format!("socketmap=unix:{}", dir.path().join("s").display()))
        .output()
        .unwrap();
    assert_eq!(
        (
            o.status.code(),
            String::from_utf8_lossy(&o.stderr).into_owned()
        ),
        (
            Some(78),
            "srsd: database \"mysql://x\": expected sqlite:/path/to/file or redis://host:port/db\n"
                .to_owned()
        )
    );
}

/// The daemon engine in-process with SQLite: every map protocol stores and
/// fetches without its thread waiting (the answers are got first, then the
/// input served again). One write that forwards two senders and reverses
/// the first one's address needs the store and the fetch in order; a
/// short sender with `too-long` never reaches the database; a broken
/// database answers TEMP, `400` and the line protocol's error, and nothing
/// else changes.
#[test]
fn the_engine_serves_every_map_protocol_from_the_database() {
    use std::io::{BufRead, BufReader, Read, Write};
    use std::sync::Arc;

    use mail_srs::daemon::{Bound, Limits, Listener, State};
    use mail_srs::database::{Database, key_of};
    use mail_srs::engine::StoreWhen;
    use mail_srs::srs::{Form, Forwarded, Options, Srs};

    let dir = tempfile::TempDir::new().unwrap();
    let now = std::time::UNIX_EPOCH + Duration::from_secs(NOW);
    let srs = || Srs::new(&[b"database-test-secret"], Options::default()).unwrap();
    let signed = |sender: &str| match srs().forward_in(Form::External, sender, "fwd.example", now) {
        Ok(Forwarded::Rewritten(a)) => a,
        other => panic!("{other:?}"),
    };
    let file = dir.path().join("srs.db");
    let db = Database::open(&format!("sqlite:{}", file.display())).unwrap();
    let state = State {
        database: Some(Arc::new(db)),
        store_when: StoreWhen::TooLong,
        ..State::new(srs(), "fwd.example".into())
    };
    let socketmap = dir.path().join("socketmap");
    let line = dir.path().join("line");
    let unix = |path: &Path| {
        Bound::Unix(
            std::os::unix::net::UnixListener::bind(path).unwrap(),
            Some(path.to_owned()),
        )
    };
    let (tf, tr) = (
        std::net::TcpListener::bind("127.0.0.1:0").unwrap(),
        std::net::TcpListener::bind("127.0.0.1:0").unwrap(),
    );
    let (forward, reverse) = (
        tf.local_addr().unwrap().port(),
        tr.local_addr().unwrap().port(),
    );
    let listeners = vec![
        Listener {
            protocol: mail_srs::protocol::named("socketmap").unwrap(),
            bound: unix(&socketmap),
        },
        Listener {
            protocol: mail_srs::protocol::named("line").unwrap(),
            bound: unix(&line),
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
    let engine = common::engine::Engine::start(listeners, state, now, Limits::default());
    let netstring = |s: &str| format!("{}:{s},", s.len());
    let long_b = format!("b-{LONG}");
    let (key_a, key_b) = (signed(&key_of(LONG)), signed(&key_of(&long_b)));
    let mut s = std::os::unix::net::UnixStream::connect(&socketmap).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let ask = [
        netstring(&format!("forward {LONG}")),
        netstring(&format!("forward {long_b}")),
        netstring(&format!("reverse {key_a}")),
        netstring("forward short@bulk.example"),
        netstring(&format!("reverse {}", key_b.to_ascii_lowercase())),
    ]
    .concat();
    s.write_all(ask.as_bytes()).unwrap();
    let want = [
        netstring(&format!("OK {key_a}")),
        netstring(&format!("OK {key_b}")),
        netstring(&format!("OK {LONG}")),
        netstring(&format!("OK {}", signed("short@bulk.example"))),
        netstring(&format!("OK {long_b}")),
    ]
    .concat();
    let mut got = vec![0u8; want.len()];
    s.read_exact(&mut got).unwrap();
    assert_eq!(String::from_utf8(got).unwrap(), want);
    // Exactly the two long senders are stored.
    let rows = Command::new("/usr/bin/python3")
        .args(["-c", "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute('SELECT count(*) FROM kv').fetchone()[0])"])
        .arg(&file)
        .output()
        .unwrap();
    assert_eq!(stdout(&rows), "2");
    let tcp = |port: u16, request: &str| {
        let mut c = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
        c.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        c.write_all(format!("get {request}\n").as_bytes()).unwrap();
        let mut reply = String::new();
        BufReader::new(c).read_line(&mut reply).unwrap();
        reply
    };
    let long_c = format!("c-{LONG}");
    let key_c = signed(&key_of(&long_c));
    assert_eq!(tcp(forward, &long_c), format!("200 {key_c}\n"));
    assert_eq!(tcp(reverse, &key_c), format!("200 {long_c}\n"));
    let line_ask = |request: &str| {
        let mut c = std::os::unix::net::UnixStream::connect(&line).unwrap();
        c.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        c.write_all(request.as_bytes()).unwrap();
        let mut reply = String::new();
        c.read_to_string(&mut reply).unwrap();
        reply
    };
    assert_eq!(line_ask(&format!("REVERSE {key_a}\n")), format!("{LONG}\n"));
    // An unknown key is not found.
    let unknown = signed(&key_of("never@bulk.example"));
    assert_eq!(
        tcp(reverse, &unknown),
        "500 database%20key%20not%20found%20(expired?)\n"
    );
    // The table gone: temporary failures, in each protocol's words.
    assert!(common::drop_sqlite_table(&file), "could not drop the table");
    let reason = format!("sqlite database {}: no such table: kv", file.display());
    s.write_all(netstring(&format!("reverse {key_a}")).as_bytes())
        .unwrap();
    let want = netstring(&format!("TEMP {reason}"));
    let mut got = vec![0u8; want.len()];
    s.read_exact(&mut got).unwrap();
    assert_eq!(String::from_utf8(got).unwrap(), want);
    assert_eq!(
        tcp(forward, &long_c),
        format!("400 {}\n", reason.replace(' ', "%20"))
    );
    assert_eq!(
        line_ask(&format!("FORWARD {LONG} fwd.example\n")),
        format!("ERROR: temporary failure: {reason}\n")
    );
    // A sender that needs no database is still served.
    assert_eq!(
        tcp(forward, "short@bulk.example"),
        format!("200 {}\n", signed("short@bulk.example"))
    );
    engine.stop().unwrap();
}
