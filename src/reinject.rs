//! Handing a message on to `sendmail`: never through a shell, `--` before the
//! recipients, the message streamed byte for byte, and an exit status that
//! never reports success for a message that may not have been queued.
//!
//! Three threads share the work. This one waits for events under a single
//! deadline that covers spawn, copy and exit; a copier streams the message
//! into sendmail's standard input; a watcher waits for sendmail to exit
//! without reaping it, then looks for bytes sendmail left in the pipe. Because
//! nobody reaps sendmail before the outcome is known, its process group can
//! always be killed safely, and every failure ends the same way: the whole
//! group gets SIGKILL.

use std::ffi::OsString;
use std::io::{self, PipeReader, Read, Write};
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, killpg};
use nix::sys::wait::{Id, WaitPidFlag, WaitStatus, waitid};
use nix::unistd::Pid;

use thiserror::Error;

use crate::exit::Exit;

/// How to call sendmail.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sendmail {
    /// The program (default `/usr/sbin/sendmail`).
    pub program: PathBuf,
    /// Arguments before ours, such as `-C /etc/postfix-out`.
    pub options: Vec<OsString>,
    /// How long sendmail may take before it is killed.
    pub timeout: Duration,
}

/// Why the message was not handed on.
#[derive(Debug, Error)]
pub enum ReinjectError {
    /// sendmail could not be started.
    #[error("cannot run {program}: {source}")]
    Spawn {
        /// The sendmail program, as `--sendmail` names it.
        program: String,
        /// The operating system's reason.
        source: io::Error,
    },
    /// Reading the message or writing it to sendmail failed.
    #[error("cannot pass the message to sendmail: {0}")]
    Stream(io::Error),
    /// sendmail failed.
    #[error("{program} {status}")]
    Failed {
        /// The sendmail program, as `--sendmail` names it.
        program: String,
        /// Its exit status or the signal that ended it.
        status: ExitStatus,
    },
    /// sendmail exited 0 but left part of the message unread, so it may
    /// have queued a truncated copy; the MTA must try again.
    #[error("{program} exited 0 without reading the whole message")]
    Incomplete {
        /// The sendmail program, as `--sendmail` names it.
        program: String,
    },
    /// The hand-off took longer than the timeout; sendmail was killed.
    #[error("{program} did not take the message within {seconds} s and was killed")]
    Timeout {
        /// The sendmail program, as `--sendmail` names it.
        program: String,
        /// The `--timeout`, in seconds.
        seconds: u64,
    },
}

impl ReinjectError {
    /// The exit status for the MTA: a permanent sysexits code from sendmail
    /// is passed through; everything else is "try again later", so the
    /// message stays queued.
    pub fn exit(&self) -> Exit {
        match self {
            ReinjectError::Failed { status, .. } => match status.code() {
                Some(64) => Exit::Usage,
                Some(65) => Exit::DataErr,
                Some(67) => Exit::NoUser,
                _ => Exit::TempFail,
            },
            _ => Exit::TempFail,
        }
    }
}

/// What the helper threads report.
enum Event {
    /// The copier finished (the pipe is closed) or failed.
    Copied(io::Result<()>),
    /// sendmail exited (not yet reaped). `unread` is set when it exited 0
    /// while bytes of the message were still in the pipe.
    Exited {
        /// Whether it exited with status 0.
        clean: bool,
        /// Whether a clean exit left part of the message unread.
        unread: bool,
    },
    /// Waiting for sendmail failed.
    WaitFailed(io::Error),
}

