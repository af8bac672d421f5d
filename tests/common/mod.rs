//! Helpers shared by the integration tests.
#![allow(dead_code)] // each test binary uses a different part

pub mod engine;
pub mod postfix;
pub mod redis;
pub mod sink;
pub mod srsd;

use std::path::PathBuf;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use mail_srs::srs::{HashAlphabet, Options, Separator};
use serde_json::Value;

/// One line of `tests/data/srs.jsonl` (see `tests/data/vectors-README.md`).
#[derive(Debug)]
pub struct Vector {
    pub case: String,
    pub op: String,
    pub epoch: u64,
    pub separator: Separator,
    pub hash_length: usize,
    pub hash_min: usize,
    pub max_age: u16,
    pub alias: String,
    pub secrets: Vec<Vec<u8>>,
    pub input: String,
    /// `Some(output)` when the operation must succeed.
    pub expect: Option<String>,
}

impl Vector {
    pub fn now(&self) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(self.epoch)
    }

    pub fn options(&self) -> Options {
        Options {
            separator: self.separator,
            hash_length: self.hash_length,
            hash_min: Some(self.hash_min),
            max_age: self.max_age,
            alphabet: HashAlphabet::Standard,
            ..Options::default()
        }
    }
}

pub fn data_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data")
}

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex"))
        .collect()
}

pub fn vectors() -> Vec<Vector> {
    let text = std::fs::read_to_string(data_dir().join("srs.jsonl")).expect("vectors");
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|line| {
            let v: Value = serde_json::from_str(line).expect("json");
            let s = |k: &str| v[k].as_str().unwrap_or_default().to_owned();
            let n = |k: &str| v[k].as_u64().expect(k);
            let secrets = match v.get("secret_file_hex") {
                Some(f) => {
                    mail_srs::secrets::parse(
                        &hex(f.as_str().expect("hex")),
                        mail_srs::secrets::LineEnds::Strip,
                    )
                    .0
                }
                None => v["secrets_hex"]
                    .as_array()
                    .expect("secrets")
                    .iter()
                    .map(|h| hex(h.as_str().expect("hex")))
                    .collect(),
            };
            Vector {
                case: s("case"),
                op: s("op"),
                epoch: n("epoch"),
                separator: s("separator").parse().expect("separator"),
                hash_length: n("hash_length") as usize,
                hash_min: n("hash_min") as usize,
                max_age: n("max_age") as u16,
                alias: s("alias"),
                secrets,
                input: String::from_utf8(hex(&s("input_hex"))).expect("utf-8 input"),
                expect: (v["expect"]["ok"] == Value::Bool(true))
                    .then(|| v["expect"]["output"].as_str().expect("output").to_owned()),
            }
        })
        .collect()
}

/// Finds an outside program the test needs. Without it the test skips with a
/// message on stderr, unless `SRS_REQUIRE_PEERS=1`, where it fails.
pub fn peer(program: &str, package: &str) -> Option<PathBuf> {
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .chain(["/usr/sbin".into(), "/sbin".into()])
            .map(|d| d.join(program))
            .find(|p| p.is_file())
    });
    if found.is_none() {
        let msg = format!("{program} not found (install the Debian package {package})");
        if std::env::var("SRS_REQUIRE_PEERS").as_deref() == Ok("1") {
            panic!("SRS_REQUIRE_PEERS=1 and {msg}");
        }
        skip(&msg);
    }
    found
}

/// A loopback TCP port nobody listens on right now. Racy (another process
/// may take it before the peer binds it): only for peers that can neither
/// take a bound listener nor report the port they got (postsrsd, Postfix's
/// smtpd, srsd inside the Postfix scenarios). srsd's own tests bind port 0
/// and read the port from its "serving" line.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

/// Records that the running test is skipped, and why: on stderr, and in
/// `target/tmp/skipped-tests`, which `scripts/test.sh` sums up after the
/// run, so a skipped test does not pass for one that ran. Under
/// `SRS_REQUIRE_PEERS=1` a skip is a failure instead.
pub fn skip(reason: &str) {
    assert!(
        std::env::var("SRS_REQUIRE_PEERS").as_deref() != Ok("1"),
        "SRS_REQUIRE_PEERS=1 and {reason}"
    );
    // libtest names each test's thread after the test.
    let test = std::thread::current().name().unwrap_or("?").to_owned();
    let binary = std::env::args()
        .next()
        .and_then(|p| {
            std::path::Path::new(&p)
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
        })
        .unwrap_or_default();
    let binary = binary
        .rsplit_once('-')
        .map_or(binary.as_str(), |(b, _)| b)
        .to_owned();
    eprintln!("skipping {test}: {reason}");
    let log = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("skipped-tests");
    let line = format!("{binary}::{test}: {reason}\n");
    let _ = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .and_then(|mut f| std::io::Write::write_all(&mut f, line.as_bytes()));
}

