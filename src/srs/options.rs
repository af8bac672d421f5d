//! The codec's settings: separator, hash length, maximum age, local
//! domains, the address form; and why a set of them is refused.

use std::fmt;
use std::str::FromStr;

use thiserror::Error;

use super::{HashAlphabet, MAX_HASH_LENGTH};

/// The character after `SRS0`/`SRS1`. Every later separator is `=`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Separator {
    /// `=`, the default everywhere.
    #[default]
    Equals,
    /// `+`, so an MTA with `+` extensions delivers all SRS mail to user `SRS0`/`SRS1`.
    Plus,
    /// `-`, the same for MTAs with `-` extensions (qmail, Courier).
    Minus,
}

impl Separator {
    /// The separator as a character.
    pub fn as_char(self) -> char {
        match self {
            Separator::Equals => '=',
            Separator::Plus => '+',
            Separator::Minus => '-',
        }
    }
}

impl fmt::Display for Separator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.as_char())
    }
}

impl FromStr for Separator {
    type Err = OptionsError;
    fn from_str(s: &str) -> Result<Self, OptionsError> {
        match s {
            "=" => Ok(Separator::Equals),
            "+" => Ok(Separator::Plus),
            "-" => Ok(Separator::Minus),
            _ => Err(OptionsError::Separator(s.to_owned())),
        }
    }
}

/// Everything about the codec except the secrets. The defaults are those of
/// Mail::SRS and postsrsd.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Options {
    /// Initial separator of new addresses. Default `=`.
    pub separator: Separator,
    /// Characters of hash in new addresses, 1 to 27. Default 4.
    pub hash_length: usize,
    /// Fewest hash characters accepted on reverse; `None` means the hash length.
    pub hash_min: Option<usize>,
    /// Days an address stays valid after the day it was made. Default 21.
    pub max_age: u16,
    /// Alphabet of new hashes. Default standard base64.
    pub alphabet: HashAlphabet,
    /// Domains whose senders are never rewritten (besides the alias domain).
    /// An entry starting with `.` matches the subdomains of what follows.
    /// Reverse keeps unwrapping results at these domains.
    pub local_domains: Vec<String>,
    /// Rewrite senders from local domains too.
    pub always_rewrite: bool,
    /// Also accept hashes made by Perl Mail::SRS from a secret file, whose
    /// keys kept the line's trailing newline.
    pub accept_perl_newline_keys: bool,
    /// Where forward puts the signature. Reverse reads both forms.
    pub address_form: AddressForm,
}

/// Where forward puts the signature (see the `domain_form` module).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum AddressForm {
    /// `SRS0=HHHH=TT=host=local@domain`, as every implementation writes.
    #[default]
    Local,
    /// `local@<sig>.host.srs0.domain`, for a domain with wildcard records.
    Domain,
    /// The domain form only when the local form's local part would be over
    /// the 64 characters of RFC 5321.
    Auto,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            separator: Separator::Equals,
            hash_length: 4,
            hash_min: None,
            max_age: 21,
            alphabet: HashAlphabet::Standard,
            local_domains: Vec::new(),
            always_rewrite: false,
            accept_perl_newline_keys: false,
            address_form: AddressForm::Local,
        }
    }
}

/// A setting the codec cannot work with.
#[derive(Clone, Debug, Error, PartialEq, Eq)]
pub enum OptionsError {
    /// No secret was given.
    #[error("no secret: give a keys file with at least one secret")]
    NoSecrets,
    /// The hash length is not 1 to 27.
    #[error("hash length {0} is out of range (1 to {MAX_HASH_LENGTH})")]
    HashLength(usize),
    /// The minimum hash length is not 1 to the hash length.
    #[error("minimum hash length {min} is out of range (1 to the hash length, {length})")]
    HashMin {
        /// The `--hash-min` given.
        min: usize,
        /// The `--hash-length` in force.
        length: usize,
    },
    /// The maximum age is 1024 days or more.
    #[error("maximum age {0} days is out of range (0 to 1023)")]
    MaxAge(u32),
    /// The separator is not `=`, `+` or `-`.
    #[error("separator {0:?} is not one of = + -")]
    Separator(String),
}
