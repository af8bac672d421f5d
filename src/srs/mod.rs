//! The SRS codec: forward and reverse of the "Guarded" scheme shared by
//! Mail::SRS, libsrs2, postsrsd and pysrs.
//!
//! The codec is pure: the clock is an argument, nothing is logged, nothing is
//! read from disk. The README's "Compatibility decisions" lists where it
//! follows one existing implementation over another.

mod address;
mod domain_form;
mod errors;
mod explain;
mod hash;
mod options;
#[cfg(test)]
mod tests;
mod timestamp;

use std::fmt;
use std::time::SystemTime;

pub use address::Form;
pub use address::{alias_domain, check_domain, strip_angle_brackets};
pub use errors::{ForwardError, ReverseError};
pub use explain::Explanation;
use hash::Key;
pub use hash::{HashAlphabet, MAX_HASH_LENGTH};
pub use options::{AddressForm, Options, OptionsError, Separator};
pub use timestamp::Day;

/// RFC 5321's limit on the length of a local part.
pub const MAX_LOCAL_PART: usize = 64;
/// How many times reverse follows an SRS address back to one of our domains.
pub const MAX_ROUNDS: usize = 8;

/// What forward did with a sender.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Forwarded {
    /// The sender was rewritten into this SRS address.
    Rewritten(String),
    /// The sender stays as it is.
    Unchanged(Unchanged),
}

impl Forwarded {
    /// The address to use: the rewritten one, or `sender` itself.
    pub fn address<'a>(&'a self, sender: &'a str) -> &'a str {
        match self {
            Forwarded::Rewritten(a) => a,
            Forwarded::Unchanged(_) => sender,
        }
    }
}

/// Why forward left a sender alone.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unchanged {
    /// The sender's domain is the alias domain or a local domain.
    LocalDomain,
    /// The sender is an SRS address we signed; signing it again would only lengthen it.
    AlreadyOurs,
}

/// The SRS codec with its secrets and options.
#[derive(Clone)]
pub struct Srs {
    /// Verifying keys; the first signs.
    keys: Vec<Key>,
    options: Options,
    hash_min: usize,
}

impl fmt::Debug for Srs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never print key material.
        f.debug_struct("Srs")
            .field("keys", &self.keys.len())
            .field("options", &self.options)
            .finish()
    }
}

