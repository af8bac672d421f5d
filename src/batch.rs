//! Forward or reverse many addresses, one output line each, as `srs` does for
//! its arguments or for standard input.
//!
//! Line N of the output always answers address N: an address that fails gives
//! an empty line and one diagnostic naming it, so a script can pair them up.

use std::io::{self, BufRead, Read, Write};
use std::time::SystemTime;

use crate::protocol::{Answer, Lookup};
use crate::srs::{Form, Srs, overlong_local_part};

/// Longest input line read from a stream, in bytes; longer lines are refused.
pub const MAX_LINE: usize = 4096;
/// How much of a bad address a diagnostic quotes.
const QUOTE_LIMIT: usize = 200;

/// Which way to rewrite, and through which alias.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Rewrite {
    /// Forward through the domain of this alias.
    Forward {
        /// The alias domain (or an address at it).
        alias: String,
    },
    /// Reverse each address to the one it stands for.
    Reverse,
}

/// What a batch did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Report {
    /// How many addresses could not be forwarded or reversed.
    pub failed: usize,
}

/// Runs `srs` over addresses and writes answers to `out`, diagnostics to `diag`.
pub struct Batch<'a, W: Write, D: Write> {
    srs: &'a Srs,
    rewrite: &'a Rewrite,
    now: SystemTime,
    out: W,
    diag: D,
    prog: &'a str,
    report: Report,
}

/// Shortens `s` for a diagnostic, on a character boundary, with control
/// characters escaped so they cannot act on a terminal or split a log line.
fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len().min(QUOTE_LIMIT * 2));
    for (n, c) in s.chars().enumerate() {
        if n == QUOTE_LIMIT {
            out.push_str("...");
            break;
        }
        if c.is_control() {
            out.extend(c.escape_debug());
        } else {
            out.push(c);
        }
    }
    out
}

impl<'a, W: Write, D: Write> Batch<'a, W, D> {
    /// A batch that names itself `prog` in diagnostics.
    pub fn new(
        srs: &'a Srs,
        rewrite: &'a Rewrite,
        now: SystemTime,
        out: W,
        diag: D,
        prog: &'a str,
    ) -> Self {
        Batch {
            srs,
            rewrite,
            now,
            out,
            diag,
            prog,
            report: Report::default(),
        }
    }

    /// Answers one address; one pair of angle brackets around it is removed.
    pub fn address(&mut self, input: &str) -> io::Result<()> {
        let given = input;
        let input = crate::srs::strip_angle_brackets(input);
        let lookup = Lookup {
            srs: self.srs,
            domain: "",
            now: self.now,
        };
        let result = match self.rewrite {
            Rewrite::Forward { alias } => lookup
                .forward(input, alias, Form::External)
                .or_unchanged(input),
            Rewrite::Reverse => match lookup.reverse(input, Form::External) {
                Answer::Found(a) => Ok(a),
                Answer::NotFound(why) => Err(why),
            },
        }
        .map_err(|why| why.to_string());
        match result {
            Ok(answer) => {
                if let Rewrite::Forward { .. } = self.rewrite
                    && let Some(len) = overlong_local_part(&answer)
                {
                    writeln!(
                        self.diag,
                        "{}: warning: {}: local part is {len} characters, over the 64 of RFC 5321; some servers refuse it",
                        self.prog,
                        quote(&answer)
                    )?;
                }
                self.out.write_all(answer.as_bytes())?;
            }
            Err(reason) => self.fail(given, &reason)?,
        }
        self.out.write_all(b"\n")
    }

    fn fail(&mut self, input: &str, reason: &str) -> io::Result<()> {
        self.report.failed += 1;
        let shown = if input.is_empty() {
            "(empty)".to_owned()
        } else {
            quote(input)
        };
        writeln!(self.diag, "{}: {shown}: {reason}", self.prog)
    }

    /// Answers one address per line of `input` (a trailing `\r` is dropped).
    pub fn lines<R: BufRead>(&mut self, mut input: R) -> io::Result<()> {
        let mut buf = Vec::with_capacity(256);
        loop {
            buf.clear();
            let n = input
                .by_ref()
                .take(MAX_LINE as u64 + 1)
                .read_until(b'\n', &mut buf)?;
            if n == 0 {
                return Ok(());
            }
            let complete = buf.last() == Some(&b'\n');
            if !complete && buf.len() > MAX_LINE {
                // Skip the rest of the overlong line.
                let mut rest = Vec::new();
                input.read_until(b'\n', &mut rest)?;
                let shown =
                    String::from_utf8_lossy(&buf[..QUOTE_LIMIT.min(buf.len())]).into_owned();
                self.fail(&shown, &format!("line longer than {MAX_LINE} bytes"))?;
                self.out.write_all(b"\n")?;
                continue;
            }
            let line = buf.strip_suffix(b"\n").unwrap_or(&buf);
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            match std::str::from_utf8(line) {
                Ok(address) => self.address(address)?,
                Err(_) => {
                    self.fail(&String::from_utf8_lossy(line), "not valid UTF-8")?;
                    self.out.write_all(b"\n")?;
                }
            }
        }
    }

    /// Flushes the output and returns what was done.
    pub fn finish(mut self) -> io::Result<Report> {
        self.out.flush()?;
        self.diag.flush()?;
        Ok(self.report)
    }
}
