//! The SRS hash: a prefix of the base64 of HMAC-SHA1 over lower-cased fields.
//!
//! The keyed HMAC state is built once per secret and cloned per address, so a
//! hash costs one SHA-1 over a short message and no allocation.

use hmac::{Hmac, KeyInit, Mac};
use sha1::Sha1;
use subtle::ConstantTimeEq;

/// Longest hash: 27 base64 characters carry the whole 160-bit digest.
pub const MAX_HASH_LENGTH: usize = 27;

/// Which base64 alphabet new hashes are written in. Both are accepted on reverse.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum HashAlphabet {
    /// `A-Z a-z 0-9 + /`, what Mail::SRS, libsrs2 and postsrsd 1.x write.
    #[default]
    Standard,
    /// `A-Z a-z 0-9 - _` (RFC 4648 base64url), for receivers that reject `/`.
    Url,
}

const STANDARD: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const URL: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// A secret, ready to sign: its keyed HMAC state.
#[derive(Clone)]
pub struct Key {
    mac: Hmac<Sha1>,
}

impl Key {
    /// Prepares a key from the raw bytes of a secret (any bytes, any length).
    pub fn new(secret: &[u8]) -> Self {
        // HMAC accepts keys of every length; this cannot fail.
        let mac = <Hmac<Sha1> as KeyInit>::new_from_slice(secret)
            .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
        Key { mac }
    }

    /// The full 27-character base64 digest of the lower-cased concatenation of `parts`.
    pub fn digest(&self, parts: &[&str], alphabet: HashAlphabet) -> [u8; MAX_HASH_LENGTH] {
        let mut mac = self.mac.clone();
        let mut buf = [0u8; 128];
        for part in parts {
            for chunk in part.as_bytes().chunks(buf.len()) {
                let lower = &mut buf[..chunk.len()];
                lower.copy_from_slice(chunk);
                lower.make_ascii_lowercase();
                mac.update(lower);
            }
        }
        let bytes = mac.finalize().into_bytes();
        encode(&bytes, alphabet)
    }
}

/// Base64 of a 20-byte digest without padding: 27 characters.
fn encode(digest: &[u8], alphabet: HashAlphabet) -> [u8; MAX_HASH_LENGTH] {
    let table = match alphabet {
        HashAlphabet::Standard => STANDARD,
        HashAlphabet::Url => URL,
    };
    let mut out = [0u8; MAX_HASH_LENGTH];
    let mut n = 0;
    for group in digest.chunks(3) {
        let b = [
            group[0],
            group.get(1).copied().unwrap_or(0),
            group.get(2).copied().unwrap_or(0),
        ];
        let v = u32::from(b[0]) << 16 | u32::from(b[1]) << 8 | u32::from(b[2]);
        let chars = group.len() + 1;
        for i in 0..chars {
            if n < MAX_HASH_LENGTH {
                out[n] = table[(v >> (18 - 6 * i) & 63) as usize];
                n += 1;
            }
        }
    }
    out
}

/// Maps a base64 character to a class that ignores case and the alphabet
/// (`+` = `-`, `/` = `_`); 0 for a character outside both alphabets.
const fn fold(c: u8) -> u8 {
    match c {
        b'A'..=b'Z' => c + 32,
        b'a'..=b'z' | b'0'..=b'9' => c,
        b'+' | b'-' => b'+',
        b'/' | b'_' => b'/',
        _ => 0,
    }
}

/// Compares a hash from an address with our digest prefix of the same length,
/// in constant time, ignoring case and the base64 alphabet.
pub fn matches(given: &[u8], ours: &[u8; MAX_HASH_LENGTH]) -> bool {
    if given.is_empty() || given.len() > MAX_HASH_LENGTH {
        return false;
    }
    let mut a = [0u8; MAX_HASH_LENGTH];
    let mut b = [0u8; MAX_HASH_LENGTH];
    let mut valid = 1u8;
    for (i, (&g, &o)) in given.iter().zip(ours).enumerate() {
        a[i] = fold(g);
        b[i] = fold(o);
        valid &= u8::from(a[i] != 0);
    }
    let n = given.len();
    bool::from(a[..n].ct_eq(&b[..n])) && valid == 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digest_matches_the_spec_example() {
        let key = Key::new(b"mysecret");
        let d = key.digest(&["JM", "Orig.Example.com", "user"], HashAlphabet::Standard);
        assert_eq!(&d[..4], b"KkCV");
    }

    #[test]
    fn fold_equates_case_and_alphabets() {
        let key = Key::new(b"s3cret");
        let d = key.digest(&["jm", "origin.example", "alice"], HashAlphabet::Standard);
        assert!(matches(b"f0ke", &d));
        assert!(matches(b"F0KEjY-L49", &d));
        assert!(!matches(b"F0K!", &d));
        assert!(!matches(b"", &d));
    }
}
