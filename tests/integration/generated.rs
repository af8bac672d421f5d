//! Man pages and completions are generated from the clap definitions and
//! checked in. This test regenerates them and fails on any difference;
//! `SNAPSHOTS=overwrite cargo test --test integration generated::` rewrites them.

use crate::common;

use std::path::{Path, PathBuf};

use clap::CommandFactory;
use clap_complete::Shell;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Compares `generated` with the file at `path`, or rewrites it.
fn check(path: &Path, generated: &str, drift: &mut Vec<String>) {
    let current = std::fs::read_to_string(path).unwrap_or_default();
    if current == generated {
        return;
    }
    if std::env::var("SNAPSHOTS").as_deref() == Ok("overwrite") {
        std::fs::write(path, generated).unwrap();
    } else {
        drift.push(path.display().to_string());
    }
}

fn roff<F: FnOnce(&clap_mangen::Man, &mut Vec<u8>) -> std::io::Result<()>>(
    cmd: clap::Command,
    f: F,
) -> String {
    let mut buf = Vec::new();
    f(&clap_mangen::Man::new(cmd), &mut buf).unwrap();
    // The templates define the Aq string once; drop each fragment's copy.
    String::from_utf8(buf)
        .unwrap()
        .replace(".ie \\n(.g .ds Aq \\(aq\n.el .ds Aq '\n", "")
}

/// The option list of a command and of each of its subcommands, as roff.
fn options(cmd: &clap::Command) -> String {
    let mut out =
        roff(cmd.clone(), |m, b| m.render_options_section(b)).replace(".SH OPTIONS\n", "");
    for sub in cmd.get_subcommands().filter(|s| s.get_name() != "help") {
        let section = roff(sub.clone(), |m, b| m.render_options_section(b));
        out.push_str(&section.replace(
            ".SH OPTIONS\n",
            &format!(
                ".SS \"{} {}\"\n{}\n",
                cmd.get_name(),
                sub.get_name(),
                sub.get_about().map(|a| a.to_string()).unwrap_or_default()
            ),
        ));
    }
    out
}

/// One argument in a SYNOPSIS line: `[-c|--config FILE]`, `-d|--domain
/// DOMAIN`, `[ADDRESS]...`, with the value's name as clap's help shows it.
fn arg_synopsis(a: &clap::Arg) -> String {
    let value = a
        .get_value_names()
        .and_then(|v| v.first())
        .map(ToString::to_string)
        .unwrap_or_else(|| a.get_id().as_str().to_uppercase());
    let takes_value = !matches!(
        a.get_action(),
        clap::ArgAction::SetTrue | clap::ArgAction::Count | clap::ArgAction::Help
    ) && a.get_num_args().is_none_or(|n| n.takes_values());
    let repeats = matches!(a.get_action(), clap::ArgAction::Append)
        || a.get_num_args().is_some_and(|n| n.max_values() > 1);
    let mut text = if a.is_positional() {
        format!("\\fI{}\\fR", roff_escape(&value))
    } else {
        let names: Vec<String> = a
            .get_short()
            .map(|c| format!("\\fB\\-{c}\\fR"))
            .into_iter()
            .chain(
                a.get_long()
                    .map(|l| format!("\\fB\\-\\-{}\\fR", roff_escape(l))),
            )
            .collect();
        let mut t = names.join("|");
        if takes_value {
            t.push_str(&format!(" \\fI{}\\fR", roff_escape(&value)));
        }
        t
    };
    if !a.is_required_set() {
        text = format!("[{text}]");
    }
    if repeats {
        text.push_str("...");
    }
    text
}

/// A SYNOPSIS line: the program, then every argument, or `[OPTIONS]` for
/// the optional ones of a command with more than `MAX_LISTED` of them.
fn synopsis_line(prefix: &str, cmd: &clap::Command) -> String {
    const MAX_LISTED: usize = 12;
    let mut args: Vec<&clap::Arg> = cmd
        .get_arguments()
        .filter(|a| !a.is_hide_set() && !matches!(a.get_id().as_str(), "help" | "version"))
        .collect();
    // Options first, then the operands.
    args.sort_by_key(|a| a.is_positional());
    let optional = args
        .iter()
        .filter(|a| !a.is_positional() && !a.is_required_set())
        .count();
    let mut words = vec![prefix.to_owned()];
    if optional > MAX_LISTED {
        words.push("[\\fIOPTIONS\\fR]".to_owned());
    }
    for a in &args {
        if optional > MAX_LISTED && !a.is_positional() && !a.is_required_set() {
            continue;
        }
        words.push(arg_synopsis(a));
    }
    words.join(" ")
}

fn synopsis(cmd: &clap::Command) -> String {
    let name = format!("\\fB{}\\fR", roff_escape(cmd.get_name()));
    let mut out = String::new();
    if !cmd.has_subcommands() || !cmd.is_subcommand_required_set() {
        out.push_str(&synopsis_line(&name, cmd));
        out.push_str("\n.br\n");
    }
    for sub in cmd.get_subcommands().filter(|s| s.get_name() != "help") {
        let prefix = format!("{name} [\\fIOPTIONS\\fR] \\fB{}\\fR", sub.get_name());
        out.push_str(&synopsis_line(&prefix, sub));
        out.push_str("\n.br\n");
    }
    out
}

