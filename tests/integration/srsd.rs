//! srsd as a process: srsc against every protocol, SIGHUP reload with a good
//! and a broken keys file, SIGTERM, start-up errors, and Perl's own srsc.

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
fn sighup_reloads_and_a_broken_file_keeps_the_old_keys() {
    let s = Setup::new();
    let d = s.spawn(&[]);
    let forward = || {
        stdout(&srsc(&[
            "-s",
            &s.socketmap,
            "forward",
            "alice@origin.example",
        ]))
    };
    assert_eq!(forward(), format!("{ALICE}\n"));

    write_keys(&s.keys(), "newkey\ns3cret\n");
    d.signal(Signal::SIGHUP);
    d.wait_for_log("reloaded");
    assert_eq!(forward(), format!("{ALICE_NEWKEY}\n"));
    assert_eq!(
        stdout(&srsc(&["-s", &s.socketmap, "reverse", ALICE])),
        "alice@origin.example\n"
    );

    write_keys(&s.keys(), "# emptied by mistake\n");
    d.signal(Signal::SIGHUP);
    d.wait_for_log("reload failed, keeping the previous keys");
    assert_eq!(
        forward(),
        format!("{ALICE_NEWKEY}\n"),
        "the previous keys stay in force"
    );
}

#[test]
fn sigterm_stops_and_removes_the_sockets() {
    let s = Setup::new();
    let mut d = s.spawn(&[]);
    d.signal(Signal::SIGTERM);
    let status = d.child.wait().unwrap();
    assert_eq!(status.code(), Some(0));
    assert!(!Path::new(&s.socketmap).exists());
}

#[test]
fn start_up_errors_name_the_problem() {
    let s = Setup::new();
    let keys = s.keys().to_str().unwrap().to_owned();
    let empty = s.dir.path().join("empty");
    write_keys(&empty, "\n");
    let listen = format!("socketmap=unix:{}", s.socketmap);
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_srsd"))
            .args(args)
            .output()
            .unwrap()
    };
    for (args, code, message) in [
        (
            vec!["-d", "fwd.example", "--listen", &listen],
            78,
            "no secret",
        ),
        (
            vec![
                "-d",
                "fwd.example",
                "-k",
                empty.to_str().unwrap(),
                "--listen",
                &listen,
            ],
            78,
            "holds no secret",
        ),
        (
            vec![
                "-d",
                "fwd.example",
                "-k",
                &keys,
                "--hash-length",
                "30",
                "--listen",
                &listen,
            ],
            78,
            "hash length 30",
        ),
        (
            vec![
                "-d",
                "fwd.example",
                "-k",
                &keys,
                "--listen",
                "socketmap=/relative",
            ],
            64,
            "must start with unix: or inet:",
        ),
        (vec!["-k", &keys, "--listen", &listen], 64, "--domain"),
        (
            vec![
                "-d",
                "fwd.example",
                "-k",
                &keys,
                "--listen",
                "line=unix:/nonexistent/dir/sock",
            ],
            69,
            "cannot listen on line=unix:/nonexistent/dir/sock",
        ),
    ] {
        let o = run(&args);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(code), "{args:?}: {err}");
        assert!(err.contains(message), "{args:?}: {err}");
    }
    // A live daemon's socket is never taken over.
    let _d = srsd(&["-d", "fwd.example", "-k", &keys, "--listen", &listen]);
    let o = run(&["-d", "fwd.example", "-k", &keys, "--listen", &listen]);
    assert_eq!(o.status.code(), Some(69));
    assert!(String::from_utf8_lossy(&o.stderr).contains("in use by a running daemon"));
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

