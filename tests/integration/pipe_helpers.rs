//! srs-forwarder and srs-reverser against a fake sendmail that records argv,
//! environment and stdin byte for byte, and can fail, hang or die.

use crate::common;

use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

use tempfile::TempDir;

const FAKE: &str = r#"#!/bin/sh
d="$FAKE_DIR"
for a in "$@"; do printf '%s\0' "$a"; done > "$d/argv"
env > "$d/env"
case "$FAKE_MODE" in
  read:*) head -c "${FAKE_MODE#read:}" > "$d/stdin"; exit 0 ;;
  noread) exit 0 ;;
  stall) exec sleep 3600 ;;
  die-midway) head -c 1000 > "$d/stdin"; kill -9 $$ ;;
esac
cat > "$d/stdin"
case "$FAKE_MODE" in
  fail:*) exit "${FAKE_MODE#fail:}" ;;
  die) kill -9 $$ ;;
  hang) sleep 30 ;;
esac
exit 0
"#;

struct Fake {
    dir: TempDir,
}

impl Fake {
    fn new() -> Fake {
        let dir = TempDir::new().unwrap();
        let path = dir.path().join("sendmail");
        std::fs::write(&path, FAKE).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        let keys = dir.path().join("keys");
        std::fs::write(&keys, "s3cret\n").unwrap();
        std::fs::set_permissions(&keys, std::fs::Permissions::from_mode(0o600)).unwrap();
        Fake { dir }
    }

    fn sendmail(&self) -> PathBuf {
        self.dir.path().join("sendmail")
    }

    fn keys(&self) -> PathBuf {
        self.dir.path().join("keys")
    }

    fn argv(&self) -> Vec<String> {
        let raw = std::fs::read(self.dir.path().join("argv")).unwrap_or_default();
        let raw = raw.strip_suffix(&[0]).unwrap_or(&raw);
        raw.split(|&b| b == 0)
            .map(|a| String::from_utf8_lossy(a).into_owned())
            .collect()
    }

    fn stdin(&self) -> Vec<u8> {
        std::fs::read(self.dir.path().join("stdin")).unwrap_or_default()
    }

    fn called(&self) -> bool {
        self.dir.path().join("argv").exists()
    }

    /// Runs `program` with `args` (after --sendmail and the keys), `env` and
    /// `input`; coreutils' `timeout` kills it (status 137) after 120 s, so a
    /// helper that hangs fails the test instead of stalling it.
    fn run(&self, program: &str, args: &[&str], env: &[(&str, &str)], input: &[u8]) -> Output {
        let mut cmd = Command::new("timeout");
        cmd.args(["-s", "KILL", "120", program])
            .arg("--sendmail")
            .arg(self.sendmail())
            .arg("-k")
            .arg(self.keys())
            .args(args);
        cmd.env_clear()
            .env("PATH", std::env::var("PATH").unwrap())
            .env("FAKE_DIR", self.dir.path());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdin = child.stdin.take().unwrap();
        let input = input.to_vec();
        let writer = std::thread::spawn(move || {
            let _ = std::io::Write::write_all(&mut stdin, &input);
        });
        let out = child.wait_with_output().unwrap();
        common::joined_within_30s(writer);
        out
    }
}

const FORWARDER: &str = env!("CARGO_BIN_EXE_srs-forwarder");
const REVERSER: &str = env!("CARGO_BIN_EXE_srs-reverser");

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn forwarder_rewrites_the_sender_from_each_source() {
    let message = b"Subject: hi\r\n\r\nbody\r\n";
    for (args, env, input, sender) in [
        (
            vec!["--alias", "fwd.example", "dest@example.net"],
            vec![("SENDER", "alice@origin.example")],
            message.to_vec(),
            "alice@origin.example",
        ),
        (
            vec!["dest@example.net"],
            vec![("SENDER", "alice@origin.example"), ("HOST", "fwd.example")],
            message.to_vec(),
            "alice@origin.example",
        ),
        (
            vec![
                "--sender",
                "bob@origin.example",
                "-a",
                "fwd.example",
                "dest@example.net",
            ],
            vec![("SENDER", "alice@origin.example")],
            message.to_vec(),
            "bob@origin.example",
        ),
        (
            vec!["-a", "fwd.example", "dest@example.net"],
            vec![],
            b"Return-Path: <carol@origin.example>\nSubject: x\n\nbody\n".to_vec(),
            "carol@origin.example",
        ),
        (
            vec!["-a", "fwd.example", "dest@example.net"],
            vec![],
            b"From dave@origin.example Mon Nov 23 12:00:00 2026\nSubject: x\n\nbody\n".to_vec(),
            "dave@origin.example",
        ),
    ] {
        let f = Fake::new();
        let o = f.run(FORWARDER, &args, &env, &input);
        assert_eq!(o.status.code(), Some(0), "{args:?}: {}", stderr(&o));
        let want = common::srs_forward(&f.keys(), None, sender);
        assert_eq!(
            f.argv(),
            ["-i", "-f", &want, "--", "dest@example.net"],
            "{args:?}"
        );
        assert_eq!(f.stdin(), input, "the message is passed on byte for byte");
    }
}

