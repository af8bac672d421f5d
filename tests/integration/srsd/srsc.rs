//! srsc against srsd: every protocol, Perl's srsc, JSON and stats, and output that cannot be written.

use super::*;

#[test]
fn srsc_speaks_every_protocol() {
    let s = Setup::new();
    let d = s.spawn(&[
        "--listen",
        &format!("line=unix:{}", s.line),
        "--listen",
        "tcp-forward=inet:127.0.0.1:0",
        "--listen",
        "tcp-reverse=inet:127.0.0.1:0",
    ]);
    let (fwd, rev) = (d.port("tcp-forward"), d.port("tcp-reverse"));
    let fwd_addr = format!("127.0.0.1:{fwd}");
    let rev_addr = format!("127.0.0.1:{rev}");
    let cases: Vec<(Vec<&str>, i32, String)> = vec![
        (
            vec!["-s", &s.socketmap, "forward", "alice@origin.example"],
            0,
            format!("{ALICE}\n"),
        ),
        (
            vec!["-s", &s.socketmap, "reverse", ALICE],
            0,
            "alice@origin.example\n".into(),
        ),
        (
            vec!["-s", &s.socketmap, "forward", "bob@fwd.example"],
            1,
            String::new(),
        ),
        (
            vec![
                "-s",
                &s.socketmap,
                "reverse",
                "SRS0=AAAA=JM=origin.example=alice@fwd.example",
            ],
            1,
            String::new(),
        ),
        (
            vec![
                "-p",
                "line",
                "-s",
                &s.line,
                "forward",
                "alice@origin.example",
                "fwd.example",
            ],
            0,
            format!("{ALICE}\n"),
        ),
        (
            vec!["-p", "line", "-s", &s.line, "reverse", ALICE],
            0,
            "alice@origin.example\n".into(),
        ),
        (
            vec!["-p", "line", "-s", &s.line, "reverse", "nope@x.example"],
            1,
            String::new(),
        ),
        (
            vec![
                "-p",
                "line",
                "-s",
                &s.line,
                "forward",
                "alice@origin.example",
            ],
            64,
            String::new(),
        ),
        (
            vec![
                "-p",
                "tcp-table",
                "-c",
                &fwd_addr,
                "forward",
                "john doe@origin.example",
            ],
            0,
            "SRS0=l1Sz=JM=origin.example=john doe@fwd.example\n".into(),
        ),
        (
            vec!["-p", "tcp-table", "-c", &rev_addr, "reverse", ALICE],
            0,
            "alice@origin.example\n".into(),
        ),
        (
            vec!["-p", "tcp-table", "-c", &rev_addr, "reverse", "x@y.example"],
            1,
            String::new(),
        ),
        (
            vec!["-s", "/nonexistent/srsd.sock", "reverse", ALICE],
            69,
            String::new(),
        ),
        (
            vec!["-p", "line", "-s", &s.socketmap, "reverse", ALICE],
            76,
            String::new(),
        ),
        (vec!["--bogus"], 64, String::new()),
    ];
    for (args, code, out) in cases {
        let o = srsc(&args);
        assert_eq!(
            (o.status.code(), stdout(&o)),
            (Some(code), out),
            "srsc {args:?}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
    }
    let o = srsc(&["-s", "/nonexistent/srsd.sock", "reverse", ALICE]);
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("cannot connect to /nonexistent/srsd.sock")
    );
    let o = srsc(&["-s", &s.socketmap, "forward", "bob@fwd.example"]);
    assert_eq!(
        String::from_utf8_lossy(&o.stderr),
        "srsc: bob@fwd.example: not rewritten\n"
    );

    // Batch on stdin over one connection.
    let mut child = Command::new(env!("CARGO_BIN_EXE_srsc"))
        .args(["-s", &s.socketmap])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(
        child.stdin.as_mut().unwrap(),
        format!("forward alice@origin.example\nreverse {ALICE}\nreverse bogus@x\nfrobnicate\n")
            .as_bytes(),
    )
    .unwrap();
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(stdout(&o), format!("{ALICE}\nalice@origin.example\n\n\n"));
}

#[test]
fn perl_srsc_talks_to_the_line_listener() {
    let Some(perl_srsc) = common::peer("srsc", "srs") else {
        return;
    };
    // Perl's srsc only knows /tmp/srsd.
    let path = "/tmp/srsd";
    if std::os::unix::net::UnixStream::connect(path).is_ok() {
        panic!("{path} is in use by another daemon; stop it to run this test");
    }
    let s = Setup::new();
    let _d = srsd(&[
        "-d",
        "fwd.example",
        "-k",
        s.keys().to_str().unwrap(),
        "--listen",
        &format!("line=unix:{path}"),
    ]);
    for (request, reply) in [
        (
            "FORWARD alice@origin.example fwd.example\n".to_string(),
            format!("{ALICE}\n"),
        ),
        (
            format!("REVERSE {ALICE}\n"),
            "alice@origin.example\n".into(),
        ),
    ] {
        let mut child = Command::new(&perl_srsc)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        std::io::Write::write_all(child.stdin.as_mut().unwrap(), request.as_bytes()).unwrap();
        let o = child.wait_with_output().unwrap();
        assert_eq!(stdout(&o), reply, "Perl srsc sent {request:?}");
    }
}

