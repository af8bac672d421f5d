//! The configuration file srsd and the pipe helpers share: `key = value`
//! lines, `#` comments.
//!
//! Keys are the long option names (`secret-file = /etc/postfix/srs-keys`). A
//! key that takes a list (`listen`, `local-domain`) may be repeated; any
//! other key given twice is an error. Options on the command line override
//! the whole key. A key that belongs to another program of the suite is
//! skipped, so one file serves srsd and both helpers; a key no program knows
//! is an error.
//!
//! The file may hold secrets (`secret = ...`), and a keys file given by
//! mistake is nothing but secrets. So an error names the file, the line and
//! the key, and never quotes a value or a line it could not parse.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use clap::parser::ValueSource;
use clap::{ArgAction, ArgMatches, Command, CommandFactory, FromArgMatches};
use thiserror::Error;

/// One `key = value` line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// Line number, from 1.
    pub line: usize,
    /// The key, trimmed: a long option name.
    pub key: String,
    /// The value, trimmed.
    pub value: String,
}

/// A configuration file that cannot be used.
#[derive(Debug, Error)]
pub enum FileError {
    /// The file could not be read.
    #[error("cannot read configuration file {}: {source}", path.display())]
    Read {
        /// The configuration file's path.
        path: PathBuf,
        /// The reason it could not be read.
        source: std::io::Error,
    },
    /// A line is wrong.
    #[error("{}, line {line}: {message}", path.display())]
    Line {
        /// The configuration file's path.
        path: PathBuf,
        /// The line's number, from 1.
        line: usize,
        /// What is wrong with the line, never quoting it.
        message: String,
    },
}

/// Parses the text of a configuration file.
pub fn parse(text: &str, path: &Path) -> Result<Vec<Entry>, FileError> {
    let mut entries = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let Some((key, value)) = line.split_once('=') else {
            // The line is not quoted: it may be a secret.
            return Err(FileError::Line {
                path: path.to_owned(),
                line: i + 1,
                message: "expected 'key = value'".to_owned(),
            });
        };
        entries.push(Entry {
            line: i + 1,
            key: key.trim().to_owned(),
            value: value.trim().to_owned(),
        });
    }
    Ok(entries)
}

/// Reads a configuration file: a regular file of at most
/// [`crate::files::MAX_SIZE`] bytes, in UTF-8.
pub fn read(path: &Path) -> Result<String, FileError> {
    crate::files::read_text(path).map_err(|source| FileError::Read {
        path: path.to_owned(),
        source,
    })
}

/// How a program reads the shared file.
pub struct Reading<'a> {
    /// `(file key, option name)` pairs applied first (a helper's `alias` is
    /// srsd's `domain`).
    pub renames: &'a [(&'a str, &'a str)],
    /// Keys that belong to other programs of the suite: skipped.
    pub elsewhere: &'a [String],
    /// The chroot the reader runs in: the file named from outside is
    /// opened inside it (see [`crate::files::inside_chroot`]).
    pub chroot: Option<&'a Path>,
}