/// An SRS local part after its tag and initial separator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Tagged<'a> {
    /// `SRS0<s>` and what follows.
    Srs0(&'a str),
    /// `SRS1<s>` and what follows.
    Srs1(&'a str),
}

impl<'a> Tagged<'a> {
    /// Recognises `SRS0`/`SRS1` (any case) followed by `=`, `+` or `-`.
    fn parse(local: &'a str) -> Option<Tagged<'a>> {
        let b = local.as_bytes();
        if b.len() < 5
            || !b[..3].eq_ignore_ascii_case(b"srs")
            || !matches!(b[4], b'=' | b'+' | b'-')
        {
            return None;
        }
        match b[3] {
            b'0' => Some(Tagged::Srs0(&local[5..])),
            b'1' => Some(Tagged::Srs1(&local[5..])),
            _ => None,
        }
    }
}

/// Whether `address` looks like an SRS address (`SRS0`/`SRS1` and a
/// separator at the start), whether or not its hash is valid.
pub fn looks_like_srs(address: &str) -> bool {
    Tagged::parse(address.trim_start_matches('"')).is_some()
}

/// One verified step back: the previous address's local part and host.
enum Layer<'a> {
    /// An SRS0 unwrapped to the original sender.
    Original { local: &'a str, host: &'a str },
    /// An SRS1 unwrapped to `SRS0<s0rest>@hop1`.
    FirstHop { s0rest: &'a str, hop1: &'a str },
}

impl Srs {
    /// Builds a codec. `secrets` in order: the first signs, all verify.
    pub fn new<S: AsRef<[u8]>>(secrets: &[S], options: Options) -> Result<Srs, OptionsError> {
        if secrets.is_empty() {
            return Err(OptionsError::NoSecrets);
        }
        if !(1..=MAX_HASH_LENGTH).contains(&options.hash_length) {
            return Err(OptionsError::HashLength(options.hash_length));
        }
        let hash_min = options.hash_min.unwrap_or(options.hash_length);
        if !(1..=options.hash_length).contains(&hash_min) {
            return Err(OptionsError::HashMin {
                min: hash_min,
                length: options.hash_length,
            });
        }
        if options.max_age >= timestamp::CYCLE {
            return Err(OptionsError::MaxAge(options.max_age.into()));
        }
        let mut keys: Vec<Key> = secrets.iter().map(|s| Key::new(s.as_ref())).collect();
        if options.accept_perl_newline_keys {
            for s in secrets {
                let mut with_newline = s.as_ref().to_vec();
                with_newline.push(b'\n');
                keys.push(Key::new(&with_newline));
            }
        }
        Ok(Srs {
            keys,
            options,
            hash_min,
        })
    }

    /// The options in force.
    pub fn options(&self) -> &Options {
        &self.options
    }

    /// Forwards `sender` (RFC 5321 form) through the domain of `alias`.
    pub fn forward(
        &self,
        sender: &str,
        alias: &str,
        now: SystemTime,
    ) -> Result<Forwarded, ForwardError> {
        self.forward_in(Form::External, sender, alias, now)
    }

    /// Forwards `sender` written in `form` through the domain of `alias`.
    pub fn forward_in(
        &self,
        form: Form,
        sender: &str,
        alias: &str,
        now: SystemTime,
    ) -> Result<Forwarded, ForwardError> {
        if sender.is_empty() || sender == "<>" {
            return Err(ForwardError::NullSender);
        }
        let alias = address::alias_domain(alias);
        if alias.is_empty() {
            return Err(ForwardError::EmptyAlias);
        }
        let parts = address::split(sender, form).map_err(|e| match e {
            address::SplitError::NoAt => ForwardError::NoAt,
            address::SplitError::EmptyHost => ForwardError::EmptyHost,
            address::SplitError::BadLocalPart => ForwardError::BadLocalPart,
        })?;
        check_sender(sender, &parts, form)?;
        if !self.options.always_rewrite && self.is_ours(parts.host, Some(alias)) {
            return Ok(Forwarded::Unchanged(Unchanged::LocalDomain));
        }
        let local = &parts.local;
        let tagged = Tagged::parse(local);
        if let Some(tagged) = tagged
            && self.step(tagged, Day::of(now)).is_ok()
        {
            return Ok(Forwarded::Unchanged(Unchanged::AlreadyOurs));
        }
        if self.is_our_domain_form(local, parts.host, now) {
            return Ok(Forwarded::Unchanged(Unchanged::AlreadyOurs));
        }
        let domain_form = || {
            let written = written_local(local, parts.quoted);
            self.forward_domain_form(local, &written, parts.host, alias, now)
        };
        if self.options.address_form == AddressForm::Domain
            && let Some(a) = domain_form()
        {
            return Ok(Forwarded::Rewritten(a));
        }
        let srs1_from = match tagged {
            // An SRS0 from another host: that host is the first hop.
            Some(Tagged::Srs0(_)) => Some((parts.host, &local[4..])),
            // An SRS1: keep its first hop and inner SRS0, re-sign.
            Some(Tagged::Srs1(rest)) => split3(rest)
                .filter(|(_, hop1, _)| !hop1.is_empty())
                .map(|(_, hop1, s0rest)| (hop1, s0rest)),
            None => None,
        };
        let sep = self.options.separator.as_char();
        let mut out = String::with_capacity(sender.len() + alias.len() + 40);
        match srs1_from {
            Some((hop1, s0rest)) => {
                out.push_str("SRS1");
                out.push(sep);
                self.push_hash(&mut out, &[hop1.as_bytes(), s0rest.as_bytes()]);
                for field in [hop1, s0rest] {
                    out.push('=');
                    out.push_str(field);
                }
            }
            None => {
                let stamp = Day::of(now).encode();
                out.push_str("SRS0");
                out.push(sep);
                self.push_hash(&mut out, &[&stamp, parts.host.as_bytes(), local.as_bytes()]);
                out.push('=');
                out.extend(stamp.map(char::from));
                for field in [parts.host, local] {
                    out.push('=');
                    out.push_str(field);
                }
            }
        }
        if parts.quoted {
            let mut quoted = String::with_capacity(out.len() + alias.len() + 4);
            address::push_quoted(&mut quoted, &out);
            out = quoted;
        }
        if self.options.address_form == AddressForm::Auto
            && out.len() > MAX_LOCAL_PART
            && let Some(a) = domain_form()
        {
            return Ok(Forwarded::Rewritten(a));
        }
        out.push('@');
        out.push_str(alias);
        Ok(Forwarded::Rewritten(out))
    }

    /// Reverses an SRS address (RFC 5321 form) to the address it stands for.
    pub fn reverse(&self, address: &str, now: SystemTime) -> Result<String, ReverseError> {
        self.reverse_in(Form::External, address, now)
    }

    /// Reverses an SRS address written in `form`. SRS0 gives the original
    /// sender, SRS1 the first hop's SRS0 address; while the result is an SRS
    /// address at one of our local domains, it is reversed again.
    pub fn reverse_in(
        &self,
        form: Form,
        address: &str,
        now: SystemTime,
    ) -> Result<String, ReverseError> {
        let parts = address::split(address, form).map_err(|e| {
            let srs_like = Tagged::parse(address).is_some();
            match e {
                _ if !srs_like => ReverseError::NotSrs,
                address::SplitError::NoAt => ReverseError::Malformed("no @ in the address"),
                address::SplitError::EmptyHost => ReverseError::Malformed("empty domain after @"),
                address::SplitError::BadLocalPart => ReverseError::Malformed("broken quoting"),
            }
        })?;
        // The domain form is the outer layer when both are present.
        if domain_form::may_be_domain_form(parts.host) {
            let written = written_local(&parts.local, parts.quoted);
            if let Some(result) = self.reverse_domain_form(&parts.local, &written, parts.host, now)
            {
                return self.reverse_again(form, result?, now, 1);
            }
        }
        let tagged = Tagged::parse(&parts.local).ok_or(ReverseError::NotSrs)?;
        self.unwrap_from(tagged, Day::of(now), parts.quoted, 1)
    }

    /// After a domain-form layer (round `round`): an SRS address again,
    /// local or domain form, at one of our domains is reversed again.
    fn reverse_again(
        &self,
        form: Form,
        address: String,
        now: SystemTime,
        round: usize,
    ) -> Result<String, ReverseError> {
        let Ok(parts) = address::split(&address, form) else {
            return Ok(address);
        };
        let host = parts.host;
        let srs1_hop = host
            .rsplit_once(".srs0.")
            .map(|(_, hop)| hop)
            .filter(|hop| self.is_ours(hop, None));
        if srs1_hop.is_some() || (self.is_ours(host, None) && looks_like_srs(&parts.local)) {
            if round == MAX_ROUNDS {
                return Err(ReverseError::TooManyRounds);
            }
            let written = written_local(&parts.local, parts.quoted);
            if let Some(result) = self.reverse_domain_form(&parts.local, &written, host, now) {
                return self.reverse_again(form, result?, now, round + 1);
            }
            return self.reverse_in(form, &address, now);
        }
        Ok(address)
    }

    /// Verifies `tagged` and writes what it wraps; when that is again an SRS
    /// address at one of our domains, goes on unwrapping (round `round`).
    fn unwrap_from(
        &self,
        tagged: Tagged<'_>,
        day: Day,
        quoted: bool,
        round: usize,
    ) -> Result<String, ReverseError> {
        let (tag, local, host) = match self.step(tagged, day)? {
            Layer::Original { local, host } => ("", local, host),
            Layer::FirstHop { s0rest, hop1 } => ("SRS0", s0rest, hop1),
        };
        let is_srs = !tag.is_empty() || Tagged::parse(local).is_some();
        if is_srs && self.is_ours(host, None) {
            if round == MAX_ROUNDS {
                return Err(ReverseError::TooManyRounds);
            }
            let next = format!("{tag}{local}");
            let tagged = Tagged::parse(&next).ok_or(ReverseError::NotSrs)?;
            return self.unwrap_from(tagged, day, quoted, round + 1);
        }
        let mut out = String::with_capacity(tag.len() + local.len() + host.len() + 3);
        if quoted {
            let mut plain = String::with_capacity(tag.len() + local.len());
            plain.push_str(tag);
            plain.push_str(local);
            address::push_quoted(&mut out, &plain);
        } else {
            out.push_str(tag);
            out.push_str(local);
        }
        out.push('@');
        out.push_str(host);
        Ok(out)
    }

    /// Verifies one SRS local part and returns what it wraps.
    fn step<'a>(&self, tagged: Tagged<'a>, today: Day) -> Result<Layer<'a>, ReverseError> {
        match tagged {
            Tagged::Srs0(rest) => {
                let fields = split_eq(rest).and_then(|(hash, tail)| {
                    let (stamp, tail) = split_eq(tail)?;
                    let (host, local) = split_eq(tail)?;
                    Some((hash, stamp, host, local))
                });
                let Some((hash, stamp, host, local)) = fields else {
                    return Err(ReverseError::Malformed(
                        "SRS0 needs hash, timestamp, host and local part",
                    ));
                };
                if host.is_empty() || local.is_empty() {
                    return Err(ReverseError::Malformed("empty host or local part"));
                }
                let made = Day::decode(stamp.as_bytes()).ok_or(ReverseError::Malformed(
                    "timestamp is not two base32 characters",
                ))?;
                self.verify(hash, &[stamp.as_bytes(), host.as_bytes(), local.as_bytes()])?;
                self.check_age(made, today)?;
                Ok(Layer::Original { local, host })
            }
            Tagged::Srs1(rest) => {
                let (hash, hop1, s0rest) = split3(rest).ok_or(ReverseError::Malformed(
                    "SRS1 needs hash, first hop and SRS0 part",
                ))?;
                if hop1.is_empty() || s0rest.is_empty() {
                    return Err(ReverseError::Malformed("empty first hop or SRS0 part"));
                }
                self.verify(hash, &[hop1.as_bytes(), s0rest.as_bytes()])?;
                Ok(Layer::FirstHop { s0rest, hop1 })
            }
        }
    }

    /// The age in days of an address made on `made`, if it is valid on
    /// `today`: not past the maximum age, and not from the future (more than
    /// half the 1024-day cycle ahead counts as the future).
    fn check_age(&self, made: Day, today: Day) -> Result<u16, ReverseError> {
        let age = made.days_until(today);
        if age <= self.options.max_age {
            Ok(age)
        } else if age >= timestamp::CYCLE / 2 {
            Err(ReverseError::Future)
        } else {
            Err(ReverseError::Expired {
                age,
                max_age: self.options.max_age,
            })
        }
    }

    /// Appends the hash of `parts` under the signing key, in the configured
    /// length and alphabet.
    fn push_hash(&self, out: &mut String, parts: &[&[u8]]) {
        let len = self.options.hash_length;
        let digest = self.keys[0].digest(parts, self.options.alphabet, len);
        for &c in &digest[..len] {
            out.push(char::from(c));
        }
    }

    /// Checks `hash` against every key, accepting any length from the minimum to 27.
    fn verify(&self, hash: &str, parts: &[&[u8]]) -> Result<(), ReverseError> {
        self.matching_key(hash, parts).map(|_| ())
    }

    /// The position in the key list of the first key that gives `hash`.
    fn matching_key(&self, hash: &str, parts: &[&[u8]]) -> Result<usize, ReverseError> {
        if hash.len() < self.hash_min {
            return Err(ReverseError::HashTooShort {
                len: hash.len(),
                min: self.hash_min,
            });
        }
        if hash.len() > MAX_HASH_LENGTH {
            return Err(ReverseError::BadHash);
        }
        let given = hash.as_bytes();
        self.keys
            .iter()
            .position(|k| {
                let ours = k.digest(parts, HashAlphabet::Standard, given.len());
                hash::matches(given, &ours)
            })
            .ok_or(ReverseError::BadHash)
    }

    /// Whether `host` is one of our domains: `alias`, or a local domain.
    pub fn is_ours(&self, host: &str, alias: Option<&str>) -> bool {
        alias.is_some_and(|a| address::same_domain(host, a))
            || self
                .options
                .local_domains
                .iter()
                .any(|d| domain_matches(host, d))
    }

    /// Whether `host` lies under the `srs0`/`srs1` subdomain of one of our
    /// domains (see [`Srs::is_ours`]), where only domain-form addresses
    /// live: a recipient there is a claim to be one of ours, whatever its
    /// shape, and must reverse or be refused. Another forwarder's domain
    /// form is not ours.
    pub fn in_our_srs_subdomains(&self, host: &str, alias: Option<&str>) -> bool {
        let lower = host.to_ascii_lowercase();
        [domain_form::SRS0_MARK, domain_form::SRS1_MARK]
            .iter()
            .any(|mark| {
                let label = format!(".{mark}.");
                lower
                    .match_indices(&label)
                    .any(|(i, _)| i > 0 && self.is_ours(&host[i + label.len()..], alias))
            })
    }
}

