//! Real Postfix, end to end (Debian package `postfix`; needs root, as Postfix's
//! master does). A private instance on 127.0.0.1 with its own configuration and
//! queue directories is wired to srsd, by socketmap and then by tcp_table, with
//! a forwarding alias and a sink SMTP server on loopback that records envelopes.

mod common;

use common::postfix::{Postfix, private_dir};

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const NOW: u64 = 1_795_435_200;
const DAY: u64 = 86_400;

/// One message as the sink received it.
#[derive(Clone, Debug)]
struct Envelope {
    from: String,
    to: Vec<String>,
    data: String,
}

/// An SMTP server on loopback that accepts everything and records it.
struct Sink {
    port: u16,
    got: Arc<Mutex<Vec<Envelope>>>,
    stop: Arc<AtomicBool>,
}

impl Sink {
    fn start() -> Sink {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let port = listener.local_addr().unwrap().port();
        let got = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (g, s) = (got.clone(), stop.clone());
        std::thread::spawn(move || {
            while !s.load(Ordering::Relaxed) {
                match listener.accept() {
                    Ok((conn, _)) => {
                        let g = g.clone();
                        std::thread::spawn(move || {
                            let _ = serve_smtp(conn, &g);
                        });
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(20)),
                }
            }
        });
        Sink { port, got, stop }
    }