#[test]
fn privileges_socket_ownership_and_pid_file() {
    if !is_root() {
        common::skip("giving up privileges needs root");
        return;
    }
    let s = Setup::new();
    std::fs::set_permissions(s.dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let nobody = nix::unistd::User::from_name("nobody").unwrap().unwrap();
    let nogroup = nix::unistd::Group::from_gid(nobody.gid).unwrap().unwrap();
    let pid_file = s.dir.path().join("srsd.pid");
    let d = s.spawn(&[
        "--user",
        "nobody",
        "--socket-group",
        &nogroup.name,
        "--socket-mode",
        "0660",
        "--pid-file",
        pid_file.to_str().unwrap(),
    ]);
    let pid = d.child.id();
    assert_eq!(ids(pid), (nobody.uid.to_string(), nobody.gid.to_string()));
    assert_eq!(
        std::fs::read_to_string(&pid_file).unwrap(),
        format!("{pid}\n")
    );
    let meta = std::fs::metadata(&s.socketmap).unwrap();
    assert_eq!(
        std::os::unix::fs::MetadataExt::gid(&meta),
        nobody.gid.as_raw()
    );
    assert_eq!(meta.permissions().mode() & 0o777, 0o660);
    assert_eq!(
        stdout(&srsc(&["-s", &s.socketmap, "reverse", ALICE])),
        "alice@origin.example\n"
    );
    // After the drop the keys file (0600 root) cannot be re-read: the reload
    // fails and the daemon keeps serving with the keys it has.
    d.signal(Signal::SIGHUP);
    d.wait_for_log("reload failed");
    assert_eq!(
        stdout(&srsc(&["-s", &s.socketmap, "reverse", ALICE])),
        "alice@origin.example\n"
    );

    let o = Command::new(env!("CARGO_BIN_EXE_srsd"))
        .args([
            "-d",
            "x",
            "-k",
            s.keys().to_str().unwrap(),
            "--listen",
            &format!("line=unix:{}", s.line),
            "--user",
            "no-such-user-here",
        ])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(78));
    assert!(String::from_utf8_lossy(&o.stderr).contains("no user named \"no-such-user-here\""));
}

#[test]
fn syslog_mail_facility() {
    let s = Setup::new();
    let log_path = s.dir.path().join("dev-log");
    let syslog = std::os::unix::net::UnixDatagram::bind(&log_path).unwrap();
    syslog
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_srsd"))
        .args(s.base_args())
        .args([
            "--log",
            "syslog",
            "--syslog-socket",
            log_path.to_str().unwrap(),
        ])
        .spawn()
        .unwrap();
    let mut buf = [0u8; 1024];
    let n = syslog.recv(&mut buf).unwrap();
    let line = String::from_utf8_lossy(&buf[..n]).into_owned();
    let _ = child.kill();
    let _ = child.wait();
    // <22> is mail.info.
    assert!(
        line.starts_with(&format!("<22>srsd[{}]: serving fwd.example on", child.id())),
        "{line}"
    );
}

#[test]
fn systemd_notification_sequence() {
    let s = Setup::new();
    let notify_path = s.dir.path().join("notify");
    let notify = std::os::unix::net::UnixDatagram::bind(&notify_path).unwrap();
    notify
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_srsd"))
        .args(s.base_args())
        .env("NOTIFY_SOCKET", &notify_path)
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let got = std::cell::RefCell::new(Vec::new());
    let next = || {
        let mut buf = [0u8; 256];
        let n = notify
            .recv(&mut buf)
            .unwrap_or_else(|e| panic!("no notification after {:?}: {e}", got.borrow()));
        let text = String::from_utf8_lossy(&buf[..n]).into_owned();
        got.borrow_mut().push(text.clone());
        text
    };
    assert!(next().starts_with("READY=1"));
    kill(Pid::from_raw(child.id() as i32), Signal::SIGHUP).unwrap();
    assert!(next().starts_with("RELOADING=1\nMONOTONIC_USEC="));
    assert_eq!(next(), "READY=1");
    kill(Pid::from_raw(child.id() as i32), Signal::SIGTERM).unwrap();
    assert_eq!(next(), "STOPPING=1");
    assert_eq!(child.wait().unwrap().code(), Some(0));
}

