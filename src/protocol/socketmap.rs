//! The Postfix and sendmail socketmap protocol: netstrings of
//! `<map> <key>` answered with `OK <value>`, `NOTFOUND `, `TEMP <reason>` or
//! `PERM <reason>`. Maps `forward` and `reverse` share one connection.

use super::Progress;
use super::netstring::{self, NetstringError};
use crate::engine::{Answer, Direction, Outcome, Rewriter};

/// Postfix accepts replies up to this size, and we accept requests up to it.
pub const MAX_NETSTRING: usize = 100_000;

/// The socketmap protocol, both maps on one connection.
#[derive(Clone, Copy)]
pub struct Socketmap;

impl super::Protocol for Socketmap {
    fn name(&self) -> &'static str {
        "socketmap"
    }

    fn service(&self) -> super::Service {
        super::Service::Lookups(Box::new(super::Stateless(
            |input, lookup, settings, out| serve(input, lookup, settings.max_netstring, out),
        )))
    }
}

/// Answers every complete request at the front of `input` into `out`.
/// A malformed netstring gets `PERM` and closes the connection.
pub fn serve(input: &[u8], lookup: &Rewriter<'_>, max: usize, out: &mut Vec<u8>) -> Progress {
    let mut p = Progress::default();
    loop {
        match netstring::decode(&input[p.consumed..], max) {
            Ok(None) => return p,
            Ok(Some((payload, used))) => {
                p.consumed += used;
                let start = out.len();
                answer(lookup, payload, out);
                // The reply must fit what the client reads: "OK " and an
                // address made from a key near the limit may not.
                if reply_len(&out[start..]) > max {
                    out.truncate(start);
                    netstring::encode(out, NOTFOUND);
                    p.oversized += 1;
                }
            }
            Err(e) => {
                fatal(out, e);
                p.consumed = input.len();
                p.close = true;
                p.linger = true;
                return p;
            }
        }
    }
}

/// The payload length of the netstring `reply` (`LEN:payload,`).
fn reply_len(reply: &[u8]) -> usize {
    let colon = reply.iter().position(|&b| b == b':').unwrap_or(0);
    reply.len().saturating_sub(colon + 2)
}

fn fatal(out: &mut Vec<u8>, e: NetstringError) {
    netstring::encode_parts(out, &[b"PERM ", e.to_string().as_bytes()]);
}

/// Appends the reply netstring for one request payload to `out`.
pub fn answer(lookup: &Rewriter<'_>, payload: &[u8], out: &mut Vec<u8>) {
    let Some(space) = payload.iter().position(|&b| b == b' ') else {
        netstring::encode(out, b"PERM request is not '<map> <key>'");
        return;
    };
    let direction = match &payload[..space] {
        b"forward" => Direction::Forward,
        b"reverse" => Direction::Reverse,
        _ => {
            netstring::encode(
                out,
                b"PERM unknown map name; the maps are forward and reverse",
            );
            return;
        }
    };
    let Ok(key) = std::str::from_utf8(&payload[space + 1..]) else {
        lookup.record.count(direction, Outcome::Refused);
        netstring::encode(out, NOTFOUND);
        return;
    };
    let focused = unfocus(key);
    let answer = lookup.map(direction, focused.as_deref().unwrap_or(key));
    match &answer {
        Answer::Found(a) if focused.is_some() => {
            netstring::encode_parts(out, &[b"OK ", focus(a).as_bytes()])
        }
        Answer::Found(a) => netstring::encode_parts(out, &[b"OK ", a.as_bytes()]),
        // Postfix and sendmail want exactly "NOTFOUND "; the reason is for logs.
        Answer::NotFound(_) => netstring::encode(out, NOTFOUND),
        // Postfix defers the mail and tries again.
        Answer::TempFail(why) => netstring::encode_parts(out, &[b"TEMP ", why.as_bytes()]),
    }
}

const NOTFOUND: &[u8] = b"NOTFOUND ";

/// sendmail's focused form `user<@host.>` as `user@host`.
fn unfocus(key: &str) -> Option<String> {
    let inner = key.strip_suffix('>')?;
    let (local, host) = inner.rsplit_once("<@")?;
    Some(format!(
        "{local}@{}",
        host.strip_suffix('.').unwrap_or(host)
    ))
}

/// `user@host` in sendmail's focused form `user<@host.>`.
fn focus(address: &str) -> String {
    match address.rsplit_once('@') {
        Some((local, host)) => format!("{local}<@{host}.>"),
        None => address.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn focused_form_round_trips() {
        assert_eq!(
            unfocus("alice<@origin.example.>").as_deref(),
            Some("alice@origin.example")
        );
        assert_eq!(
            unfocus("alice<@origin.example>").as_deref(),
            Some("alice@origin.example")
        );
        assert_eq!(unfocus("alice@origin.example"), None);
        assert_eq!(focus("SRS0=x@fwd.example"), "SRS0=x<@fwd.example.>");
    }
}
