//! srsd (or srsrelay) run by a test: its standard error kept line by line,
//! ready once it logs its `serving` line (which it writes after listening,
//! unlike a socket file, which exists before), killed on drop. The one way
//! the tests run the daemon as a process.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

/// A running daemon and what it logged.
pub struct Srsd {
    pub child: Child,
    log: Arc<Mutex<Vec<String>>>,
    /// Set by the reader thread at the end of the daemon's stderr.
    ended: Arc<Mutex<bool>>,
}

impl Srsd {
    /// srsd with `args`, once it serves.
    pub fn start(args: &[&str]) -> Srsd {
        Srsd::start_command(Command::new(env!("CARGO_BIN_EXE_srsd")).args(args))
    }

    /// Runs `cmd` (srsd, srsrelay, or a shell that execs one) and waits
    /// (at most 20 s) until it serves.
    pub fn start_command(cmd: &mut Command) -> Srsd {
        let d = Srsd::spawn(cmd);
        d.wait_for_log("serving");
        d
    }

    /// Runs `cmd` without waiting for anything.
    pub fn spawn(cmd: &mut Command) -> Srsd {
        let mut child = cmd.stderr(Stdio::piped()).spawn().unwrap();
        let log = Arc::new(Mutex::new(Vec::new()));
        let ended = Arc::new(Mutex::new(false));
        let stderr = child.stderr.take().unwrap();
        let (sink, end) = (log.clone(), ended.clone());
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                lock(&sink).push(line);
            }
            *lock(&end) = true;
        });
        Srsd { child, log, ended }
    }

    /// Waits (at most 20 s) for a log line containing `text`, and gives it.
    /// A daemon whose log ends first (it exited) fails the test at once,
    /// with what it logged.
    pub fn wait_for_log(&self, text: &str) -> String {
        let mut found = None;
        super::wait_until_or(
            &format!("a log line {text:?}"),
            Duration::from_secs(20),
            || {
                let ended = *lock(&self.ended);
                found = self.lines().into_iter().find(|l| l.contains(text));
                assert!(
                    found.is_some() || !ended,
                    "the daemon's log ended without {text:?}:\n{}",
                    self.lines().join("\n")
                );
                found.is_some()
            },
            || format!("its log:\n{}", self.lines().join("\n")),
        );
        found.unwrap_or_default()
    }

    /// The log so far.
    pub fn lines(&self) -> Vec<String> {
        lock(&self.log).clone()
    }

    pub fn signal(&self, s: Signal) {
        kill(Pid::from_raw(self.child.id() as i32), s).unwrap();
    }

    /// Waits (at most 30 s, so a daemon that hangs fails the test) for the
    /// daemon to exit and its log to end, and gives its exit code.
    pub fn exit_code(&mut self) -> Option<i32> {
        let mut status = None;
        super::wait_until("the daemon to exit", Duration::from_secs(30), || {
            status = self.child.try_wait().unwrap();
            status.is_some()
        });
        // A process it left behind may hold its stderr: the log is read
        // as far as it goes within 10 s.
        let ended = self.ended.clone();
        super::wait_until("the end of its log", Duration::from_secs(10), || {
            *lock(&ended)
        });
        status.and_then(|s| s.code())
    }

    /// The port the daemon bound for `protocol` (given as port 0), from its
    /// `serving` line.
    pub fn port(&self, protocol: &str) -> u16 {
        let needle = format!("{protocol}=inet:127.0.0.1:");
        let line = self.wait_for_log("serving");
        let at = line
            .find(&needle)
            .unwrap_or_else(|| panic!("{needle} not in {line}"));
        line[at + needle.len()..]
            .chars()
            .take_while(char::is_ascii_digit)
            .collect::<String>()
            .parse()
            .unwrap()
    }

    /// The Unix socket of the daemon's `protocol` listener, from its
    /// `serving` line.
    pub fn socket(&self, protocol: &str) -> PathBuf {
        let needle = format!("{protocol}=unix:");
        let line = self.wait_for_log("serving");
        let at = line
            .find(&needle)
            .unwrap_or_else(|| panic!("{needle} not in {line}"));
        PathBuf::from(
            line[at + needle.len()..]
                .split([',', ' '])
                .next()
                .unwrap_or_default(),
        )
    }

    /// srsc's answer over the socketmap listener: exit status, stdout and
    /// stderr, trimmed.
    pub fn ask(&self, direction: &str, address: &str) -> (i32, String, String) {
        let o = Command::new(env!("CARGO_BIN_EXE_srsc"))
            .arg("-s")
            .arg(self.socket("socketmap"))
            .args([direction, address])
            .output()
            .unwrap();
        (
            o.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&o.stdout).trim().to_owned(),
            String::from_utf8_lossy(&o.stderr).trim().to_owned(),
        )
    }
}

impl Drop for Srsd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    match m.lock() {
        Ok(g) => g,
        Err(poisoned) => poisoned.into_inner(),
    }
}
