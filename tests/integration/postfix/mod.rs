//! Real Postfix, end to end (Debian package `postfix`; needs root, as Postfix's
//! master does). A private instance on 127.0.0.1 with its own configuration and
//! queue directories is wired to srsd, by socketmap and then by tcp_table, with
//! a forwarding alias and a sink SMTP server on loopback that records envelopes.

mod forward_only;

use crate::common;
use crate::common::sink::Sink;
use crate::common::srsd::Srsd;

use common::postfix::{Postfix, private_dir};

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

const NOW: u64 = 1_795_435_200;
const DAY: u64 = 86_400;

fn srs(keys: &Path, now: u64, args: &[&str]) -> String {
    let o = common::output_within(
        Command::new(env!("CARGO_BIN_EXE_srs"))
            .arg("--now")
            .arg(now.to_string())
            .arg("-k")
            .arg(keys)
            .args(args),
        Duration::from_secs(30),
    );
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
    let srsd = Srsd::start(&args.iter().map(String::as_str).collect::<Vec<_>>());

    let Some(sink) = Sink::start("smtp", &dir) else {
        return;
    };
    let postfix = Postfix::start(&dir, sink.port, &maps(&dir));

    // Forwarded mail leaves with an SRS0 sender.
    assert_eq!(
        postfix.send("alice@origin.example", &["list@fwd.example"], "t-forward"),
        [250]
    );
    let e = sink.wait_for_or("t-forward", || postfix.log());
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
    let e = sink.wait_for_or("t-srs1", || postfix.log());
    assert!(
        e.from.starts_with("SRS1=")
            && e.from
                .ends_with("=relay.example==xyzw=JM=orig.example=bob@fwd.example"),
        "{e:?}"
    );

    // A bounce to our SRS address reaches the original sender, still with the null sender.
    assert_eq!(postfix.send("", &[&srs0], "t-bounce"), [250]);
    let e = sink.wait_for_or("t-bounce", || postfix.log());
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
    assert_eq!(
        sink.wait_for_or("t-local", || postfix.log()).from,
        "bob@fwd.example"
    );
    assert_eq!(postfix.send("", &["list@fwd.example"], "t-null"), [250]);
    assert_eq!(sink.wait_for_or("t-null", || postfix.log()).from, "");
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

/// The body of a message as the sink got it: after the header, with
/// CRLF line ends made LF (the sink undid the dot-stuffing).
fn body_of(data: &str) -> String {
    let data = data.replace("\r\n", "\n");
    data.split_once("\n\n").map_or("", |(_, b)| b).to_owned()
}

#[test]
fn pipe_helpers_reinject_through_postfix_sendmail() {
    let Some((dir, keys)) = private_dir("helpers") else {
        return;
    };
    let Some(sink) = Sink::start("smtp", &dir) else {
        return;
    };
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
    let e = sink.wait_for_or("t-helper-forward", || postfix.log());
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
    let e = sink.wait_for_or("t-helper-bounce", || postfix.log());
    assert_eq!(
        (e.from.as_str(), e.to.as_slice()),
        ("", &["alice@origin.example".to_owned()][..])
    );
    assert_eq!(body_of(&e.data), body);
}

/// srsd serving the milter at `DIR/milter` with `extra` options, once it
/// serves.
fn milter_srsd(dir: &Path, keys: &Path, extra: &[&str]) -> Srsd {
    let listen = format!("milter=unix:{}/milter", dir.display());
    srsd(keys, &[&["--listen", listen.as_str()][..], extra].concat())
}

/// srsd at day 20780 for fwd.example with `keys` and `args`, once it
/// serves.
fn srsd<S: AsRef<std::ffi::OsStr>>(keys: &Path, args: &[S]) -> Srsd {
    Srsd::start_command(
        Command::new(env!("CARGO_BIN_EXE_srsd"))
            .args(["--now", &NOW.to_string(), "-d", "fwd.example", "-k"])
            .arg(keys)
            .args(args),
    )
}

/// A delivery status notification as an MTA sends it back: the null
/// sender, a multipart/report with the status and the returned headers.
fn dsn(to: &str, token: &str) -> String {
    format!(
        "From: MAILER-DAEMON@dest.example (Mail Delivery System)\r\n\
         To: {to}\r\n\
         Subject: Undelivered Mail Returned to Sender ({token})\r\n\
         MIME-Version: 1.0\r\n\
         Content-Type: multipart/report; report-type=delivery-status; boundary=\"B1\"\r\n\
         \r\n\
         --B1\r\n\
         Content-Type: text/plain\r\n\
         \r\n\
         Your message could not be delivered ({token}).\r\n\
         --B1\r\n\
         Content-Type: message/delivery-status\r\n\
         \r\n\
         Reporting-MTA: dns; dest.example\r\n\
         \r\n\
         Final-Recipient: rfc822; nobody@dest.example\r\n\
         Action: failed\r\n\
         Status: 5.1.1\r\n\
         Diagnostic-Code: smtp; 550 5.1.1 User unknown\r\n\
         \r\n\
         --B1\r\n\
         Content-Type: text/rfc822-headers\r\n\
         \r\n\
         From: {to}\r\n\
         To: nobody@dest.example\r\n\
         Subject: hello\r\n\
         --B1--\r\n"
    )
}

/// The milter under a private Postfix, wired as the README says: senders
/// signed, bounces to valid SRS addresses delivered to the original sender,
/// forged SRS recipients refused at RCPT, and under the defaults a genuine
/// bounce to a local user delivered. Then with `--bounce-policy data
/// --always-rewrite`: local senders signed too, forged bounces refused at
/// DATA while probes pass, postmaster exempt. A stopped srsd is a
/// temporary failure.
#[test]
fn postfix_with_the_milter() {
    let Some((dir, keys)) = private_dir("milter") else {
        return;
    };
    let d = dir.display().to_string();
    let srsd = milter_srsd(&dir, &keys, &["--milter-rewrite-to"]);
    std::fs::create_dir_all(dir.join("cfg")).unwrap();
    std::fs::write(
        dir.join("cfg/srs-recipients"),
        "/^srs[01][-+=].*@fwd\\.example$/ OK\n/^postmaster@fwd\\.example$/ OK\n",
    )
    .unwrap();
    let Some(sink) = Sink::start("smtp", &dir) else {
        return;
    };
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
    let e = sink.wait_for_or("m-forward", || postfix.log());
    assert_eq!(
        (e.from.as_str(), e.to.as_slice()),
        (srs0.as_str(), &["dest@dest.example".to_owned()][..])
    );
    // A local sender stays.
    assert_eq!(
        postfix.send("bob@fwd.example", &["list@fwd.example"], "m-local"),
        [250]
    );
    assert_eq!(
        sink.wait_for_or("m-local", || postfix.log()).from,
        "bob@fwd.example"
    );
    // A bounce to the SRS address reaches alice, with the null sender, and
    // (--milter-rewrite-to, no DKIM signature) her address in To:.
    let to_header = format!("To: <{srs0}>\r\n");
    assert_eq!(
        postfix.transaction_with("", &[&srs0], Some("m-bounce"), &to_header),
        (vec![250], Some(250))
    );
    let e = sink.wait_for_or("m-bounce", || postfix.log());
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
    // Under the defaults a genuine bounce to a local user, whose mail left
    // unsigned, is delivered to the user's mailbox.
    assert_eq!(
        postfix.transaction_text(
            "",
            &["root@fwd.example"],
            Some(&dsn("root@fwd.example", "m-dsn"))
        ),
        (vec![250], Some(250))
    );
    let mailbox = postfix.wait_for_mailbox("root", "m-dsn");
    assert!(mailbox.contains("Return-Path: <>"), "{mailbox}");

    // Refusing forged bounces needs every local sender signed.
    drop(srsd);
    let srsd = milter_srsd(
        &dir,
        &keys,
        &["--bounce-policy", "data", "--always-rewrite"],
    );
    let bob = srs(
        &keys,
        NOW,
        &[
            "--always-rewrite",
            "forward",
            "-a",
            "fwd.example",
            "bob@fwd.example",
        ],
    );
    assert_eq!(
        postfix.send("bob@fwd.example", &["list@fwd.example"], "m-signed-local"),
        [250]
    );
    assert_eq!(
        sink.wait_for_or("m-signed-local", || postfix.log()).from,
        bob
    );
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
    let mut srsd = srsd;
    srsd.signal(nix::sys::signal::Signal::SIGTERM);
    assert_eq!(srsd.exit_code(), Some(0));
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
    let mut srsd_args: Vec<String> = args.iter().map(|a| a.replace("DIR", &here)).collect();
    srsd_args.extend(["--listen".into(), format!("socketmap=unix:{here}/srs")]);
    let srsd = srsd(&keys, &srsd_args);
    let d = dir.display();
    let Some(sink) = Sink::start("smtp", &dir) else {
        return;
    };
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
    let signed = sink.wait_for_or("l-forward", || postfix.log()).from;
    assert!(expect(&signed), "{signed}");
    assert!(signed.rsplit_once('@').unwrap().0.len() <= 64, "{signed}");

    // A bounce to it reaches the sender, with the null sender.
    assert_eq!(postfix.send("", &[&signed], "l-bounce"), [250]);
    let e = sink.wait_for_or("l-bounce", || postfix.log());
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

/// docs/policy.md's forward-only lines: main.cf, the signing map, master.cf.
const FORWARD_ONLY_MAIN: &str = "sender_dependent_relayhost_maps = regexp:/etc/postfix/srs-signing";
const FORWARD_ONLY_SIGNING: &str = r"# mail from a foreign sender to a remote address goes through the signing hop
if !/@fwd\.example$/
if !/@customer\.example$/
/@/    [127.0.0.1]:10252
endif
endif
";
const FORWARD_ONLY_MASTER: &str = "127.0.0.1:10253 inet n - n - - smtpd
  -o receive_override_options=no_address_mappings
  -o smtpd_milters=
";
