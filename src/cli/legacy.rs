//! The command line of Debian's Perl `srs` (Mail::SRS 0.31), for scripts and
//! Courier aliases that call `srs "$SENDER" --secretfile F --alias "$HOST"`.
//!
//! Perl parses it with Getopt::Long defaults: options and addresses in any
//! order, one or two dashes, `--name=value` or `--name value`, names in any
//! case and abbreviated to any unique prefix, `--` ends the options.

use std::ffi::{OsStr, OsString};
use std::path::PathBuf;

use thiserror::Error;

/// Options of Perl `srs`: name, and whether it takes a value.
const OPTIONS: &[(&str, bool)] = &[
    ("separator", true),
    ("address", true),
    ("secret", true),
    ("secretfile", true),
    ("forward", false),
    ("reverse", false),
    ("alias", true),
    ("hashlength", true),
    ("help", false),
];

/// Options only Perl `srs` has; one of them on the command line selects this form.
const LEGACY_ONLY: &[&str] = &["address", "secretfile", "forward", "reverse", "hashlength"];

/// The subcommands of the modern form.
const SUBCOMMANDS: &[&str] = &["forward", "reverse", "keygen", "help"];

/// A parsed Perl `srs` command line.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct LegacyArgs {
    /// `--reverse` was given (it wins over `--forward`, as in Perl).
    pub reverse: bool,
    /// `--secret` values, in order.
    pub secrets: Vec<OsString>,
    /// `--secretfile`.
    pub secret_file: Option<PathBuf>,
    /// `--alias`.
    pub alias: Option<String>,
    /// `--separator`.
    pub separator: Option<String>,
    /// `--hashlength`.
    pub hash_length: Option<usize>,
    /// `--address` values, then the other arguments.
    pub addresses: Vec<String>,
    /// `--help`.
    pub help: bool,
}

/// A command line Perl `srs` would refuse too.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum LegacyError {
    /// No such option.
    #[error("unknown option: {0}")]
    Unknown(String),
    /// A prefix of more than one option.
    #[error("option {0} is ambiguous")]
    Ambiguous(String),
    /// An option that needs a value came last.
    #[error("option {0} requires an argument")]
    MissingValue(String),
    /// A value where none is taken.
    #[error("option {0} does not take an argument")]
    UnexpectedValue(String),
    /// `--hashlength` is not a number.
    #[error("value {1:?} invalid for option {0} (number expected)")]
    NotANumber(String, String),
    /// An argument that is not UTF-8 (only `--secret` may hold any bytes).
    #[error("argument {0:?} is not valid UTF-8")]
    NotUtf8(String),
}

/// The option an argument names, if it looks like `-name` or `--name[=value]`.
fn option_name(arg: &str) -> Option<(&str, Option<&str>)> {
    let body = arg.strip_prefix("--").or_else(|| arg.strip_prefix('-'))?;
    if body.is_empty() {
        return None;
    }
    Some(match body.split_once('=') {
        Some((n, v)) => (n, Some(v)),
        None => (body, None),
    })
}

/// Resolves a possibly abbreviated, any-case option name as Getopt::Long does.
fn resolve(name: &str) -> Result<(&'static str, bool), LegacyError> {
    let lower = name.to_ascii_lowercase();
    if let Some(&o) = OPTIONS.iter().find(|(n, _)| *n == lower) {
        return Ok(o);
    }
    let mut hits = OPTIONS.iter().filter(|(n, _)| n.starts_with(&lower));
    match (hits.next(), hits.next()) {
        (Some(&o), None) => Ok(o),
        (Some(_), Some(_)) => Err(LegacyError::Ambiguous(name.to_owned())),
        _ => Err(LegacyError::Unknown(name.to_owned())),
    }
}

/// Whether `args` (without the program name) are in Perl `srs` form: they
/// use an option only Perl has, a long option with one dash, or name no
/// subcommand at all.
pub fn detect(args: &[OsString]) -> bool {
    if args.is_empty() {
        return false;
    }
    let mut has_subcommand = false;
    let mut first_operand = None;
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        let arg = arg.to_string_lossy();
        if arg == "--" {
            break;
        }
        if matches!(arg.as_ref(), "-h" | "-V" | "--help" | "--version") {
            return false;
        }
        if SUBCOMMANDS.contains(&arg.as_ref()) {
            has_subcommand = true;
        }
        let Some((name, inline)) = option_name(&arg) else {
            first_operand.get_or_insert_with(|| arg.into_owned());
            continue;
        };
        if inline.is_none() && modern_takes_value(&arg) {
            args.next();
        }
        let single_dash_long = !arg.starts_with("--") && name.len() > 1;
        let perl_only =
            matches!(resolve(name), Ok((n, _)) if LEGACY_ONLY.contains(&n)) && name.len() >= 3;
        if single_dash_long || perl_only {
            return true;
        }
    }
    // A bare word where an address or subcommand goes is a mistyped
    // subcommand (`srs forwrd`), never an address: leave it to the
    // subcommand parser, which says so.
    let word =
        first_operand.is_some_and(|o| !o.is_empty() && o.bytes().all(|b| b.is_ascii_alphabetic()));
    !has_subcommand && !word
}

