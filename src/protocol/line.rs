//! The Perl Mail::SRS srsd line protocol, used by Exim's `${readsocket}`:
//! `FORWARD <sender> <alias>` or `REVERSE <address>`, answered with the
//! address or `ERROR: <message>`. Perl's srsd closes after each reply and Exim
//! reads to end of file, so that is the default here too.

use super::Progress;

use crate::engine::{Answer, Rewriter};
use crate::srs::Form;

pub use super::MAX_LINE;
const USAGE: &str = "usage: FORWARD <sender> <alias> | REVERSE <address>";

/// The Perl srsd line protocol.
#[derive(Clone, Copy)]
pub struct Line;

impl super::Protocol for Line {
    fn name(&self) -> &'static str {
        "line"
    }

    fn service(&self) -> super::Service {
        super::Service::Lookups(Box::new(super::Stateless(
            |input, lookup, settings, out| serve(input, lookup, settings.line_keep_alive, out),
        )))
    }
}

/// Answers the complete request lines at the front of `input` into `out`;
/// unless `keep_alive`, the first reply closes the connection.
pub fn serve(input: &[u8], lookup: &Rewriter<'_>, keep_alive: bool, out: &mut Vec<u8>) -> Progress {
    let mut p = Progress::default();
    loop {
        let Some(line) = p.next_line(input, out, b"ERROR: request too long\n") else {
            return p;
        };
        let reply = match std::str::from_utf8(line) {
            Ok(line) => answer(lookup, line),
            Err(_) => Err("request is not valid UTF-8".to_owned()),
        };
        let start = out.len();
        match reply {
            Ok(address) => out.extend_from_slice(address.as_bytes()),
            Err(message) => {
                out.extend_from_slice(b"ERROR: ");
                out.extend_from_slice(message.as_bytes());
            }
        }
        out.push(b'\n');
        if out.len() - start > MAX_LINE {
            out.truncate(start);
            out.extend_from_slice(b"ERROR: reply too long\n");
            p.oversized += 1;
        }
        if !keep_alive {
            p.consumed = input.len();
            p.close = true;
            return p;
        }
    }
}

/// The reply text for one request line. Perl's srsd prints a sender that
/// needs no rewriting as it is.
fn answer(lookup: &Rewriter<'_>, line: &str) -> Result<String, String> {
    let mut words = line.split_ascii_whitespace();
    let command = words.next().unwrap_or_default();
    let args: Vec<&str> = words.collect();
    let answer = if command.eq_ignore_ascii_case("forward") {
        let [sender, alias] = args[..] else {
            return Err(USAGE.into());
        };
        return lookup
            .forward(sender, alias, Form::External)
            .or_unchanged(sender)
            .map_err(error_text);
    } else if command.eq_ignore_ascii_case("reverse") {
        let [address] = args[..] else {
            return Err(USAGE.into());
        };
        lookup.reverse(address, Form::External)
    } else {
        return Err(format!("unknown command {command:?}; {USAGE}"));
    };
    match answer {
        Answer::Found(a) => Ok(a),
        other => Err(error_text(other)),
    }
}

/// The text after `ERROR: ` for an answer that is not an address.
fn error_text(answer: Answer) -> String {
    match answer {
        Answer::NotFound(reason) => reason.to_string(),
        other => other.to_string(),
    }
}
