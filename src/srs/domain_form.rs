//! The domain form of SRS: the signature moves from the local part into the
//! domain, which may grow to 253 characters where a local part stops at 64.
//!
//! ```text
//! SRS0:  local@<sig>.<host>.srs0.<srs-domain>
//! SRS1:  local@<sig>.<hop1>.<sig0>.<host0>.srs1.<srs-domain>
//! ```
//!
//! `<sig>` is one DNS label of 16 characters of RFC 4648 base32 (`a`-`z`,
//! `2`-`7`; any case is read, lower case is written):
//!
//! - 2 characters: the day stamp, as SRS0's (days since 1970 modulo 1024);
//! - 1 character: how many labels the domain after it has (1 to 31), so the
//!   address splits without guessing;
//! - 13 characters: the first 65 bits of HMAC-SHA1 under the signing secret
//!   of the lower-cased marker (`srs0` or `srs1`), stamp, count, domain and
//!   local part, each field ended by a NUL byte, so characters cannot move
//!   between fields as they can in the local form.
//!
//! SRS0 wraps the sender's domain. Forwarding an address in the domain form
//! of another forwarder (`local@<sig0>.<host0>.srs0.<hop1>`) gives SRS1, which
//! keeps that first hop and its SRS0 labels and signs them; an SRS1 from
//! elsewhere is signed again with its first hop kept, so the address does not
//! grow past one SRS1. The local part is never changed.
//!
//! Reverse reads the labels from the left. SRS0 gives `local@<host>` once
//! the hash and the age check out; SRS1 gives the first hop's SRS0 address,
//! `local@<sig0>.<host0>.srs0.<hop1>`, which is reversed again when `hop1` is
//! one of our domains. When the local part is itself an SRS address, the
//! domain form is the outer layer and is undone first.
//!
//! A result with a label over 63 characters, a domain over 253 or a domain of
//! more than 31 labels cannot be written: the forward then uses the local
//! form.

use std::time::SystemTime;

use super::hash::{BASE32_LOWER, Key};
use super::{Day, ReverseError, Srs};

/// The label before the SRS domain in SRS0 addresses.
pub const SRS0_MARK: &str = "srs0";
/// The label before the SRS domain in SRS1 addresses.
pub const SRS1_MARK: &str = "srs1";
/// Characters of hash in a signature label.
pub const HASH_CHARS: usize = 13;
/// Characters of a signature label: stamp, count, hash.
pub const SIG_LEN: usize = 2 + 1 + HASH_CHARS;
/// The longest domain written (RFC 1035's 255 octets on the wire).
pub const MAX_DOMAIN: usize = 253;
/// The longest label.
pub const MAX_LABEL: usize = 63;

/// One domain-form layer, verified.
pub(super) struct Checked {
    /// `SRS0` or `SRS1`.
    pub tag: &'static str,
    /// Position of the key that gave the hash.
    pub key: usize,
    /// Days since it was made.
    pub age: u16,
    /// The address it wraps.
    pub original: String,
}

/// A signature label, read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Sig<'a> {
    stamp: &'a str,
    count: usize,
    hash: &'a str,
}

fn base32_value(c: u8) -> Option<usize> {
    let c = c.to_ascii_lowercase();
    BASE32_LOWER.iter().position(|&b| b == c)
}

impl<'a> Sig<'a> {
    /// Reads `label` as a signature: 16 base32 characters, a count of 1 to 31.
    fn parse(label: &'a str) -> Option<Sig<'a>> {
        if label.len() != SIG_LEN || !label.bytes().all(|b| base32_value(b).is_some()) {
            return None;
        }
        let count = base32_value(label.as_bytes()[2])?;
        (count >= 1).then(|| Sig {
            stamp: &label[..2],
            count,
            hash: &label[3..],
        })
    }
}

/// The fields a signature covers, in order.
fn signed<'a>(
    mark: &'a str,
    stamp: &'a [u8],
    count: &'a [u8],
    domain: &'a str,
    local: &'a str,
) -> [&'a [u8]; 9] {
    [
        mark.as_bytes(),
        b"\0",
        stamp,
        count,
        b"\0",
        domain.as_bytes(),
        b"\0",
        local.as_bytes(),
        b"\0",
    ]
}

/// A signature label for `domain` (its label count) and `local` under `key`.
fn sign(key: &Key, mark: &str, day: Day, domain: &str, local: &str) -> Option<String> {
    let count = domain.split('.').count();
    if !(1..32).contains(&count) {
        return None;
    }
    let stamp = day.encode().map(|c| c.to_ascii_lowercase());
    let count_char = [BASE32_LOWER[count]];
    let hash = key.base32(
        &signed(mark, &stamp, &count_char, domain, local),
        HASH_CHARS,
    );
    let mut label = String::with_capacity(SIG_LEN);
    label.extend(stamp.map(char::from));
    label.push(char::from(count_char[0]));
    label.push_str(&hash);
    Some(label)
}

