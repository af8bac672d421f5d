//! Forward or reverse many addresses, one output line each, as `srs` does for
//! its arguments or for standard input.
//!
//! Line N of the output always answers address N: an address that fails gives
//! an empty line and one diagnostic naming it, so a script can pair them up.

use std::io::{self, BufRead, Read, Write};
use std::time::SystemTime;

use crate::engine::{Answer, Outcome, Rewriter};
use crate::srs::{Explanation, Form, Srs, overlong_local_part};

/// Longest input line read from a stream, in bytes; longer lines are refused.
pub const MAX_INPUT_LINE: usize = 4096;
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

/// How answers are written.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Style {
    /// One JSON object per address (JSON Lines) instead of a bare line;
    /// failures go into the object, not to the diagnostics.
    pub json: bool,
    /// For reverses: which secret matched, the age and the days left.
    pub explain: bool,
}

/// What a batch did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Report {
    /// How many addresses could not be forwarded or reversed.
    pub failed: usize,
    /// How many of those failed for a while only (the address database).
    pub temporary: usize,
}

/// Runs `srs` over addresses and writes answers to `out`, diagnostics to `diag`.
pub struct Batch<'a, W: Write, D: Write> {
    srs: &'a Srs,
    rewrite: &'a Rewrite,
    now: SystemTime,
    out: W,
    diag: D,
    prog: &'a str,
    style: Style,
    store: Option<crate::engine::Store<'a>>,
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
            style: Style::default(),
            store: None,
            report: Report::default(),
        }
    }

    /// Stores senders in (and reverses keys from) the address database.
    pub fn stored(mut self, store: Option<crate::engine::Store<'a>>) -> Self {
        self.store = store;
        self
    }

    /// Writes answers in `style`.
    pub fn styled(mut self, style: Style) -> Self {
        self.style = style;
        self
    }

    /// Answers one address; one pair of angle brackets around it is removed.
    pub fn address(&mut self, input: &str) -> io::Result<()> {
        let given = input;
        let input = crate::srs::strip_angle_brackets(input);
        let mut lookup = Rewriter::new(self.srs, "", self.now);
        lookup.store = self.store;
        let answer = match self.rewrite {
            Rewrite::Forward { alias } => lookup.forward(input, alias, Form::External),
            Rewrite::Reverse => lookup.reverse(input, Form::External),
        };
        let outcome = Outcome::of(&answer);
        let output = match answer.or_unchanged(input) {
            Ok(output) => output,
            Err(Answer::NotFound(why)) => return self.refused(given, &why.to_string()),
            Err(other) => {
                self.report.temporary += 1;
                return self.refused(given, &other.to_string());
            }
        };
        let overlong = match self.rewrite {
            Rewrite::Forward { .. } => overlong_local_part(&output),
            Rewrite::Reverse => None,
        };
        let warning = overlong.map(|len| {
            format!(
                "local part is {len} characters, over the 64 of RFC 5321; some servers refuse it"
            )
        });
        let explanation = match self.rewrite {
            Rewrite::Reverse if self.style.explain => {
                self.srs.explain(Form::External, input, self.now).ok()
            }
            _ => None,
        };
        if self.style.json {
            let mut object = serde_json::json!({
                "input": given,
                "status": outcome.name(),
                "output": output,
            });
            if let Some(w) = warning {
                object["warning"] = w.into();
            }
            if let Some(e) = &explanation {
                object["form"] = e.tag.into();
                object["secret"] = e.secret.into();
                object["perl_newline"] = e.perl_newline.into();
                object["hash_length"] = e.hash_length.into();
                object["age_days"] = e.age.into();
                object["days_left"] = e.days_left.into();
            }
            return writeln!(self.out, "{object}");
        }
        if let Some(w) = warning {
            writeln!(self.diag, "{}: warning: {}: {w}", self.prog, quote(&output))?;
        }
        match &explanation {
            Some(e) => self.explain(given, e),
            None => writeln!(self.out, "{output}"),
        }
    }

    /// The `--explain` block for one address, a blank line after it.
    fn explain(&mut self, given: &str, e: &Explanation) -> io::Result<()> {
        let secrets = if e.perl_newline {
            format!(
                "{} (with a newline after it, as Perl's srs reads files)",
                e.secret
            )
        } else if e.secret == 1 {
            "1 (the signing secret)".to_owned()
        } else {
            format!("{} (an older secret, still accepted)", e.secret)
        };
        let age = match (e.age, e.days_left) {
            (Some(age), Some(left)) => format!("{age} days\ndays left: {left}"),
            _ => "none (SRS1 addresses carry no timestamp; the SRS0 inside has its own)".to_owned(),
        };
        writeln!(
            self.out,
            "address:   {}\noriginal:  {}\nform:      {}\nsecret:    {secrets}\nhash:      {} characters\nage:       {age}\n",
            quote(given),
            e.original,
            e.tag,
            e.hash_length
        )
    }

    /// Reports an address that could not be answered.
    fn refused(&mut self, given: &str, reason: &str) -> io::Result<()> {
        if self.style.json {
            self.report.failed += 1;
            let object = serde_json::json!({
                "input": given,
                "status": Outcome::Refused.name(),
                "error": reason,
            });
            return writeln!(self.out, "{object}");
        }
        self.fail(given, reason)?;
        if self.style.explain {
            return Ok(());
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
                .take(MAX_INPUT_LINE as u64 + 1)
                .read_until(b'\n', &mut buf)?;
            if n == 0 {
                return Ok(());
            }
            let complete = buf.last() == Some(&b'\n');
            if !complete && buf.len() > MAX_INPUT_LINE {
                // Skip the rest of the overlong line.
                let mut rest = Vec::new();
                input.read_until(b'\n', &mut rest)?;
                let shown =
                    String::from_utf8_lossy(&buf[..QUOTE_LIMIT.min(buf.len())]).into_owned();
                self.refused(&shown, &format!("line longer than {MAX_INPUT_LINE} bytes"))?;
                continue;
            }
            let line = buf.strip_suffix(b"\n").unwrap_or(&buf);
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            match std::str::from_utf8(line) {
                Ok(address) => self.address(address)?,
                Err(_) => self.refused(&String::from_utf8_lossy(line), "not valid UTF-8")?,
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