/// A local part as it is written: quoted again when it came quoted.
fn written_local(local: &str, quoted: bool) -> String {
    if quoted {
        let mut q = String::with_capacity(local.len() + 2);
        address::push_quoted(&mut q, local);
        q
    } else {
        local.to_owned()
    }
}

/// Refuses what is not an address before it is signed: a signed address
/// would carry it to the next hop and back. In the internal form (Postfix's
/// unquoted rendering of a quoted local part) the local part may hold
/// white space and brackets.
fn check_sender(sender: &str, parts: &address::Parts<'_>, form: Form) -> Result<(), ForwardError> {
    // Nearly every sender has no byte that a check below looks for: one
    // pass over its bytes settles it (these checks run on every forward).
    if !sender.bytes().any(|b| SUSPECT[usize::from(b)]) {
        if parts.local.is_empty() {
            return Err(ForwardError::EmptyLocalPart);
        }
        return Ok(());
    }
    check_sender_closely(sender, parts, form)
}

/// [`check_sender`] a character at a time.
fn check_sender_closely(
    sender: &str,
    parts: &address::Parts<'_>,
    form: Form,
) -> Result<(), ForwardError> {
    if let Some(c) = sender.chars().find(|c| c.is_control()) {
        return Err(ForwardError::ControlCharacter(c));
    }
    if parts.local.is_empty() {
        return Err(ForwardError::EmptyLocalPart);
    }
    if parts.host.contains('=') {
        return Err(ForwardError::EqualsInHost);
    }
    if let Some(c) = parts
        .host
        .chars()
        .find(|&c| c.is_whitespace() || matches!(c, '<' | '>' | '(' | ')' | ',' | ';' | '"' | '\\'))
    {
        return Err(ForwardError::BadDomainCharacter(c));
    }
    if form == Form::External && !parts.quoted {
        if parts.local.contains(char::is_whitespace) {
            return Err(ForwardError::UnquotedWhitespace);
        }
        if parts.local.contains(['<', '>']) {
            return Err(ForwardError::AngleBracket);
        }
    }
    Ok(())
}

