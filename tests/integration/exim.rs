//! The README's Exim snippets, run by real Exim (Debian's exim4-daemon-light
//! binary; CI unpacks it with dpkg -x because the package conflicts with
//! postfix) against srsd's line listener: the router reverses valid SRS
//! addresses and fails forged or expired ones, and the return_path expansion
//! forwards senders; with `--address-form auto`, a long sender leaves in
//! the domain form and the second router brings its bounce back. The
//! snippets must stand verbatim in the README.

use crate::common;
use crate::common::srsd::Srsd;

use std::process::{Command, Stdio};

const NOW: u64 = 1_795_435_200;

/// The transport option of the README (FORWARD on every delivery).
const RETURN_PATH: &str = r"return_path = ${if eq{$return_path}{}{}{${sg{${sg{${readsocket{/run/srsd/line}{FORWARD $return_path $original_domain\n}{5s}{}{$return_path}}}{\N\n\N}{}}}{\N^ERROR: .*\N}{$return_path}}}}";

/// The router of the README (REVERSE for SRS recipients).
const ROUTER: &str = r"srs_bounce:
  driver = redirect
  domains = +local_domains
  condition = ${if match{$local_part}{\N^(?i)srs[01][=+-]\N}}
  allow_fail
  allow_defer
  data = ${sg{${sg{${readsocket{/run/srsd/line}{REVERSE $local_part@$domain\n}{5s}{}{:defer: srsd unavailable}}}{\N\n\N}{}}}{\N^ERROR: (.*)\N}{:fail: invalid SRS address: \$1}}";

/// The README's router for the domain form (`--address-form domain` or
/// `auto`): every address under the SRS subdomains.
const DOMAIN_FORM_ROUTER: &str = r"srs_bounce_domain_form:
  driver = redirect
  domains = *.srs0.fwd.example : *.srs1.fwd.example
  allow_fail
  allow_defer
  data = ${sg{${sg{${readsocket{/run/srsd/line}{REVERSE $local_part@$domain\n}{5s}{}{:defer: srsd unavailable}}}{\N\n\N}{}}}{\N^ERROR: (.*)\N}{:fail: invalid SRS address: \$1}}";

/// docs/policy.md's redirect router that signs only what it forwards, with the
/// domain that forwards it (errors_to sets the sender of the redirected
/// copies; Exim verifies it through `srs_bounce`).
const FORWARDING_ROUTER: &str = r"forwarding_aliases:
  driver = redirect
  domains = +local_domains
  data = ${lookup{$local_part}lsearch{/etc/aliases}}
  errors_to = ${if eq{$sender_address}{}{}{${sg{${sg{${readsocket{/run/srsd/line}{FORWARD $sender_address $domain\n}{5s}{}{$sender_address}}}{\N\n\N}{}}}{\N^ERROR: .*\N}{$sender_address}}}}";

/// Debian's Exim binary, and srsd serving the line protocol at `line` in
/// `dir` with `keys` (the secret exim-secret).
struct Exim {
    exim: std::path::PathBuf,
    dir: tempfile::TempDir,
    keys: std::path::PathBuf,
    line: std::path::PathBuf,
    _srsd: Srsd,
}

impl Exim {
    /// Exim and srsd started with `extra` options, or `None` when Exim or
    /// its user is missing (after saying so).
    fn with_srsd(extra: &[&str]) -> Option<Exim> {
        let exim = common::peer(
            "exim4",
            "exim4-daemon-light (unpacked with dpkg -x, see .ci/run)",
        )?;
        if nix::unistd::User::from_name("Debian-exim")
            .ok()
            .flatten()
            .is_none()
        {
            common::skip("Debian's exim needs the system user Debian-exim");
            return None;
        }
        let dir = tempfile::TempDir::new().unwrap();
        std::fs::set_permissions(
            dir.path(),
            std::os::unix::fs::PermissionsExt::from_mode(0o755),
        )
        .unwrap();
        let keys = dir.path().join("keys");
        std::fs::write(&keys, "exim-secret\n").unwrap();
        let line = dir.path().join("line");
        let srsd = Srsd::start_command(
            Command::new(env!("CARGO_BIN_EXE_srsd"))
                .args(["--now", &NOW.to_string(), "-d", "fwd.example", "-k"])
                .arg(&keys)
                .arg("--listen")
                .arg(format!("line=unix:{}", line.display()))
                .args(extra),
        );
        Some(Exim {
            exim,
            dir,
            keys,
            line,
            _srsd: srsd,
        })
    }
}