/// Fills a template's `@NAME@` lines from `parts`.
fn fill(template: &str, parts: &[(&str, String)]) -> String {
    let mut out = template.to_owned();
    for (name, text) in parts {
        out = out
            .replace(&format!("@{name}@\n"), text)
            .replace(&format!("@{name}@"), text);
    }
    out
}

fn pages() -> Vec<(&'static str, clap::Command)> {
    vec![
        ("srs.1", mail_srs::cli::srs::command()),
        ("srsd.8", mail_srs::cli::srsd::SrsdCli::command()),
        ("srsc.1", mail_srs::cli::srsc::SrscCli::command()),
        (
            "srs-forwarder.8",
            mail_srs::cli::pipe_helpers::ForwarderCli::command(),
        ),
        (
            "srs-reverser.8",
            mail_srs::cli::pipe_helpers::ReverserCli::command(),
        ),
    ]
}

/// srsd.conf(5)'s key list: every long option of srsd but those that only
/// make sense on the command line.
fn config_keys() -> String {
    let cmd = mail_srs::cli::srsd::SrsdCli::command();
    let mut out = String::new();
    for arg in cmd.get_arguments() {
        let Some(long) = arg.get_long() else { continue };
        if arg.is_hide_set()
            || matches!(long, "config" | "help" | "version" | "now" | "check-config")
        {
            continue;
        }
        let value = match arg.get_action() {
            clap::ArgAction::SetTrue => "yes | no".to_owned(),
            _ => arg
                .get_value_names()
                .and_then(|v| v.first())
                .map(ToString::to_string)
                .unwrap_or_default(),
        };
        let repeat = matches!(arg.get_action(), clap::ArgAction::Append);
        let help = arg.get_help().map(ToString::to_string).unwrap_or_default();
        out.push_str(&format!(
            ".TP\n\\fB{}\\fR = \\fI{}\\fR{}\n{}\n",
            roff_escape(long),
            roff_escape(&value),
            if repeat { " (repeatable)" } else { "" },
            roff_escape(&help)
        ));
    }
    out
}

fn roff_escape(s: &str) -> String {
    s.replace('\\', "\\e").replace('-', "\\-")
}

#[test]
fn man_pages_match_the_clap_definitions() {
    let mut drift = Vec::new();
    for (page, cmd) in pages() {
        let template =
            std::fs::read_to_string(root().join("man/src").join(format!("{page}.in"))).unwrap();
        let text = fill(
            &template,
            &[
                ("VERSION", env!("CARGO_PKG_VERSION").to_owned()),
                ("SYNOPSIS", synopsis(&cmd)),
                ("OPTIONS", options(&cmd)),
            ],
        );
        check(&root().join("man").join(page), &text, &mut drift);
    }
    let template = std::fs::read_to_string(root().join("man/src/srsd.conf.5.in")).unwrap();
    let text = fill(
        &template,
        &[
            ("VERSION", env!("CARGO_PKG_VERSION").to_owned()),
            ("KEYS", config_keys()),
        ],
    );
    check(&root().join("man/srsd.conf.5"), &text, &mut drift);
    // Pages with no options of their own, only the version to fill in.
    for page in ["srs-keys.5", "srsrelay.8"] {
        let template =
            std::fs::read_to_string(root().join("man/src").join(format!("{page}.in"))).unwrap();
        let text = fill(
            &template,
            &[("VERSION", env!("CARGO_PKG_VERSION").to_owned())],
        );
        check(&root().join("man").join(page), &text, &mut drift);
    }
    assert!(
        drift.is_empty(),
        "generated files drifted, run SNAPSHOTS=overwrite cargo test --test integration generated::: {drift:?}"
    );
}

#[test]
fn completions_match_the_clap_definitions() {
    let mut drift = Vec::new();
    for (_, mut cmd) in pages() {
        let name = cmd.get_name().to_owned();
        for (shell, file) in [
            (Shell::Bash, format!("{name}.bash")),
            (Shell::Zsh, format!("_{name}")),
            (Shell::Fish, format!("{name}.fish")),
        ] {
            let mut buf = Vec::new();
            clap_complete::generate(shell, &mut cmd, &name, &mut buf);
            check(
                &root().join("completions").join(file),
                &String::from_utf8(buf).unwrap(),
                &mut drift,
            );
        }
    }
    assert!(
        drift.is_empty(),
        "generated files drifted, run SNAPSHOTS=overwrite cargo test --test integration generated::: {drift:?}"
    );
}

/// Every page under man/ renders without a warning.
#[test]
fn man_pages_render_cleanly() {
    let Some(groff) = common::peer("groff", "groff") else {
        return;
    };
    for entry in std::fs::read_dir(root().join("man")).unwrap() {
        let path = entry.unwrap().path();
        if !path.is_file() {
            continue;
        }
        let out = std::process::Command::new(&groff)
            .args(["-man", "-ww", "-z", "-t"])
            .arg(&path)
            .output()
            .unwrap();
        assert!(
            out.status.success() && out.stderr.is_empty(),
            "{}: {}",
            path.display(),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[test]
fn clap_definitions_are_consistent() {
    for (_, cmd) in pages() {
        cmd.debug_assert();
    }
}
