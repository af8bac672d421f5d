//! Postfix's tcp_table protocol (the postsrsd 1.x interface): `get <key>\n`
//! answered with `200 <value>\n`, `500 <text>\n` or `400 <text>\n`, keys and
//! values `%XX`-encoded. The map is chosen by the listener, not the request.

use super::{Answer, Direction, Lookup, Progress};

/// Longest request line we read, and longest reply Postfix accepts.
pub const MAX_LINE: usize = 4096;

/// Answers every complete request line at the front of `input` into `out`.
pub fn serve(
    input: &[u8],
    lookup: &Lookup<'_>,
    direction: Direction,
    out: &mut Vec<u8>,
) -> Progress {
    let mut p = Progress::default();
    loop {
        let rest = &input[p.consumed..];
        let Some(eol) = rest.iter().position(|&b| b == b'\n') else {
            if rest.len() > MAX_LINE {
                out.extend_from_slice(b"500 request too long\n");
                p.consumed = input.len();
                p.close = true;
            }
            return p;
        };
        p.consumed += eol + 1;
        let line = &rest[..eol];
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let Some(key) = line.strip_prefix(b"get ") else {
            out.extend_from_slice(b"500 only get requests are supported\n");
            p.requests += 1;
            continue;
        };
        let key = decode(key).and_then(|k| String::from_utf8(k).ok());
        let Some(key) = key else {
            out.extend_from_slice(b"500 key is not valid %-encoded UTF-8\n");
            p.requests += 1;
            continue;
        };
        let (answer, refusal) = lookup.map(direction, &key);
        let (code, text) = match &answer {
            Answer::Found(a) => (&b"200 "[..], a.as_bytes()),
            Answer::NotFound(r) => (&b"500 "[..], r.as_bytes()),
        };
        let start = out.len();
        out.extend_from_slice(code);
        encode(out, text);
        out.push(b'\n');
        if out.len() - start > MAX_LINE {
            out.truncate(start);
            out.extend_from_slice(b"500 reply too long\n");
        }
        p.note(refusal);
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
    for &b in s {
        if b == b'%' || !b.is_ascii_graphic() {
            out.extend_from_slice(format!("%{b:02X}").as_bytes());
        } else {
            out.push(b);
        }
    }
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