/// docs/sendmail-exim.md and docs/policy.md hold the snippets these tests
/// run, verbatim.
#[test]
fn the_documented_snippets_are_these() {
    use common::{flat, guide};
    for (doc, snippet, what) in [
        ("sendmail-exim", RETURN_PATH, "return_path line"),
        ("sendmail-exim", ROUTER, "router"),
        ("sendmail-exim", DOMAIN_FORM_ROUTER, "domain-form router"),
        ("policy", FORWARDING_ROUTER, "forwarding router"),
    ] {
        assert!(
            guide(doc).contains(&flat(snippet)),
            "docs/{doc}.md's {what} differs from the tested one"
        );
    }
}

#[test]
fn exim_runs_the_documented_snippets() {
    // Short senders in the local form, long ones in the domain form.
    let Some(Exim {
        exim,
        dir,
        keys,
        line,
        _srsd,
    }) = Exim::with_srsd(&["--address-form", "auto"])
    else {
        return;
    };
    let socket = line.display().to_string();
    let conf = dir.path().join("exim.conf");
    std::fs::write(
        &conf,
        format!(
            "primary_hostname = fwd.example\ndomainlist local_domains = fwd.example\nspool_directory = {d}/spool\nlog_file_path = {d}/%slog\n\
             begin routers\n{router}\n{domain_form_router}\nremote:\n  driver = accept\n  transport = remote_smtp\n\
             begin transports\nremote_smtp:\n  driver = smtp\n  {return_path}\n",
            d = dir.path().display(),
            router = ROUTER.replace("/run/srsd/line", &socket),
            domain_form_router = DOMAIN_FORM_ROUTER.replace("/run/srsd/line", &socket),
            return_path = RETURN_PATH.replace("/run/srsd/line", &socket),
        ),
    )
    .unwrap();
    let exim_run = |args: &[&str]| {
        let o = Command::new(&exim)
            .arg("-C")
            .arg(&conf)
            .args(args)
            .output()
            .unwrap();
        String::from_utf8_lossy(&o.stdout).into_owned() + &String::from_utf8_lossy(&o.stderr)
    };
    // The configuration parses (transport included).
    let check = exim_run(&["-bV"]);
    assert!(check.contains("Exim version"), "{check}");

    // Reverse: a valid address goes to alice; forged and expired fail.
    let valid = common::srs_forward(&keys, Some(NOW), "alice@origin.example");
    let out = exim_run(&["-bt", &valid]);
    assert!(
        out.contains("alice@origin.example\n") && out.contains(&format!("<-- {valid}")),
        "{out}"
    );
    let forged = format!("{}AAAA{}", &valid[..5], &valid[9..]);
    let out = exim_run(&["-bt", &forged]);
    assert!(
        out.contains("invalid SRS address: hash does not match"),
        "{out}"
    );
    let expired = common::srs_forward(&keys, Some(NOW - 30 * 86_400), "alice@origin.example");
    let out = exim_run(&["-bt", &expired]);
    assert!(out.contains("invalid SRS address: expired"), "{out}");

    // Forward: the return_path expansion, with the values Exim has at delivery.
    let expr = |sender: &str| {
        let value = RETURN_PATH
            .trim_start_matches("return_path = ")
            .replace("/run/srsd/line", &socket);
        let value = value
            .replace("$return_path", sender)
            .replace("$original_domain", "fwd.example");
        // On standard input: Exim limits an argument to 256 characters.
        let mut child = Command::new(&exim)
            .arg("-C")
            .arg(&conf)
            .arg("-be")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        std::io::Write::write_all(
            child.stdin.as_mut().unwrap(),
            format!("{value}\n").as_bytes(),
        )
        .unwrap();
        drop(child.stdin.take());
        let out = String::from_utf8(child.wait_with_output().unwrap().stdout).unwrap();
        // "> RESULT\n> \n": the prompt before each line read.
        out.lines()
            .next()
            .and_then(|l| l.strip_prefix("> "))
            .unwrap_or_else(|| panic!("{out:?}"))
            .to_owned()
    };
    assert_eq!(expr("alice@origin.example"), valid);
    assert_eq!(
        expr("x@evil=y"),
        "x@evil=y",
        "an address srsd refuses is kept"
    );
    assert_eq!(expr(""), "", "the null sender stays");

    // A sender too long for the local form leaves in the domain form, and
    // the second router brings a bounce back; a forged one fails.
    let long = "0f8fad5b-d9cb-469f-a165-70867728950e.bounces-x1@bulk.example";
    let signed = expr(long);
    assert!(
        signed.starts_with("0f8fad5b-d9cb-469f-a165-70867728950e.bounces-x1@")
            && signed.ends_with(".bulk.example.srs0.fwd.example"),
        "{signed}"
    );
    let out = exim_run(&["-bt", &signed]);
    assert!(
        out.contains(&format!("{long}\n")) && out.contains(&format!("<-- {signed}")),
        "{out}"
    );
    let (local, host) = signed.split_once('@').unwrap();
    let forged = format!("{local}@jmcaaaaaaaaaaaaa{}", &host[16..]);
    let out = exim_run(&["-bt", &forged]);
    assert!(
        out.contains("invalid SRS address: hash does not match"),
        "{out}"
    );
}

