//! srsd as a process, each test a real srsd: its configuration
//! (`configuration`), its life as a process (`lifecycle`), srsc against it
//! (`srsc`), and here the set-up they share and what the milter and the
//! log say.

mod configuration;
mod lifecycle;
mod srsc;

use crate::common;
use crate::common::srsd::Srsd;

use std::io::{BufRead, BufReader};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use tempfile::TempDir;

const NOW: &str = "1795435200";
const ALICE: &str = "SRS0=F0KE=JM=origin.example=alice@fwd.example";
/// The same, signed with the secret `newkey` (by `srs --secret newkey`).
const ALICE_NEWKEY: &str = "SRS0=8gHU=JM=origin.example=alice@fwd.example";
/// The same, signed with the secret `another`.
const ALICE_ANOTHER: &str = "SRS0=55fB=JM=origin.example=alice@fwd.example";

fn write_keys(path: &Path, text: &str) {
    std::fs::write(path, text).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).unwrap();
}

/// srsd with `--now` fixed and `args`, once it serves.
fn srsd(args: &[&str]) -> Srsd {
    Srsd::start(&[&["--now", NOW], args].concat())
}

fn srsc(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_srsc"))
        .args(args)
        .output()
        .unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

struct Setup {
    dir: TempDir,
    socketmap: String,
    line: String,
}

impl Setup {
    fn new() -> Setup {
        let dir = TempDir::new().unwrap();
        write_keys(&dir.path().join("keys"), "s3cret\n");
        let s = |n: &str| dir.path().join(n).to_str().unwrap().to_owned();
        Setup {
            socketmap: s("socketmap"),
            line: s("line"),
            dir,
        }
    }

    fn keys(&self) -> PathBuf {
        self.dir.path().join("keys")
    }

    /// srsd.conf here: `head`, then the keys and a socketmap listener.
    fn config(&self, head: &str) -> PathBuf {
        let conf = self.dir.path().join("srsd.conf");
        std::fs::write(
            &conf,
            format!(
                "{head}secret-file = {}\nlisten = socketmap=unix:{}\n",
                self.keys().display(),
                self.socketmap
            ),
        )
        .unwrap();
        conf
    }

    /// srsd's usual options here: domain fwd.example, the keys, and a
    /// socketmap listener.
    fn base_args(&self) -> Vec<String> {
        let keys = self.keys().to_str().unwrap().to_owned();
        ["-d", "fwd.example", "-k", &keys, "--listen"]
            .iter()
            .map(|a| a.to_string())
            .chain([format!("socketmap=unix:{}", self.socketmap)])
            .collect()
    }

    /// srsd with the usual options and `extra`, once it serves.
    fn spawn(&self, extra: &[&str]) -> Srsd {
        let base = self.base_args();
        let mut args: Vec<&str> = base.iter().map(String::as_str).collect();
        args.extend_from_slice(extra);
        srsd(&args)
    }
}

#[test]
fn configuration_file_with_command_line_overrides() {
    let s = Setup::new();
    let conf = s.dir.path().join("srsd.conf");
    std::fs::write(
        &conf,
        format!(
            "# srsd.conf\ndomain = wrong.example\nsecret-file = {}\nlisten = socketmap=unix:{}\nmax-age = 30\nalways-rewrite = no\n",
            s.keys().display(),
            s.socketmap
        ),
    )
    .unwrap();
    // --domain on the command line overrides the file's domain.
    let d = srsd(&["-c", conf.to_str().unwrap(), "-d", "fwd.example"]);
    assert_eq!(
        stdout(&srsc(&[
            "-s",
            &s.socketmap,
            "forward",
            "alice@origin.example"
        ])),
        format!("{ALICE}\n")
    );

    // A reload re-reads the file: a new first key signs.
    let keys2 = s.dir.path().join("keys2");
    write_keys(&keys2, "another\n");
    std::fs::write(
        &conf,
        std::fs::read_to_string(&conf).unwrap().replace(
            &s.keys().display().to_string(),
            &keys2.display().to_string(),
        ),
    )
    .unwrap();
    d.signal(Signal::SIGHUP);
    d.wait_for_log("reloaded");
    assert_eq!(
        stdout(&srsc(&[
            "-s",
            &s.socketmap,
            "forward",
            "alice@origin.example"
        ])),
        format!("{ALICE_ANOTHER}\n")
    );

    // A broken file on reload keeps everything as it was.
    std::fs::write(&conf, "domain = fwd.example\nmax-age = many\n").unwrap();
    d.signal(Signal::SIGHUP);
    d.wait_for_log("line 2: max-age: invalid value, expected DAYS");

    let run = |text: &str| {
        std::fs::write(&conf, text).unwrap();
        Command::new(env!("CARGO_BIN_EXE_srsd"))
            .arg("--config")
            .arg(&conf)
            .output()
            .unwrap()
    };
    for (text, message) in [
        ("domain = x\nbogus = 1\n", "line 2: unknown key"),
        ("domain x\n", "line 1: expected 'key = value'"),
        (
            "domain = x\nalways-rewrite = perhaps\n",
            "line 2: always-rewrite: expected yes or no",
        ),
        (
            "domain = x\nlisten = smtp=unix:/x\n",
            "line 2: listen: invalid value, expected PROTOCOL=ADDRESS",
        ),
    ] {
        let o = run(text);
        assert_eq!(o.status.code(), Some(78), "{text}");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(
            err.contains(&format!("{}, {message}", conf.display())),
            "{err}"
        );
    }
    let o = Command::new(env!("CARGO_BIN_EXE_srsd"))
        .args(["-c", "/nonexistent/srsd.conf"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(78));
}

fn is_root() -> bool {
    nix::unistd::geteuid().is_root()
}

/// The real user and group IDs of a process.
fn ids(pid: u32) -> (String, String) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.split_whitespace().next())
            .unwrap()
            .to_owned()
    };
    (field("Uid:"), field("Gid:"))
}