/// Makes `stream` a client that stops reading: a small receive buffer, then
/// `request` sent until srsd's replies back up and the writes block (each
/// write waits 2 s at most; a million requests at most).
pub fn stop_reading(stream: &mut std::net::TcpStream, request: &[u8]) {
    nix::sys::socket::setsockopt(&*stream, nix::sys::socket::sockopt::RcvBuf, &4096).unwrap();
    stream
        .set_write_timeout(Some(Duration::from_secs(2)))
        .unwrap();
    let mut sent = 0;
    while sent < 1_000_000 && std::io::Write::write_all(stream, request).is_ok() {
        sent += 1;
    }
}

/// Waits (at most 30 s, so a daemon that hangs fails the test) for `thread`
/// to end, and gives what it returned.
pub fn joined_within_30s<T: Send + 'static>(thread: std::thread::JoinHandle<T>) -> T {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(thread.join().unwrap());
    });
    rx.recv_timeout(Duration::from_secs(30))
        .expect("the daemon did not stop within 30 s")
}

/// `sender` forwarded via fwd.example by the `srs` binary with `keys`, at
/// Unix time `now` (or the real clock).
pub fn srs_forward(keys: &std::path::Path, now: Option<u64>, sender: &str) -> String {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_srs"));
    if let Some(now) = now {
        cmd.arg("--now").arg(now.to_string());
    }
    let o = cmd
        .arg("-k")
        .arg(keys)
        .args(["forward", "-a", "fwd.example", sender])
        .output()
        .unwrap();
    String::from_utf8(o.stdout).unwrap().trim().to_owned()
}

/// Drops the address database's table `kv` from `file`, as another process
/// would under srsd's feet (Debian python3's sqlite3 module); whether it
/// worked.
pub fn drop_sqlite_table(file: &std::path::Path) -> bool {
    std::process::Command::new("/usr/bin/python3")
        .args([
            "-c",
            "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.execute('DROP TABLE kv'); c.commit()",
        ])
        .arg(file)
        .status()
        .is_ok_and(|s| s.success())
}

/// The text of one guide under `docs/` (`name` without `.md`), its lines
/// trimmed so that indented snippets compare with the tested ones; see
/// [`flat`].
pub fn guide(name: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("docs")
        .join(format!("{name}.md"));
    flat(&std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display())))
}

/// `text` with each line trimmed: a snippet nested in a Markdown list
/// compares with the tested lines.
pub fn flat(text: &str) -> String {
    text.lines().map(str::trim).collect::<Vec<_>>().join("\n")
}

/// Waits (at most `timeout`, checking every 20 ms) until `done` holds;
/// fails the test naming `what` when it does not.
pub fn wait_until(what: &str, timeout: Duration, done: impl FnMut() -> bool) {
    wait_until_or(what, timeout, done, String::new);
}

/// Like [`wait_until`], with `context()` (a log, say) in the failure.
pub fn wait_until_or(
    what: &str,
    timeout: Duration,
    mut done: impl FnMut() -> bool,
    context: impl Fn() -> String,
) {
    let deadline = std::time::Instant::now() + timeout;
    while !done() {
        assert!(
            std::time::Instant::now() < deadline,
            "gave up waiting for {what} after {} s\n{}",
            timeout.as_secs(),
            context()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Runs `cmd` to its end, as `Command::output` does, but fails the test if
/// it has not ended within `limit`; see [`ended_within`].
pub fn output_within(cmd: &mut std::process::Command, limit: Duration) -> std::process::Output {
    ended_within(cmd, limit).unwrap_or_else(|printed| {
        panic!(
            "{cmd:?} did not end within {} s; it printed:\n{printed}",
            limit.as_secs()
        )
    })
}

/// Runs `cmd` to its end and gives its output, or, when it has not ended
/// within `limit`, kills it and gives what it printed. A process it left
/// running that still holds its output does not hold the caller: what came
/// within 5 s of its exit is its output.
pub fn ended_within(
    cmd: &mut std::process::Command,
    limit: Duration,
) -> Result<std::process::Output, String> {
    use std::io::Read;
    use std::process::Stdio;
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    let (tx, rx) = std::sync::mpsc::channel();
    let readers: Vec<Box<dyn Read + Send>> = vec![
        Box::new(child.stdout.take().unwrap()),
        Box::new(child.stderr.take().unwrap()),
    ];
    let texts: Vec<std::sync::Arc<std::sync::Mutex<Vec<u8>>>> =
        (0..2).map(|_| Default::default()).collect();
    for (mut pipe, text) in readers.into_iter().zip(texts.clone()) {
        let tx = tx.clone();
        std::thread::spawn(move || {
            let mut buf = [0; 4096];
            while let Ok(n @ 1..) = pipe.read(&mut buf) {
                text.lock().unwrap().extend_from_slice(&buf[..n]);
            }
            let _ = tx.send(());
        });
    }
    let printed = |i: usize| texts[i].lock().unwrap().clone();
    let deadline = std::time::Instant::now() + limit;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if std::time::Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!(
                "{}{}",
                String::from_utf8_lossy(&printed(0)),
                String::from_utf8_lossy(&printed(1))
            ));
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let ends = std::time::Instant::now() + Duration::from_secs(5);
    for _ in 0..2 {
        let left = ends.saturating_duration_since(std::time::Instant::now());
        if rx.recv_timeout(left).is_err() {
            break;
        }
    }
    Ok(std::process::Output {
        status,
        stdout: printed(0),
        stderr: printed(1),
    })
}