#[test]
fn socket_activation_by_name() {
    let Some(python) = common::peer("python3", "python3") else {
        return;
    };
    let s = Setup::new();
    // Bind as systemd would, then exec srsd with the socket as fd 3.
    let launcher = r#"
import os, socket, sys
path, srsd = sys.argv[1], sys.argv[2:]
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(path); s.listen(16)
if s.fileno() != 3:
    os.dup2(s.fileno(), 3)
os.set_inheritable(3, True)
os.environ.update(LISTEN_FDS="1", LISTEN_PID=str(os.getpid()), LISTEN_FDNAMES="socketmap")
os.execv(srsd[0], srsd)
"#;
    let mut cmd = Command::new(python);
    cmd.args([
        "-c",
        launcher,
        &s.socketmap,
        env!("CARGO_BIN_EXE_srsd"),
        "--now",
        NOW,
        "-d",
        "fwd.example",
        "-k",
        s.keys().to_str().unwrap(),
    ]);
    let mut d = Srsd::start_command(&mut cmd);
    d.wait_for_log("serving fwd.example on socketmap (from systemd)");
    assert_eq!(
        stdout(&srsc(&["-s", &s.socketmap, "reverse", ALICE])),
        "alice@origin.example\n"
    );
    d.signal(Signal::SIGTERM);
    d.child.wait().unwrap();
    assert!(
        Path::new(&s.socketmap).exists(),
        "a socket systemd made is systemd's to remove"
    );
}

#[test]
fn background_returns_once_ready() {
    let s = Setup::new();
    let pid_file = s.dir.path().join("srsd.pid");
    let o = Command::new(env!("CARGO_BIN_EXE_srsd"))
        .args([
            "--background",
            "--now",
            NOW,
            "-d",
            "fwd.example",
            "-k",
            s.keys().to_str().unwrap(),
        ])
        .args([
            "--listen",
            &format!("socketmap=unix:{}", s.socketmap),
            "--pid-file",
            pid_file.to_str().unwrap(),
        ])
        .stderr(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0));
    // Ready means serving: no waiting needed.
    assert_eq!(
        stdout(&srsc(&["-s", &s.socketmap, "reverse", ALICE])),
        "alice@origin.example\n"
    );
    let pid: i32 = std::fs::read_to_string(&pid_file)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let sid = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let fields: Vec<&str> = sid.rsplit_once(')').unwrap().1.split_whitespace().collect();
    assert_eq!(
        fields[3],
        pid.to_string(),
        "the daemon leads its own session"
    );
    kill(Pid::from_raw(pid), Signal::SIGTERM).unwrap();
    common::wait_until("srsd to stop", Duration::from_secs(20), || {
        !Path::new(&s.socketmap).exists()
    });
    // A start-up failure is the command's failure.
    let o = Command::new(env!("CARGO_BIN_EXE_srsd"))
        .args([
            "--background",
            "-d",
            "fwd.example",
            "--listen",
            &format!("socketmap=unix:{}", s.socketmap),
        ])
        .stderr(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(78));
}

/// `background = yes` in a configuration file: the detached copy reads the
/// same file and serves, without detaching again, so one srsd runs; the
/// private start-up directory is gone once the command returns.
#[test]
fn background_in_a_configuration_file_detaches_once() {
    let s = Setup::new();
    let tmp = s.dir.path().join("tmp");
    std::fs::create_dir(&tmp).unwrap();
    let conf = s.dir.path().join("srsd.conf");
    std::fs::write(
        &conf,
        format!(
            "background = yes\ndomain = fwd.example\nsecret-file = {}\nlisten = socketmap=unix:{}\n",
            s.keys().display(),
            s.socketmap
        ),
    )
    .unwrap();
    // Standard error to a file: the daemon keeps it, so a pipe would not end.
    let said = s.dir.path().join("stderr");
    let status = Command::new(env!("CARGO_BIN_EXE_srsd"))
        .args(["-c", conf.to_str().unwrap()])
        .env("TMPDIR", &tmp)
        .stderr(std::fs::File::create(&said).unwrap())
        .status()
        .unwrap();
    let stderr = std::fs::read_to_string(&said).unwrap();
    assert_eq!(status.code(), Some(0), "{stderr}");
    // The processes whose command line names this configuration file.
    let running: Vec<i32> = std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
        .filter(|pid: &i32| {
            std::fs::read(format!("/proc/{pid}/cmdline")).is_ok_and(|c| {
                c.split(|&b| b == 0)
                    .any(|arg| arg == conf.as_os_str().as_encoded_bytes())
            })
        })
        .collect();
    for pid in &running {
        let _ = kill(Pid::from_raw(*pid), Signal::SIGTERM);
    }
    assert_eq!(running.len(), 1, "srsd processes: {running:?}");
    // The command's lines; the daemon's own log shares the file.
    let running_line = format!("srsd: running in the background as process {}", running[0]);
    assert!(stderr.lines().any(|l| l == running_line), "{stderr}");
    let left: Vec<_> = std::fs::read_dir(&tmp).unwrap().collect();
    assert!(left.is_empty(), "left in TMPDIR: {left:?}");
}

