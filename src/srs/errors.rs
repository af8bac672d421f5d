//! Why forward or reverse refused an address.

use thiserror::Error;

use super::MAX_ROUNDS;

/// Why a sender could not be forwarded.
#[derive(Clone, Copy, Debug, Error, PartialEq, Eq)]
pub enum ForwardError {
    /// The null sender (empty or `<>`) has no SRS form; bounces are not rewritten.
    #[error("the null sender is never rewritten")]
    NullSender,
    /// The sender has no `@`.
    #[error("no @ in the address")]
    NoAt,
    /// Nothing follows the last `@`.
    #[error("empty domain after @")]
    EmptyHost,
    /// The local part has an unquoted `@` or broken quoting.
    #[error("local part has an unquoted @ or broken quotes (write \"local part\"@domain)")]
    BadLocalPart,
    /// The alias has no domain.
    #[error("the alias domain is empty")]
    EmptyAlias,
    /// The domain contains `=`, which no domain does; signing it would let the
    /// address reverse to a different one (the hash input has no delimiters).
    #[error("domain contains '=', which SRS cannot carry unambiguously")]
    EqualsInHost,
    /// Nothing before the `@`, quoted (`""@x`) or not (`@x`): such an SRS
    /// address could not be reversed.
    #[error("empty local part before @")]
    EmptyLocalPart,
    /// A control character or NUL anywhere in the address.
    #[error("control character U+{:04X} in the address", *.0 as u32)]
    ControlCharacter(char),
    /// Whitespace in a local part that is not quoted.
    #[error("unquoted white space in the local part (write \"local part\"@domain)")]
    UnquotedWhitespace,
    /// `<` or `>` in a local part that is not quoted: an address still
    /// wrapped in angle brackets, or half of them.
    #[error("angle bracket in the address (give it without < >)")]
    AngleBracket,
    /// A character that no domain or address literal holds.
    #[error("domain contains {0:?}, which no domain does")]
    BadDomainCharacter(char),
}

/// Why an address could not be reversed; each names the check that failed.
#[derive(Clone, Copy, Debug, Error, PartialEq, Eq)]
pub enum ReverseError {
    /// The local part does not start with `SRS0` or `SRS1` and a separator.
    #[error("not an SRS address")]
    NotSrs,
    /// It starts like an SRS address but its fields are wrong.
    #[error("malformed SRS address: {0}")]
    Malformed(&'static str),
    /// The hash is shorter than the minimum accepted.
    #[error("hash too short: {len} characters, at least {min} required")]
    HashTooShort {
        /// Characters of hash in the address.
        len: usize,
        /// The minimum.
        min: usize,
    },
    /// No secret gives this hash.
    #[error("hash does not match (forged, or signed with a secret we no longer have)")]
    BadHash,
    /// The timestamp is older than the maximum age.
    #[error("expired: made {age} days ago, the maximum age is {max_age} days")]
    Expired {
        /// Days since the address was made.
        age: u16,
        /// The maximum age in force.
        max_age: u16,
    },
    /// The timestamp lies in the future.
    #[error("timestamp is in the future")]
    Future,
    /// Reversing went round our own domains too many times.
    #[error("still an SRS address at one of our domains after {MAX_ROUNDS} rounds")]
    TooManyRounds,
}