    /// Waits (at most 60 s) for a message whose data contains `token`.
    fn wait_for(&self, token: &str, postfix: &Postfix) -> Envelope {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(e) = self
                .got
                .lock()
                .unwrap()
                .iter()
                .find(|e| e.data.contains(token))
            {
                return e.clone();
            }
            assert!(
                Instant::now() < deadline,
                "{token} never reached the sink; Postfix log:\n{}",
                postfix.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Sink {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

fn serve_smtp(conn: TcpStream, got: &Mutex<Vec<Envelope>>) -> std::io::Result<()> {
    conn.set_nonblocking(false)?;
    conn.set_read_timeout(Some(Duration::from_secs(60)))?;
    let mut out = conn.try_clone()?;
    let mut lines = BufReader::new(conn);
    out.write_all(b"220 sink.test ESMTP\r\n")?;
    let mut env = Envelope {
        from: String::new(),
        to: Vec::new(),
        data: String::new(),
    };
    let mut line = String::new();
    for _ in 0..10_000 {
        line.clear();
        if lines.read_line(&mut line)? == 0 {
            break;
        }
        let upper = line.to_ascii_uppercase();
        if upper.starts_with("EHLO") || upper.starts_with("HELO") {
            out.write_all(b"250-sink.test\r\n250 8BITMIME\r\n")?;
        } else if upper.starts_with("MAIL FROM:") {
            env.from = angle(&line[10..]);
            out.write_all(b"250 ok\r\n")?;
        } else if upper.starts_with("RCPT TO:") {
            env.to.push(angle(&line[8..]));
            out.write_all(b"250 ok\r\n")?;
        } else if upper.starts_with("DATA") {
            out.write_all(b"354 go on\r\n")?;
            loop {
                line.clear();
                lines.read_line(&mut line)?;
                if line == ".\r\n" || line.is_empty() {
                    break;
                }
                env.data.push_str(&line);
            }
            got.lock().unwrap().push(std::mem::replace(
                &mut env,
                Envelope {
                    from: String::new(),
                    to: Vec::new(),
                    data: String::new(),
                },
            ));
            out.write_all(b"250 queued\r\n")?;
        } else if upper.starts_with("QUIT") {
            out.write_all(b"221 bye\r\n")?;
            break;
        } else {
            out.write_all(b"250 ok\r\n")?;
        }
    }
    Ok(())
}

/// The address inside `<...>` (parameters after it ignored).
fn angle(s: &str) -> String {
    let s = s.trim();
    s.strip_prefix('<')
        .and_then(|r| r.split_once('>'))
        .map_or(s.to_owned(), |(a, _)| a.to_owned())
}

/// A running srsd, stopped on drop.
struct Srsd(Child);

impl Drop for Srsd {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn srs(keys: &Path, now: u64, args: &[&str]) -> String {
    let o = Command::new(env!("CARGO_BIN_EXE_srs"))
        .arg("--now")
        .arg(now.to_string())
        .arg("-k")
        .arg(keys)
        .args(args)
        .output()
        .unwrap();
    String::from_utf8(o.stdout).unwrap().trim().to_owned()
}

/// Runs the whole scenario with Postfix asking srsd through `maps`.
fn scenario(name: &str, listen: &[String], maps: impl Fn(&Path) -> String) {
    let Some((dir, keys)) = private_dir(name) else {
        return;
    };

    let mut args = vec![
        "--now".to_owned(),
        NOW.to_string(),
        "-d".into(),
        "fwd.example".into(),
        "-k".into(),
        keys.display().to_string(),
    ];
    for l in listen {
        args.push("--listen".into());
        args.push(l.replace("DIR", &dir.display().to_string()));
    }
    let srsd = Srsd(
        Command::new(env!("CARGO_BIN_EXE_srsd"))
            .args(&args)
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let deadline = Instant::now() + Duration::from_secs(20);
    while !dir.join("srs").exists() && listen.iter().any(|l| l.contains("unix:")) {
        assert!(Instant::now() < deadline, "srsd did not start");
        std::thread::sleep(Duration::from_millis(20));
    }

    let sink = Sink::start();
    let postfix = Postfix::start(&dir, sink.port, &maps(&dir));

    // Forwarded mail leaves with an SRS0 sender.
    assert_eq!(
        postfix.send("alice@origin.example", &["list@fwd.example"], "t-forward"),
        [250]
    );
    let e = sink.wait_for("t-forward", &postfix);
    let srs0 = srs(
        &keys,
        NOW,
        &["forward", "-a", "fwd.example", "alice@origin.example"],
    );
    assert!(srs0.starts_with("SRS0="), "{srs0}");
    assert_eq!(
        (e.from.as_str(), e.to.as_slice()),
        (srs0.as_str(), &["dest@dest.example".to_owned()][..])
    );

    // An SRS0 sender from elsewhere leaves as SRS1.
    assert_eq!(
        postfix.send(
            "SRS0=xyzw=JM=orig.example=bob@relay.example",
            &["list@fwd.example"],
            "t-srs1"
        ),
        [250]
    );
    let e = sink.wait_for("t-srs1", &postfix);
    assert!(
        e.from.starts_with("SRS1=")
            && e.from
                .ends_with("=relay.example==xyzw=JM=orig.example=bob@fwd.example"),
        "{e:?}"
    );

    // A bounce to our SRS address reaches the original sender, still with the null sender.
    assert_eq!(postfix.send("", &[&srs0], "t-bounce"), [250]);
    let e = sink.wait_for("t-bounce", &postfix);
    assert_eq!(
        (e.from.as_str(), e.to.as_slice()),
        ("", &["alice@origin.example".to_owned()][..])
    );

    // Forged, expired and future addresses are not reversed: the local
    // domain has no such user, so Postfix refuses them at RCPT.
    let forged = format!("{}AAAA{}", &srs0[..5], &srs0[9..]);
    let expired = srs(
        &keys,
        NOW - 22 * DAY,
        &["forward", "-a", "fwd.example", "alice@origin.example"],
    );
    let future = srs(
        &keys,
        NOW + 2 * DAY,
        &["forward", "-a", "fwd.example", "alice@origin.example"],
    );
    for bad in [&forged, &expired, &future] {
        let codes = postfix.send("", &[bad], "t-refused");
        assert!(
            codes[0] >= 500,
            "{bad} was accepted ({codes:?}); log:\n{}",
            postfix.log()
        );
    }

    // A sender in our own domain and the null sender stay as they are.
    assert_eq!(
        postfix.send("bob@fwd.example", &["list@fwd.example"], "t-local"),
        [250]
    );
    assert_eq!(sink.wait_for("t-local", &postfix).from, "bob@fwd.example");
    assert_eq!(postfix.send("", &["list@fwd.example"], "t-null"), [250]);
    assert_eq!(sink.wait_for("t-null", &postfix).from, "");
    drop(postfix);
    drop(srsd);
}

#[test]
fn postfix_through_socketmap() {
    scenario("socketmap", &["socketmap=unix:DIR/srs".to_owned()], |dir| {
        let d = dir.display();
        format!(
            "sender_canonical_maps = socketmap:unix:{d}/srs:forward
sender_canonical_classes = envelope_sender
recipient_canonical_maps = socketmap:unix:{d}/srs:reverse
recipient_canonical_classes = envelope_recipient, header_recipient"
        )
    });
}

#[test]
fn postfix_through_tcp_table() {
    let (f, r) = (common::free_port(), common::free_port());
    scenario(
        "tcp",
        &[
            format!("tcp-forward=inet:127.0.0.1:{f}"),
            format!("tcp-reverse=inet:127.0.0.1:{r}"),
        ],
        move |_| {
            format!(
                "sender_canonical_maps = tcp:127.0.0.1:{f}
sender_canonical_classes = envelope_sender
recipient_canonical_maps = tcp:127.0.0.1:{r}
recipient_canonical_classes = envelope_recipient, header_recipient"
            )
        },
    );
}

/// The body of a message as the sink got it: after the header, with SMTP's
/// CRLF line ends and dot-stuffing undone.
fn body_of(data: &str) -> String {
    let data = data.replace("\r\n", "\n");
    let body = data.split_once("\n\n").map_or("", |(_, b)| b);
    body.lines()
        .map(|l| l.strip_prefix('.').unwrap_or(l))
        .collect::<Vec<_>>()
        .join("\n")
        + "\n"
}

#[test]
fn pipe_helpers_reinject_through_postfix_sendmail() {
    let Some((dir, keys)) = private_dir("helpers") else {
        return;
    };
    let sink = Sink::start();
    let postfix = Postfix::start(&dir, sink.port, "");
    let cfg = dir.join("cfg");
    let helper = |program: &str, args: &[&str], sender: &str, message: &str| {
        let mut child = Command::new(program)
            .args(["--sendmail", "/usr/sbin/sendmail", "--sendmail-option=-C"])
            .arg(format!("--sendmail-option={}", cfg.display()))
            .arg("-k")
            .arg(&keys)
            .args(args)
            .env("SENDER", sender)
            .stdin(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(message.as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{program}: {}; log:\n{}",
            String::from_utf8_lossy(&out.stderr),
            postfix.log()
        );
    };

    // Forwarded: arrives with the SRS sender, body unchanged (8-bit included).
    let body = "Grüße aus dem Büro\n.leading dot\nend\n";
    let message = format!("From: alice@origin.example\nSubject: t-helper-forward\n\n{body}");
    helper(
        env!("CARGO_BIN_EXE_srs-forwarder"),
        &["-a", "fwd.example", "dest@dest.example"],
        "alice@origin.example",
        &message,
    );
    let e = sink.wait_for("t-helper-forward", &postfix);
    let srs0 = srs(
        &keys,
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs(),
        &["forward", "-a", "fwd.example", "alice@origin.example"],
    );
    assert_eq!(
        (e.from.as_str(), e.to.as_slice()),
        (srs0.as_str(), &["dest@dest.example".to_owned()][..])
    );
    assert_eq!(body_of(&e.data), body);

    // A bounce to that address reaches alice, still with the null sender.
    let bounce = format!("From: MAILER-DAEMON@dest.example\nSubject: t-helper-bounce\n\n{body}");
    helper(
        env!("CARGO_BIN_EXE_srs-reverser"),
        &["--recipient", &srs0],
        "",
        &bounce,
    );
    let e = sink.wait_for("t-helper-bounce", &postfix);
    assert_eq!(
        (e.from.as_str(), e.to.as_slice()),
        ("", &["alice@origin.example".to_owned()][..])
    );
    assert_eq!(body_of(&e.data), body);
}

/// The milter under a private Postfix, wired as the README says: senders
/// signed, bounces to valid SRS addresses delivered to the original sender,
/// forged SRS recipients refused at RCPT, forged bounces at DATA while
/// probes pass, postmaster exempt, and a stopped srsd a temporary failure.
#[test]
fn postfix_with_the_milter() {
    let Some((dir, keys)) = private_dir("milter") else {
        return;
    };
    let d = dir.display().to_string();
    let srsd = Srsd(
        Command::new(env!("CARGO_BIN_EXE_srsd"))
            .args(["--now", &NOW.to_string(), "-d", "fwd.example", "-k"])
            .arg(&keys)
            .args(["--listen", &format!("milter=unix:{d}/milter")])
            .arg("--milter-rewrite-to")
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let deadline = Instant::now() + Duration::from_secs(20);
    while !dir.join("milter").exists() {
        assert!(Instant::now() < deadline, "srsd did not start");
        std::thread::sleep(Duration::from_millis(20));
    }
    std::fs::create_dir_all(dir.join("cfg")).unwrap();
    std::fs::write(
        dir.join("cfg/srs-recipients"),
        "/^srs[01][-+=].*@fwd\\.example$/ OK\n/^postmaster@fwd\\.example$/ OK\n",
    )
    .unwrap();
    let sink = Sink::start();
    let postfix = Postfix::start(
        &dir,
        sink.port,
        &format!(
            "smtpd_milters = unix:{d}/milter
non_smtpd_milters = unix:{d}/milter
milter_protocol = 6
milter_default_action = tempfail
local_recipient_maps = proxy:unix:passwd.byname regexp:{d}/cfg/srs-recipients"
        ),
    );
    let srs0 = srs(
        &keys,
        NOW,
        &["forward", "-a", "fwd.example", "alice@origin.example"],
    );

    // Forwarded mail leaves with the SRS0 sender.
    assert_eq!(
        postfix.send("alice@origin.example", &["list@fwd.example"], "m-forward"),
        [250]
    );
    let e = sink.wait_for("m-forward", &postfix);
    assert_eq!(
        (e.from.as_str(), e.to.as_slice()),
        (srs0.as_str(), &["dest@dest.example".to_owned()][..])
    );
    // A local sender stays.
    assert_eq!(
        postfix.send("bob@fwd.example", &["list@fwd.example"], "m-local"),
        [250]
    );
    assert_eq!(sink.wait_for("m-local", &postfix).from, "bob@fwd.example");
    // A bounce to the SRS address reaches alice, with the null sender, and
    // (--milter-rewrite-to, no DKIM signature) her address in To:.
    let to_header = format!("To: <{srs0}>\r\n");
    assert_eq!(
        postfix.transaction_with("", &[&srs0], Some("m-bounce"), &to_header),
        (vec![250], Some(250))
    );
    let e = sink.wait_for("m-bounce", &postfix);
    assert_eq!(
        (e.from.as_str(), e.to.as_slice()),
        ("", &["alice@origin.example".to_owned()][..])
    );
    assert!(
        e.data.contains("To: <alice@origin.example>\r\n"),
        "{}",
        e.data
    );
    // A forged SRS recipient is refused at RCPT by the milter.
    let forged = format!("{}AAAA{}", &srs0[..5], &srs0[9..]);
    assert_eq!(postfix.transaction("", &[&forged], None), (vec![550], None));
    // A forged bounce: null sender, unsigned local recipient, DATA.
    assert_eq!(
        postfix.transaction("", &["root@fwd.example"], Some("m-forged")),
        (vec![250], Some(554))
    );
    // The same as a probe, without DATA, passes; so does postmaster.
    assert_eq!(
        postfix.transaction("", &["root@fwd.example"], None),
        (vec![250], None)
    );
    assert_eq!(
        postfix.transaction("", &["postmaster@fwd.example"], Some("m-postmaster")),
        (vec![250], Some(250))
    );
    // srsd stopped: Postfix's milter_default_action = tempfail keeps the mail.
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(srsd.0.id() as i32),
        nix::sys::signal::Signal::SIGTERM,
    )
    .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while dir.join("milter").exists() {
        assert!(Instant::now() < deadline, "srsd did not stop");
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(postfix.mail_reply("alice@origin.example"), 451);
    drop(postfix);
    drop(srsd);
}

/// A 60-character sender through srsd (socketmap) started with `args`:
/// it leaves with a local part of at most 64 octets that `expect` accepts,
/// a bounce to that address reaches the sender, and a forged one gets 550
/// at RCPT. `main_cf` is added to Postfix's settings, after `files` are
/// written to its configuration directory; `DIR` in `args` and `main_cf`
/// is the test's directory.
fn long_sender(
    name: &str,
    args: &[&str],
    files: &[(&str, &str)],
    main_cf: &str,
    expect: impl Fn(&str) -> bool,
) {
    let Some((dir, keys)) = private_dir(name) else {
        return;
    };
    std::fs::create_dir_all(dir.join("cfg")).unwrap();
    for (file, text) in files {
        std::fs::write(dir.join("cfg").join(file), text).unwrap();
    }
    let here = dir.display().to_string();
    let srsd = Srsd(
        Command::new(env!("CARGO_BIN_EXE_srsd"))
            .args(["--now", &NOW.to_string(), "-d", "fwd.example", "-k"])
            .arg(&keys)
            .args(args.iter().map(|a| a.replace("DIR", &here)))
            .arg("--listen")
            .arg(format!("socketmap=unix:{}/srs", dir.display()))
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let deadline = Instant::now() + Duration::from_secs(20);
    while !dir.join("srs").exists() {
        assert!(Instant::now() < deadline, "srsd did not start");
        std::thread::sleep(Duration::from_millis(20));
    }
    let d = dir.display();
    let sink = Sink::start();
    let postfix = Postfix::start(
        &dir,
        sink.port,
        &format!(
            "{}
sender_canonical_maps = socketmap:unix:{d}/srs:forward
sender_canonical_classes = envelope_sender
recipient_canonical_maps = socketmap:unix:{d}/srs:reverse
recipient_canonical_classes = envelope_recipient, header_recipient",
            main_cf.replace("DIR", &d.to_string())
        ),
    );
    let local = "0f8fad5b-d9cb-469f-a165-70867728950e.bounces-x1";
    let sender = format!("{local}@bulk.example");
    // 60 characters: the local form would have a local part of 75.
    assert_eq!(sender.len(), 60);
    assert_eq!(
        postfix.send(&sender, &["list@fwd.example"], "l-forward"),
        [250]
    );
    let signed = sink.wait_for("l-forward", &postfix).from;
    assert!(expect(&signed), "{signed}");
    assert!(signed.rsplit_once('@').unwrap().0.len() <= 64, "{signed}");

    // A bounce to it reaches the sender, with the null sender.
    assert_eq!(postfix.send("", &[&signed], "l-bounce"), [250]);
    let e = sink.wait_for("l-bounce", &postfix);
    assert_eq!(
        (e.from.as_str(), e.to.as_slice()),
        ("", &[sender.clone()][..])
    );

    // A forged one is not reversed, so it is an unknown local user: 550.
    let forged = if signed.starts_with("SRS0=") {
        format!("SRS0=AAAA{}", &signed[9..])
    } else {
        signed.replacen("@jm", "@jn", 1)
    };
    assert_ne!(forged, signed);
    let codes = postfix.send("", &[&forged], "l-forged");
    assert!(
        codes[0] >= 500,
        "{forged} accepted ({codes:?}); log:\n{}",
        postfix.log()
    );
    drop(postfix);
    drop(srsd);
}

/// The domain form: Postfix takes the SRS subdomains as local with a
/// regexp table in mydestination, as the README says.
#[test]
fn postfix_with_the_domain_form() {
    long_sender(
        "domain-form",
        &["--address-form", "domain"],
        &[("srs-domains", "/\\.srs[01]\\.fwd\\.example$/ OK\n")],
        "mydestination = fwd.example, regexp:DIR/cfg/srs-domains",
        |signed| {
            signed.starts_with("0f8fad5b-d9cb-469f-a165-70867728950e.bounces-x1@jm")
                && signed.ends_with(".bulk.example.srs0.fwd.example")
        },
    );
}

/// The SQLite address database: the SRS address carries the key.
#[test]
fn postfix_with_the_sqlite_database() {
    long_sender(
        "sqlite",
        &[
            "--original-envelope",
            "database",
            "--database-when",
            "too-long",
            "--database",
            "sqlite:DIR/srs.db",
        ],
        &[],
        "",
        |signed| {
            signed.starts_with("SRS0=")
                && signed.contains("=JM=1=")
                && signed.ends_with("@fwd.example")
        },
    );
}

/// The Redis address database, on a private redis-server.
#[test]
fn postfix_with_the_redis_database() {
    let dir = tempfile::TempDir::new().unwrap();
    let Some(redis) = common::redis::Redis::start_free(dir.path()) else {
        return;
    };
    let port = redis.port;
    long_sender(
        "redis",
        &[
            "--original-envelope",
            "database",
            "--database",
            &format!("redis://127.0.0.1:{port}/0"),
        ],
        &[],
        "",
        |signed| {
            signed.starts_with("SRS0=")
                && signed.contains("=JM=1=")
                && signed.ends_with("@fwd.example")
        },
    );
    drop(redis);
}
