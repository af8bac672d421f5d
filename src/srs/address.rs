//! Splitting addresses and the RFC 5321 quoted local part.

use std::borrow::Cow;

/// How addresses are written on the way in and out.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Form {
    /// RFC 5321 form, as typed on a command line: a local part with spaces or
    /// `@` must be quoted (`"john doe"@example.com`), and SRS addresses built
    /// from a quoted local part are quoted as a whole.
    #[default]
    External,
    /// Postfix's internal form, as map protocols receive it: never quoted, so
    /// the address is split at its last `@` and taken literally.
    Internal,
}

/// An address split at its last `@`, with the local part unquoted.
#[derive(Debug, PartialEq, Eq)]
pub struct Parts<'a> {
    /// The local part, without RFC 5321 quotes.
    pub local: Cow<'a, str>,
    /// The domain, as given.
    pub host: &'a str,
    /// Whether the local part came quoted.
    pub quoted: bool,
}

/// Why an address could not be split.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SplitError {
    /// There is no `@`.
    NoAt,
    /// Nothing follows the last `@`.
    EmptyHost,
    /// An unquoted local part contains `@`, or a quote is not closed properly.
    BadLocalPart,
}

/// Splits `address` at its last `@`, unquoting the local part in the external form.
pub fn split(address: &str, form: Form) -> Result<Parts<'_>, SplitError> {
    let at = last_at(address).ok_or(SplitError::NoAt)?;
    let (raw_local, host) = (&address[..at], &address[at + 1..]);
    if host.is_empty() {
        return Err(SplitError::EmptyHost);
    }
    if form == Form::Internal {
        return Ok(Parts {
            local: Cow::Borrowed(raw_local),
            host,
            quoted: false,
        });
    }
    if let Some(inner) = quoted_content(raw_local) {
        let local = unquote(inner).ok_or(SplitError::BadLocalPart)?;
        return Ok(Parts {
            local,
            host,
            quoted: true,
        });
    }
    if raw_local.contains('@') {
        return Err(SplitError::BadLocalPart);
    }
    Ok(Parts {
        local: Cow::Borrowed(raw_local),
        host,
        quoted: false,
    })
}

/// The position of the last `@`. Addresses are short: a plain loop beats memrchr.
pub(super) fn last_at(s: &str) -> Option<usize> {
    s.bytes().rposition(|b| b == b'@')
}

/// The text between the quotes of a local part written `"..."`.
fn quoted_content(local: &str) -> Option<&str> {
    let inner = local.strip_prefix('"')?.strip_suffix('"')?;
    // `"` alone is one quote character, not an empty quoted string.
    (local.len() >= 2).then_some(inner)
}

/// Removes backslash escapes; `None` if an unescaped `"` or a dangling `\` remains.
fn unquote(inner: &str) -> Option<Cow<'_, str>> {
    if !inner.contains(['\\', '"']) {
        return Some(Cow::Borrowed(inner));
    }
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.push(chars.next()?),
            '"' => return None,
            c => out.push(c),
        }
    }
    Some(Cow::Owned(out))
}

/// Appends `local` to `out` as a quoted string, escaping `"` and `\`.
pub fn push_quoted(out: &mut String, local: &str) {
    out.push('"');
    for c in local.chars() {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
}

/// Whether two domains are the same, ignoring ASCII case and a trailing dot.
pub fn same_domain(a: &str, b: &str) -> bool {
    a.trim_end_matches('.')
        .eq_ignore_ascii_case(b.trim_end_matches('.'))
}

/// Removes one pair of angle brackets around a whole address, as MTAs print
/// addresses (`<alice@example.com>`); `<>` becomes the null sender.
pub fn strip_angle_brackets(address: &str) -> &str {
    address
        .strip_prefix('<')
        .and_then(|a| a.strip_suffix('>'))
        .unwrap_or(address)
}

/// Checks an SRS domain (an alias or srsd's `--domain`), given as a domain
/// or as an address at it: letters, digits, `-`, `_` and dots, in labels
/// that are not empty.
pub fn check_domain(alias: &str) -> Result<(), String> {
    let domain = alias_domain(alias).trim_end_matches('.');
    if domain.is_empty() {
        return Err("the domain is empty".to_owned());
    }
    if let Some(c) = domain
        .chars()
        .find(|&c| !(c.is_alphanumeric() || matches!(c, '-' | '_' | '.')))
    {
        return Err(format!("{c:?} cannot appear in a domain"));
    }
    if domain.split('.').any(str::is_empty) {
        return Err("a domain has no empty labels (..)".to_owned());
    }
    Ok(())
}

/// The domain of an alias given as a domain or as an address.
pub fn alias_domain(alias: &str) -> &str {
    last_at(alias).map_or(alias, |at| &alias[at + 1..])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_at_the_last_at() {
        let p = split("a@b@c.example", Form::Internal).unwrap();
        assert_eq!((p.local.as_ref(), p.host), ("a@b", "c.example"));
        assert_eq!(
            split("a@b@c.example", Form::External),
            Err(SplitError::BadLocalPart)
        );
    }

    #[test]
    fn unquotes_and_requotes() {
        let p = split(r#""john \"j\" doe"@x.example"#, Form::External).unwrap();
        assert_eq!(p.local, r#"john "j" doe"#);
        assert!(p.quoted);
        let mut s = String::new();
        push_quoted(&mut s, &p.local);
        assert_eq!(s, r#""john \"j\" doe""#);
    }

    #[test]
    fn refuses_broken_quotes() {
        assert_eq!(
            split(r#""a"b"@x"#, Form::External),
            Err(SplitError::BadLocalPart)
        );
        assert_eq!(
            split(r#""a\"@x"#, Form::External),
            Err(SplitError::BadLocalPart)
        );
        assert_eq!(split("a@", Form::External), Err(SplitError::EmptyHost));
        assert_eq!(split("a", Form::External), Err(SplitError::NoAt));
    }
}
