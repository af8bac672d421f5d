//! Command-line definitions of every program, kept in the library so tests can
//! render man pages and completions from them and check they have not drifted.

pub mod codec;
pub mod legacy;
pub mod pipe_helpers;
pub mod srs;
pub mod srsc;
pub mod srsd;
pub mod srsrelay;

pub use codec::CodecArgs;

/// Prints a command-line parse error (or the help or version it carries)
/// and gives the exit status: 0 for help and version, 64 otherwise.
pub fn report(e: &clap::Error) -> crate::exit::Exit {
    let _ = e.print();
    if e.use_stderr() {
        crate::exit::Exit::Usage
    } else {
        crate::exit::Exit::Ok
    }
}

/// `--check-config`'s report for program `prog`: every problem on its own
/// line and 78, or "configuration OK" and 0.
pub fn report_problems(prog: &str, problems: &[String]) -> crate::exit::Exit {
    problems.iter().for_each(|p| eprintln!("{prog}: {p}"));
    if problems.is_empty() {
        println!("{prog}: configuration OK");
        crate::exit::Exit::Ok
    } else {
        crate::exit::Exit::Config
    }
}

/// clap value parser for an SRS domain or an address at it.
pub fn parse_domain(s: &str) -> Result<String, String> {
    crate::srs::check_domain(s).map(|()| s.to_owned())
}

/// "unknown subcommand 'forwrd' (did you mean 'forward'?)" for clap's
/// invalid-subcommand error, on one line.
pub fn unknown_subcommand(e: &clap::Error) -> String {
    use clap::error::{ContextKind, ContextValue};
    let text = |kind| match e.get(kind) {
        Some(ContextValue::String(s)) => Some(s.clone()),
        Some(ContextValue::Strings(v)) => v.first().cloned(),
        _ => None,
    };
    let typed = text(ContextKind::InvalidSubcommand).unwrap_or_default();
    match text(ContextKind::SuggestedSubcommand) {
        Some(near) => format!("unknown subcommand '{typed}' (did you mean '{near}'?)"),
        None => format!("unknown subcommand '{typed}'"),
    }
}

/// Every key of the configuration file srsd and the pipe helpers share: the
/// long options of the three programs, and `domain`, which the helpers read
/// as their alias.
pub fn config_keys() -> Vec<String> {
    use clap::CommandFactory;
    let mut keys: Vec<String> = [
        srsd::SrsdCli::command(),
        pipe_helpers::ForwarderCli::command(),
        pipe_helpers::ReverserCli::command(),
    ]
    .iter()
    .flat_map(|c| {
        c.get_arguments()
            .filter_map(|a| a.get_long().map(str::to_owned))
            .collect::<Vec<_>>()
    })
    .collect();
    keys.sort();
    keys.dedup();
    keys
}
