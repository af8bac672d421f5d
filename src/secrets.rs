//! The keys file: one secret per line, the first signs, all verify.
//!
//! Lines that are empty, only whitespace, or start with `#` are skipped; the
//! line ending (`\n` or `\r\n`) is not part of the secret. Perl Mail::SRS's
//! `srs --secretfile` and `srsd` keep the ending in the key, which
//! [`LineEnds::KeepPerl`] reproduces.

use std::fmt;
use std::fs;
use std::io;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use thiserror::Error;

/// Random bytes in a generated secret (192 bits, 32 base64 characters).
const GENERATED_BYTES: usize = 24;

/// Secrets in order, as raw bytes. `Debug` shows only how many there are.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Secrets(pub Vec<Vec<u8>>);

impl fmt::Debug for Secrets {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Secrets({} hidden)", self.0.len())
    }
}

/// What to do with the end of each line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LineEnds {
    /// Drop a trailing `\n` or `\r\n` (libsrs2, postsrsd, and us).
    Strip,
    /// Keep it in the key, as Perl `srs --secretfile` and `srsd` do.
    KeepPerl,
}

/// A keys file that could not be used.
#[derive(Debug, Error)]
pub enum SecretsError {
    /// The file could not be read.
    #[error("cannot read keys file {}: {source}", path.display())]
    Read {
        /// The keys file's path.
        path: PathBuf,
        /// The reason, from the operating system or the file's contents.
        source: io::Error,
    },
    /// The file holds no secret.
    #[error("keys file {} holds no secret (one per line; blank and # lines are skipped)", path.display())]
    Empty {
        /// The keys file's path.
        path: PathBuf,
    },
    /// Rotation failed.
    #[error("cannot rotate keys file {}: {source}", path.display())]
    Rotate {
        /// The keys file's path.
        path: PathBuf,
        /// The reason, from the operating system or the file's contents.
        source: io::Error,
    },
    /// The operating system's random source failed.
    #[error("cannot read the system's random source: {0}")]
    Random(String),
}

/// Secrets read from a file, with what a postmaster should be warned about.
#[derive(Debug)]
pub struct KeysFile {
    /// The secrets, in order.
    pub secrets: Secrets,
    /// Whether users other than owner and group may read the file.
    pub world_readable: bool,
}

/// Whether a line holds no secret: blank, whitespace only, or a `#` comment.
fn is_skipped(line: &[u8]) -> bool {
    line.first() == Some(&b'#') || line.iter().all(u8::is_ascii_whitespace)
}

/// The secrets in the contents of a keys file.
pub fn parse(contents: &[u8], ends: LineEnds) -> Secrets {
    let mut secrets = Vec::new();
    for line in contents.split_inclusive(|&b| b == b'\n') {
        if is_skipped(line) {
            continue;
        }
        let secret = match ends {
            LineEnds::KeepPerl => line,
            LineEnds::Strip => {
                let l = line.strip_suffix(b"\n").unwrap_or(line);
                l.strip_suffix(b"\r").unwrap_or(l)
            }
        };
        secrets.push(secret.to_vec());
    }
    Secrets(secrets)
}

/// Reads a keys file; an unreadable file or one without secrets is an error.
pub fn read_file(path: &Path, ends: LineEnds) -> Result<KeysFile, SecretsError> {
    let read_err = |source| SecretsError::Read {
        path: path.to_owned(),
        source,
    };
    let contents = crate::files::read(path).map_err(read_err)?;
    let world_readable = fs::metadata(path).map_err(read_err)?.permissions().mode() & 0o004 != 0;
    let secrets = parse(&contents, ends);
    if secrets.0.is_empty() {
        return Err(SecretsError::Empty {
            path: path.to_owned(),
        });
    }
    Ok(KeysFile {
        secrets,
        world_readable,
    })
}

/// A new secret from the operating system's random source: 32 base64 characters.
pub fn generate() -> Result<String, SecretsError> {
    let mut bytes = [0u8; GENERATED_BYTES];
    getrandom::fill(&mut bytes).map_err(|e| SecretsError::Random(e.to_string()))?;
    Ok(data_encoding::BASE64.encode(&bytes))
}

/// Puts `secret` on top of the keys file at `path` (above the first secret,
/// below leading comments), keeping every old line, and replaces the file
/// atomically with the same mode and owner. A missing file is created, mode 0640.
pub fn rotate(link: &Path, secret: &str) -> Result<(), SecretsError> {
    let err = |source| SecretsError::Rotate {
        path: link.to_owned(),
        source,
    };
    // Rotate the file a symlink points to, in its own directory: replacing
    // the link would leave the daemon's file without the new key.
    let target = match fs::symlink_metadata(link) {
        Ok(m) if m.file_type().is_symlink() => fs::canonicalize(link).map_err(err)?,
        _ => link.to_owned(),
    };
    let path = target.as_path();
    let (old, meta) = match fs::read(path) {
        Ok(old) => (old, Some(fs::metadata(path).map_err(err)?)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => (Vec::new(), None),
        Err(e) => return Err(err(e)),
    };
    let head_len: usize = old
        .split_inclusive(|&b| b == b'\n')
        .take_while(|l| is_skipped(l))
        .map(<[u8]>::len)
        .sum();
    let mut new = Vec::with_capacity(old.len() + secret.len() + 2);
    new.extend_from_slice(&old[..head_len]);
    if !new.is_empty() && !new.ends_with(b"\n") {
        new.push(b'\n');
    }
    new.extend_from_slice(secret.as_bytes());
    new.push(b'\n');
    new.extend_from_slice(&old[head_len..]);

    let mode = meta
        .as_ref()
        .map_or(0o640, |m| m.permissions().mode() & 0o7777);
    let owner = meta.as_ref().map(|m| (m.uid(), m.gid()));
    crate::files::replace(path, &new, mode, owner).map_err(err)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_skips_comments_and_strips_endings() {
        let s = parse(
            b"# c\n\n  \t\nfirst\r\nsecond\n third \nlast",
            LineEnds::Strip,
        );
        assert_eq!(s.0, [&b"first"[..], b"second", b" third ", b"last"]);
    }

    #[test]
    fn perl_keeps_line_endings() {
        let s = parse(b"#x\nfirst\nlast", LineEnds::KeepPerl);
        assert_eq!(s.0, [&b"first\n"[..], b"last"]);
    }

    #[test]
    fn generated_secrets_differ() {
        let (a, b) = (generate().unwrap(), generate().unwrap());
        assert_eq!(a.len(), 32);
        assert_ne!(a, b);
    }

    #[test]
    fn debug_hides_secrets() {
        let s = Secrets(vec![b"topsecret".to_vec()]);
        assert!(!format!("{s:?}").contains("topsecret"));
    }
}
