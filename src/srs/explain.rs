//! `srs reverse --explain`: what a postmaster wants to know about an SRS
//! address before trusting it: which secret signed it, how old it is and
//! how long it stays valid. Never the secret itself.

use std::time::SystemTime;

use super::{Day, Form, ReverseError, Srs, Tagged, address, split_eq, split3, timestamp};

/// What the outer layer of an SRS address says, once verified.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Explanation {
    /// `SRS0` or `SRS1`.
    pub tag: &'static str,
    /// The position (1 = the first, signing one) of the secret that gave the
    /// hash, in the order the secrets were given.
    pub secret: usize,
    /// The secret matched only with a newline after it, as Perl's
    /// `--secretfile` reads keys (`accept-perl-newline-keys`).
    pub perl_newline: bool,
    /// Characters of hash in the address.
    pub hash_length: usize,
    /// SRS0 only: days since the address was made.
    pub age: Option<u16>,
    /// SRS0 only: days it is still accepted (0: its last day).
    pub days_left: Option<u16>,
    /// The address it reverses to.
    pub original: String,
}

impl Srs {
    /// Verifies `address` like [`Srs::reverse_in`] and says how: the same
    /// answer, with the facts behind it.
    pub fn explain(
        &self,
        form: Form,
        address: &str,
        now: SystemTime,
    ) -> Result<Explanation, ReverseError> {
        let original = self.reverse_in(form, address, now)?;
        // reverse_in accepted it, so every step below succeeds.
        let parts = address::split(address, form).map_err(|_| ReverseError::NotSrs)?;
        let written = super::written_local(&parts.local, parts.quoted);
        if let Some(checked) = self.explain_domain_form(&parts.local, &written, parts.host, now) {
            let checked = checked?;
            let given = self.secrets_given();
            return Ok(Explanation {
                tag: if checked.tag == "SRS0" {
                    "SRS0, domain form"
                } else {
                    "SRS1, domain form"
                },
                secret: checked.key % given + 1,
                perl_newline: checked.key >= given,
                hash_length: super::domain_form::HASH_CHARS,
                age: Some(checked.age),
                days_left: Some(self.options.max_age.saturating_sub(checked.age)),
                original,
            });
        }
        let tagged = Tagged::parse(&parts.local).ok_or(ReverseError::NotSrs)?;
        let (tag, hash, signed, stamp): (_, _, Vec<&[u8]>, _) = match tagged {
            Tagged::Srs0(rest) => {
                let (hash, tail) = split_eq(rest).ok_or(ReverseError::NotSrs)?;
                let (stamp, tail) = split_eq(tail).ok_or(ReverseError::NotSrs)?;
                let (host, local) = split_eq(tail).ok_or(ReverseError::NotSrs)?;
                let signed = vec![stamp.as_bytes(), host.as_bytes(), local.as_bytes()];
                ("SRS0", hash, signed, Some(stamp))
            }
            Tagged::Srs1(rest) => {
                let (hash, hop1, s0rest) = split3(rest).ok_or(ReverseError::NotSrs)?;
                ("SRS1", hash, vec![hop1.as_bytes(), s0rest.as_bytes()], None)
            }
        };
        let position = self.matching_key(hash, &signed)?;
        let given = self.secrets_given();
        let age = stamp
            .and_then(|s| Day::decode(s.as_bytes()))
            .map(|made| made.days_until(Day::of(now)) % timestamp::CYCLE);
        Ok(Explanation {
            tag,
            secret: position % given + 1,
            perl_newline: position >= given,
            hash_length: hash.len(),
            age,
            days_left: age.map(|a| self.options.max_age.saturating_sub(a)),
            original,
        })
    }

    /// How many secrets were given (the keys with a Perl newline come after).
    fn secrets_given(&self) -> usize {
        if self.options.accept_perl_newline_keys {
            self.keys.len() / 2
        } else {
            self.keys.len()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::srs::{Forwarded, Options};
    use std::time::{Duration, UNIX_EPOCH};

    const DAY: u64 = 86_400;

    #[test]
    fn names_the_secret_by_position_and_counts_days() {
        let t0 = UNIX_EPOCH + Duration::from_secs(20_000 * DAY);
        let old = Srs::new(&["old"], Options::default()).unwrap();
        let Ok(Forwarded::Rewritten(signed)) = old.forward("a@b.example", "fwd.example", t0) else {
            panic!("not rewritten");
        };
        let both = Srs::new(&["new", "old"], Options::default()).unwrap();
        let later = t0 + Duration::from_secs(3 * DAY);
        assert_eq!(
            both.explain(Form::External, &signed, later),
            Ok(Explanation {
                tag: "SRS0",
                secret: 2,
                perl_newline: false,
                hash_length: 4,
                age: Some(3),
                days_left: Some(18),
                original: "a@b.example".into(),
            })
        );
        let forged = signed.replacen("SRS0=", "SRS0=x", 1);
        assert_eq!(
            both.explain(Form::External, &forged, later),
            Err(ReverseError::BadHash)
        );
    }

    #[test]
    fn srs1_has_no_age() {
        let t0 = UNIX_EPOCH + Duration::from_secs(20_000 * DAY);
        let srs = Srs::new(&["k"], Options::default()).unwrap();
        let Ok(Forwarded::Rewritten(s1)) =
            srs.forward("SRS0=abcd=AA=b.example=a@hop.example", "fwd.example", t0)
        else {
            panic!("not rewritten");
        };
        let e = srs.explain(Form::External, &s1, t0).unwrap();
        assert_eq!(
            (e.tag, e.secret, e.age, e.days_left, e.original.as_str()),
            (
                "SRS1",
                1,
                None,
                None,
                "SRS0=abcd=AA=b.example=a@hop.example"
            )
        );
    }
}
