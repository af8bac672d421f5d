//! Postfix's tcp_table protocol (the postsrsd 1.x interface): `get <key>\n`
//! answered with `200 <value>\n`, `500 <text>\n` or `400 <text>\n`, keys and
//! values `%XX`-encoded. The map is chosen by the listener, not the request.

use super::Progress;

use crate::engine::{Answer, Direction, Rewriter};

pub use super::MAX_LINE;

/// The tcp_table protocol answering one direction, as a listener does.
#[derive(Clone, Copy)]
pub struct TcpTable(pub Direction);

impl super::Protocol for TcpTable {
    fn name(&self) -> &'static str {
        match self.0 {
            Direction::Forward => "tcp-forward",
            Direction::Reverse => "tcp-reverse",
        }
    }

    fn service(&self) -> super::Service {
        super::Service::Lookups(Box::new(super::Stateless(match self.0 {
            Direction::Forward => {
                |input, lookup, _, out| serve(input, lookup, Direction::Forward, out)
            }
            Direction::Reverse => {
                |input, lookup, _, out| serve(input, lookup, Direction::Reverse, out)
            }
        })))
    }
}

/// Answers every complete request line at the front of `input` into `out`.
pub fn serve(
    input: &[u8],
    lookup: &Rewriter<'_>,
    direction: Direction,
    out: &mut Vec<u8>,
) -> Progress {
    let mut p = Progress::default();
    loop {
        let Some(line) = p.next_line(input, out, b"500 request too long\n") else {
            return p;
        };
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let Some(key) = line.strip_prefix(b"get ") else {
            out.extend_from_slice(b"500 only get requests are supported\n");
            continue;
        };
        // Most keys hold no escape: use them in place.
        let key: Option<std::borrow::Cow<'_, str>> = if memchr::memchr(b'%', key).is_some() {
            decode(key)
                .and_then(|k| String::from_utf8(k).ok())
                .map(Into::into)
        } else {
            std::str::from_utf8(key).ok().map(Into::into)
        };
        let Some(key) = key else {
            out.extend_from_slice(b"500 key is not valid %-encoded UTF-8\n");
            continue;
        };
        let answer = lookup.map(direction, &key);
        let start = out.len();
        match &answer {
            Answer::Found(a) => {
                out.extend_from_slice(b"200 ");
                encode(out, a.as_bytes());
            }
            Answer::NotFound(why) => {
                out.extend_from_slice(b"500 ");
                encode(out, why.to_string().as_bytes());
            }
            Answer::TempFail(why) => {
                out.extend_from_slice(b"400 ");
                encode(out, why.as_bytes());
            }
        }
        out.push(b'\n');
        if out.len() - start > MAX_LINE {
            out.truncate(start);
            out.extend_from_slice(b"500 reply too long\n");
            p.oversized += 1;
        }
    }
}

/// Decodes `%XX` escapes; `None` for a broken escape.
pub fn decode(s: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        if s[i] == b'%' {
            let hex = s.get(i + 1..i + 3)?;
            let hex = std::str::from_utf8(hex).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(s[i]);
            i += 1;
        }
    }
    Some(out)
}

/// Appends `s` with `%`, white space and non-printable bytes as `%XX`.
pub fn encode(out: &mut Vec<u8>, s: &[u8]) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let needs_escape = |b: &u8| *b == b'%' || !b.is_ascii_graphic();
    // Branch-free, so the compiler vectorises the common case: nothing to escape.
    if !s.iter().fold(false, |any, b| any | needs_escape(b)) {
        out.extend_from_slice(s);
        return;
    }
    let mut rest = s;
    // Copy runs of plain bytes whole; addresses rarely need an escape.
    while let Some(i) = rest.iter().position(needs_escape) {
        out.extend_from_slice(&rest[..i]);
        let b = rest[i];
        out.extend_from_slice(&[b'%', HEX[usize::from(b >> 4)], HEX[usize::from(b & 15)]]);
        rest = &rest[i + 1..];
    }
    out.extend_from_slice(rest);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_coding_round_trips() {
        let mut out = Vec::new();
        encode(&mut out, "a b%c\u{e9}".as_bytes());
        assert_eq!(out, b"a%20b%25c%C3%A9");
        assert_eq!(decode(&out).unwrap(), "a b%c\u{e9}".as_bytes());
        assert_eq!(decode(b"%4"), None);
        assert_eq!(decode(b"%zz"), None);
    }
}
