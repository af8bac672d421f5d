//! A small `log` backend for the programs: one line per record on stderr,
//! `PROGRAM: LEVEL: message`, or with sd-daemon `<N>` priority prefixes when
//! stderr goes to the systemd journal.

use log::{Level, LevelFilter, Log, Metadata, Record};

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
            let priority = match record.level() {
                Level::Error => 3,
                Level::Warn => 4,
                Level::Info => 6,
                Level::Debug | Level::Trace => 7,
            };
            format!("<{priority}>{}\n", record.args())
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

/// Sends log records at `level` and above to stderr, named `program`.
pub fn init(program: &'static str, level: LevelFilter) {
    let journal = std::env::var_os("JOURNAL_STREAM").is_some();
    if log::set_boxed_logger(Box::new(StderrLog { program, journal })).is_ok() {
        log::set_max_level(level);
    }
}