/// Why the settings could not be loaded.
#[derive(Debug, Error)]
pub enum LoadError {
    /// The command line is wrong (or asks for help or the version).
    #[error(transparent)]
    Usage(#[from] clap::Error),
    /// The configuration file is wrong.
    #[error(transparent)]
    File(#[from] FileError),
}

/// Parses `args` (with the program name) as `P`, taking every option the
/// command line leaves unset from the file named by its `--config`.
///
/// clap parses the command line twice: first with nothing required, to learn
/// the file and which options the command line set (by their value source,
/// so `-c=FILE`, `--opt=-v` and clustered flags mean what clap says they
/// mean), then whole, with the file's options in front.
pub fn load<P: CommandFactory + FromArgMatches>(
    args: &[OsString],
    reading: &Reading<'_>,
) -> Result<P, LoadError> {
    let cmd = P::command();
    let relaxed = cmd
        .clone()
        .mut_args(|a| a.required(false))
        .arg_required_else_help(false);
    let first = relaxed.try_get_matches_from(args)?;
    let mut all: Vec<OsString> = args.iter().take(1).cloned().collect();
    if let Some(path) = first.get_one::<PathBuf>("config") {
        let inside = match reading.chroot {
            Some(root) => crate::files::inside_chroot(root, path).map_err(|e| FileError::Read {
                path: path.clone(),
                source: std::io::Error::other(e),
            })?,
            None => path.clone(),
        };
        all.extend(file_args(&cmd, &inside, &first, reading)?);
    }
    all.extend(args.iter().skip(1).cloned());
    let mut matches = cmd.try_get_matches_from(all)?;
    Ok(P::from_arg_matches_mut(&mut matches)?)
}

/// The file's entries as `--key=value` arguments for `cmd`, leaving out the
/// options `given` shows set on the command line.
fn file_args(
    cmd: &Command,
    path: &Path,
    given: &ArgMatches,
    reading: &Reading<'_>,
) -> Result<Vec<OsString>, FileError> {
    let text = read(path)?;
    let mut out = Vec::new();
    let mut seen: Vec<(String, usize)> = Vec::new();
    for mut e in parse(&text, path)? {
        if let Some((_, to)) = reading.renames.iter().find(|(from, _)| *from == e.key) {
            e.key = (*to).to_owned();
        }
        let err = |message: String| FileError::Line {
            path: path.to_owned(),
            line: e.line,
            message,
        };
        let found = cmd.get_arguments().find(|a| {
            a.get_long() == Some(e.key.as_str())
                && !matches!(
                    e.key.as_str(),
                    "config" | "help" | "version" | "check-config"
                )
        });
        let Some(arg) = found else {
            if reading.elsewhere.contains(&e.key) {
                continue;
            }
            // Never quote the key: a keys file given as --config has
            // secrets where keys belong.
            let known = cmd.get_arguments().filter_map(|a| a.get_long());
            return Err(err(match suggest(&e.key, known) {
                Some(near) => format!("unknown key (did you mean '{near}'?)"),
                None => "unknown key".to_owned(),
            }));
        };
        let key = e.key.as_str();
        let repeatable = matches!(arg.get_action(), ArgAction::Append);
        if let Some((_, first)) = seen.iter().find(|(k, _)| k == key)
            && !repeatable
        {
            return Err(err(format!("{key}: given again (first on line {first})")));
        }
        seen.push((key.to_owned(), e.line));
        if given.value_source(arg.get_id().as_str()) == Some(ValueSource::CommandLine) {
            continue;
        }
        if matches!(arg.get_action(), ArgAction::SetTrue) {
            match e.value.to_ascii_lowercase().as_str() {
                "yes" | "true" | "on" | "1" => out.push(OsString::from(format!("--{key}"))),
                "no" | "false" | "off" | "0" => {}
                _ => return Err(err(format!("{key}: expected yes or no"))),
            }
            continue;
        }
        let option = OsString::from(format!("--{key}={}", e.value));
        // Check the value with the option's own parser, alone, so the error
        // can name the line.
        Command::new("check")
            .no_binary_name(true)
            .arg(arg.clone().required(false))
            .try_get_matches_from([option.clone()])
            .map_err(|clap_err| err(invalid_value(key, arg, &e.value, &clap_err)))?;
        out.push(option);
    }
    Ok(out)
}

/// "KEY: invalid value (...)", with what clap knows of the expected form but
/// never the value itself.
fn invalid_value(key: &str, arg: &clap::Arg, value: &str, e: &clap::Error) -> String {
    use clap::error::{ContextKind, ContextValue};
    if let Some(ContextValue::Strings(valid)) = e.get(ContextKind::ValidValue) {
        return format!(
            "{key}: invalid value, expected one of: {}",
            valid.join(", ")
        );
    }
    let reason = std::error::Error::source(e)
        .map(ToString::to_string)
        .filter(|r| value.is_empty() || !r.contains(value));
    let expected = arg
        .get_value_names()
        .and_then(|n| n.first())
        .map_or_else(String::new, ToString::to_string);
    match reason {
        Some(r) => format!("{key}: invalid value, expected {expected} ({r})"),
        None => format!("{key}: invalid value, expected {expected}"),
    }
}

/// The known name closest to `typed`, if one is close enough to be a typo.
pub fn suggest<'a>(typed: &str, known: impl Iterator<Item = &'a str>) -> Option<&'a str> {
    known
        .map(|k| (strsim::jaro_winkler(typed, k), k))
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, k)| k)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_lines_and_numbers_them() {
        let e = parse(
            "# c\n\n domain = fwd.example \nlisten=line=unix:/x\n",
            Path::new("f"),
        )
        .unwrap();
        assert_eq!(
            e[0],
            Entry {
                line: 3,
                key: "domain".into(),
                value: "fwd.example".into()
            }
        );
        assert_eq!(e[1].value, "line=unix:/x");
        let err = parse("domain fwd.example\n", Path::new("/etc/srsd.conf")).unwrap_err();
        assert_eq!(
            err.to_string(),
            "/etc/srsd.conf, line 1: expected 'key = value'"
        );
    }
}