/// Forward-only signing in Exim: the README's redirect router signs the
/// copies it forwards with the domain that forwards them (here
/// customer.example and fwd.example), and the SRS address it sets is
/// verified through `srs_bounce`; a local sender and the null sender stay,
/// and mail that no router forwards is not touched (no return_path on the
/// transport).
#[test]
fn exim_forward_only_in_a_redirect_router() {
    let Some(Exim {
        exim,
        dir,
        keys,
        line,
        _srsd,
    }) = Exim::with_srsd(&[])
    else {
        return;
    };
    let aliases = dir.path().join("aliases");
    std::fs::write(&aliases, "fwdalias: alias-dest@dest.example\n").unwrap();
    let socket = line.display().to_string();
    let conf = dir.path().join("exim.conf");
    std::fs::write(
        &conf,
        format!(
            "primary_hostname = fwd.example\ndomainlist local_domains = fwd.example : customer.example\n\
             spool_directory = {d}/spool\nlog_file_path = {d}/%slog\n\
             begin routers\n{forwarding}\n{router}\nremote:\n  driver = accept\n  domains = ! +local_domains\n  transport = remote_smtp\n\
             begin transports\nremote_smtp:\n  driver = smtp\n",
            d = dir.path().display(),
            forwarding = FORWARDING_ROUTER
                .replace("/run/srsd/line", &socket)
                .replace("/etc/aliases", &aliases.display().to_string()),
            router = ROUTER.replace("/run/srsd/line", &socket),
        ),
    )
    .unwrap();
    // What the forwarding router sets as the sender of the forwarded copy
    // (Exim's routing debug output), for mail from `sender` to `to`.
    let errors_to = |sender: &str, to: &str| -> String {
        let o = Command::new(&exim)
            .arg("-C")
            .arg(&conf)
            .args(["-d+route", "-f", sender, "-bt", to])
            .output()
            .unwrap();
        let out = String::from_utf8_lossy(&o.stderr).into_owned();
        let at = out
            .find("forwarding_aliases router generated alias-dest@dest.example\n")
            .unwrap_or_else(|| panic!("{out}"));
        let line = out[at..].lines().nth(1).unwrap().trim();
        line.strip_prefix("errors_to=")
            .and_then(|l| l.split_once(' '))
            .map(|(v, _)| v.to_owned())
            .unwrap_or_else(|| panic!("{line}"))
    };
    let signed = |domain: &str| {
        let o = Command::new(env!("CARGO_BIN_EXE_srs"))
            .args(["--now", &NOW.to_string(), "-k"])
            .arg(&keys)
            .args(["forward", "-a", domain, "alice@origin.example"])
            .output()
            .unwrap();
        String::from_utf8(o.stdout).unwrap().trim().to_owned()
    };
    assert_eq!(
        errors_to("alice@origin.example", "fwdalias@customer.example"),
        signed("customer.example")
    );
    assert_eq!(
        errors_to("alice@origin.example", "fwdalias@fwd.example"),
        signed("fwd.example")
    );
    // A local sender keeps its address (Exim shows no errors_to), and a
    // forwarded bounce keeps the null sender.
    assert_eq!(errors_to("bob@fwd.example", "fwdalias@fwd.example"), "NULL");
    assert_eq!(errors_to("", "fwdalias@fwd.example"), "");
}
