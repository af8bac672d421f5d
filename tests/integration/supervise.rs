//! The whole daemon in-process through the library's supervisor: listeners
//! bound from a plan, the pid file, readiness and reload notification,
//! reloads with good and broken keys driven by a signal channel, and a stop
//! that drains within its time.

use crate::common;

use std::io::{Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::{UnixDatagram, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use mail_srs::cli::srsd::SrsdCli;
use mail_srs::daemon::notify::Notifier;
use mail_srs::daemon::signals::{Signal, Signals};
use mail_srs::daemon::supervise::{self, SuperviseError};
use tempfile::TempDir;
use tokio::sync::mpsc;

const NOW: &str = "1795435200";
const ALICE: &str = "SRS0=F0KE=JM=origin.example=alice@fwd.example";
/// alice@origin.example signed with the secret `newkey` on the same day.
const ALICE_NEWKEY: &str = "SRS0=8gHU=JM=origin.example=alice@fwd.example";

/// srsd under the supervisor, in a thread, with the systemd notifications
/// it sends and the channel that signals it.
struct Supervised {
    dir: TempDir,
    signals: Option<mpsc::Sender<Signal>>,
    notes: UnixDatagram,
    thread: Option<JoinHandle<Result<(), SuperviseError>>>,
}

impl Supervised {
    fn start(extra: &[&str]) -> Supervised {
        let dir = TempDir::new().unwrap();
        let keys = dir.path().join("keys");
        std::fs::write(&keys, "s3cret\n").unwrap();
        std::fs::set_permissions(&keys, std::fs::Permissions::from_mode(0o600)).unwrap();
        let notify_path = dir.path().join("notify");
        let notes = UnixDatagram::bind(&notify_path).unwrap();
        notes
            .set_read_timeout(Some(Duration::from_secs(20)))
            .unwrap();
        let path = |name: &str| dir.path().join(name).to_str().unwrap().to_owned();
        let mut args: Vec<std::ffi::OsString> = [
            "srsd",
            "--now",
            NOW,
            "-d",
            "fwd.example",
            "-k",
            &path("keys"),
            "--listen",
            &format!("socketmap=unix:{}", path("socketmap")),
            "--pid-file",
            &path("srsd.pid"),
        ]
        .iter()
        .map(Into::into)
        .collect();
        args.extend(extra.iter().map(Into::into));
        let cli = SrsdCli::load(&args).unwrap();
        let (state, _) = cli.prepare().unwrap();
        let (plan, clock) = (cli.plan(), cli.clock());
        let notifier = Arc::new(Notifier::connect(&notify_path).unwrap());
        let (tx, rx) = mpsc::channel(4);
        let thread = std::thread::spawn(move || {
            let reload = Arc::new(move || cli.reload(&args));
            supervise::supervise(plan, state, reload, clock, Signals::Channel(rx), notifier)
        });
        let d = Supervised {
            dir,
            signals: Some(tx),
            notes,
            thread: Some(thread),
        };
        assert_eq!(d.note(), "READY=1\nSTATUS=serving");
        d
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// The next notification (at most 20 s away).
    fn note(&self) -> String {
        let mut buf = [0u8; 256];
        let n = self.notes.recv(&mut buf).expect("a notification");
        String::from_utf8_lossy(&buf[..n]).into_owned()
    }

    fn signal(&self, s: Signal) {
        self.signals.as_ref().unwrap().blocking_send(s).unwrap();
    }

    /// Reloads and waits until the reload has finished, well or not.
    fn reload(&self) {
        self.signal(Signal::Reload);
        assert!(self.note().starts_with("RELOADING=1\nMONOTONIC_USEC="));
        assert_eq!(self.note(), "READY=1");
    }

    fn forward(&self) -> String {
        let mut s = UnixStream::connect(self.path("socketmap")).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let request = "forward alice@origin.example";
        s.write_all(format!("{}:{request},", request.len()).as_bytes())
            .unwrap();
        let mut reply = Vec::new();
        let mut byte = [0u8; 1];
        while !reply.ends_with(b",") {
            s.read_exact(&mut byte).unwrap();
            reply.push(byte[0]);
        }
        let text = String::from_utf8(reply).unwrap();
        let (_, payload) = text.split_once(':').unwrap();
        payload.trim_end_matches(',').to_owned()
    }

    /// Waits (at most 30 s, so a daemon that hangs fails the test) for the
    /// supervisor to return.
    fn ended(&mut self) -> Result<(), SuperviseError> {
        common::joined_within_30s(self.thread.take().unwrap())
    }
}

fn write_keys(path: &Path, text: &str) {
    std::fs::write(path, text).unwrap();
}

#[test]
fn reloads_with_good_and_broken_keys() {
    let d = Supervised::start(&[]);
    assert_eq!(d.forward(), format!("OK {ALICE}"));
    write_keys(&d.path("keys"), "newkey\ns3cret\n");
    d.reload();
    assert_eq!(d.forward(), format!("OK {ALICE_NEWKEY}"));
    // Emptied by mistake: the reload fails, the previous keys stay.
    write_keys(&d.path("keys"), "# nothing here\n");
    d.reload();
    assert_eq!(d.forward(), format!("OK {ALICE_NEWKEY}"));
    // A FIFO in its place is refused at once, without blocking the reload.
    std::fs::remove_file(d.path("keys")).unwrap();
    nix::unistd::mkfifo(
        &d.path("keys"),
        nix::sys::stat::Mode::from_bits_truncate(0o600),
    )
    .unwrap();
    d.reload();
    assert_eq!(d.forward(), format!("OK {ALICE_NEWKEY}"));
}

#[test]
fn stop_drains_removes_the_files_and_reports() {
    let mut d = Supervised::start(&[
        "--listen",
        "tcp-reverse=inet:127.0.0.1:0",
        "--drain-timeout",
        "1",
    ]);
    let pid = std::fs::read_to_string(d.path("srsd.pid")).unwrap();
    assert_eq!(pid, format!("{}\n", std::process::id()));
    assert_eq!(d.forward(), format!("OK {ALICE}"));
    d.signal(Signal::Stop);
    assert_eq!(d.note(), "STOPPING=1");
    d.ended().unwrap();
    assert!(!d.path("socketmap").exists());
    assert!(!d.path("srsd.pid").exists());
}

/// A client that has not read its replies when the stop comes: the stop
/// still ends, and every reply it gets is whole.
#[test]
fn a_client_that_never_reads_does_not_hold_the_stop() {
    let mut d = Supervised::start(&["--drain-timeout", "1"]);
    let mut stuck = UnixStream::connect(d.path("socketmap")).unwrap();
    stuck
        .set_write_timeout(Some(Duration::from_secs(2)))
        .unwrap();
    let request = format!("{}:reverse {ALICE},", "reverse ".len() + ALICE.len());
    let mut sent = 0;
    while sent < 1_000_000 && stuck.write_all(request.as_bytes()).is_ok() {
        sent += 1;
    }
    d.signal(Signal::Stop);
    assert_eq!(d.note(), "STOPPING=1");
    d.ended().unwrap();
    // What srsd answered before the stop is whole: netstrings up to a cut.
    let mut got = Vec::new();
    let _ = stuck.read_to_end(&mut got);
    let reply = format!(
        "{}:OK alice@origin.example,",
        "OK alice@origin.example".len()
    );
    let whole = got.len() / reply.len() * reply.len();
    assert!(
        got[..whole]
            .chunks(reply.len())
            .all(|r| r == reply.as_bytes())
    );
}

#[test]
fn a_dropped_signal_sender_stops_the_daemon() {
    let mut d = Supervised::start(&[]);
    drop(d.signals.take());
    assert_eq!(d.note(), "STOPPING=1");
    d.ended().unwrap();
    assert!(!d.path("socketmap").exists());
}

#[test]
fn start_failures_are_typed_with_their_exit_status() {
    let dir = TempDir::new().unwrap();
    let not_a_dir = dir.path().join("file");
    std::fs::write(&not_a_dir, "").unwrap();
    let keys = dir.path().join("keys");
    std::fs::write(&keys, "s3cret\n").unwrap();
    let listen = format!("line=unix:{}/sock", not_a_dir.display());
    let args: Vec<std::ffi::OsString> = [
        "srsd",
        "-d",
        "fwd.example",
        "-k",
        keys.to_str().unwrap(),
        "--listen",
        &listen,
    ]
    .iter()
    .map(Into::into)
    .collect();
    let cli = SrsdCli::load(&args).unwrap();
    let (state, _) = cli.prepare().unwrap();
    let (_tx, rx) = mpsc::channel(1);
    let e = supervise::supervise(
        cli.plan(),
        state,
        Arc::new(|| Err("no reload".to_owned())),
        cli.clock(),
        Signals::Channel(rx),
        Arc::new(Notifier::from_env()),
    )
    .unwrap_err();
    assert_eq!(e.exit(), mail_srs::exit::Exit::Unavailable);
    assert_eq!(
        e.to_string(),
        format!("cannot listen on {listen}: Not a directory (os error 20)")
    );
}