/// `host` split as a domain form: what it wraps, and the SRS domain.
#[derive(Debug, PartialEq, Eq)]
enum Parsed<'a> {
    /// `<sig>.<host>.srs0.<domain>`.
    Srs0 {
        sig: Sig<'a>,
        host: &'a str,
        domain: &'a str,
    },
    /// `<sig>.<hop1>.<inner>.srs1.<domain>`, `inner` being `<sig0>.<host0>`.
    Srs1 {
        sig: Sig<'a>,
        hop1: &'a str,
        inner: &'a str,
        domain: &'a str,
    },
}

/// The byte offset in `host` after `n` labels from `start`, with the dot,
/// or `None` when there are not that many (and something after them).
fn after_labels(host: &str, start: usize, n: usize) -> Option<usize> {
    let mut at = start;
    for _ in 0..n {
        let dot = host[at..].find('.')?;
        if dot == 0 {
            return None;
        }
        at += dot + 1;
    }
    Some(at)
}

fn parse(host: &str) -> Option<Parsed<'_>> {
    if !may_be_domain_form(host) {
        return None;
    }
    let first = host.find('.')?;
    let sig = Sig::parse(&host[..first])?;
    let after = after_labels(host, first + 1, sig.count)?;
    let wrapped = &host[first + 1..after - 1];
    let rest = &host[after..];
    if let Some(domain) = strip_mark(rest, SRS0_MARK) {
        return Some(Parsed::Srs0 {
            sig,
            host: wrapped,
            domain,
        });
    }
    // SRS1: the first hop, then an SRS0 signature and its host.
    let dot = rest.find('.')?;
    let sig0 = Sig::parse(&rest[..dot])?;
    let end0 = after_labels(rest, dot + 1, sig0.count)?;
    let domain = strip_mark(&rest[end0..], SRS1_MARK)?;
    Some(Parsed::Srs1 {
        sig,
        hop1: wrapped,
        inner: &rest[..end0 - 1],
        domain,
    })
}

/// Whether `host` has an `srs0` or `srs1` label (any case) after its
/// first: a domain-form host must. One pass over the bytes (a host is
/// short: cheaper than searching for dots), so that the addresses of every
/// other form skip the parse.
pub(super) fn may_be_domain_form(host: &str) -> bool {
    host.as_bytes().windows(6).any(|w| {
        w[0] == b'.'
            && w[1..4].eq_ignore_ascii_case(b"srs")
            && matches!(w[4], b'0' | b'1')
            && w[5] == b'.'
    })
}

/// What follows `mark.` at the start of `rest`, if anything non-empty does.
fn strip_mark<'a>(rest: &'a str, mark: &str) -> Option<&'a str> {
    // Bytes, not characters: what precedes may not be ASCII.
    let head = rest.as_bytes().get(..mark.len() + 1)?;
    (head[..mark.len()].eq_ignore_ascii_case(mark.as_bytes()) && head[mark.len()] == b'.')
        .then(|| &rest[mark.len() + 1..])
        .filter(|d| !d.is_empty())
}

/// Whether `domain` can be written: labels of at most 63, at most 253 in all.
fn writable(domain: &str) -> bool {
    domain.len() <= MAX_DOMAIN
        && domain
            .split('.')
            .all(|l| !l.is_empty() && l.len() <= MAX_LABEL)
}

impl Srs {
    /// The domain form of `local@host` at `alias`, or `None` when it cannot
    /// be written (see the module's limits). `local` is what is signed (a
    /// quoted local part unescaped), `written` how it is written.
    pub(super) fn forward_domain_form(
        &self,
        local: &str,
        written: &str,
        host: &str,
        alias: &str,
        now: SystemTime,
    ) -> Option<String> {
        let key = &self.keys[0];
        let day = Day::of(now);
        let domain = match parse(host) {
            // Another forwarder's SRS0: it is our first hop.
            Some(Parsed::Srs0 { domain: hop1, .. }) => {
                let inner = &host[..host.len() - hop1.len() - SRS0_MARK.len() - 2];
                let sig = sign(key, SRS1_MARK, day, hop1, &format!("{inner}\0{local}"))?;
                format!("{sig}.{hop1}.{inner}.{SRS1_MARK}.{alias}")
            }
            // An SRS1 from elsewhere: keep its first hop and SRS0, sign again.
            Some(Parsed::Srs1 { hop1, inner, .. }) => {
                let sig = sign(key, SRS1_MARK, day, hop1, &format!("{inner}\0{local}"))?;
                format!("{sig}.{hop1}.{inner}.{SRS1_MARK}.{alias}")
            }
            None => {
                let sig = sign(key, SRS0_MARK, day, host, local)?;
                format!("{sig}.{host}.{SRS0_MARK}.{alias}")
            }
        };
        writable(&domain).then(|| format!("{written}@{domain}"))
    }

