//! SMTP command and text lines as the relay reads them: where a line ends
//! (CR LF, bare LF or bare CR, as Postfix's `smtpd_forbid_bare_newline =
//! normalize` reads them), the lone dot that ends a message, `BDAT`'s
//! size, and the paths of `MAIL FROM` and `RCPT TO` as Postfix's smtpd
//! accepts them under its defaults.

/// The current line of message text, as far as the end of data cares.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Line {
    /// Nothing yet: the line has just begun.
    Empty,
    /// A lone dot: a line end now ends the message.
    Dot,
    /// Anything else.
    Text,
}

impl Line {
    /// The line after `more` of its bytes (none of them a line end).
    pub(super) fn then(self, more: &[u8]) -> Line {
        match (self, more) {
            (_, []) => self,
            (Line::Empty, b".") => Line::Dot,
            _ => Line::Text,
        }
    }
}

/// Where the first line of `rest` ends, and how long its line end is: CR
/// LF, a bare LF or a bare CR. `None` if no line end is certain yet (none
/// seen, or a CR last, which may be half of a CR LF).
pub(super) fn line_end(rest: &[u8]) -> Option<(usize, usize)> {
    let at = memchr::memchr2(b'\r', b'\n', rest)?;
    match (rest[at], rest.get(at + 1)) {
        (b'\n', _) => Some((at, 1)),
        (_, Some(b'\n')) => Some((at, 2)),
        (_, Some(_)) => Some((at, 1)),
        (_, None) => None,
    }
}

/// `BDAT size [LAST]`: the size and whether it is the last chunk.
pub(super) fn chunk(line: &[u8]) -> Option<(u64, bool)> {
    let text = std::str::from_utf8(line).ok()?;
    let mut words = text.split(' ').skip(1);
    let size = words.next()?.parse().ok()?;
    let last = match words.next() {
        None => false,
        Some(w) if w.eq_ignore_ascii_case("LAST") => true,
        Some(_) => return None,
    };
    words.next().is_none().then_some((size, last))
}

/// A `MAIL FROM` or `RCPT TO` command read as Postfix's smtpd reads it
/// under its defaults: the verb and keyword in any case, blanks allowed
/// around them and after the colon, the address in angle brackets or
/// bare. `address` is the mailbox (a source route dropped, quotes kept),
/// `params` what follows it (ESMTP parameters, with their leading blank).
#[derive(Debug, PartialEq, Eq)]
pub(super) struct Path<'a> {
    /// `verb keyword:` as the client wrote it when it wrote the strict
    /// form (kept, case and all); otherwise upper case.
    pub(super) head: std::borrow::Cow<'a, [u8]>,
    pub(super) address: &'a str,
    pub(super) params: &'a [u8],
}

/// Reads `line` (no line end) as `verb keyword:path params`; `None` when
/// it is not that, or the path is not an address: blanks or control
/// characters outside quotes, unbalanced brackets or quotes, bytes that
/// are not UTF-8.
pub(super) fn path<'a>(line: &'a [u8], verb: &[u8], keyword: &[u8]) -> Option<Path<'a>> {
    let blank = |b: &u8| *b == b' ' || *b == b'\t';
    let skip_blanks = |s: &'a [u8]| &s[s.iter().take_while(|b| blank(b)).count()..];
    let rest = strip_prefix_ignore_case(line, verb)?;
    if !rest.first().is_some_and(blank) {
        return None;
    }
    let rest = strip_prefix_ignore_case(skip_blanks(rest), keyword)?;
    let rest = skip_blanks(rest.strip_prefix(b":")?);
    let (mailbox, params) = match rest.strip_prefix(b"<") {
        Some(inner) => {
            let close = mailbox_len(inner)?;
            if inner.get(close) != Some(&b'>') {
                return None;
            }
            (&inner[..close], &inner[close + 1..])
        }
        None => {
            let n = mailbox_len(rest)?;
            (&rest[..n], &rest[n..])
        }
    };
    if !(params.is_empty() || params.first().is_some_and(blank)) {
        return None;
    }
    // A source route (`@a,@b:mailbox`) is obsolete; the mailbox is what
    // counts, as for Postfix.
    let mailbox = match mailbox.first() {
        Some(b'@') => &mailbox[memchr::memchr(b':', mailbox)? + 1..],
        _ => mailbox,
    };
    let strict_len = verb.len() + keyword.len() + 2;
    let head = match line.get(..strict_len) {
        Some(h) if h[verb.len()] == b' ' && line.get(strict_len) == Some(&b'<') => h.into(),
        _ => [
            &verb.to_ascii_uppercase()[..],
            b" ",
            &keyword.to_ascii_uppercase(),
            b":",
        ]
        .concat()
        .into(),
    };
    Some(Path {
        head,
        address: std::str::from_utf8(mailbox).ok()?,
        params,
    })
}

/// How long the mailbox at the front of `s` is: up to a `>`, a blank or
/// the end, outside quotes; `None` if it holds a control character, a
/// `<`, or a blank or quote out of place.
fn mailbox_len(s: &[u8]) -> Option<usize> {
    let mut quoted = false;
    let mut i = 0;
    while i < s.len() {
        let b = s[i];
        if b < 0x20 || b == 0x7f {
            return None;
        }
        match b {
            b'"' => quoted = !quoted,
            b'\\' if quoted => i += 1,
            b'>' | b' ' if !quoted => break,
            b'<' if !quoted => return None,
            _ => {}
        }
        i += 1;
    }
    if quoted || i > s.len() {
        return None;
    }
    Some(i)
}

fn strip_prefix_ignore_case<'a>(s: &'a [u8], prefix: &[u8]) -> Option<&'a [u8]> {
    let head = s.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &s[prefix.len()..])
}

impl Path<'_> {
    /// The command in RFC 5321's strict form with `address` in place of
    /// this one, and CR LF.
    pub(super) fn strict(&self, address: &str) -> Vec<u8> {
        strict(&self.head, address, self.params)
    }

    /// The domain of the original recipient this command's `ORCPT=rfc822;`
    /// parameter (RFC 3461) names, xtext decoded, if it has one.
    pub(super) fn orcpt_domain(&self) -> Option<String> {
        let value = self.params.split(|&b| b == b' ').find_map(|p| {
            strip_prefix_ignore_case(p, b"ORCPT=")
                .and_then(|v| strip_prefix_ignore_case(v, b"rfc822;"))
        })?;
        let mut decoded = Vec::with_capacity(value.len());
        let mut i = 0;
        while i < value.len() {
            if value[i] == b'+' {
                let hex = std::str::from_utf8(value.get(i + 1..i + 3)?).ok()?;
                decoded.push(u8::from_str_radix(hex, 16).ok()?);
                i += 3;
            } else {
                decoded.push(value[i]);
                i += 1;
            }
        }
        let address = String::from_utf8(decoded).ok()?;
        let (_, domain) = address.rsplit_once('@')?;
        Some(domain.trim_end_matches('.').to_ascii_lowercase())
    }
}

/// `head<address>params` and CR LF: a command in RFC 5321's strict form.
pub(super) fn strict(head: &[u8], address: &str, params: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(head.len() + address.len() + params.len() + 4);
    out.extend_from_slice(head);
    out.push(b'<');
    out.extend_from_slice(address.as_bytes());
    out.push(b'>');
    out.extend_from_slice(params);
    out.extend_from_slice(b"\r\n");
    out
}
