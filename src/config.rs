//! The daemon's configuration file: `key = value` lines, `#` comments.
//!
//! Keys are the long option names (`secret-file = /etc/postfix/srs-keys`); a
//! key given more than once adds to a list (`listen`, `local-domain`) or
//! overrides. Options on the command line override the whole key.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use clap::{ArgAction, Command};
use thiserror::Error;

/// One `key = value` line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// Line number, from 1.
    pub line: usize,
    /// The key.
    pub key: String,
    /// The value, trimmed.
    pub value: String,
}

/// A configuration file that cannot be used.
#[derive(Debug, Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read configuration file {}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A line is wrong.
    #[error("{}, line {line}: {message}", path.display())]
    Line {
        /// The file.
        path: PathBuf,
        /// Line number.
        line: usize,
        /// What is wrong.
        message: String,
    },
}

/// Parses the text of a configuration file.
pub fn parse(text: &str, path: &Path) -> Result<Vec<Entry>, ConfigError> {
    let mut entries = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let Some((key, value)) = line.split_once('=') else {
            return Err(ConfigError::Line {
                path: path.to_owned(),
                line: i + 1,
                message: format!("expected 'key = value', found {line:?}"),
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

/// The long option names that `args` (after the program name) set.
fn given_on_command_line(cmd: &Command, args: &[OsString]) -> Vec<String> {
    let mut given = Vec::new();
    for a in args {
        let a = a.to_string_lossy();
        if a == "--" {
            break;
        }
        let long = if let Some(body) = a.strip_prefix("--") {
            body.split('=').next().map(str::to_owned)
        } else if let Some(short) = a.strip_prefix('-').and_then(|s| s.chars().next()) {
            cmd.get_arguments()
                .find(|arg| arg.get_short() == Some(short))
                .and_then(|arg| arg.get_long())
                .map(str::to_owned)
        } else {
            None
        };
        given.extend(long);
    }
    given
}

/// Reads `path` and turns its entries into `--key=value` arguments for `cmd`,
/// leaving out keys that `cli_args` set. Each value is checked with the
/// option's own parser, so an error names the line.
pub fn to_args(
    cmd: &Command,
    path: &Path,
    cli_args: &[OsString],
) -> Result<Vec<OsString>, ConfigError> {
    to_args_with(cmd, path, cli_args, &Reading::Strict)
}

/// How keys the command does not know are treated.
pub enum Reading<'a> {
    /// They are errors (srsd reading its own file).
    Strict,
    /// They are skipped, and keys are renamed first (a helper reading
    /// srsd's file: `domain` is its `alias`, `listen` means nothing to it).
    Shared {
        /// `(file key, option name)` pairs.
        renames: &'a [(&'a str, &'a str)],
    },
}

/// Like [`to_args`], reading the file the way `reading` says.
pub fn to_args_with(
    cmd: &Command,
    path: &Path,
    cli_args: &[OsString],
    reading: &Reading<'_>,
) -> Result<Vec<OsString>, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: path.to_owned(),
        source,
    })?;
    let given = given_on_command_line(cmd, cli_args);
    let mut out = Vec::new();
    for mut e in parse(&text, path)? {
        if let Reading::Shared { renames } = reading
            && let Some((_, to)) = renames.iter().find(|(from, _)| *from == e.key)
        {
            e.key = (*to).to_owned();
        }
        let err = |message: String| ConfigError::Line {
            path: path.to_owned(),
            line: e.line,
            message,
        };
        let found = cmd.get_arguments().find(|a| {
            a.get_long() == Some(e.key.as_str())
                && !matches!(e.key.as_str(), "config" | "help" | "version")
        });
        let arg = match (found, reading) {
            (Some(arg), _) => arg,
            (None, Reading::Shared { .. }) => continue,
            (None, Reading::Strict) => return Err(err(format!("unknown key {:?}", e.key))),
        };
        if given.contains(&e.key) {
            continue;
        }
        if matches!(arg.get_action(), ArgAction::SetTrue) {
            match e.value.to_ascii_lowercase().as_str() {
                "yes" | "true" | "on" | "1" => out.push(OsString::from(format!("--{}", e.key))),
                "no" | "false" | "off" | "0" => {}
                _ => {
                    return Err(err(format!(
                        "{}: expected yes or no, found {:?}",
                        e.key, e.value
                    )));
                }
            }
            continue;
        }
        let option = OsString::from(format!("--{}={}", e.key, e.value));
        // Check the value with the option's own parser, alone.
        Command::new("check")
            .no_binary_name(true)
            .arg(arg.clone())
            .try_get_matches_from([option.clone()])
            .map_err(|clap_err| {
                let detail = clap_err.to_string();
                let first = detail
                    .lines()
                    .next()
                    .unwrap_or_default()
                    .trim_start_matches("error: ");
                err(format!("{}: {first}", e.key))
            })?;
        out.push(option);
    }
    Ok(out)
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
            "/etc/srsd.conf, line 1: expected 'key = value', found \"domain fwd.example\""
        );
    }
}
