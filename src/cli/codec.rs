//! The codec options every program shares, and turning them into an [`Srs`].

use std::ffi::OsString;
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;

use clap::{Args, ValueEnum};
use thiserror::Error;

use crate::secrets::{self, LineEnds, Secrets, SecretsError};
use crate::srs::{HashAlphabet, Options, OptionsError, Separator, Srs};

/// Options that set up the codec: secrets and everything in [`Options`].
#[derive(Args, Clone, Debug, Default, PartialEq, Eq)]
pub struct CodecArgs {
    /// Keys file: one secret per line, the first signs, all verify
    #[arg(short = 'k', long, value_name = "FILE", global = true)]
    pub secret_file: Option<PathBuf>,

    /// A secret on the command line (repeatable; visible in ps, prefer --secret-file)
    #[arg(long, value_name = "SECRET", global = true, value_parser = clap::value_parser!(OsString))]
    pub secret: Vec<OsString>,

    /// Initial separator after SRS0/SRS1 in new addresses
    #[arg(long, value_name = "CHAR", value_parser = ["=", "+", "-"], global = true)]
    pub separator: Option<String>,

    /// Characters of hash in new addresses (1 to 27) [default: 4]
    #[arg(long, value_name = "N", global = true)]
    pub hash_length: Option<usize>,

    /// Fewest hash characters accepted on reverse [default: the hash length]
    #[arg(long, value_name = "N", global = true)]
    pub hash_min: Option<usize>,

    /// Days an address stays valid (0 to 1023) [default: 21]
    #[arg(long, value_name = "DAYS", global = true)]
    pub max_age: Option<u16>,

    /// A domain whose senders are never rewritten; .example.com means its subdomains (repeatable)
    #[arg(long, value_name = "DOMAIN", global = true)]
    pub local_domain: Vec<String>,

    /// File of local domains, one per line (# comments), added to --local-domain
    #[arg(long, value_name = "FILE", global = true)]
    pub local_domains_file: Option<PathBuf>,

    /// Rewrite senders from the alias and local domains too
    #[arg(long, global = true)]
    pub always_rewrite: bool,

    /// Alphabet of new hashes; both are accepted on reverse [default: standard]
    #[arg(long, value_name = "ALPHABET", value_enum, global = true)]
    pub hash_alphabet: Option<AlphabetArg>,

    /// Also accept addresses signed by Perl srs/srsd, which keep the newline in keys read from a file
    #[arg(long, global = true)]
    pub accept_perl_newline_keys: bool,

    /// Where new addresses carry the signature: the local part (SRS0=...@domain), the domain (local@SIG.host.srs0.domain), or the domain only when the local part would pass 64 characters; reverse reads both [default: local]
    #[arg(long, value_name = "FORM", value_enum, global = true)]
    pub address_form: Option<AddressFormArg>,

    /// Where the original sender goes: embedded in the SRS address, or stored in --database under a short key the address carries (postsrsd 2's layout) [default: embedded]
    #[arg(long, value_name = "WHERE", value_enum, global = true)]
    pub original_envelope: Option<EnvelopeArg>,

    /// The address database: sqlite:/var/lib/mail-srs/srs.db or redis://127.0.0.1:6379/0; also read on reverse for postsrsd 2's KEY@1 addresses
    #[arg(long, value_name = "URL", global = true)]
    pub database: Option<String>,

    /// Which senders go to the database: always, or only those whose SRS address would pass 64 characters of local part [default: always]
    #[arg(long, value_name = "WHEN", value_enum, global = true)]
    pub database_when: Option<DatabaseWhenArg>,
}

/// `--original-envelope` values.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum EnvelopeArg {
    /// In the SRS address itself
    Embedded,
    /// In --database, under a key the SRS address carries
    Database,
}

/// `--database-when` values.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum DatabaseWhenArg {
    /// Every sender forward rewrites
    Always,
    /// Only senders too long for the local form
    TooLong,
}

/// `--address-form` values.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum AddressFormArg {
    /// SRS0=HHHH=TT=host=local@domain
    Local,
    /// local@SIGNATURE.host.srs0.domain (needs wildcard DNS records)
    Domain,
    /// The domain form only for senders too long for the local form
    Auto,
}

/// The `--hash-alphabet` values.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum AlphabetArg {
    /// Standard base64 (+ and /), as Mail::SRS, libsrs2 and postsrsd 1.x write
    Standard,
    /// base64url (- and _), for receivers that refuse / in addresses
    Url,
}

