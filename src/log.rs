//! A small `log` backend for the programs: one line per record on stderr,
//! `PROGRAM: LEVEL: message`, or with sd-daemon `<N>` priority prefixes when
//! stderr goes to the systemd journal; or to syslog's mail facility.
//!
//! Not the syslog crate: srsd needs the socket connected before a chroot
//! and one reconnect when syslogd restarts, with the socket path injected
//! for tests; the datagram it sends is one `format!`.

use std::os::unix::net::UnixDatagram;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use log::{Level, LevelFilter, Log, Metadata, Record};

/// syslog's mail facility (LOG_MAIL = 2), shifted.
const LOG_MAIL: u8 = 2 << 3;

fn severity(level: Level) -> u8 {
    match level {
        Level::Error => 3,
        Level::Warn => 4,
        Level::Info => 6,
        Level::Debug | Level::Trace => 7,
    }
}

struct StderrLog {
    program: &'static str,
    journal: bool,
}

impl Log for StderrLog {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }

    fn log(&self, record: &Record<'_>) {
        let line = if self.journal {
            format!("<{}>{}\n", severity(record.level()), record.args())
        } else {
            let level = match record.level() {
                Level::Error => "error",
                Level::Warn => "warning",
                Level::Info => "info",
                Level::Debug | Level::Trace => "debug",
            };
            format!("{}: {level}: {}\n", self.program, record.args())
        };
        // One write per line so lines from different threads do not mix.
        let _ = std::io::Write::write_all(&mut std::io::stderr().lock(), line.as_bytes());
    }

    fn flush(&self) {}
}

/// Whether standard error is the journal's stream: `JOURNAL_STREAM` holds
/// the device and inode of the stream systemd connected, and they must be
/// stderr's own (the variable is inherited by children whose stderr was
/// redirected elsewhere).
fn stderr_is_journal(journal_stream: Option<&str>) -> bool {
    let Some((dev, ino)) = journal_stream.and_then(|v| v.split_once(':')) else {
        return false;
    };
    let (Ok(dev), Ok(ino)) = (dev.parse::<u64>(), ino.parse::<u64>()) else {
        return false;
    };
    nix::sys::stat::fstat(std::io::stderr()).is_ok_and(|st| st.st_dev == dev && st.st_ino == ino)
}

/// Sends log records at `level` and above to stderr, named `program`.
pub fn init(program: &'static str, level: LevelFilter) {
    let journal = stderr_is_journal(std::env::var("JOURNAL_STREAM").ok().as_deref());
    if log::set_boxed_logger(Box::new(StderrLog { program, journal })).is_ok() {
        log::set_max_level(level);
    }
}

struct SyslogLog {
    program: &'static str,
    pid: u32,
    path: PathBuf,
    socket: Mutex<Option<UnixDatagram>>,
}

impl SyslogLog {
    fn connect(path: &Path) -> Option<UnixDatagram> {
        let s = UnixDatagram::unbound().ok()?;
        s.connect(path).ok()?;
        Some(s)
    }
}

impl Log for SyslogLog {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }

    fn log(&self, record: &Record<'_>) {
        let line = format!(
            "<{}>{}[{}]: {}",
            LOG_MAIL | severity(record.level()),
            self.program,
            self.pid,
            record.args()
        );
        let Ok(mut socket) = self.socket.lock() else {
            return;
        };
        // syslogd may have restarted: reconnect once.
        for _ in 0..2 {
            if let Some(s) = socket.as_ref()
                && s.send(line.as_bytes()).is_ok()
            {
                return;
            }
            *socket = Self::connect(&self.path);
        }
        let _ = std::io::Write::write_all(
            &mut std::io::stderr().lock(),
            format!("{}: {}\n", self.program, record.args()).as_bytes(),
        );
    }

    fn flush(&self) {}
}

/// Sends log records at `level` and above to syslog's mail facility through
/// the socket at `path` (normally /dev/log), connected now so a later chroot
/// does not cut it off.
pub fn init_syslog(program: &'static str, level: LevelFilter, path: &Path) -> std::io::Result<()> {
    let s = UnixDatagram::unbound()?;
    s.connect(path)?;
    let logger = SyslogLog {
        program,
        pid: std::process::id(),
        path: path.to_owned(),
        socket: Mutex::new(Some(s)),
    };
    if log::set_boxed_logger(Box::new(logger)).is_ok() {
        log::set_max_level(level);
    }
    Ok(())
}

/// Sends log records at `level` and above to syslog's mail facility at
/// `socket` when `syslog`, else to standard error.
pub fn init_for(
    program: &'static str,
    syslog: bool,
    level: LevelFilter,
    socket: &Path,
) -> std::io::Result<()> {
    if syslog {
        init_syslog(program, level, socket)
    } else {
        init(program, level);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_journal_is_recognised_by_device_and_inode() {
        let st = nix::sys::stat::fstat(std::io::stderr()).unwrap();
        let mine = format!("{}:{}", st.st_dev, st.st_ino);
        assert!(stderr_is_journal(Some(&mine)));
        let other = format!("{}:{}", st.st_dev, st.st_ino + 1);
        assert!(!stderr_is_journal(Some(&other)));
        assert!(!stderr_is_journal(Some("not-numbers")));
        assert!(!stderr_is_journal(None));
    }
}
