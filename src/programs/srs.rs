//! What `srs` does: forward and reverse SRS addresses, make and rotate
//! secrets; also the command line of Debian's Perl `srs`.

use std::ffi::OsString;
use std::io::{self, BufWriter, IsTerminal, LineWriter, Write};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::Srs;
use crate::batch::{Batch, Rewrite, Style};
use crate::cli::CodecArgs;
use crate::cli::codec::{SetupError, Warning};
use crate::cli::legacy::{self, LegacyArgs};
use crate::cli::srs::Command;
use crate::exit::Exit;
use crate::secrets::{self, LineEnds, Secrets};
use crate::srs::{Options, Separator};

const PROG: &str = "srs";

const LEGACY_USAGE: &str = "\
usage (Perl srs form): srs [--forward|--reverse] [--secret=S]... [--secretfile=FILE]
           [--alias=DOMAIN] [--separator=C] [--hashlength=N] [--address=A]... [ADDRESS...]
see srs --help and srs(1) for the subcommand form";

/// Runs `srs` with `args` (the program name first) and gives its exit status.
pub fn main(args: Vec<OsString>) -> Exit {
    let rest = args.get(1..).unwrap_or_default();
    if legacy::detect(rest) {
        run_legacy(rest)
    } else {
        run(args)
    }
}

fn run(args: Vec<OsString>) -> Exit {
    let cli = match crate::cli::srs::parse(args) {
        Ok(cli) => cli,
        Err(e) if e.kind() == clap::error::ErrorKind::InvalidSubcommand => {
            eprintln!("{PROG}: {}", crate::cli::unknown_subcommand(&e));
            return Exit::Usage;
        }
        Err(e) => return crate::cli::report(&e),
    };
    let now = cli
        .now
        .map_or_else(SystemTime::now, |s| UNIX_EPOCH + Duration::from_secs(s));
    match cli.command {
        Command::Keygen { rotate } => keygen(rotate.as_deref()),
        Command::Forward {
            alias,
            addresses,
            json,
        } => match setup(&cli.codec) {
            Ok((srs, db)) => {
                let style = Style {
                    json,
                    explain: false,
                };
                let rewrite = Rewrite::Forward { alias };
                answer(&srs, &db, &rewrite, &addresses, now, style)
            }
            Err(e) => config_error(&e),
        },
        Command::Reverse {
            alias,
            addresses,
            explain,
            json,
        } => {
            let mut codec = cli.codec.clone();
            codec.local_domain.extend(
                alias
                    .as_deref()
                    .map(|a| crate::srs::alias_domain(a).to_owned()),
            );
            match setup(&codec) {
                Ok((srs, db)) => answer(
                    &srs,
                    &db,
                    &Rewrite::Reverse,
                    &addresses,
                    now,
                    Style { json, explain },
                ),
                Err(e) => config_error(&e),
            }
        }
    }
}

fn config_error(e: &dyn std::fmt::Display) -> Exit {
    eprintln!("{PROG}: {e}");
    Exit::Config
}

fn warn(w: &Warning) {
    eprintln!("{PROG}: warning: {w}");
}

/// The address database and when to store in it, from the options.
type Db = Option<(crate::database::Database, crate::engine::StoreWhen)>;

/// The codec and the address database, from the options.
fn setup(codec: &CodecArgs) -> Result<(Srs, Db), SetupError> {
    let srs = codec_only(codec)?;
    Ok((srs, codec.database()?))
}

/// Secrets from the options, or from a no-echo prompt on a terminal.
fn codec_only(codec: &CodecArgs) -> Result<Srs, SetupError> {
    let secrets = match codec.secrets()? {
        Some((secrets, warnings)) => {
            warnings.iter().for_each(warn);
            secrets
        }
        None if io::stdin().is_terminal() => {
            let s = rpassword::prompt_password("SRS secret: ").map_err(|_| SetupError::NoSecret)?;
            if s.is_empty() {
                return Err(SetupError::NoSecret);
            }
            Secrets(vec![s.into_bytes()])
        }
        None => return Err(SetupError::NoSecret),
    };
    codec.build(&secrets)
}