#[test]
fn forwarder_keeps_null_and_local_senders() {
    for (sender, want) in [
        ("", ""),
        ("<>", ""),
        ("bob@fwd.example", "bob@fwd.example"),
        ("x@evil=y", "x@evil=y"),
    ] {
        let f = Fake::new();
        let o = f.run(
            FORWARDER,
            &["-a", "fwd.example", "dest@example.net"],
            &[("SENDER", sender)],
            b"\n",
        );
        assert_eq!(o.status.code(), Some(0), "{sender}: {}", stderr(&o));
        assert_eq!(f.argv(), ["-i", "-f", want, "--", "dest@example.net"]);
    }
}

#[test]
fn recipients_are_never_options() {
    let f = Fake::new();
    let o = f.run(
        FORWARDER,
        &["-a", "fwd.example", "--", "-oQ/tmp/evil", "b@example.net"],
        &[("SENDER", "a@o.example")],
        b"x",
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let argv = f.argv();
    let dashdash = argv.iter().position(|a| a == "--").unwrap();
    assert_eq!(&argv[dashdash + 1..], ["-oQ/tmp/evil", "b@example.net"]);
}

#[test]
fn binary_8bit_crlf_large_and_empty_messages_pass_unchanged() {
    let mut binary: Vec<u8> = (0..=255u8).cycle().take(1 << 20).collect();
    binary.splice(0..0, b"Subject: bin\r\n\r\n".iter().copied());
    let large: Vec<u8> = b"Subject: big\n\n"
        .iter()
        .copied()
        .chain((0..50_000_000u32).map(|i| b"abcdefghij\n"[(i % 11) as usize]))
        .collect();
    let crlf_no_final_newline = b"Subject: crlf\r\n\r\nline one\r\nlast line, no newline".to_vec();
    for input in [
        binary,
        large,
        crlf_no_final_newline,
        Vec::new(),
        b"no header at all".to_vec(),
    ] {
        let f = Fake::new();
        let o = f.run(
            FORWARDER,
            &["-a", "fwd.example", "d@example.net"],
            &[("SENDER", "a@origin.example")],
            &input,
        );
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        assert!(
            f.stdin() == input,
            "message of {} bytes changed",
            input.len()
        );
    }
}

#[test]
fn every_failure_defers_or_passes_a_permanent_code() {
    let ok = [("SENDER", "a@origin.example")];
    let f = Fake::new();
    for (mode, code, message) in [
        ("fail:1", 75, "exit status: 1"),
        ("fail:75", 75, "exit status: 75"),
        ("fail:67", 67, "exit status: 67"),
        ("fail:65", 65, "exit status: 65"),
        ("die", 75, "signal: 9"),
    ] {
        let env = [ok[0], ("FAKE_MODE", mode)];
        let o = f.run(
            FORWARDER,
            &["-a", "fwd.example", "d@example.net"],
            &env,
            b"x\n",
        );
        assert_eq!(o.status.code(), Some(code), "{mode}: {}", stderr(&o));
        assert!(stderr(&o).contains(message), "{mode}: {}", stderr(&o));
    }
    let o = f.run(
        FORWARDER,
        &["-a", "fwd.example", "--timeout", "1", "d@example.net"],
        &[ok[0], ("FAKE_MODE", "hang")],
        b"x\n",
    );
    assert_eq!(o.status.code(), Some(75));
    assert!(
        stderr(&o).contains("did not take the message within 1 s"),
        "{}",
        stderr(&o)
    );

    let run = |args: &[&str], env: &[(&str, &str)]| {
        let mut cmd = Command::new(FORWARDER);
        cmd.args(args)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap());
        for (k, v) in env {
            cmd.env(k, v);
        }
        cmd.stdin(Stdio::null()).output().unwrap()
    };
    let keys = f.keys();
    let keys = keys.to_str().unwrap();
    for (args, env, message) in [
        (
            vec![
                "--sendmail",
                "/nonexistent/sendmail",
                "-k",
                keys,
                "-a",
                "f.example",
                "d@x.example",
            ],
            vec![ok[0]],
            "cannot run /nonexistent/sendmail",
        ),
        (
            vec![
                "--sendmail",
                keys,
                "-k",
                keys,
                "-a",
                "f.example",
                "d@x.example",
            ],
            vec![ok[0]],
            "cannot run",
        ),
        (
            vec!["-k", "/nonexistent/keys", "-a", "f.example", "d@x.example"],
            vec![ok[0]],
            "cannot read keys file /nonexistent/keys",
        ),
        (
            vec!["-a", "f.example", "d@x.example"],
            vec![ok[0]],
            "no secret",
        ),
        (
            vec!["-k", keys, "d@x.example"],
            vec![ok[0]],
            "no SRS domain",
        ),
        (
            vec!["-k", keys, "-a", "f.example", "d@x.example"],
            vec![],
            "cannot tell the envelope sender",
        ),
        (
            vec!["-c", "/nonexistent.conf", "d@x.example"],
            vec![ok[0]],
            "cannot read configuration file /nonexistent.conf",
        ),
        (
            vec!["-k", keys, "-a", "f.example"],
            vec![ok[0]],
            "RECIPIENT",
        ),
        (vec!["--bogus"], vec![ok[0]], "--bogus"),
    ] {
        let o = run(&args, &env);
        assert_eq!(o.status.code(), Some(75), "{args:?}: {}", stderr(&o));
        assert_eq!(
            stderr(&o).lines().count(),
            1,
            "one line for {args:?}: {}",
            stderr(&o)
        );
        assert!(stderr(&o).contains(message), "{args:?}: {}", stderr(&o));
    }
}

