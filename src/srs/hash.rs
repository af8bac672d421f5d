//! The SRS hash: a prefix of the base64 of HMAC-SHA1 over lower-cased fields.
//!
//! HMAC is computed from the SHA-1 states after the inner and outer key pads,
//! prepared once per secret (RFC 2104), so a hash is two SHA-1 compressions
//! for an address of up to 55 bytes, no buffering layer and no allocation.
//! The lower-casing is done while the fields are copied into the block.

use sha1::Digest;
use sha1::block_api::compress;
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

/// SHA-1's initial state (FIPS 180-4, 5.3.1).
const H0: [u32; 5] = [
    0x6745_2301,
    0xEFCD_AB89,
    0x98BA_DCFE,
    0x1032_5476,
    0xC3D2_E1F0,
];
const BLOCK: usize = 64;

/// A secret, ready to sign: the SHA-1 states after its inner and outer pads.
#[derive(Clone)]
pub struct Key {
    inner: [u32; 5],
    outer: [u32; 5],
}

impl Key {
    /// Prepares a key from the raw bytes of a secret (any bytes, any length).
    pub fn new(secret: &[u8]) -> Self {
        let mut key = [0u8; BLOCK];
        if secret.len() > BLOCK {
            key[..20].copy_from_slice(&sha1::Sha1::digest(secret));
        } else {
            key[..secret.len()].copy_from_slice(secret);
        }
        let pad = |byte: u8| {
            let mut block = key;
            block.iter_mut().for_each(|b| *b ^= byte);
            let mut state = H0;
            compress(&mut state, &[block]);
            state
        };
        Key {
            inner: pad(0x36),
            outer: pad(0x5c),
        }
    }

    /// HMAC-SHA1 of the ASCII-lower-cased concatenation of `parts`.
    fn hmac(&self, parts: &[&[u8]]) -> [u8; 20] {
        let mut state = self.inner;
        let mut block = [0u8; BLOCK];
        let mut fill = 0;
        let mut total = BLOCK as u64; // the inner pad block
        for part in parts {
            let mut rest = *part;
            while !rest.is_empty() {
                let n = rest.len().min(BLOCK - fill);
                let dst = &mut block[fill..fill + n];
                dst.copy_from_slice(&rest[..n]);
                dst.make_ascii_lowercase();
                fill += n;
                total += n as u64;
                rest = &rest[n..];
                if fill == BLOCK {
                    compress(&mut state, &[block]);
                    fill = 0;
                }
            }
        }
        finish(&mut state, &mut block, fill, total);
        let mut outer = [0u8; BLOCK];
        for (chunk, word) in outer.chunks_exact_mut(4).zip(state) {
            chunk.copy_from_slice(&word.to_be_bytes());
        }
        let mut state = self.outer;
        finish(&mut state, &mut outer, 20, (BLOCK + 20) as u64);
        let mut out = [0u8; 20];
        for (chunk, word) in out.chunks_exact_mut(4).zip(state) {
            chunk.copy_from_slice(&word.to_be_bytes());
        }
        out
    }

    /// The full 27-character base64 HMAC of the lower-cased concatenation of `parts`.
    pub fn digest(&self, parts: &[&[u8]], alphabet: HashAlphabet) -> [u8; MAX_HASH_LENGTH] {
        encode(&self.hmac(parts), alphabet)
    }
}

/// Pads the `fill` bytes in `block` for a message of `total` bytes and
/// compresses the last block(s) into `state`.
fn finish(state: &mut [u32; 5], block: &mut [u8; BLOCK], fill: usize, total: u64) {
    block[fill] = 0x80;
    block[fill + 1..].fill(0);
    if fill >= BLOCK - 8 {
        compress(state, &[*block]);
        block.fill(0);
    }
    block[BLOCK - 8..].copy_from_slice(&(total * 8).to_be_bytes());
    compress(state, &[*block]);
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
    use hmac::{Hmac, KeyInit, Mac};
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn agrees_with_the_hmac_crate(
            secret in prop::collection::vec(any::<u8>(), 0..150),
            parts in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..90), 0..4),
        ) {
            let mut mac = <Hmac<sha1::Sha1> as KeyInit>::new_from_slice(&secret).unwrap();
            for p in &parts {
                mac.update(&p.to_ascii_lowercase());
            }
            let want: [u8; 20] = mac.finalize().into_bytes().into();
            let refs: Vec<&[u8]> = parts.iter().map(Vec::as_slice).collect();
            prop_assert_eq!(Key::new(&secret).hmac(&refs), want);
        }
    }

    #[test]
    fn rfc2202_test_case_2() {
        let key = Key::new(b"Jefe");
        let h = key.hmac(&[b"what do ya want ", b"for nothing?"]);
        let hex: String = h.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(hex, "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79");
    }

    #[test]
    fn digest_matches_the_spec_example() {
        let key = Key::new(b"mysecret");
        let d = key.digest(
            &[b"JM", b"Orig.Example.com", b"user"],
            HashAlphabet::Standard,
        );
        assert_eq!(&d[..4], b"KkCV");
    }

    #[test]
    fn fold_equates_case_and_alphabets() {
        let key = Key::new(b"s3cret");
        let d = key.digest(
            &[b"jm", b"origin.example", b"alice"],
            HashAlphabet::Standard,
        );
        assert!(matches(b"f0ke", &d));
        assert!(matches(b"F0KEjY-L49", &d));
        assert!(!matches(b"F0K!", &d));
        assert!(!matches(b"", &d));
    }
}
