//! srsrelay as a process, against real peers: swaks (with --pipeline) as
//! the client and aiosmtpd's SMTP and LMTP servers as upstream; real Postfix
//! wired as the README says; a real Postfix smtpd taking BDAT chunks; and
//! scripted upstreams that refuse, close, stall, or see a client vanish.

mod swaks;

use crate::common;
use crate::common::sink::Sink;
use crate::common::srsd::Srsd;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// 2026-11-23 12:00 UTC, day 20780, stamp JM.
const NOW: u64 = 1_795_435_200;
const SRS_DOMAIN: &str = "fwd.example";

/// A running srsrelay, its log, and its two ports.
struct Relay {
    process: Srsd,
    pack: u16,
    unpack: u16,
}

impl Relay {
    /// srsrelay on 127.0.0.1 (ports 0) toward `upstream`, for fwd.example
    /// and other.example, with the keys in `keys`, and `extra` options.
    fn start(keys: &Path, upstream: u16, extra: &[&str]) -> Relay {
        let process = Srsd::start_command(
            Command::new(env!("CARGO_BIN_EXE_srsrelay"))
                .args(["--now", &NOW.to_string(), "-k"])
                .arg(keys)
                .args(extra)
                .args(["127.0.0.1", "0", "0", "127.0.0.1", &upstream.to_string()])
                .args([SRS_DOMAIN, "Other.Example"]),
        );
        Relay {
            pack: process.port("relay-pack"),
            unpack: process.port("relay-unpack"),
            process,
        }
    }

    fn wait_for_log(&self, text: &str) -> String {
        self.process.wait_for_log(text)
    }
}

/// A private keys file.
fn keys(dir: &Path, content: &str) -> PathBuf {
    let path = dir.join("keys");
    std::fs::write(&path, content).unwrap();
    std::os::unix::fs::PermissionsExt::set_mode(
        &mut std::fs::metadata(&path).unwrap().permissions(),
        0o600,
    );
    std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
    path
}

/// `srs` with the same keys and time, to know the addresses to expect.
fn srs(keys: &Path, now: u64, args: &[&str]) -> String {
    let o = Command::new(env!("CARGO_BIN_EXE_srs"))
        .args(["--now", &now.to_string(), "-k"])
        .arg(keys)
        .args(args)
        .output()
        .unwrap();
    String::from_utf8(o.stdout).unwrap().trim().to_owned()
}