/// Answers each address, or each line of standard input when there are none.
fn answer(
    srs: &Srs,
    db: &Db,
    rewrite: &Rewrite,
    addresses: &[String],
    now: SystemTime,
    style: Style,
) -> Exit {
    let store = db
        .as_ref()
        .map(|(db, when)| crate::engine::Store::new(db, *when, srs));
    let interactive = addresses.is_empty() && io::stdin().is_terminal();
    let out: Box<dyn Write> = if interactive {
        Box::new(LineWriter::new(io::stdout().lock()))
    } else {
        Box::new(BufWriter::with_capacity(1 << 16, io::stdout().lock()))
    };
    let mut batch = Batch::new(srs, rewrite, now, out, io::stderr().lock(), PROG)
        .styled(style)
        .stored(store);
    let result = if addresses.is_empty() {
        batch.lines(io::stdin().lock())
    } else {
        addresses.iter().try_for_each(|a| batch.address(a))
    };
    match result.and_then(|()| batch.finish()) {
        Ok(report) if report.temporary > 0 => Exit::TempFail,
        Ok(report) if report.failed > 0 => Exit::DataErr,
        Ok(_) => Exit::Ok,
        Err(e) => Exit::write_failed(PROG, &e),
    }
}

fn keygen(rotate: Option<&Path>) -> Exit {
    let secret = match secrets::generate() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("{PROG}: {e}");
            return Exit::Unavailable;
        }
    };
    match rotate {
        None => {
            let mut out = io::stdout().lock();
            match writeln!(out, "{secret}").and_then(|()| out.flush()) {
                Ok(()) => Exit::Ok,
                Err(e) => Exit::write_failed(PROG, &e),
            }
        }
        Some(path) => match secrets::rotate(path, &secret) {
            Ok(()) => Exit::Ok,
            Err(e) => {
                eprintln!("{PROG}: {e}");
                Exit::CantCreate
            }
        },
    }
}

/// The Perl `srs` command line: same flags, same output for the same secrets.
fn run_legacy(args: &[OsString]) -> Exit {
    let a = match legacy::parse(args) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("{PROG}: {e}\n{LEGACY_USAGE}");
            return Exit::Usage;
        }
    };
    if a.help {
        println!("{LEGACY_USAGE}");
        return Exit::Ok;
    }
    if a.addresses.is_empty() {
        eprintln!("{PROG}: no address given\n{LEGACY_USAGE}");
        return Exit::Usage;
    }
    let separator: Separator = match a.separator.as_deref().unwrap_or("=").parse() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("{PROG}: {e}");
            return Exit::Usage;
        }
    };
    if let Some(alias) = &a.alias
        && let Err(e) = crate::srs::check_domain(alias)
    {
        eprintln!("{PROG}: --alias {alias:?}: {e}");
        return Exit::Usage;
    }
    let rewrite = match (&a.alias, a.reverse) {
        (_, true) => Rewrite::Reverse,
        (Some(alias), false) => Rewrite::Forward {
            alias: alias.clone(),
        },
        (None, false) => {
            eprintln!("{PROG}: a forward needs --alias=DOMAIN");
            return Exit::Usage;
        }
    };
    let keys = match legacy_keys(&a) {
        Ok(k) => k,
        Err(e) => return config_error(&e),
    };
    let options = Options {
        separator,
        hash_length: a.hash_length.unwrap_or(4),
        ..Options::default()
    };
    match Srs::new(&keys, options) {
        Ok(srs) => answer(
            &srs,
            &None,
            &rewrite,
            &a.addresses,
            SystemTime::now(),
            Style::default(),
        ),
        Err(e) => config_error(&e),
    }
}

/// Keys as Perl `srs` builds them (`--secret` values, then secret-file lines
/// with their newline), followed by the file's secrets without the newline so
/// addresses signed by libsrs2, postsrsd or our own `--secret-file` verify too.
fn legacy_keys(a: &LegacyArgs) -> Result<Vec<Vec<u8>>, SetupError> {
    let mut keys: Vec<Vec<u8>> = a.secrets.iter().map(|s| s.as_bytes().to_vec()).collect();
    if !keys.is_empty() {
        warn(&Warning::SecretOnCommandLine);
    }
    if let Some(path) = &a.secret_file {
        let perl = secrets::read_file(path, LineEnds::KeepPerl)?;
        if perl.world_readable {
            warn(&Warning::WorldReadable(path.clone()));
        }
        let stripped: Vec<Vec<u8>> = perl
            .secrets
            .0
            .iter()
            .map(|k| secrets::parse(k, LineEnds::Strip).0.concat())
            .collect();
        keys.extend(perl.secrets.0);
        for k in stripped {
            if !keys.contains(&k) {
                keys.push(k);
            }
        }
    }
    if keys.is_empty() {
        return Err(SetupError::NoSecret);
    }
    Ok(keys)
}