#[test]
fn forwarder_reads_srsd_configuration() {
    let f = Fake::new();
    let conf = f.dir.path().join("srsd.conf");
    std::fs::write(&conf, format!("domain = fwd.example\nsecret-file = {}\nlisten = socketmap=unix:/x\nmax-connections = 5\n", f.keys().display())).unwrap();
    let mut cmd = Command::new(FORWARDER);
    cmd.arg("--sendmail")
        .arg(f.sendmail())
        .arg("-c")
        .arg(&conf)
        .arg("d@example.net");
    let o = cmd
        .env("FAKE_DIR", f.dir.path())
        .env("SENDER", "alice@origin.example")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(
        f.argv()[2],
        common::srs_forward(&f.keys(), None, "alice@origin.example")
    );
}

#[test]
fn reverser_delivers_valid_bounces_to_the_original_sender() {
    let f = Fake::new();
    let srs0 = common::srs_forward(&f.keys(), None, "alice@origin.example");
    let bounce = b"From: MAILER-DAEMON@elsewhere\nSubject: Undelivered\n\n\xffbody\n";
    for env in [
        vec![("RECIPIENT", srs0.as_str()), ("SENDER", "")],
        vec![
            ("ORIGINAL_RECIPIENT", srs0.as_str()),
            ("RECIPIENT", "other@x"),
            ("SENDER", ""),
        ],
    ] {
        let o = f.run(REVERSER, &[], &env, bounce);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        assert_eq!(f.argv(), ["-i", "-f", "", "--", "alice@origin.example"]);
        assert_eq!(f.stdin(), bounce);
    }
    let (local, host) = srs0.rsplit_once('@').unwrap();
    let o = f.run(REVERSER, &[], &[("LOCAL", local), ("HOST", host)], bounce);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    // Mail systems lower-case; the hash still checks out.
    let o = f.run(
        REVERSER,
        &["--recipient", &srs0.to_ascii_lowercase()],
        &[],
        bounce,
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(f.argv()[4], "alice@origin.example");
}

#[test]
fn reverser_refuses_or_drops_invalid_addresses() {
    let f = Fake::new();
    let srs0 = common::srs_forward(&f.keys(), None, "alice@origin.example");
    let forged = format!("{}AAAA{}", &srs0[..5], &srs0[9..]);
    for (rcpt, reason) in [
        (forged.as_str(), "hash does not match"),
        ("alice@origin.example", "not an SRS address"),
        ("SRS0=x=y@fwd.example", "malformed"),
    ] {
        let o = f.run(REVERSER, &["--recipient", rcpt], &[], b"x\n");
        assert_eq!(o.status.code(), Some(67), "{rcpt}");
        assert_eq!(stderr(&o).lines().count(), 1, "one line: {}", stderr(&o));
        assert!(stderr(&o).contains(reason), "{}", stderr(&o));
        assert!(!f.called(), "nothing was sent for {rcpt}");
    }
    let o = f.run(
        REVERSER,
        &["--recipient", &forged, "--drop-invalid"],
        &[],
        b"x\n",
    );
    assert_eq!(o.status.code(), Some(0));
    assert!(stderr(&o).contains("dropped a message to"));
    assert!(!f.called());
    let o = f.run(REVERSER, &[], &[], b"x\n");
    assert_eq!(o.status.code(), Some(75));
    assert!(stderr(&o).contains("no SRS recipient"));
}

/// A sendmail that exits 0 without reading the whole message may have queued
/// part of it: the helpers defer (75). One that never reads, or dies midway,
/// is killed at the deadline or noticed at once, and defers too.
#[test]
fn partial_hand_offs_defer() {
    let message: Vec<u8> = (0..1000u32)
        .map(|i| b"0123456789\n"[(i % 11) as usize])
        .collect();
    let big: Vec<u8> = vec![b'x'; 10 << 20];
    let forwarder_args = ["-a", "fwd.example", "--timeout", "2", "d@example.net"];
    let srs_recipient = |f: &Fake| common::srs_forward(&f.keys(), None, "alice@origin.example");
    for (mode, input, message_part) in [
        ("noread", &message, "without reading the whole message"),
        ("read:500", &message, "without reading the whole message"),
        ("read:999", &message, "without reading the whole message"),
        ("stall", &big, "did not take the message within 2 s"),
        ("die-midway", &big, "signal: 9"),
    ] {
        for program in [FORWARDER, REVERSER] {
            let f = Fake::new();
            let recipient = srs_recipient(&f);
            let args: Vec<&str> = if program == FORWARDER {
                forwarder_args.to_vec()
            } else {
                vec!["--timeout", "2", "--recipient", &recipient]
            };
            let o = f.run(
                program,
                &args,
                &[("SENDER", "a@origin.example"), ("FAKE_MODE", mode)],
                input,
            );
            assert_eq!(
                o.status.code(),
                Some(75),
                "{program} {mode}: {}",
                stderr(&o)
            );
            assert!(
                stderr(&o).contains(message_part),
                "{program} {mode}: {}",
                stderr(&o)
            );
            assert_eq!(stderr(&o).lines().count(), 1, "{}", stderr(&o));
        }
    }
    // Reading exactly every byte is still a success.
    let f = Fake::new();
    let o = f.run(
        FORWARDER,
        &forwarder_args,
        &[("SENDER", "a@origin.example"), ("FAKE_MODE", "read:1000")],
        &message,
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(f.stdin(), message);
}

/// The sender and recipient may come in angle brackets, as MTAs print them;
/// an alias that is not a domain defers the message with one line.
#[test]
fn bracketed_addresses_and_a_bad_alias() {
    let f = Fake::new();
    let o = f.run(
        FORWARDER,
        &["-a", "fwd.example", "d@example.net"],
        &[("SENDER", "<alice@origin.example>")],
        b"x\n",
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let argv = f.argv();
    assert!(
        argv[2].starts_with("SRS0=") && argv[2].ends_with("=origin.example=alice@fwd.example"),
        "{argv:?}"
    );

    let recipient = format!(
        "<{}>",
        common::srs_forward(&f.keys(), None, "alice@origin.example")
    );
    let o = f.run(
        REVERSER,
        &["--recipient", &recipient],
        &[("SENDER", "")],
        b"x\n",
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(
        f.argv().last().map(String::as_str),
        Some("alice@origin.example")
    );

    let f = Fake::new();
    let o = f.run(
        FORWARDER,
        &["-a", "bad domain", "d@example.net"],
        &[("SENDER", "a@origin.example")],
        b"x\n",
    );
    assert_eq!(o.status.code(), Some(75));
    assert_eq!(
        stderr(&o),
        "srs-forwarder: invalid value 'bad domain' for '--alias <DOMAIN>': ' ' cannot appear in a domain\n"
    );
    assert!(!f.called());
}

/// `-t` checks the keys, the alias and sendmail without reading a message:
/// 0 and "configuration OK", or 78 with every problem on its own line.
#[test]
fn check_config_names_every_problem() {
    let f = Fake::new();
    let o = f.run(FORWARDER, &["-t", "-a", "fwd.example"], &[], b"");
    assert_eq!(
        (
            o.status.code(),
            String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr(&o)
        ),
        (
            Some(0),
            "srs-forwarder: configuration OK\n".to_owned(),
            String::new()
        )
    );
    let o = f.run(REVERSER, &["--check-config"], &[], b"");
    assert_eq!(
        (
            o.status.code(),
            String::from_utf8_lossy(&o.stdout).into_owned()
        ),
        (Some(0), "srs-reverser: configuration OK\n".to_owned())
    );
    assert!(!f.called(), "a check runs no sendmail");
    // No alias, keys missing, sendmail not runnable: all three named.
    let not_runnable = f.dir.path().join("not-runnable");
    std::fs::write(&not_runnable, "").unwrap();
    let o = Command::new(FORWARDER)
        .args(["-t", "-k", "/nonexistent/keys", "--sendmail"])
        .arg(&not_runnable)
        .env_clear()
        .output()
        .unwrap();
    assert_eq!(
        (o.status.code(), stderr(&o)),
        (
            Some(78),
            format!(
                "srs-forwarder: no SRS domain: give --alias, domain in --config, or set HOST\n\
                 srs-forwarder: cannot read keys file /nonexistent/keys: No such file or directory (os error 2)\n\
                 srs-forwarder: sendmail program {}: cannot be run: Permission denied\n",
                not_runnable.display()
            )
        )
    );
    // A broken configuration file is 78 under a check (75 for mail).
    let conf = f.dir.path().join("bad.conf");
    std::fs::write(&conf, "no-such-key = 1\n").unwrap();
    let o = f.run(REVERSER, &["-t", "-c", conf.to_str().unwrap()], &[], b"");
    assert_eq!(
        (o.status.code(), stderr(&o)),
        (
            Some(78),
            format!("srs-reverser: {}, line 1: unknown key\n", conf.display())
        )
    );
}

/// With `original-envelope = database`, the forwarder stores the sender and
/// signs its key, and the reverser delivers a bounce to that address to the
/// stored sender; a reverser without the database defers (75), never
/// delivering to `KEY@1`.
#[test]
fn helpers_use_the_address_database() {
    let f = Fake::new();
    let db = format!("sqlite:{}", f.dir.path().join("srs.db").display());
    let long = "0f8fad5b-d9cb-469f-a165-70867728950e.bounces-x1@bulk.example";
    let o = f.run(
        FORWARDER,
        &[
            "--original-envelope",
            "database",
            "--database",
            &db,
            "-a",
            "fwd.example",
            "dest@dest.example",
        ],
        &[("SENDER", long)],
        b"Subject: x\n\nbody\n",
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let argv = f.argv();
    let signed = argv[2].clone();
    assert!(
        signed.starts_with("SRS0=") && signed.contains("=1=") && signed.ends_with("@fwd.example"),
        "{argv:?}"
    );
    let o = f.run(
        REVERSER,
        &["--database", &db, "--recipient", &signed],
        &[("SENDER", "")],
        b"bounce\n",
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(f.argv(), ["-i", "-f", "", "--", long]);
    std::fs::remove_file(f.dir.path().join("argv")).unwrap();
    let o = f.run(
        REVERSER,
        &["--recipient", &signed],
        &[("SENDER", "")],
        b"bounce\n",
    );
    assert_eq!(
        (o.status.code(), stderr(&o)),
        (
            Some(75),
            format!(
                "srs-reverser: {signed} carries a database key: configure the database that holds it\n"
            )
        )
    );
    assert!(!f.called(), "nothing is delivered to KEY@1");
}