/// swaks against `port` with `args`.
fn swaks(port: u16, args: &[&str]) -> Output {
    Command::new("swaks")
        .args(["--server", "127.0.0.1", "--port", &port.to_string()])
        .args(["--timeout", "20", "--helo", "client.test"])
        .args(args)
        .output()
        .unwrap()
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// A scripted upstream: greets, answers each command line and each
/// message's final "." with `reply(line)` (`None` closes), and records
/// every byte it received.
fn scripted(reply: fn(&str) -> Option<&'static str>) -> (u16, Arc<Mutex<Vec<u8>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let got = Arc::new(Mutex::new(Vec::new()));
    let record = got.clone();
    std::thread::spawn(move || {
        let Ok((mut conn, _)) = listener.accept() else {
            return;
        };
        conn.set_read_timeout(Some(Duration::from_secs(30)))
            .unwrap();
        conn.write_all(b"220 scripted.test\r\n").unwrap();
        let mut in_data = false;
        let mut buf = [0u8; 4096];
        let mut pending = Vec::new();
        loop {
            let n = match conn.read(&mut buf) {
                Ok(n) if n > 0 => n,
                _ => return,
            };
            record.lock().unwrap().extend_from_slice(&buf[..n]);
            pending.extend_from_slice(&buf[..n]);
            while let Some(eol) = pending.iter().position(|&b| b == b'\n') {
                let line: Vec<u8> = pending.drain(..=eol).collect();
                let line = String::from_utf8_lossy(&line).into_owned();
                if in_data && line != ".\r\n" {
                    continue;
                }
                match reply(&line) {
                    Some(r) => {
                        in_data = r.starts_with("354");
                        if !r.is_empty() {
                            conn.write_all(r.as_bytes()).unwrap();
                        }
                    }
                    None => return,
                }
            }
        }
    });
    (port, got)
}

/// A client of the relay: sends lines, reads replies.
struct Client {
    conn: TcpStream,
    replies: BufReader<TcpStream>,
}

impl Client {
    fn connect(port: u16) -> Client {
        let conn = TcpStream::connect(("127.0.0.1", port)).unwrap();
        conn.set_read_timeout(Some(Duration::from_secs(30)))
            .unwrap();
        let replies = BufReader::new(conn.try_clone().unwrap());
        Client { conn, replies }
    }

    fn send(&mut self, text: &str) {
        self.conn.write_all(text.as_bytes()).unwrap();
    }

    /// One reply line (empty at end of file).
    fn line(&mut self) -> String {
        let mut l = String::new();
        self.replies.read_line(&mut l).unwrap();
        l
    }
}

#[test]
fn upstream_refusing_closing_or_stalling_gives_421() {
    let dir = tempfile::TempDir::new().unwrap();
    let keys = keys(dir.path(), "relay-secret\n");
    // Nothing listens there.
    let closed = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let relay = Relay::start(&keys, closed, &[]);
    let mut c = Client::connect(relay.pack);
    assert_eq!(
        c.line(),
        "421 4.4.1 Upstream server unreachable, try again later\r\n"
    );
    assert_eq!(c.line(), "");
    relay.wait_for_log(&format!("upstream 127.0.0.1:{closed} unreachable"));
    drop(relay);

    // Upstream closes after the greeting's EHLO, mid-transaction.
    let (port, _) = scripted(|l| {
        if l.starts_with("EHLO") {
            Some("250 scripted.test\r\n")
        } else {
            None
        }
    });
    let relay = Relay::start(&keys, port, &[]);
    let mut c = Client::connect(relay.pack);
    assert_eq!(c.line(), "220 scripted.test\r\n");
    c.send("EHLO c.test\r\n");
    assert_eq!(c.line(), "250 scripted.test\r\n");
    c.send("MAIL FROM:<a@b.example>\r\n");
    assert_eq!(
        c.line(),
        "421 4.4.2 Upstream server connection lost, try again later\r\n"
    );
    assert_eq!(c.line(), "");
    drop(relay);

    // Upstream never answers the EHLO: --upstream-timeout.
    let (port, _) = scripted(|_| Some(""));
    let relay = Relay::start(&keys, port, &["--upstream-timeout", "1"]);
    let mut c = Client::connect(relay.pack);
    assert_eq!(c.line(), "220 scripted.test\r\n");
    c.send("EHLO c.test\r\n");
    assert_eq!(
        c.line(),
        "421 4.4.2 Upstream server connection lost, try again later\r\n"
    );
    relay.wait_for_log("gave no reply within 1 s");
    drop(relay);

    // Upstream is not an SMTP server: its greeting is no reply.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        if let Ok((mut conn, _)) = listener.accept() {
            let _ = conn.write_all(b"SSH-2.0-OpenSSH_9.2p1\r\n");
            std::thread::sleep(Duration::from_secs(5));
        }
    });
    let relay = Relay::start(&keys, port, &[]);
    let mut c = Client::connect(relay.pack);
    assert_eq!(
        c.line(),
        "421 4.4.2 Upstream server sent an invalid reply, try again later\r\n"
    );
    assert_eq!(c.line(), "");
    relay.wait_for_log(&format!("upstream 127.0.0.1:{port} sent an invalid reply"));
}