/// Why the codec could not be set up; every one is a configuration error.
#[derive(Debug, Error)]
pub enum SetupError {
    /// An option value is out of range.
    #[error(transparent)]
    Config(#[from] OptionsError),
    /// The keys file is unusable.
    #[error(transparent)]
    Secrets(#[from] SecretsError),
    /// No secret from any source.
    #[error("no secret: give --secret-file FILE (create one with: srs keygen > FILE)")]
    NoSecret,
    /// The database could not be opened.
    #[error(transparent)]
    Database(#[from] crate::database::DbError),
    /// `original-envelope = database` without a database.
    #[error("original-envelope = database needs a database (sqlite:PATH or redis://HOST:PORT/DB)")]
    NoDatabase,
    /// The local-domains file could not be read.
    #[error("cannot read local domains file {}: {source}", path.display())]
    LocalDomains {
        /// The `--local-domains-file` path.
        path: PathBuf,
        /// The reason it could not be read.
        source: std::io::Error,
    },
}

/// Something the postmaster should hear about, but that does not stop the work.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Warning {
    /// A secret was given on the command line.
    SecretOnCommandLine,
    /// The keys file is readable by every user.
    WorldReadable(PathBuf),
}

impl std::fmt::Display for Warning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Warning::SecretOnCommandLine => f.write_str(
                "a secret given with --secret is visible to every user in ps; use --secret-file",
            ),
            Warning::WorldReadable(p) => write!(
                f,
                "keys file {} is readable by every user (chmod o-r it)",
                p.display()
            ),
        }
    }
}

impl CodecArgs {
    /// The codec options these arguments give, defaults filled in.
    pub fn options(&self) -> Result<Options, OptionsError> {
        let d = Options::default();
        Ok(Options {
            separator: match &self.separator {
                Some(s) => s.parse()?,
                None => Separator::default(),
            },
            hash_length: self.hash_length.unwrap_or(d.hash_length),
            hash_min: self.hash_min,
            max_age: self.max_age.unwrap_or(d.max_age),
            alphabet: match self.hash_alphabet {
                Some(AlphabetArg::Url) => HashAlphabet::Url,
                _ => HashAlphabet::Standard,
            },
            local_domains: self.local_domain.clone(),
            always_rewrite: self.always_rewrite,
            accept_perl_newline_keys: self.accept_perl_newline_keys,
            address_form: match self.address_form {
                Some(AddressFormArg::Domain) => crate::srs::AddressForm::Domain,
                Some(AddressFormArg::Auto) => crate::srs::AddressForm::Auto,
                Some(AddressFormArg::Local) | None => crate::srs::AddressForm::Local,
            },
        })
    }

    /// Secrets from `--secret` (first) and `--secret-file`, with warnings.
    /// `None` when neither was given.
    pub fn secrets(&self) -> Result<Option<(Secrets, Vec<Warning>)>, SecretsError> {
        let mut warnings = Vec::new();
        let mut all: Vec<Vec<u8>> = Vec::new();
        if !self.secret.is_empty() {
            warnings.push(Warning::SecretOnCommandLine);
            all.extend(self.secret.iter().map(|s| s.as_bytes().to_vec()));
        }
        if let Some(path) = &self.secret_file {
            let file = secrets::read_file(path, LineEnds::Strip)?;
            if file.world_readable {
                warnings.push(Warning::WorldReadable(path.clone()));
            }
            all.extend(file.secrets.0);
        }
        Ok((!all.is_empty()).then_some((Secrets(all), warnings)))
    }

    /// The address database and when to store in it: `None` without
    /// `--database`. A database given with `original-envelope = embedded`
    /// is only read, to reverse the addresses it holds keys for.
    pub fn database(
        &self,
    ) -> Result<Option<(crate::database::Database, crate::engine::StoreWhen)>, SetupError> {
        let storing = self.original_envelope == Some(EnvelopeArg::Database);
        let Some(spec) = &self.database else {
            return if storing {
                Err(SetupError::NoDatabase)
            } else {
                Ok(None)
            };
        };
        let db = crate::database::Database::open(spec)?;
        let when = match (storing, self.database_when) {
            (false, _) => crate::engine::StoreWhen::Never,
            (true, Some(DatabaseWhenArg::TooLong)) => crate::engine::StoreWhen::TooLong,
            (true, _) => crate::engine::StoreWhen::Always,
        };
        Ok(Some((db, when)))
    }

    /// Builds the codec from `secrets` and these options, reading the
    /// local-domains file if one is named.
    pub fn build(&self, secrets: &Secrets) -> Result<Srs, SetupError> {
        let mut options = self.options()?;
        if let Some(path) = &self.local_domains_file {
            let text =
                crate::files::read_text(path).map_err(|source| SetupError::LocalDomains {
                    path: path.clone(),
                    source,
                })?;
            options.local_domains.extend(
                text.lines()
                    .map(str::trim)
                    .filter(|l| !l.is_empty() && !l.starts_with('#'))
                    .map(str::to_owned),
            );
        }
        Ok(Srs::new(&secrets.0, options)?)
    }
}