/// Sends `head` then the rest of `input` to sendmail with envelope sender
/// `sender` (empty for the null sender) and `recipients`.
///
/// Success means sendmail exited 0 after reading every byte. Spawning,
/// copying and waiting share one deadline, `sendmail.timeout`; when it
/// passes, or on any failure, sendmail's process group is killed. A thread
/// blocked reading `input` may outlive the call; the helpers exit right after.
pub fn reinject(
    sendmail: &Sendmail,
    sender: &str,
    recipients: &[String],
    head: Vec<u8>,
    mut input: Box<dyn Read + Send>,
) -> Result<(), ReinjectError> {
    let deadline = Instant::now() + sendmail.timeout;
    let program = sendmail.program.display().to_string();
    let spawn_error = |source| ReinjectError::Spawn {
        program: program.clone(),
        source,
    };
    let (reader, mut writer) = io::pipe().map_err(spawn_error)?;
    // A second read end, kept from sendmail, to see what it left unread.
    let probe = reader.try_clone().map_err(spawn_error)?;
    let child = Command::new(&sendmail.program)
        .args(&sendmail.options)
        .arg("-i")
        .arg("-f")
        .arg(sender)
        .arg("--")
        .args(recipients)
        .stdin(Stdio::from(reader))
        // Its own process group, so a kill also ends what it started.
        .process_group(0)
        .spawn()
        .map_err(spawn_error)?;
    let pid = Pid::from_raw(child.id() as i32);
    let (tx, rx) = mpsc::channel();
    let copier_tx = tx.clone();
    std::thread::spawn(move || {
        let copied = writer
            .write_all(&head)
            .and_then(|()| io::copy(&mut input, &mut writer).map(drop))
            .and_then(|()| writer.flush());
        // Close the pipe before reporting, so sendmail sees the end.
        drop(writer);
        let _ = copier_tx.send(Event::Copied(copied));
    });
    std::thread::spawn(move || watch(pid, probe, &tx));

    let mut guard = Group { child, pid };
    let mut copied = false;
    let mut exited = false;
    while !(copied && exited) {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(Event::Copied(Ok(()))) => copied = true,
            Ok(Event::Copied(Err(e))) | Ok(Event::WaitFailed(e)) => {
                let _ = guard.kill();
                return Err(ReinjectError::Stream(e));
            }
            Ok(Event::Exited { clean: false, .. }) => {
                let status = guard.kill();
                return Err(match status {
                    Ok(status) => ReinjectError::Failed { program, status },
                    Err(e) => ReinjectError::Stream(e),
                });
            }
            Ok(Event::Exited { unread: true, .. }) => {
                let _ = guard.kill();
                return Err(ReinjectError::Incomplete { program });
            }
            Ok(Event::Exited { .. }) => exited = true,
            Err(_) => {
                let _ = guard.kill();
                return Err(ReinjectError::Timeout {
                    program,
                    seconds: sendmail.timeout.as_secs(),
                });
            }
        }
    }
    guard.reap().map_err(ReinjectError::Stream)?;
    Ok(())
}

/// Waits for sendmail to exit without reaping it, then, after a clean exit,
/// reads the spare end of the pipe: any byte there was never read. The
/// probe end is dropped only after reporting, so until then a copier writing
/// into the pipe blocks instead of failing with a broken pipe.
fn watch(pid: Pid, mut probe: PipeReader, tx: &mpsc::Sender<Event>) {
    let event = loop {
        match waitid(Id::Pid(pid), WaitPidFlag::WEXITED | WaitPidFlag::WNOWAIT) {
            Err(nix::errno::Errno::EINTR) => continue,
            Err(e) => break Event::WaitFailed(e.into()),
            Ok(WaitStatus::Exited(_, 0)) => {
                // Blocks until the copier writes more or closes the pipe, so a
                // sendmail that quit early is caught however the race went.
                let mut byte = [0u8; 1];
                let unread = loop {
                    match probe.read(&mut byte) {
                        Ok(n) => break n > 0,
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                        Err(_) => break false,
                    }
                };
                break Event::Exited {
                    clean: true,
                    unread,
                };
            }
            Ok(_) => {
                break Event::Exited {
                    clean: false,
                    unread: false,
                };
            }
        }
    };
    let _ = tx.send(event);
}

/// sendmail's process, not yet reaped, so its process ID, which is also its
/// group's, cannot be reused while this exists.
struct Group {
    child: Child,
    pid: Pid,
}

impl Group {
    /// Kills the whole group, then reaps sendmail: the one way every failure
    /// ends. Gives sendmail's status (its own exit code if it had exited).
    fn kill(&mut self) -> io::Result<ExitStatus> {
        let _ = killpg(self.pid, Signal::SIGKILL);
        self.child.wait()
    }

    /// Reaps sendmail after it exited by itself.
    fn reap(&mut self) -> io::Result<ExitStatus> {
        self.child.wait()
    }
}