/// SMTP smuggling through the pack port, toward a real Postfix smtpd that
/// honours bare-LF dots (3.7's `smtpd_forbid_bare_newline = no`): the
/// message text `x<LF>.<CR><LF>MAIL FROM:...` ends at the relay where it
/// ends at Postfix, so the MAIL after it is read by the relay as a command
/// and signed. Every message Postfix passes on has an SRS sender, and the
/// client gets one reply per command.
#[test]
fn smuggled_commands_never_reach_upstream_unsigned() {
    let Some((keys, sink, postfix, _relay, mut c)) =
        through_postfix("srsrelay-smuggle", "smtpd_forbid_bare_newline = no")
    else {
        return;
    };
    c.send("HELO client.test\r\n");
    assert!(c.line().starts_with("250 "));
    c.send("MAIL FROM:<alice@origin.example>\r\nRCPT TO:<list@fwd.example>\r\nDATA\r\n");
    let codes: Vec<String> = (0..3).map(|_| c.line()[..3].to_owned()).collect();
    assert_eq!(codes, ["250", "250", "354"], "log:\n{}", postfix.log());
    c.send(
        "Subject: t-smuggle-1\r\n\r\nx\n.\r\n\
         MAIL FROM:<smuggled@origin.example>\r\n\
         RCPT TO:<victim@remote.example>\r\n\
         DATA\r\n\
         Subject: t-smuggle-2\r\n\r\ny\r\n.\r\nQUIT\r\n",
    );
    let codes: Vec<String> = (0..6).map(|_| c.line()[..3].to_owned()).collect();
    assert_eq!(
        codes,
        ["250", "250", "250", "354", "250", "221"],
        "log:\n{}",
        postfix.log()
    );
    assert_eq!(c.line(), "");
    let first = sink.wait_for("t-smuggle-1");
    let second = sink.wait_for("t-smuggle-2");
    let signed = |sender: &str| srs(&keys, NOW, &["forward", "-a", SRS_DOMAIN, sender]);
    assert_eq!(
        (first.from, second.from),
        (
            signed("alice@origin.example"),
            signed("smuggled@origin.example")
        )
    );
    assert_eq!(second.to, ["victim@remote.example"]);
    assert_eq!(sink.messages().len(), 2, "{:?}", sink.messages());
}

/// A loose `MAIL FROM` (a blank after the colon), which Postfix's smtpd
/// takes under its defaults, is signed too; one the relay cannot read gets
/// 501 and never reaches upstream.
#[test]
fn a_loose_sender_is_signed_and_an_unreadable_one_refused() {
    let Some((keys, sink, postfix, _relay, mut c)) = through_postfix("srsrelay-loose", "") else {
        return;
    };
    c.send("HELO client.test\r\nMAIL FROM:<al ice@origin.example>\r\n");
    assert!(c.line().starts_with("250 "));
    assert_eq!(c.line(), "501 5.1.7 Bad sender address syntax\r\n");
    c.send("MAIL FROM: <alice@origin.example>\r\nRCPT TO:<list@fwd.example>\r\nDATA\r\n");
    let codes: Vec<String> = (0..3).map(|_| c.line()[..3].to_owned()).collect();
    assert_eq!(codes, ["250", "250", "354"], "log:\n{}", postfix.log());
    c.send("Subject: t-loose\r\n\r\nx\r\n.\r\nQUIT\r\n");
    assert_eq!(c.line()[..3].to_owned(), "250");
    let m = sink.wait_for("t-loose");
    let signed = srs(
        &keys,
        NOW,
        &["forward", "-a", SRS_DOMAIN, "alice@origin.example"],
    );
    assert_eq!(m.from, signed);
}

/// srsrelay toward a scripted upstream that takes everything, and a client
/// through its pack port inside a message from `sender` (after the 354).
fn in_message(dir: &Path, sender: &str) -> (Relay, Client, Arc<Mutex<Vec<u8>>>) {
    let keys = keys(dir, "relay-secret\n");
    let (port, got) = scripted(|l| {
        Some(if l.starts_with("DATA") {
            "354 go\r\n"
        } else {
            "250 ok\r\n"
        })
    });
    let relay = Relay::start(&keys, port, &[]);
    let mut c = Client::connect(relay.pack);
    assert_eq!(c.line(), "220 scripted.test\r\n");
    c.send(&format!(
        "MAIL FROM:<{sender}>\r\nRCPT TO:<b@dest.example>\r\nDATA\r\n"
    ));
    for want in ["250 ok\r\n", "250 ok\r\n", "354 go\r\n"] {
        assert_eq!(c.line(), want);
    }
    (relay, c, got)
}

