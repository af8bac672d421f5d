//! `--background` without fork: srsd runs itself again, detached, and waits
//! until that copy reports `READY=1` on a private notification socket (the
//! systemd protocol it already speaks), so the command returns only once the
//! daemon serves, or fails with the copy's own exit status.

use std::ffi::OsString;
use std::io;
use std::os::unix::net::UnixDatagram;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Set in the detached copy, so it starts a new session.
pub const CHILD_ENV: &str = "SRSD_BACKGROUND_CHILD";

/// How the background start ended.
#[derive(Debug)]
pub enum Started {
    /// The daemon is ready, with this process ID.
    Ready(u32),
    /// It exited first, with this status (None: killed by a signal).
    Exited(Option<i32>),
}

/// Starts `args` (with the program name, without `--background`) detached and
/// waits up to `wait` for it to be ready.
pub fn start(args: &[OsString], wait: Duration) -> io::Result<Started> {
    // Private (0700), named at random, and removed when dropped.
    let dir = tempfile::Builder::new().prefix("srsd-start-").tempdir()?;
    let path = dir.path().join("notify");
    let socket = UnixDatagram::bind(&path)?;
    socket.set_read_timeout(Some(Duration::from_millis(100)))?;
    let exe = std::env::current_exe()?;
    let mut child = Command::new(exe)
        .args(
            args.iter()
                .skip(1)
                .filter(|a| a.as_os_str() != "--background"),
        )
        .env("NOTIFY_SOCKET", &path)
        .env(CHILD_ENV, "1")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .spawn()?;
    let deadline = Instant::now() + wait;
    let mut buf = [0u8; 256];
    let result = loop {
        if let Ok(n) = socket.recv(&mut buf)
            && buf[..n].starts_with(b"READY=1")
        {
            break Ok(Started::Ready(child.id()));
        }
        if let Some(status) = child.try_wait()? {
            break Ok(Started::Exited(status.code()));
        }
        if Instant::now() > deadline {
            break Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "the daemon did not report ready",
            ));
        }
    };
    drop(socket);
    let _ = dir.close();
    result
}

/// Whether this process is the detached copy [`start`] runs: it serves,
/// and never detaches again, whatever its settings say (`background = yes`
/// in a configuration file reaches the copy too).
pub fn is_detached_copy() -> bool {
    std::env::var_os(CHILD_ENV).is_some()
}

/// In the detached copy: leave the terminal's session.
pub fn detach() {
    let _ = nix::unistd::setsid();
}

/// `--background`: starts the detached copy and says how it went on
/// standard error, with the exit status to return. `log_to_terminal` warns
/// that log messages will still go to this terminal.
pub fn start_logged(
    prog: &str,
    args: &[OsString],
    log_to_terminal: bool,
    wait: Duration,
) -> crate::exit::Exit {
    use crate::exit::Exit;
    if log_to_terminal {
        eprintln!(
            "{prog}: warning: in the background, log messages go to this terminal for as long as it exists; use --log syslog"
        );
    }
    match start(args, wait) {
        Ok(Started::Ready(pid)) => {
            eprintln!("{prog}: running in the background as process {pid}");
            Exit::Ok
        }
        Ok(Started::Exited(code)) => match code.and_then(|c| u8::try_from(c).ok()) {
            Some(78) => Exit::Config,
            Some(64) => Exit::Usage,
            Some(73) => Exit::CantCreate,
            _ => Exit::Unavailable,
        },
        Err(e) => {
            eprintln!("{prog}: cannot start in the background: {e}");
            Exit::Unavailable
        }
    }
}