    /// Whether `host` is a domain form this key set signed (valid now).
    pub(super) fn is_our_domain_form(&self, local: &str, host: &str, now: SystemTime) -> bool {
        self.reverse_domain_form(local, local, host, now)
            .is_some_and(|r| r.is_ok())
    }

    /// Undoes one domain-form layer of `local@host` (`written` is the local
    /// part as written, quotes and all): `None` when `host` is not in the
    /// domain form, else the address it wraps, or why not.
    pub(super) fn reverse_domain_form(
        &self,
        local: &str,
        written: &str,
        host: &str,
        now: SystemTime,
    ) -> Option<Result<String, ReverseError>> {
        let parsed = parse(host)?;
        Some(self.verify_domain_form(local, written, &parsed, now))
    }

    fn verify_domain_form(
        &self,
        local: &str,
        written: &str,
        parsed: &Parsed<'_>,
        now: SystemTime,
    ) -> Result<String, ReverseError> {
        self.check_domain_form(local, written, parsed, now)
            .map(|checked| checked.original)
    }

    /// What `srs reverse --explain` says of a domain-form address: `None`
    /// when `host` is not in the domain form.
    pub(super) fn explain_domain_form(
        &self,
        local: &str,
        written: &str,
        host: &str,
        now: SystemTime,
    ) -> Option<Result<Checked, ReverseError>> {
        let parsed = parse(host)?;
        Some(self.check_domain_form(local, written, &parsed, now))
    }

    fn check_domain_form(
        &self,
        local: &str,
        written: &str,
        parsed: &Parsed<'_>,
        now: SystemTime,
    ) -> Result<Checked, ReverseError> {
        let (mark, sig, domain, content) = match parsed {
            Parsed::Srs0 { sig, host, .. } => (SRS0_MARK, sig, *host, local.to_owned()),
            Parsed::Srs1 {
                sig, hop1, inner, ..
            } => (SRS1_MARK, sig, *hop1, format!("{inner}\0{local}")),
        };
        let count = [BASE32_LOWER[sig.count]];
        let stamp = sig.stamp.to_ascii_lowercase();
        let fields = signed(mark, stamp.as_bytes(), &count, domain, &content);
        let given = sig.hash.to_ascii_lowercase();
        let key = self
            .keys
            .iter()
            .position(|k| {
                let ours = k.base32(&fields, HASH_CHARS);
                subtle::ConstantTimeEq::ct_eq(ours.as_bytes(), given.as_bytes()).into()
            })
            .ok_or(ReverseError::BadHash)?;
        let made = Day::decode(stamp.as_bytes()).ok_or(ReverseError::Malformed("bad day stamp"))?;
        let age = self.check_age(made, Day::of(now))?;
        let (tag, original) = match parsed {
            Parsed::Srs0 { host, .. } => ("SRS0", format!("{written}@{host}")),
            Parsed::Srs1 { hop1, inner, .. } => {
                ("SRS1", format!("{written}@{inner}.{SRS0_MARK}.{hop1}"))
            }
        };
        Ok(Checked {
            tag,
            key,
            age,
            original,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_split_by_their_counts() {
        let sig = "jmdaaaaaaaaaaaaa";
        let host = format!("{sig}.mail.example.net.srs0.fwd.example");
        let Some(Parsed::Srs0 {
            host: h,
            domain,
            sig: s,
        }) = parse(&host)
        else {
            panic!("{host}");
        };
        assert_eq!((h, domain, s.count), ("mail.example.net", "fwd.example", 3));
        let srs1 =
            "jmbaaaaaaaaaaaaa.hop.jmdaaaaaaaaaaaaa.mail.example.net.srs1.fwd.example".to_owned();
        let Some(Parsed::Srs1 {
            hop1,
            inner,
            domain,
            ..
        }) = parse(&srs1)
        else {
            panic!("{srs1}");
        };
        assert_eq!(
            (hop1, inner, domain),
            ("hop", "jmdaaaaaaaaaaaaa.mail.example.net", "fwd.example")
        );
        // A count past the labels there are, no marker, a count of 0, a
        // non-ASCII label where the marker goes.
        for bad in [
            "jmbaaaaaaaaaaaaa.a.sr\u{e9}0.fwd.example",
            "jmbaaaaaaaaaaaaa.a.\u{e9}\u{e9}\u{e9}.fwd.example",
            "jmhaaaaaaaaaaaaa.a.b.srs0.fwd.example",
            "jmbaaaaaaaaaaaaa.a.fwd.example",
            "jmaaaaaaaaaaaaaa.a.srs0.fwd.example",
            "jmbaaaaaaaaaaaa.a.srs0.fwd.example",
            "jmbaaaaaaaaaaaaa.a.srs0.",
        ] {
            assert_eq!(parse(bad), None, "{bad}");
        }
    }
}
