//! Netstrings (`<length>:<payload>,`), the framing of the socketmap protocol.

use thiserror::Error;

/// Why a netstring cannot be read; the connection cannot be resynchronised.
#[derive(Clone, Copy, Debug, Error, PartialEq, Eq)]
pub enum NetstringError {
    /// The length is not decimal digits followed by `:`.
    #[error("malformed netstring length")]
    BadLength,
    /// The length exceeds the limit.
    #[error("netstring longer than {0} bytes")]
    TooLong(usize),
    /// The payload is not followed by `,`.
    #[error("netstring not terminated by ','")]
    NoComma,
}

/// Reads one netstring at the front of `input`: `Ok(Some((payload, consumed)))`,
/// or `Ok(None)` while it is incomplete. Lengths over `max` are refused before
/// any payload is waited for.
pub fn decode(input: &[u8], max: usize) -> Result<Option<(&[u8], usize)>, NetstringError> {
    let digits = input.iter().take_while(|b| b.is_ascii_digit()).count();
    let max_digits = max.checked_ilog10().map_or(1, |d| d as usize + 1);
    if digits > max_digits {
        return Err(NetstringError::TooLong(max));
    }
    match input.get(digits) {
        None => return Ok(None),
        Some(b':') if digits > 0 => {}
        Some(_) => return Err(NetstringError::BadLength),
    }
    let len: usize = std::str::from_utf8(&input[..digits])
        .ok()
        .and_then(|d| d.parse().ok())
        .ok_or(NetstringError::BadLength)?;
    if len > max {
        return Err(NetstringError::TooLong(max));
    }
    let start = digits + 1;
    let end = start + len;
    match input.get(end) {
        None => Ok(None),
        Some(b',') => Ok(Some((&input[start..end], end + 1))),
        Some(_) => Err(NetstringError::NoComma),
    }
}

/// Appends `payload` to `out` as a netstring.
pub fn encode(out: &mut Vec<u8>, payload: &[u8]) {
    encode_parts(out, &[payload]);
}

/// Appends the concatenation of `parts` to `out` as one netstring, without
/// building it first.
pub fn encode_parts(out: &mut Vec<u8>, parts: &[&[u8]]) {
    let len: usize = parts.iter().map(|p| p.len()).sum();
    push_decimal(out, len);
    out.push(b':');
    for p in parts {
        out.extend_from_slice(p);
    }
    out.push(b',');
}

fn push_decimal(out: &mut Vec<u8>, mut n: usize) {
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[i..]);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_whole_and_partial() {
        assert_eq!(decode(b"3:abc,rest", 10), Ok(Some((&b"abc"[..], 6))));
        assert_eq!(decode(b"0:,", 10), Ok(Some((&b""[..], 3))));
        for partial in [&b""[..], b"3", b"3:", b"3:ab", b"3:abc"] {
            assert_eq!(decode(partial, 10), Ok(None), "{partial:?}");
        }
    }

    #[test]
    fn refuses_bad_framing() {
        assert_eq!(decode(b":abc,", 10), Err(NetstringError::BadLength));
        assert_eq!(decode(b"3x", 10), Err(NetstringError::BadLength));
        assert_eq!(decode(b"3:abcd", 10), Err(NetstringError::NoComma));
        assert_eq!(decode(b"11:", 10), Err(NetstringError::TooLong(10)));
        assert_eq!(
            decode(b"999999999999999999999999", 100_000),
            Err(NetstringError::TooLong(100_000))
        );
    }

    #[test]
    fn round_trips() {
        let mut out = Vec::new();
        encode(&mut out, b"OK a@b");
        assert_eq!(out, b"6:OK a@b,");
    }
}