/// A keys file given as the configuration, a secret where a key, a yes/no or
/// a number belongs, a line without '=': the error names file, line and key,
/// never the secret, at start-up and in the log of a reload.
#[test]
fn configuration_errors_never_show_a_secret() {
    const SECRET: &str = "hunter2-Zq9";
    let s = Setup::new();
    let keys = s.dir.path().join("keysfile");
    write_keys(&keys, &format!("{SECRET}==\nc2VjcmV0MQ==\n"));
    let conf = s.dir.path().join("srsd.conf");
    let base = format!(
        "domain = fwd.example\nsecret-file = {}\nlisten = socketmap=unix:{}\n",
        s.keys().display(),
        s.socketmap
    );
    let cases = [
        (
            format!("{base}secret {SECRET}\n"),
            "line 4: expected 'key = value'",
        ),
        (format!("{base}{SECRET} = x\n"), "line 4: unknown key"),
        (
            format!("{base}always-rewrite = {SECRET}\n"),
            "line 4: always-rewrite: expected yes or no",
        ),
        (
            format!("{base}hash-length = {SECRET}\n"),
            "line 4: hash-length: invalid value, expected N (invalid digit found in string)",
        ),
    ];
    let conf_s = conf.display().to_string();
    // srsd takes no operand; the forwarder needs a recipient.
    let programs = [
        ("srsd", env!("CARGO_BIN_EXE_srsd"), &[][..], 78),
        (
            "srs-forwarder",
            env!("CARGO_BIN_EXE_srs-forwarder"),
            &["d@x.example"][..],
            75,
        ),
    ];
    let run = |program: &str, config: &str, operands: &[&str]| {
        Command::new(program)
            .args(["--config", config])
            .args(operands)
            .stdin(Stdio::null())
            .output()
            .unwrap()
    };
    for (text, message) in &cases {
        std::fs::write(&conf, text).unwrap();
        for (name, program, operands, code) in programs {
            let o = run(program, &conf_s, operands);
            let err = String::from_utf8_lossy(&o.stderr);
            assert_eq!(err, format!("{name}: {conf_s}, {message}\n"), "{text}");
            assert_eq!(o.status.code(), Some(code));
        }
    }
    // The keys file itself as the configuration.
    let keys_s = keys.display().to_string();
    for (_, program, operands, code) in programs {
        let o = run(program, &keys_s, operands);
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(
            !err.contains(SECRET) && !err.contains("c2VjcmV0MQ"),
            "{err}"
        );
        assert!(
            err.contains(&format!("{keys_s}, line 1: unknown key\n")),
            "{err}"
        );
        assert_eq!(o.status.code(), Some(code), "{err}");
    }
    // On reload, the same errors reach the log, and the old state stays.
    std::fs::write(&conf, &base).unwrap();
    let d = srsd(&["-c", &conf_s]);
    for (text, message) in &cases {
        std::fs::write(&conf, text).unwrap();
        d.signal(Signal::SIGHUP);
        d.wait_for_log(message);
    }
    assert!(
        !d.lines().iter().any(|l| l.contains(SECRET)),
        "{:?}",
        d.lines()
    );
    assert_eq!(
        stdout(&srsc(&[
            "-s",
            &s.socketmap,
            "forward",
            "alice@origin.example"
        ])),
        format!("{ALICE}\n")
    );
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

/// Listeners off loopback and the example's placeholder domain are refused
/// at start; `--allow-non-loopback` allows the first, with a warning.
#[test]
fn public_listeners_and_the_placeholder_domain_are_refused() {
    let s = Setup::new();
    let keys = s.keys().to_str().unwrap().to_owned();
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_srsd"))
            .args(["-k", &keys])
            .args(args)
            .output()
            .unwrap()
    };
    let o = run(&["-d", "fwd.example", "--listen", "socketmap=inet:0.0.0.0:0"]);
    assert_eq!(o.status.code(), Some(78));
    assert_eq!(
        String::from_utf8_lossy(&o.stderr),
        "srsd: error: listener socketmap=inet:0.0.0.0:0 is not on a loopback address: anyone who reaches it can make valid SRS addresses; use 127.0.0.1 or ::1, or give --allow-non-loopback\n"
    );
    let listen = format!("socketmap=unix:{}", s.socketmap);
    let o = run(&["-d", "Forwarder.Example", "--listen", &listen]);
    assert_eq!(o.status.code(), Some(78));
    assert!(
        String::from_utf8_lossy(&o.stderr)
            .contains("domain forwarder.example is the example configuration's placeholder"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let d = srsd(&[
        "-d",
        "fwd.example",
        "-k",
        &keys,
        "--listen",
        "tcp-forward=inet:0.0.0.0:0",
        "--allow-non-loopback",
    ]);
    d.wait_for_log(
        "warning: listener tcp-forward=inet:0.0.0.0:0 is reachable from other hosts (--allow-non-loopback): firewall it",
    );
}

/// The pid file is never written through a symbolic link.
#[test]
fn the_pid_file_does_not_follow_links() {
    let s = Setup::new();
    let victim = s.dir.path().join("victim");
    std::fs::write(&victim, "precious\n").unwrap();
    let link = s.dir.path().join("srsd.pid");
    std::os::unix::fs::symlink(&victim, &link).unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_srsd"))
        .args(["-d", "fwd.example", "-k", s.keys().to_str().unwrap()])
        .args(["--listen", &format!("socketmap=unix:{}", s.socketmap)])
        .args(["--pid-file", link.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(73));
    assert_eq!(
        String::from_utf8_lossy(&o.stderr),
        format!(
            "srsd: error: cannot write pid file {}: it is a symbolic link; srsd does not write through one\n",
            link.display()
        )
    );
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious\n");
    // A plain path is written atomically, and removed at exit.
    let pid_file = s.dir.path().join("plain.pid");
    let mut d = s.spawn(&["--pid-file", pid_file.to_str().unwrap()]);
    assert_eq!(
        std::fs::read_to_string(&pid_file).unwrap(),
        format!("{}\n", d.child.id())
    );
    assert_eq!(
        std::fs::read_dir(s.dir.path())
            .unwrap()
            .filter(|e| {
                e.as_ref()
                    .unwrap()
                    .file_name()
                    .to_string_lossy()
                    .ends_with(".tmp")
            })
            .count(),
        0
    );
    d.signal(Signal::SIGTERM);
    assert_eq!(d.exit_code(), Some(0));
    assert!(!pid_file.exists());
}

/// A keys or configuration file that became a FIFO is refused at reload,
/// at once, and the daemon goes on serving with what it had.
#[test]
fn reload_refuses_files_that_are_not_regular() {
    let s = Setup::new();
    let conf = s.config("domain = fwd.example\n");
    let d = srsd(&["-c", conf.to_str().unwrap()]);
    std::fs::remove_file(s.keys()).unwrap();
    nix::unistd::mkfifo(&s.keys(), nix::sys::stat::Mode::from_bits_truncate(0o600)).unwrap();
    d.signal(Signal::SIGHUP);
    d.wait_for_log(&format!(
        "reload failed, keeping the previous keys: cannot read keys file {}: not a regular file (a FIFO)",
        s.keys().display()
    ));
    assert_eq!(
        stdout(&srsc(&["-s", &s.socketmap, "reverse", ALICE])),
        "alice@origin.example\n"
    );
    std::fs::remove_file(&conf).unwrap();
    nix::unistd::mkfifo(&conf, nix::sys::stat::Mode::from_bits_truncate(0o600)).unwrap();
    d.signal(Signal::SIGHUP);
    d.wait_for_log(&format!(
        "reload failed, keeping the previous settings: cannot read configuration file {}: not a regular file (a FIFO)",
        conf.display()
    ));
    assert_eq!(
        stdout(&srsc(&[
            "-s",
            &s.socketmap,
            "forward",
            "alice@origin.example"
        ])),
        format!("{ALICE}\n")
    );
}

/// SIGTERM with a client that never reads its replies: srsd stops within
/// the drain time, not the idle timeout, and exits 0.
#[test]
fn sigterm_stops_within_the_drain_time() {
    let s = Setup::new();
    let mut d = s.spawn(&[
        "--listen",
        "tcp-reverse=inet:127.0.0.1:0",
        "--drain-timeout",
        "1",
    ]);
    let port = d.port("tcp-reverse");
    let mut stuck = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    common::stop_reading(&mut stuck, format!("get {ALICE}\n").as_bytes());
    d.signal(Signal::SIGTERM);
    assert_eq!(d.exit_code(), Some(0));
    let log = d.lines();
    assert!(
        log.iter().any(
            |l| l.ends_with("1 connections still busy after the drain time of 1 s were closed")
        ),
        "{log:?}"
    );
    assert!(!Path::new(&s.socketmap).exists());
}

/// Out of descriptors, accept fails again and again: the warning is logged
/// ten times, the rest at debug level, and their number at stop.
#[test]
fn accept_errors_do_not_flood_the_log() {
    let s = Setup::new();
    let mut cmd = Command::new("sh");
    cmd.arg("-c")
        .arg("ulimit -n 32 && exec \"$@\"")
        .arg("sh")
        .arg(env!("CARGO_BIN_EXE_srsd"))
        .args([
            "--now",
            NOW,
            "--log-level",
            "debug",
            "-d",
            "fwd.example",
            "-k",
        ])
        .arg(s.keys())
        .args(["--listen", &format!("socketmap=unix:{}", s.socketmap)]);
    let mut d = Srsd::start_command(&mut cmd);
    // More clients than descriptors; they wait in the listen queue.
    let clients: Vec<_> = (0..60)
        .map(|_| std::os::unix::net::UnixStream::connect(&s.socketmap).unwrap())
        .collect();
    d.wait_for_log(
        "debug: not logged as a warning: accept on a socketmap listener: Too many open files",
    );
    d.signal(Signal::SIGTERM);
    assert_eq!(d.exit_code(), Some(0));
    drop(clients);
    let log = d.lines();
    let warned = log
        .iter()
        .filter(|l| {
            l.starts_with("srsd: warning: accept on a socketmap listener: Too many open files")
        })
        .count();
    assert_eq!(warned, 10, "{log:?}");
    let summary = log
        .iter()
        .find(|l| l.contains("more accept errors not logged in the last"))
        .unwrap_or_else(|| panic!("no summary: {log:?}"));
    let suppressed = log
        .iter()
        .filter(|l| l.contains("debug: not logged as a warning: accept"))
        .count();
    assert!(
        summary.starts_with(&format!("srsd: warning: {suppressed} more accept errors")),
        "{summary} after {suppressed}"
    );
}

/// With --user, sockets and the pid file live in a directory the service
/// user owns (systemd's RuntimeDirectory=) and are removed at stop; where
/// they cannot be, the log says so.
#[test]
fn cleanup_after_giving_up_root() {
    if !is_root() {
        common::skip("giving up privileges needs root");
        return;
    }
    let s = Setup::new();
    std::fs::set_permissions(s.dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let nobody = nix::unistd::User::from_name("nobody").unwrap().unwrap();
    let run_dir = s.dir.path().join("run");
    std::fs::create_dir(&run_dir).unwrap();
    nix::unistd::chown(&run_dir, Some(nobody.uid), Some(nobody.gid)).unwrap();
    for (dir, removable) in [(&run_dir, true), (&s.dir.path().to_path_buf(), false)] {
        let socket = dir.join("sock");
        let pid_file = dir.join("srsd.pid");
        let mut d = srsd(&[
            "-d",
            "fwd.example",
            "-k",
            s.keys().to_str().unwrap(),
            "--listen",
            &format!("socketmap=unix:{}", socket.display()),
            "--pid-file",
            pid_file.to_str().unwrap(),
            "--user",
            "nobody",
        ]);
        d.signal(Signal::SIGTERM);
        assert_eq!(d.exit_code(), Some(0));
        assert_eq!(
            (socket.exists(), pid_file.exists()),
            (!removable, !removable)
        );
        let log = d.lines();
        if !removable {
            for line in [
                format!(
                    "srsd: warning: cannot remove socket {}: Permission denied (os error 13)",
                    socket.display()
                ),
                format!(
                    "srsd: warning: cannot remove pid file {}: Permission denied (os error 13)",
                    pid_file.display()
                ),
            ] {
                assert!(log.contains(&line), "{line} not in {log:?}");
            }
            let _ = std::fs::remove_file(&socket);
            let _ = std::fs::remove_file(&pid_file);
        }
    }
}

/// Under --chroot, every path is written as seen from outside and must lie
/// inside the chroot: it works at start, at reload and at stop.
#[test]
fn chroot_paths_work_at_start_reload_and_stop() {
    if !is_root() {
        common::skip("chroot needs root");
        return;
    }
    let s = Setup::new();
    std::fs::set_permissions(s.dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let nobody = nix::unistd::User::from_name("nobody").unwrap().unwrap();
    let jail = s.dir.path().join("jail");
    let (etc, run) = (jail.join("etc"), jail.join("run"));
    std::fs::create_dir_all(&etc).unwrap();
    std::fs::create_dir_all(&run).unwrap();
    nix::unistd::chown(&run, Some(nobody.uid), Some(nobody.gid)).unwrap();
    let keys = etc.join("keys");
    write_keys(&keys, "s3cret\n");
    nix::unistd::chown(&keys, Some(nobody.uid), None).unwrap();
    let (socket, pid_file) = (run.join("socketmap"), run.join("srsd.pid"));
    let conf = etc.join("srsd.conf");
    std::fs::write(
        &conf,
        format!(
            "domain = fwd.example\nsecret-file = {}\nlisten = socketmap=unix:{}\npid-file = {}\nchroot = {}\nuser = nobody\n",
            keys.display(),
            socket.display(),
            pid_file.display(),
            jail.display()
        ),
    )
    .unwrap();
    let mut d = srsd(&["-c", conf.to_str().unwrap()]);
    assert_eq!(
        std::fs::read_link(format!("/proc/{}/root", d.child.id())).unwrap(),
        jail
    );
    let sock = socket.to_str().unwrap();
    assert_eq!(
        stdout(&srsc(&["-s", sock, "reverse", ALICE])),
        "alice@origin.example\n"
    );
    // A new key on top, read at reload from inside the chroot.
    write_keys(&keys, "another\ns3cret\n");
    nix::unistd::chown(&keys, Some(nobody.uid), None).unwrap();
    d.signal(Signal::SIGHUP);
    d.wait_for_log("reloaded");
    assert_eq!(
        stdout(&srsc(&["-s", sock, "forward", "alice@origin.example"])),
        format!("{ALICE_ANOTHER}\n")
    );
    assert_eq!(
        stdout(&srsc(&["-s", sock, "reverse", ALICE])),
        "alice@origin.example\n"
    );
    d.signal(Signal::SIGTERM);
    assert_eq!(d.exit_code(), Some(0));
    assert_eq!((socket.exists(), pid_file.exists()), (false, false));

    // A keys file outside the chroot could not be read at reload: refused.
    let o = Command::new(env!("CARGO_BIN_EXE_srsd"))
        .args([
            "-c",
            conf.to_str().unwrap(),
            "-k",
            s.keys().to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(78));
    assert_eq!(
        String::from_utf8_lossy(&o.stderr),
        format!(
            "srsd: error: {} is outside the chroot {}, where srsd cannot reach it after start\n",
            s.keys().display(),
            jail.display()
        )
    );
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

/// `srsd -t` (`--check-config`) checks everything without binding: 0 and
/// "configuration OK", or 78 with every problem named.
#[test]
fn check_config_names_every_problem() {
    let s = Setup::new();
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_srsd"))
            .args(args)
            .output()
            .unwrap()
    };
    let mut good = vec!["-t"];
    let base = s.base_args();
    good.extend(base.iter().map(String::as_str));
    let o = run(&good);
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(
        String::from_utf8_lossy(&o.stdout),
        "srsd: configuration OK\n"
    );
    assert!(!Path::new(&s.socketmap).exists(), "nothing is bound");
    let o = run(&[
        "--check-config",
        "-d",
        "forwarder.example",
        "-k",
        "/nonexistent/keys",
        "--user",
        "no-such-user-here",
        "--listen",
        "line=unix:/nonexistent/dir/sock",
        "--listen",
        "socketmap=inet:0.0.0.0:1",
    ]);
    assert_eq!(o.status.code(), Some(78));
    assert_eq!(
        String::from_utf8_lossy(&o.stderr),
        "srsd: domain forwarder.example is the example configuration's placeholder: set domain to your forwarding domain\n\
         srsd: listener socketmap=inet:0.0.0.0:1 is not on a loopback address: anyone who reaches it can make valid SRS addresses; use 127.0.0.1 or ::1, or give --allow-non-loopback\n\
         srsd: cannot read keys file /nonexistent/keys: No such file or directory (os error 2)\n\
         srsd: no user named \"no-such-user-here\"\n\
         srsd: listener line=unix:/nonexistent/dir/sock: directory /nonexistent/dir does not exist\n"
    );
    // postsrsd's -v for the version.
    let o = run(&["-v"]);
    assert_eq!(
        String::from_utf8_lossy(&o.stdout),
        format!("srsd {}\n", env!("CARGO_PKG_VERSION"))
    );
}

/// A bounce policy that refuses unsigned bounces needs every local sender
/// signed: without `always-rewrite`, `srsd -t` and start-up refuse it with
/// the reason, from the command line and from a configuration file.
#[test]
fn a_bounce_policy_without_always_rewrite_is_refused() {
    let s = Setup::new();
    let base = s.base_args();
    let run = |extra: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_srsd"))
            .args(&base)
            .args(extra)
            .output()
            .unwrap()
    };
    let why = |policy: &str| {
        format!(
            "bounce-policy = {policy} needs always-rewrite: it refuses every bounce to a local address without an SRS signature, and without always-rewrite the senders of the local domains are never signed, so every genuine bounce to a local user would be refused; set always-rewrite, or bounce-policy = off"
        )
    };
    let o = run(&["-t", "--bounce-policy", "data"]);
    assert_eq!(
        (
            o.status.code(),
            String::from_utf8_lossy(&o.stderr).into_owned()
        ),
        (Some(78), format!("srsd: {}\n", why("data")))
    );
    let o = run(&["--bounce-policy", "rcpt"]);
    assert_eq!(
        (
            o.status.code(),
            String::from_utf8_lossy(&o.stderr).into_owned()
        ),
        (Some(78), format!("srsd: error: {}\n", why("rcpt")))
    );
    assert!(!Path::new(&s.socketmap).exists(), "nothing is bound");
    let conf = s.dir.path().join("srsd.conf");
    std::fs::write(&conf, "bounce-policy = data\n").unwrap();
    let o = run(&["-t", "-c", conf.to_str().unwrap()]);
    assert_eq!(
        (
            o.status.code(),
            String::from_utf8_lossy(&o.stderr).into_owned()
        ),
        (Some(78), format!("srsd: {}\n", why("data")))
    );
    std::fs::write(&conf, "bounce-policy = data\nalways-rewrite = yes\n").unwrap();
    let o = run(&["-t", "-c", conf.to_str().unwrap()]);
    assert_eq!(
        (
            o.status.code(),
            String::from_utf8_lossy(&o.stdout).into_owned()
        ),
        (Some(0), "srsd: configuration OK\n".to_owned())
    );
    let o = run(&["-t", "--bounce-policy", "off"]);
    assert_eq!(o.status.code(), Some(0));
    // A reload to such settings keeps the running ones, and says why.
    std::fs::write(&conf, "bounce-policy = off\n").unwrap();
    let d = s.spawn(&["-c", conf.to_str().unwrap()]);
    std::fs::write(&conf, "bounce-policy = data\n").unwrap();
    d.signal(Signal::SIGHUP);
    d.wait_for_log(&format!(
        "reload failed, keeping the previous settings: {}",
        why("data")
    ));
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

/// postsrsd 1.x's options get a usage error and the option's name here.
#[test]
fn postsrsd_options_point_to_their_names_here() {
    for (args, hint) in [
        (
            &["-s", "/etc/postsrsd.secret", "-d", "fwd.example"][..],
            "postsrsd's -s FILE is --secret-file FILE (-k FILE) here",
        ),
        (
            &["-f", "10001"][..],
            "postsrsd's -f PORT is --listen tcp-forward=inet:127.0.0.1:PORT here",
        ),
        (
            &["-X", "example.org"][..],
            "postsrsd's -X DOMAIN is --local-domain DOMAIN here",
        ),
    ] {
        let o = Command::new(env!("CARGO_BIN_EXE_srsd"))
            .args(args)
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(64));
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(
            err.ends_with(&format!(
                "srsd: {hint} (postsrsd's -c DIR is --chroot DIR; see Migrating in the README)\n"
            )),
            "{err}"
        );
    }
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