#[test]
fn a_client_gone_mid_data_never_completes_the_message() {
    let dir = tempfile::TempDir::new().unwrap();
    let (relay, mut c, got) = in_message(dir.path(), "a@example.org");
    c.send("Subject: cut\r\n\r\nhalf a message\r\n");
    drop(c);
    // Upstream sees the connection end right after the text the client sent.
    let seen = || String::from_utf8_lossy(&got.lock().unwrap()).into_owned();
    common::wait_until_or(
        "the connection's end upstream",
        Duration::from_secs(20),
        || seen().ends_with("DATA\r\nSubject: cut\r\n\r\nhalf a message\r\n"),
        || format!("upstream saw {:?}", seen()),
    );
    let seen = seen();
    assert!(seen.starts_with("MAIL FROM:<SRS0="), "{seen}");
    assert!(!seen.contains("\r\n.\r\n"), "{seen}");
    drop(relay);
}

#[test]
fn both_services_run_or_neither() {
    let dir = tempfile::TempDir::new().unwrap();
    let keys = keys(dir.path(), "one\ntwo\nthree\n");
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    let o = Command::new(env!("CARGO_BIN_EXE_srsrelay"))
        .arg("-k")
        .arg(&keys)
        .args(["127.0.0.1", "0", &port, "127.0.0.1", "25", SRS_DOMAIN])
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(69), "{said}");
    assert!(
        said.contains(&format!("relay-unpack=inet:127.0.0.1:{port}")),
        "{said}"
    );
    // More than two keys is warned about.
    assert!(
        said.contains("holds 3 keys: one is normal, two during a rotation"),
        "{said}"
    );
    // The original command line without a domain: usage.
    let o = Command::new(env!("CARGO_BIN_EXE_srsrelay"))
        .args(["::1", "10252", "10262", "smtp.upstream.isp", "25"])
        .output()
        .unwrap();
    assert_eq!(
        (o.status.code(), String::from_utf8_lossy(&o.stderr).into_owned()),
        (
            Some(64),
            "srsrelay: expected at least one DOMAIN after UPSTREAM-PORT\nusage: srsrelay [OPTIONS] ADDRESS PACK-PORT UNPACK-PORT UPSTREAM-HOST UPSTREAM-PORT DOMAIN...\n".to_owned()
        )
    );
    // -t checks without binding: the keys default to /etc/postfix/srs-keys.
    let o = Command::new(env!("CARGO_BIN_EXE_srsrelay"))
        .args([
            "-t",
            "::1",
            "10252",
            "10262",
            "smtp.upstream.isp",
            "25",
            SRS_DOMAIN,
        ])
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&o.stderr);
    if !Path::new("/etc/postfix/srs-keys").exists() {
        assert_eq!(o.status.code(), Some(78), "{said}");
        assert!(said.contains("/etc/postfix/srs-keys"), "{said}");
    }
}

