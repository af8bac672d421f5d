//! Exit statuses shared by every program, from sysexits(3).

use std::process::ExitCode;

/// How a program ends. The numbers are those of sysexits.h, which MTAs read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Exit {
    /// Everything was handled.
    Ok = 0,
    /// `srsc`: the daemon had nothing to rewrite (like grep's "no match").
    NotFound = 1,
    /// The command line was wrong (EX_USAGE).
    Usage = 64,
    /// An input address or message was bad (EX_DATAERR).
    DataErr = 65,
    /// The recipient is not valid: a forged or expired SRS address (EX_NOUSER).
    NoUser = 67,
    /// A service we need is not there, e.g. the daemon (EX_UNAVAILABLE).
    Unavailable = 69,
    /// An internal error (EX_SOFTWARE).
    Software = 70,
    /// An output file could not be created (EX_CANTCREAT).
    CantCreate = 73,
    /// Writing the output failed (EX_IOERR).
    IoErr = 74,
    /// Try again later; the MTA keeps the message (EX_TEMPFAIL).
    TempFail = 75,
    /// The other side broke the protocol (EX_PROTOCOL).
    Protocol = 76,
    /// The configuration is unusable (EX_CONFIG).
    Config = 78,
}

impl From<Exit> for ExitCode {
    fn from(e: Exit) -> ExitCode {
        ExitCode::from(e as u8)
    }
}

impl Exit {
    /// How a program whose standard output failed ends: quietly with 0 when
    /// the reader went away (`| head -1`), as `cat` and `grep` do; otherwise
    /// one line naming the error, and 74.
    pub fn write_failed(prog: &str, e: &std::io::Error) -> Exit {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            return Exit::Ok;
        }
        eprintln!("{prog}: cannot write to standard output: {e}");
        Exit::IoErr
    }
}