/// The bytes that [`check_sender`] must look at more closely: controls,
/// space, DEL, the bytes of non-ASCII characters, and those refused in a
/// domain (or, `<` and `>`, in an unquoted local part). A sender without
/// them passes every character check; it is also written without quotes
/// or escapes, so its local part and domain are its own bytes.
static SUSPECT: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 256 {
        table[b] = b <= b' ' as usize || b >= 0x7f;
        b += 1;
    }
    let refused = b"=<>(),;\"\\";
    let mut i = 0;
    while i < refused.len() {
        table[refused[i] as usize] = true;
        i += 1;
    }
    table
};

/// Splits at the first `=`, searching bytes (`=` is ASCII, so the split is
/// on a character boundary).
fn split_eq(s: &str) -> Option<(&str, &str)> {
    let i = s.bytes().position(|b| b == b'=')?;
    Some((&s[..i], &s[i + 1..]))
}

/// Splits at the first two `=`: `hash=hop1=rest`.
fn split3(s: &str) -> Option<(&str, &str, &str)> {
    let (hash, tail) = split_eq(s)?;
    let (hop1, rest) = split_eq(tail)?;
    Some((hash, hop1, rest))
}

/// Whether `host` matches a local-domain entry (`.example.com` matches subdomains only).
fn domain_matches(host: &str, entry: &str) -> bool {
    let host = host.trim_end_matches('.');
    match entry.strip_prefix('.') {
        Some(parent) => {
            let parent = parent.trim_end_matches('.');
            host.len() > parent.len() + 1
                && host.as_bytes()[host.len() - parent.len() - 1] == b'.'
                && host[host.len() - parent.len()..].eq_ignore_ascii_case(parent)
        }
        None => address::same_domain(host, entry),
    }
}

/// The length of the local part of `address` when it exceeds RFC 5321's 64 octets.
pub fn overlong_local_part(address: &str) -> Option<usize> {
    let len = address::last_at(address).unwrap_or(address.len());
    (len > MAX_LOCAL_PART).then_some(len)
}
