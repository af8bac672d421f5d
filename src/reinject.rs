//! Handing a message on to `sendmail`: never through a shell, `--` before the
//! recipients, the message streamed byte for byte, and an exit status that
//! never reports success for a message that may not have been queued.

use std::ffi::OsString;
use std::io::{self, Read, Write};
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Command, ExitStatus, Stdio};
use std::time::Duration;

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
        /// The program.
        program: String,
        /// Why.
        source: io::Error,
    },
    /// Reading the message or writing it to sendmail failed.
    #[error("cannot pass the message to sendmail: {0}")]
    Stream(io::Error),
    /// sendmail failed.
    #[error("{program} {status}")]
    Failed {
        /// The program.
        program: String,
        /// How it ended.
        status: ExitStatus,
    },
    /// sendmail took too long and was killed.
    #[error("{program} did not finish within {seconds} s and was killed")]
    Timeout {
        /// The program.
        program: String,
        /// The limit.
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

/// Sends `head` then the rest of `input` to sendmail with envelope sender
/// `sender` (empty for the null sender) and `recipients`.
pub fn reinject(
    sendmail: &Sendmail,
    sender: &str,
    recipients: &[String],
    head: &[u8],
    input: &mut dyn Read,
) -> Result<(), ReinjectError> {
    let program = sendmail.program.display().to_string();
    let mut child = Command::new(&sendmail.program)
        .args(&sendmail.options)
        .arg("-i")
        .arg("-f")
        .arg(sender)
        .arg("--")
        .args(recipients)
        .stdin(Stdio::piped())
        // Its own process group, so a timeout also ends what it started.
        .process_group(0)
        .spawn()
        .map_err(|source| ReinjectError::Spawn {
            program: program.clone(),
            source,
        })?;
    let copied = match child.stdin.take() {
        Some(mut stdin) => stdin
            .write_all(head)
            .and_then(|()| io::copy(input, &mut stdin).map(drop))
            .and_then(|()| stdin.flush()),
        None => Err(io::Error::other("no pipe to sendmail")),
    };
    // The pipe is closed here (stdin dropped): sendmail sees the end.
    if let Err(e) = copied {
        // Part of the message went in: sendmail must not queue it.
        let _ = child.kill();
        let _ = child.wait();
        return Err(ReinjectError::Stream(e));
    }
    // Wait in a thread, so the answer comes the moment sendmail exits and
    // the timeout needs no polling.
    let pid = child.id();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait());
    });
    let waited = match rx.recv_timeout(sendmail.timeout) {
        Ok(waited) => waited,
        Err(_) => {
            let group = nix::unistd::Pid::from_raw(pid as i32);
            let _ = nix::sys::signal::killpg(group, nix::sys::signal::Signal::SIGKILL);
            let _ = rx.recv();
            return Err(ReinjectError::Timeout {
                program,
                seconds: sendmail.timeout.as_secs(),
            });
        }
    };
    match waited {
        Ok(status) if status.success() => Ok(()),
        Ok(status) => Err(ReinjectError::Failed { program, status }),
        Err(e) => Err(ReinjectError::Stream(e)),
    }
}