/// Whether `arg` (`-k` or `--secret-file`) is an option of the subcommand
/// form that takes its value from the next argument.
fn modern_takes_value(arg: &str) -> bool {
    use clap::CommandFactory;
    let cmd = super::srs::SrsCli::command();
    let takes = |a: &clap::Arg| {
        let matches = match arg.strip_prefix("--") {
            Some(long) => a.get_long() == Some(long),
            None => arg.len() == 2 && a.get_short().map(String::from).as_deref() == arg.get(1..),
        };
        matches && a.get_action().takes_values()
    };
    cmd.get_arguments()
        .chain(cmd.get_subcommands().flat_map(|c| c.get_arguments()))
        .any(takes)
}

fn utf8(s: &OsStr) -> Result<String, LegacyError> {
    s.to_str()
        .map(str::to_owned)
        .ok_or_else(|| LegacyError::NotUtf8(s.to_string_lossy().into_owned()))
}

/// Parses a Perl `srs` command line (without the program name).
pub fn parse(args: &[OsString]) -> Result<LegacyArgs, LegacyError> {
    let mut out = LegacyArgs::default();
    let mut positional = Vec::new();
    let mut it = args.iter();
    while let Some(raw) = it.next() {
        let text = raw.to_string_lossy();
        if text == "--" {
            for rest in it.by_ref() {
                positional.push(utf8(rest)?);
            }
            break;
        }
        let Some((name, inline)) = option_name(&text) else {
            positional.push(utf8(raw)?);
            continue;
        };
        let (option, takes_value) = resolve(name)?;
        let value: Option<OsString> = match (takes_value, inline) {
            (false, Some(_)) => return Err(LegacyError::UnexpectedValue(name.to_owned())),
            (false, None) => None,
            (true, Some(_)) => {
                // Keep the raw bytes after '=' for secrets.
                let bytes = std::os::unix::ffi::OsStrExt::as_bytes(raw.as_os_str());
                let eq = bytes
                    .iter()
                    .position(|&b| b == b'=')
                    .unwrap_or(bytes.len() - 1);
                Some(
                    <OsStr as std::os::unix::ffi::OsStrExt>::from_bytes(&bytes[eq + 1..])
                        .to_owned(),
                )
            }
            (true, None) => Some(
                it.next()
                    .cloned()
                    .ok_or_else(|| LegacyError::MissingValue(name.to_owned()))?,
            ),
        };
        let text_value = || value.as_deref().map(utf8).transpose();
        match option {
            "forward" => {}
            "reverse" => out.reverse = true,
            "help" => out.help = true,
            "secret" => out.secrets.extend(value.clone()),
            "secretfile" => out.secret_file = value.clone().map(PathBuf::from),
            "alias" => out.alias = text_value()?,
            "separator" => out.separator = text_value()?,
            "address" => out.addresses.extend(text_value()?),
            "hashlength" => {
                let v = text_value()?.unwrap_or_default();
                out.hash_length = Some(
                    v.trim()
                        .parse()
                        .map_err(|_| LegacyError::NotANumber(name.to_owned(), v.clone()))?,
                );
            }
            _ => unreachable!("every option in OPTIONS is handled"),
        }
    }
    out.addresses.extend(positional);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(a: &[&str]) -> Vec<OsString> {
        a.iter().map(OsString::from).collect()
    }

    #[test]
    fn detects_the_perl_form() {
        assert!(detect(&args(&[
            "a@b.example",
            "--secretfile",
            "/k",
            "--alias",
            "x"
        ])));
        assert!(detect(&args(&["--reverse", "SRS0=a=b=c=d@e"])));
        assert!(detect(&args(&["-alias", "x", "a@b"])));
        assert!(detect(&args(&["--secret=s", "--alias=x", "a@b"])));
        assert!(!detect(&args(&["forward", "--alias", "x", "a@b"])));
        assert!(!detect(&args(&["--secret-file", "/k", "reverse", "a@b"])));
        assert!(!detect(&args(&["--help"])));
        assert!(!detect(&args(&[])));
    }

    #[test]
    fn parses_like_getopt_long() {
        let a = parse(&args(&[
            "a@b.example",
            "--SECRETF=/k",
            "-alias",
            "fwd.example",
            "--secret=x",
            "--sep",
            "+",
            "--hash=6",
            "--rev",
            "--address",
            "c@d.example",
            "--",
            "--e@f",
        ]));
        let a = a.unwrap();
        assert!(a.reverse);
        assert_eq!(a.secret_file, Some(PathBuf::from("/k")));
        assert_eq!(a.alias.as_deref(), Some("fwd.example"));
        assert_eq!(a.secrets, args(&["x"]));
        assert_eq!(a.separator.as_deref(), Some("+"));
        assert_eq!(a.hash_length, Some(6));
        assert_eq!(a.addresses, ["c@d.example", "a@b.example", "--e@f"]);
    }

    #[test]
    fn refuses_what_perl_refuses() {
        assert_eq!(
            parse(&args(&["--s=x"])),
            Err(LegacyError::Ambiguous("s".into()))
        );
        assert_eq!(
            parse(&args(&["--bogus"])),
            Err(LegacyError::Unknown("bogus".into()))
        );
        assert_eq!(
            parse(&args(&["--alias"])),
            Err(LegacyError::MissingValue("alias".into()))
        );
        assert!(matches!(
            parse(&args(&["--hashlength=x"])),
            Err(LegacyError::NotANumber(..))
        ));
        assert!(matches!(
            parse(&args(&["--reverse=1"])),
            Err(LegacyError::UnexpectedValue(..))
        ));
    }
}