/// Real Postfix wired as the README says: relayhost to the pack port, and
/// SRS recipients of our domain moved to a hidden domain whose transport is
/// the unpack port. aiosmtpd is upstream.
#[test]
fn postfix_with_srsrelay() {
    let Some((dir, keys)) = common::postfix::private_dir("srsrelay") else {
        return;
    };
    let Some(sink) = Sink::start("smtp", &dir) else {
        return;
    };
    let relay = Relay::start(&keys, sink.port, &[]);
    let d = dir.display();
    let cfg = dir.join("cfg");
    std::fs::create_dir_all(&cfg).unwrap();
    std::fs::write(
        cfg.join("srs-canonical"),
        "/^(SRS[01][=+-].*)@fwd\\.example$/ ${1}@SRS.k3x9q\n",
    )
    .unwrap();
    std::fs::write(
        cfg.join("transport"),
        format!("SRS.k3x9q smtp:[127.0.0.1]:{}\n", relay.unpack),
    )
    .unwrap();
    let postfix = common::postfix::Postfix::start(
        &dir,
        relay.pack,
        &format!(
            "recipient_canonical_maps = regexp:{d}/cfg/srs-canonical\ntransport_maps = texthash:{d}/cfg/transport"
        ),
    );
    let srs0 = srs(
        &keys,
        NOW,
        &["forward", "-a", SRS_DOMAIN, "alice@origin.example"],
    );

    // An outside sender arrives upstream as SRS0.
    assert_eq!(
        postfix.send("alice@origin.example", &["list@fwd.example"], "t-out"),
        [250]
    );
    let m = sink.wait_for("t-out");
    assert_eq!(
        (m.from.as_str(), m.to.as_slice()),
        (srs0.as_str(), &["dest@dest.example".to_owned()][..])
    );

    // A sender at a listed domain arrives unchanged.
    assert_eq!(
        postfix.send("bob@fwd.example", &["list@fwd.example"], "t-listed"),
        [250]
    );
    assert_eq!(sink.wait_for("t-listed").from, "bob@fwd.example");

    // A bounce to the SRS address reaches alice through the unpack port.
    assert_eq!(postfix.send("", &[&srs0], "t-bounce"), [250]);
    let m = sink.wait_for("t-bounce");
    assert_eq!(
        (m.from.as_str(), m.to.as_slice()),
        ("", &["alice@origin.example".to_owned()][..])
    );

    // A forged one is refused by the relay; Postfix logs its 550.
    let forged = format!("SRS0=AAAA{}", &srs0[9..]);
    assert_eq!(postfix.send("", &[&forged], "t-forged"), [250]);
    postfix.wait_for_log(&["said: 550 5.1.1 Invalid SRS address (in reply to RCPT TO command)"]);
    assert!(sink.messages().iter().all(|m| !m.data.contains("t-forged")));
}

/// srsrelay toward a private Postfix (`maps` added to its main.cf) that
/// delivers to aiosmtpd, and a client of the pack port past its greeting:
/// the keys file, the sink, Postfix, the relay and the client; `None` when
/// a peer is missing (after saying so).
fn through_postfix(
    name: &str,
    maps: &str,
) -> Option<(PathBuf, Sink, common::postfix::Postfix, Relay, Client)> {
    let (dir, keys) = common::postfix::private_dir(name)?;
    let sink = Sink::start("smtp", &dir)?;
    let postfix = common::postfix::Postfix::start(&dir, sink.port, maps);
    let relay = Relay::start(&keys, postfix.smtpd, &[]);
    let mut c = Client::connect(relay.pack);
    assert!(c.line().starts_with("220 "));
    Some((keys, sink, postfix, relay, c))
}

/// BDAT chunks and a pipelined group through the relay to a real Postfix
/// smtpd (which offers CHUNKING and PIPELINING), which delivers to aiosmtpd.
#[test]
fn chunks_and_pipelining_reach_a_real_postfix_whole() {
    let Some((keys, sink, postfix, _relay, mut c)) = through_postfix("srsrelay-bdat", "") else {
        return;
    };
    c.send("EHLO client.test\r\n");
    let mut ehlo = Vec::new();
    loop {
        let l = c.line();
        ehlo.push(l.clone());
        if l.as_bytes().get(3) != Some(&b'-') {
            break;
        }
    }
    assert!(ehlo.iter().any(|l| l.contains("CHUNKING")), "{ehlo:?}");
    assert!(ehlo.iter().any(|l| l.contains("PIPELINING")), "{ehlo:?}");
    let chunk1 = "Subject: t-bdat\r\n\r\nfirst line\r\n.\r\n";
    let chunk2 = "..two dots\r\nlast line\r\n";
    c.send(&format!(
        "MAIL FROM:<alice@origin.example>\r\nRCPT TO:<list@fwd.example>\r\nBDAT {}\r\n{chunk1}BDAT {} LAST\r\n{chunk2}QUIT\r\n",
        chunk1.len(),
        chunk2.len()
    ));
    let codes: Vec<String> = (0..5).map(|_| c.line()[..3].to_owned()).collect();
    assert_eq!(
        codes,
        ["250", "250", "250", "250", "221"],
        "log:\n{}",
        postfix.log()
    );
    let m = sink.wait_for("t-bdat");
    let srs0 = srs(
        &keys,
        NOW,
        &["forward", "-a", SRS_DOMAIN, "alice@origin.example"],
    );
    assert_eq!(m.from, srs0);
    // The lone dot and the two dots inside the chunks arrive as they were
    // sent (Postfix stuffs them toward aiosmtpd, which unstuffs them).
    let data = &m.data;
    assert!(
        data.ends_with("first line\r\n.\r\n..two dots\r\nlast line\r\n"),
        "{data:?}"
    );
}

