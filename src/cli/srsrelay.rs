//! `srsrelay`: the command line of libsrs2's srsrelay,
//! `srsrelay ADDRESS PACK-PORT UNPACK-PORT UPSTREAM-HOST UPSTREAM-PORT DOMAIN...`,
//! turned into srsd's options, so that srsrelay is srsd with two relay
//! listeners and every srsd option (keys, codec, `--config`, user, chroot,
//! systemd, limits, logging) works here too.

use std::ffi::OsString;

use clap::CommandFactory;

/// Where srsrelay has always read its keys.
pub const DEFAULT_KEYS: &str = "/etc/postfix/srs-keys";

/// The usage line.
pub const USAGE: &str =
    "usage: srsrelay [OPTIONS] ADDRESS PACK-PORT UNPACK-PORT UPSTREAM-HOST UPSTREAM-PORT DOMAIN...";

/// What `srsrelay --help` says before srsd's options.
pub const HELP: &str = "\
Relay SMTP, ESMTP or LMTP to an upstream server, signing envelope senders
with SRS on one port (pack) and reversing SRS recipients of bounces on the
other (unpack). Senders at the DOMAINs are left alone; the first DOMAIN is
the SRS domain. Keys come from /etc/postfix/srs-keys unless given.

  srsrelay ::1 10252 10262 smtp.upstream.isp 25 example.com example.org

Every srsd option works here too (see srsrelay(8) and srsd(8)); these are
srsd's:
";

/// srsd's arguments for srsrelay's `args` (the program name first).
pub fn translate(args: &[OsString]) -> Result<Vec<OsString>, String> {
    let cmd = super::srsd::SrsdCli::command();
    let takes_value = |arg: &clap::Arg| {
        !matches!(
            arg.get_action(),
            clap::ArgAction::SetTrue
                | clap::ArgAction::Help
                | clap::ArgAction::HelpLong
                | clap::ArgAction::Version
                | clap::ArgAction::Count
        )
    };
    let long = |name: &str| cmd.get_arguments().find(|a| a.get_long() == Some(name));
    let short = |c: char| cmd.get_arguments().find(|a| a.get_short() == Some(c));
    let mut options: Vec<OsString> = Vec::new();
    let mut operands: Vec<String> = Vec::new();
    let mut keys_given = false;
    let mut iter = args.iter().skip(1);
    while let Some(arg) = iter.next() {
        let text = arg.to_string_lossy();
        if text == "--" {
            operands.extend(iter.by_ref().map(|a| a.to_string_lossy().into_owned()));
            break;
        }
        let (found, attached) = if let Some(name) = text.strip_prefix("--") {
            let (name, value) = name
                .split_once('=')
                .map_or((name, false), |(n, _)| (n, true));
            (long(name), value)
        } else if let Some(rest) = text.strip_prefix('-').filter(|r| !r.is_empty()) {
            let c = rest.chars().next().unwrap_or('-');
            (short(c), rest.len() > c.len_utf8())
        } else {
            operands.push(text.into_owned());
            continue;
        };
        options.push(arg.clone());
        let Some(found) = found else {
            // Unknown: srsd's parser names it.
            continue;
        };
        if matches!(found.get_id().as_str(), "secret_file" | "secret" | "config") {
            keys_given = true;
        }
        if takes_value(found) && !attached {
            options.extend(iter.next().cloned());
        }
    }
    let [address, pack, unpack, host, port, domains @ ..] = operands.as_slice() else {
        return Err(format!(
            "expected at least six operands, got {}",
            operands.len()
        ));
    };
    if domains.is_empty() {
        return Err("expected at least one DOMAIN after UPSTREAM-PORT".to_owned());
    }
    let port_of = |what: &str, p: &str| {
        // Port 0 asks the system for a free port (the tests use it).
        p.parse::<u16>()
            .ok()
            .ok_or_else(|| format!("{what} {p:?} is not a port number"))
    };
    let (pack, unpack, port) = (
        port_of("PACK-PORT", pack)?,
        port_of("UNPACK-PORT", unpack)?,
        port_of("UPSTREAM-PORT", port)?,
    );
    let bracket = |h: &str| {
        if h.contains(':') && !h.starts_with('[') {
            format!("[{h}]")
        } else {
            h.to_owned()
        }
    };
    let mut out: Vec<OsString> = vec![args.first().cloned().unwrap_or_else(|| "srsrelay".into())];
    out.extend(options);
    let listen = |name: &str, p: u16| format!("{name}=inet:{}:{p}", bracket(address));
    out.extend(
        [
            "--listen".to_owned(),
            listen("relay-pack", pack),
            "--listen".to_owned(),
            listen("relay-unpack", unpack),
            "--upstream".to_owned(),
            format!("{}:{port}", bracket(host)),
            "--domain".to_owned(),
            domains[0].clone(),
        ]
        .map(OsString::from),
    );
    for d in &domains[1..] {
        out.push("--relay-domain".into());
        out.push(d.into());
    }
    if !keys_given {
        out.push("--secret-file".into());
        out.push(DEFAULT_KEYS.into());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(args: &[&str]) -> Result<Vec<String>, String> {
        let args: Vec<OsString> = args.iter().map(OsString::from).collect();
        translate(&args).map(|v| v.iter().map(|a| a.to_string_lossy().into_owned()).collect())
    }

    #[test]
    fn the_original_command_line_becomes_srsd_options() {
        assert_eq!(
            t(&[
                "srsrelay",
                "::1",
                "10252",
                "10262",
                "smtp.upstream.isp",
                "25",
                "example.com",
                "example.org"
            ])
            .unwrap(),
            [
                "srsrelay",
                "--listen",
                "relay-pack=inet:[::1]:10252",
                "--listen",
                "relay-unpack=inet:[::1]:10262",
                "--upstream",
                "smtp.upstream.isp:25",
                "--domain",
                "example.com",
                "--relay-domain",
                "example.org",
                "--secret-file",
                "/etc/postfix/srs-keys",
            ]
        );
    }

    #[test]
    fn options_anywhere_keep_their_values() {
        assert_eq!(
            t(&[
                "srsrelay",
                "-k",
                "/k",
                "127.0.0.1",
                "--log-level",
                "debug",
                "1",
                "2",
                "::1",
                "3",
                "a.example",
                "--upstream-protocol=lmtp",
                "-t"
            ])
            .unwrap(),
            [
                "srsrelay",
                "-k",
                "/k",
                "--log-level",
                "debug",
                "--upstream-protocol=lmtp",
                "-t",
                "--listen",
                "relay-pack=inet:127.0.0.1:1",
                "--listen",
                "relay-unpack=inet:127.0.0.1:2",
                "--upstream",
                "[::1]:3",
                "--domain",
                "a.example",
            ]
        );
    }

    #[test]
    fn missing_or_bad_operands_are_named() {
        assert_eq!(
            t(&["srsrelay", "::1", "1", "2", "up", "25"]),
            Err("expected at least one DOMAIN after UPSTREAM-PORT".to_owned())
        );
        assert_eq!(
            t(&["srsrelay", "::1", "x", "2", "up", "25", "d.example"]),
            Err("PACK-PORT \"x\" is not a port number".to_owned())
        );
        assert_eq!(
            t(&["srsrelay", "::1"]),
            Err("expected at least six operands, got 1".to_owned())
        );
    }
}