/// An SRS address signed at a local domain (`srs-domain-from recipient`)
/// reverses over socketmap, tcp_table and the line protocol alike, and a
/// forged one at that domain does not.
#[test]
fn an_srs_address_at_a_local_domain_reverses_everywhere() {
    let s = Setup::new();
    let d = s.spawn(&[
        "--local-domain",
        "customer.example",
        "--listen",
        &format!("line=unix:{}", s.line),
        "--listen",
        "tcp-reverse=inet:127.0.0.1:0",
    ]);
    let rev = format!("127.0.0.1:{}", d.port("tcp-reverse"));
    let o = Command::new(env!("CARGO_BIN_EXE_srs"))
        .args(["--now", NOW, "-k"])
        .arg(s.keys())
        .args(["forward", "-a", "customer.example", "alice@origin.example"])
        .output()
        .unwrap();
    let signed = stdout(&o).trim().to_owned();
    assert!(signed.ends_with("@customer.example"), "{signed}");
    let forged = format!("SRS0=AAAA{}", &signed[9..]);
    for how in [
        vec!["-s", s.socketmap.as_str()],
        vec!["-p", "tcp-table", "-c", rev.as_str()],
        vec!["-p", "line", "-s", s.line.as_str()],
    ] {
        let o = srsc(&[&how[..], &["reverse", &signed]].concat());
        assert_eq!(
            (o.status.code(), stdout(&o)),
            (Some(0), "alice@origin.example\n".to_owned()),
            "{how:?}"
        );
        let o = srsc(&[&how[..], &["reverse", &forged]].concat());
        assert_eq!(
            (o.status.code(), stdout(&o)),
            (Some(1), String::new()),
            "{how:?}"
        );
    }
}

/// An MTA that offers the milter none of the envelope actions gets one
/// warning line for the connection, naming what the milter cannot do.
#[test]
fn the_milter_warns_of_actions_the_mta_does_not_offer() {
    use std::io::{Read, Write};
    let s = Setup::new();
    let socket = s.dir.path().join("milter");
    let listen = format!("milter=unix:{}", socket.display());
    let d = s.spawn(&["--listen", &listen]);
    let mut conn = std::os::unix::net::UnixStream::connect(&socket).unwrap();
    conn.set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    // Negotiate: version 6, no actions, every protocol step.
    let mut negotiate = 13u32.to_be_bytes().to_vec();
    negotiate.push(b'O');
    for v in [6u32, 0, 0x1f_ffff] {
        negotiate.extend_from_slice(&v.to_be_bytes());
    }
    conn.write_all(&negotiate).unwrap();
    let mut reply = [0u8; 17];
    conn.read_exact(&mut reply).unwrap();
    assert_eq!(&reply[4..5], b"O");
    d.wait_for_log(
        "warning: milter: the MTA offers no CHGFROM: senders will not be signed; no DELRCPT or ADDRCPT: bounces will not be reversed",
    );
    let warned = d
        .lines()
        .iter()
        .filter(|l| l.contains("the MTA offers no"))
        .count();
    assert_eq!(warned, 1);
}

/// `--log-level debug` logs each connection and each lookup; the start
/// line names the version.
#[test]
fn debug_logging_shows_connections_and_requests() {
    let s = Setup::new();
    let d = s.spawn(&["--log-level", "debug"]);
    d.wait_for_log(&format!("(mail-srs {})", env!("CARGO_PKG_VERSION")));
    assert_eq!(
        stdout(&srsc(&[
            "-s",
            &s.socketmap,
            "forward",
            "alice@origin.example"
        ])),
        format!("{ALICE}\n")
    );
    let uid = nix::unistd::getuid();
    d.wait_for_log(&format!(
        "srsd: debug: socketmap connection opened by uid {uid} pid "
    ));
    d.wait_for_log(&format!(
        "srsd: debug: forward alice@origin.example: {ALICE}"
    ));
    d.wait_for_log(&format!(
        "srsd: debug: socketmap connection closed (uid {uid} pid "
    ));
    // A forgery is logged with the address and who asked.
    let forged = "SRS0=xxxx=JM=origin.example=alice@fwd.example";
    srsc(&["-s", &s.socketmap, "reverse", forged]);
    d.wait_for_log(&format!(
        "srsd: warning: refused reverse of {forged} from uid {uid} pid "
    ));
    d.wait_for_log(
        " (socketmap): hash does not match (forged, or signed with a secret we no longer have)",
    );
}

/// The milter's reply texts must be SMTP replies that sendmail and Postfix
/// pass on as they are.
#[test]
fn milter_reply_texts_are_checked() {
    for (text, reason) in [
        (
            "Invalid address",
            "expected a 4xx or 5xx code, a space and text, such as 550 5.1.1 Invalid SRS address",
        ),
        (
            "250 fine",
            "expected a 4xx or 5xx code, a space and text, such as 550 5.1.1 Invalid SRS address",
        ),
        (
            "550 5.1.1 100% forged",
            "control characters and % cannot appear in a reply",
        ),
    ] {
        let o = Command::new(env!("CARGO_BIN_EXE_srsd"))
            .args(["-d", "fwd.example", "--milter-reject-invalid", text])
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(64), "{text}");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(
            err.starts_with(&format!(
                "error: invalid value '{text}' for '--milter-reject-invalid <REPLY>': {reason}\n"
            )),
            "{err}"
        );
    }
}