/// A 64 MiB message streams through: srsrelay's resident memory stays far
/// below the message's size, and upstream gets every byte.
#[test]
fn a_large_message_streams_through() {
    let dir = tempfile::TempDir::new().unwrap();
    let (relay, mut c, got) = in_message(dir.path(), "a@other.example");
    let line = format!("{}\r\n", "x".repeat(1022));
    let block = line.repeat(1024);
    for _ in 0..64 {
        c.send(&block);
    }
    c.send(".\r\n");
    let mut reply = String::new();
    let read = c.replies.read_line(&mut reply);
    assert!(
        read.is_ok() && reply == "250 ok\r\n",
        "{read:?} {reply:?}; upstream got {} bytes; log {:?}",
        got.lock().unwrap().len(),
        relay.process.lines()
    );
    let rss_kib: u64 =
        std::fs::read_to_string(format!("/proc/{}/status", relay.process.child.id()))
            .unwrap()
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches(" kB").trim().parse().ok())
            .unwrap();
    eprintln!("srsrelay peak RSS for a 64 MiB message: {rss_kib} KiB");
    assert!(
        rss_kib < 32 * 1024,
        "srsrelay peaked at {rss_kib} KiB for a 64 MiB message"
    );
    let seen = got.lock().unwrap().len();
    let header = "MAIL FROM:<a@other.example>\r\nRCPT TO:<b@dest.example>\r\nDATA\r\n".len();
    drop(c);
    assert_eq!(seen, header + 64 * block.len() + 3);
}

/// Idle connections cost little: 400 clients held open through the pack
/// port (each with its upstream connection) grow srsrelay's resident
/// memory by under 6 MiB. Each once held 20 KiB of read buffers in its
/// task, 27 KiB in all, read buffers now growing with what arrives.
#[test]
fn idle_connections_cost_little_memory() {
    const CLIENTS: usize = 400;
    let rss_kib = |pid: u32| -> u64 {
        std::fs::read_to_string(format!("/proc/{pid}/status"))
            .unwrap()
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches(" kB").trim().parse().ok())
            .unwrap()
    };
    let dir = tempfile::TempDir::new().unwrap();
    let keys = keys(dir.path(), "relay-secret\n");
    // An upstream that greets every connection and keeps it open until the
    // test ends.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for conn in listener.incoming().take(CLIENTS) {
            let Ok(mut conn) = conn else { return };
            let _ = conn.write_all(b"220 idle.test\r\n");
            held.push(conn);
        }
        std::thread::sleep(Duration::from_secs(60));
    });
    let relay = Relay::start(&keys, port, &[]);
    let pid = relay.process.child.id();
    let mut warm = Client::connect(relay.pack);
    assert_eq!(warm.line(), "220 idle.test\r\n");
    let before = rss_kib(pid);
    let mut clients: Vec<Client> = (1..CLIENTS).map(|_| Client::connect(relay.pack)).collect();
    for c in &mut clients {
        assert_eq!(c.line(), "220 idle.test\r\n");
    }
    let grown = rss_kib(pid).saturating_sub(before);
    eprintln!(
        "srsrelay grew by {grown} KiB for {} idle connections",
        CLIENTS - 1
    );
    assert!(
        grown < 6 * 1024,
        "srsrelay grew by {grown} KiB for {} idle connections",
        CLIENTS - 1
    );
}
