//! The one SMTP or LMTP server the tests deliver to: aiosmtpd (Debian's
//! python3-aiosmtpd) running `tests/data/sink.py` on 127.0.0.1, port 0,
//! recording every message it takes.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::time::Duration;

/// One message as the sink received it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Envelope {
    /// The envelope sender, empty for the null sender.
    pub from: String,
    pub to: Vec<String>,
    /// The message as sent (dot-stuffing undone), read as UTF-8.
    pub data: String,
}

/// A running sink, stopped on drop (and when the test's end closes its
/// standard input).
pub struct Sink {
    child: Child,
    _stdin: ChildStdin,
    log: PathBuf,
    pub port: u16,
}

impl Sink {
    /// A sink speaking `kind` (`smtp` or `lmtp`), recording into `dir`; `None`
    /// when aiosmtpd is missing (after saying so).
    pub fn start(kind: &str, dir: &Path) -> Option<Sink> {
        let python = PathBuf::from("/usr/bin/python3");
        let has_aiosmtpd = python.is_file()
            && Command::new(&python)
                .args(["-c", "import aiosmtpd"])
                .status()
                .is_ok_and(|s| s.success());
        if !has_aiosmtpd {
            super::skip("aiosmtpd not found (install the Debian package python3-aiosmtpd)");
            return None;
        }
        let log = dir.join(format!("{kind}-sink.jsonl"));
        let mut child = Command::new(&python)
            .arg(super::data_dir().join("sink.py"))
            .arg(kind)
            .arg(&log)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let stdin = child.stdin.take().unwrap();
        // Its first line is the port, within 30 s.
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(line);
        });
        let line = rx
            .recv_timeout(Duration::from_secs(30))
            .unwrap_or_else(|_| {
                let _ = child.kill();
                panic!("sink.py gave no port within 30 s")
            });
        let port = line
            .trim()
            .parse()
            .unwrap_or_else(|e| panic!("sink.py's port {line:?}: {e}"));
        Some(Sink {
            child,
            _stdin: stdin,
            log,
            port,
        })
    }

    /// The messages received so far.
    pub fn messages(&self) -> Vec<Envelope> {
        let log = std::fs::read_to_string(&self.log).unwrap_or_default();
        // Whole lines only: sink.py may be writing the next one.
        let whole = &log[..log.rfind('\n').map_or(0, |end| end + 1)];
        whole
            .lines()
            .map(|l| {
                let v: serde_json::Value = serde_json::from_str(l).unwrap();
                let text = |k: &str| v[k].as_str().unwrap_or_default().to_owned();
                let from = text("from");
                Envelope {
                    from: if from == "<>" { String::new() } else { from },
                    to: v["to"]
                        .as_array()
                        .map(|a| {
                            a.iter()
                                .filter_map(|t| t.as_str())
                                .map(String::from)
                                .collect()
                        })
                        .unwrap_or_default(),
                    // sink.py writes the bytes as latin-1 text: back to
                    // bytes, read as UTF-8.
                    data: String::from_utf8_lossy(
                        &text("data").chars().map(|c| c as u8).collect::<Vec<u8>>(),
                    )
                    .into_owned(),
                }
            })
            .collect()
    }

    /// Waits (at most 60 s) for a message whose text holds `token`.
    pub fn wait_for(&self, token: &str) -> Envelope {
        self.wait_for_or(token, String::new)
    }

    /// Like [`Sink::wait_for`], with `context` (a log, say) in the failure.
    pub fn wait_for_or(&self, token: &str, context: impl Fn() -> String) -> Envelope {
        let mut found = None;
        super::wait_until_or(
            &format!("{token} at the sink"),
            Duration::from_secs(60),
            || {
                found = self.messages().into_iter().find(|m| m.data.contains(token));
                found.is_some()
            },
            context,
        );
        found.unwrap()
    }
}

impl Drop for Sink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