/// srsc's output to a full disk: one line and 74; to a reader that closed
/// after the first answer (`| head -1`): a quiet 0. Never a panic.
#[test]
fn srsc_output_that_cannot_be_written() {
    use std::io::{Read, Write};
    let s = Setup::new();
    let _d = s.spawn(&[]);
    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_srsc"))
        .args(["-s", &s.socketmap, "forward", "alice@origin.example"])
        .stdout(full)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(74));
    assert_eq!(
        String::from_utf8_lossy(&o.stderr),
        "srsc: cannot write to standard output: No space left on device (os error 28)\n"
    );
    // Angle brackets, as MTAs print addresses, are taken off.
    assert_eq!(
        stdout(&srsc(&[
            "-s",
            &s.socketmap,
            "forward",
            "<alice@origin.example>"
        ])),
        format!("{ALICE}\n")
    );
    // A batch whose reader takes one line and goes away.
    let mut child = Command::new(env!("CARGO_BIN_EXE_srsc"))
        .args(["-s", &s.socketmap])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || {
        for _ in 0..2000 {
            if stdin.write_all(b"forward alice@origin.example\n").is_err() {
                break;
            }
        }
    });
    let mut stdout = child.stdout.take().unwrap();
    let mut first = [0u8; 5];
    stdout.read_exact(&mut first).unwrap();
    assert_eq!(&first, b"SRS0=");
    drop(stdout);
    let o = child.wait_with_output().unwrap();
    common::joined_within_30s(writer);
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(String::from_utf8_lossy(&o.stderr), "");
}

/// srsc takes a reply line of 4096 bytes with its newline, and refuses a
/// longer one: the daemon's limit.
#[test]
fn srsc_reply_line_limit() {
    use std::io::Write;
    for (total, code) in [(4096, 0), (4097, 76)] {
        let server = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = server.local_addr().unwrap().to_string();
        let t = std::thread::spawn(move || {
            let (mut c, _) = server.accept().unwrap();
            let mut line = String::new();
            BufReader::new(c.try_clone().unwrap())
                .read_line(&mut line)
                .unwrap();
            let value = "a".repeat(total - "200 \n".len());
            let _ = c.write_all(format!("200 {value}\n").as_bytes());
        });
        let o = srsc(&["-p", "tcp-table", "-c", &addr, "forward", "x@y.example"]);
        common::joined_within_30s(t);
        assert_eq!(
            o.status.code(),
            Some(code),
            "{total}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        if code == 0 {
            assert_eq!(o.stdout.len(), total - "200 ".len());
        } else {
            assert_eq!(
                String::from_utf8_lossy(&o.stderr),
                "srsc: protocol error: reply longer than 4096 bytes\n"
            );
        }
    }
}

/// `srsc --json` gives one object per request; `srsc stats` reads the
/// metrics listener and shows the counters that moved.
#[test]
fn srsc_json_and_stats() {
    let s = Setup::new();
    let metrics = s.dir.path().join("metrics").to_str().unwrap().to_owned();
    let d = s.spawn(&["--listen", &format!("metrics=unix:{metrics}")]);
    d.wait_for_log("serving");
    let o = srsc(&[
        "-s",
        &s.socketmap,
        "--json",
        "forward",
        "alice@origin.example",
    ]);
    assert_eq!(
        (o.status.code(), stdout(&o)),
        (
            Some(0),
            format!(
                "{{\"direction\":\"forward\",\"input\":\"alice@origin.example\",\"output\":\"{ALICE}\",\"status\":\"rewritten\"}}\n"
            )
        )
    );
    let o = srsc(&[
        "-s",
        &s.socketmap,
        "--json",
        "reverse",
        "SRS0=xxxx=JM=a.example=b@fwd.example",
    ]);
    assert_eq!(
        (o.status.code(), stdout(&o)),
        (
            Some(1),
            "{\"direction\":\"reverse\",\"input\":\"SRS0=xxxx=JM=a.example=b@fwd.example\",\"reason\":null,\"status\":\"not_found\"}\n".to_owned()
        )
    );
    let o = srsc(&["-s", &metrics, "stats"]);
    let text = stdout(&o);
    assert_eq!(o.status.code(), Some(0), "{text}");
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[0].starts_with("uptime             0d 00:"), "{text}");
    assert_eq!(
        lines[1..],
        [
            "connections open   1",
            "requests           2",
            "  socketmap    forward  rewritten  1",
            "  socketmap    reverse  refused    1",
            "forgeries refused  1",
            "  bad_hash                        1",
            "reloads            0 ok, 0 failed",
        ]
    );
    // A reload moves its counter; --json gives the samples.
    d.signal(Signal::SIGHUP);
    d.wait_for_log("reloaded");
    let o = srsc(&["-s", &metrics, "stats", "--json"]);
    let reloads: Vec<serde_json::Value> = stdout(&o)
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|v| v["name"] == "srsd_reloads_total")
        .collect();
    assert_eq!(
        reloads
            .iter()
            .find(|v| v["labels"]["result"] == "ok")
            .unwrap()["value"],
        1.0
    );
    // Without a target, stats says what it needs.
    let o = srsc(&["stats"]);
    assert_eq!(
        (o.status.code(), String::from_utf8_lossy(&o.stderr).into_owned()),
        (
            Some(64),
            "srsc: stats needs srsd's metrics listener: -c HOST:PORT or -s PATH (srsd --listen metrics=...)\n".to_owned()
        )
    );
    // The socketmap socket is no metrics listener.
    let o = srsc(&["-s", &s.socketmap, "stats"]);
    assert_eq!(o.status.code(), Some(76));
}
