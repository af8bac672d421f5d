//! The README's sendmail lines, run by real sendmail 8.17 (Debian's
//! sendmail-bin binary; CI unpacks it with dpkg -x because the package
//! conflicts with postfix): in address-test mode, `/map` queries the socket
//! maps on srsd and the program maps that call `srs` in its Perl form; in an
//! SMTP session on stdin, the milter changes what sendmail queues.
//!
//! sendmail wants to know its own fully qualified name, so it runs in fresh
//! network, UTS and mount namespaces (only loopback, hostname fwd.example, a
//! hosts file naming it): it can never reach beyond this machine. Needs root.

use crate::common;
use crate::common::srsd::Srsd;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

const NOW: u64 = 1_795_435_200;
const ALICE: &str = "SRS0=F0KE=JM=origin.example=alice@fwd.example";

/// The README's socketmap lines.
const SOCKET_MAPS: &str = "Kforward socket -T<TMPF> unix:/run/srsd/socketmap
Kreverse socket -T<TMPF> unix:/run/srsd/socketmap";

/// The README's program maps for sendmail without socketmap.
const PROGRAM_MAPS: &str =
    "Ksrsforward program /usr/bin/srs --secretfile=/etc/mail-srs/srs-keys --alias=fwd.example
Ksrsreverse program /usr/bin/srs --reverse --secretfile=/etc/mail-srs/srs-keys";

struct Run {
    dir: PathBuf,
    srsd: Srsd,
}

impl Run {
    /// srsd serving `protocol` on `socket`, once it says it serves; `dir`
    /// is removed with it.
    fn start(dir: &Path, keys: &Path, protocol: &str, socket: &Path) -> Run {
        Run::start_with(dir, keys, protocol, socket, &[])
    }

    /// The same, with more srsd options.
    fn start_with(dir: &Path, keys: &Path, protocol: &str, socket: &Path, args: &[&str]) -> Run {
        let srsd = Srsd::start_command(
            Command::new(env!("CARGO_BIN_EXE_srsd"))
                .args(["--now", &NOW.to_string(), "-d", "fwd.example", "-k"])
                .arg(keys)
                .arg("--listen")
                .arg(format!("{protocol}=unix:{}", socket.display()))
                .args(args),
        );
        Run {
            dir: dir.to_owned(),
            srsd,
        }
    }
}

impl Drop for Run {
    fn drop(&mut self) {
        let _ = self.srsd.child.kill();
        let _ = self.srsd.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// docs/sendmail-exim.md, docs/milter.md and docs/long-senders.md hold the
/// lines these tests run, verbatim.
#[test]
fn the_documented_lines_are_these() {
    use common::{flat, guide};
    for (doc, lines, what) in [
        ("sendmail-exim", SOCKET_MAPS, "socketmap lines"),
        ("sendmail-exim", PROGRAM_MAPS, "program maps"),
        (
            "long-senders",
            DOMAIN_FORM_LINES,
            "sendmail lines for the domain form",
        ),
        ("milter", MILTER_LINE, "INPUT_MAIL_FILTER line"),
    ] {
        assert!(
            guide(doc).contains(&flat(lines)),
            "docs/{doc}.md's {what} differ from the tested ones"
        );
    }
}

fn sendmail_binary() -> Option<PathBuf> {
    let msg = match std::env::var_os("SRS_SENDMAIL_BIN") {
        Some(p) if Path::new(&p).is_file() => {
            if nix::unistd::geteuid().is_root() {
                return Some(p.into());
            }
            "the sendmail test needs root for its namespaces"
        }
        _ => {
            "SRS_SENDMAIL_BIN does not name Debian's sendmail binary (unpack sendmail-bin as .ci/run does)"
        }
    };
    common::skip(msg);
    None
}

#[test]
fn sendmail_runs_the_readme_lines() {
    let Some(sendmail) = sendmail_binary() else {
        return;
    };
    let (Some(_), Some(_)) = (
        common::peer("unshare", "util-linux"),
        common::peer("ip", "iproute2"),
    ) else {
        return;
    };
    // Not under /tmp: sendmail refuses sockets below a world-writable directory.
    let dir = PathBuf::from(format!("/run/mail-srs-sendmail-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::set_permissions(&dir, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let keys = dir.join("keys");
    std::fs::write(&keys, "s3cret\n").unwrap();
    // sendmail runs program maps as its DefaultUser, who must read the keys.
    std::fs::set_permissions(&keys, std::os::unix::fs::PermissionsExt::from_mode(0o644)).unwrap();
    let socket = dir.join("socketmap");
    let run = Run::start(&dir, &keys, "socketmap", &socket);
    let hosts = dir.join("hosts");
    std::fs::write(&hosts, "127.0.0.1 fwd.example fwd localhost\n").unwrap();
    let cf = dir.join("test.cf");
    std::fs::write(
        &cf,
        format!(
            "V10/Berkeley\nDjfwd.example\n{}\n{}\n",
            SOCKET_MAPS.replace("/run/srsd/socketmap", &socket.display().to_string()),
            PROGRAM_MAPS
                .replace("/usr/bin/srs", env!("CARGO_BIN_EXE_srs"))
                .replace("/etc/mail-srs/srs-keys", &keys.display().to_string()),
        ),
    )
    .unwrap();
    let queries = format!(
        "/map forward alice@origin.example\n/map reverse {ALICE}\n/map reverse SRS0=AAAA=JM=origin.example=alice@fwd.example\n\
         /map forward alice<@origin.example.>\n/map srsforward alice@origin.example\n/map srsreverse {ALICE}\n"
    );
    let script = format!(
        "ip link set lo up && hostname fwd.example && mount --bind {} /etc/hosts && exec {} -C {} -bt",
        hosts.display(),
        sendmail.display(),
        cf.display()
    );
    let mut child = Command::new("unshare")
        .args(["--net", "--uts", "--mount", "sh", "-c", &script])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(child.stdin.as_mut().unwrap(), queries.as_bytes()).unwrap();
    drop(child.stdin.take());
    let out = child.wait_with_output().unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    for want in [
        format!("map_lookup: forward (alice@origin.example) returns {ALICE} (0)"),
        format!("map_lookup: reverse ({ALICE}) returns alice@origin.example (0)"),
        "map_lookup: reverse (SRS0=AAAA=JM=origin.example=alice@fwd.example) no match".to_owned(),
        "map_lookup: forward (alice<@origin.example.>) returns SRS0=F0KE=JM=origin.example=alice<@fwd.example.> (0)".to_owned(),
        format!("map_lookup: srsreverse ({ALICE}) returns alice@origin.example (0)"),
    ] {
        assert!(text.contains(&want), "missing {want:?} in:\n{text}");
    }
    // The program map signs as Perl srs --secretfile does (newline in the key).
    assert!(
        text.contains("map_lookup: srsforward (alice@origin.example) returns SRS0="),
        "{text}"
    );
    drop(run);
}

/// The README's `INPUT_MAIL_FILTER` line, for a sendmail.cf generated
/// from Debian's sendmail-cf with m4 (CI unpacks it and names its cf.m4 in
/// SRS_SENDMAIL_CF).
const MILTER_LINE: &str =
    "INPUT_MAIL_FILTER(`srs', `S=unix:/run/srsd/milter, F=T, T=S:10s;R:10s;E:10s')dnl";

/// What a milter test needs: sendmail's binary and cf.m4, and the tools
/// for its namespaces; `None` (the test skipped) without them.
fn milter_peers() -> Option<(PathBuf, PathBuf, PathBuf)> {
    let sendmail = sendmail_binary()?;
    let cf_m4 = match std::env::var_os("SRS_SENDMAIL_CF") {
        Some(p) if Path::new(&p).is_file() => PathBuf::from(p),
        _ => {
            common::skip(
                "SRS_SENDMAIL_CF does not name sendmail-cf's cf.m4 (unpack sendmail-cf as .ci/run does)",
            );
            return None;
        }
    };
    let (Some(_), Some(_), Some(m4)) = (
        common::peer("unshare", "util-linux"),
        common::peer("ip", "iproute2"),
        common::peer("m4", "m4"),
    ) else {
        return None;
    };
    Some((sendmail, cf_m4, m4))
}

/// A directory for a milter test under /run (sendmail refuses sockets
/// below a world-writable directory), with a queue and a keys file.
fn milter_dir(name: &str) -> (PathBuf, PathBuf) {
    let dir = PathBuf::from(format!("/run/mail-srs-{name}-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("queue")).unwrap();
    std::fs::set_permissions(&dir, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    std::fs::set_permissions(
        dir.join("queue"),
        std::os::unix::fs::PermissionsExt::from_mode(0o700),
    )
    .unwrap();
    let keys = dir.join("keys");
    std::fs::write(&keys, "s3cret\n").unwrap();
    std::fs::set_permissions(&keys, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
    (dir, keys)
}

/// Makes `dir/milter.cf` with m4 from sendmail-cf: queue in `dir/queue`,
/// the README's milter line for `socket`, and `lines` (FEATUREs, relay
/// domains); gives the script that runs `sendmail -bs` on it in the test's
/// namespaces, queueing only, for a client at 192.0.2.1 (so relaying is
/// checked as for a remote client).
fn milter_sendmail(
    (sendmail, cf_m4, m4): &(PathBuf, PathBuf, PathBuf),
    dir: &Path,
    socket: &Path,
    lines: &str,
) -> String {
    use std::io::Write;
    let mc = format!(
        "divert(0)dnl\ninclude(`{}')dnl\nOSTYPE(`linux')dnl\n\
         define(`confDONT_PROBE_INTERFACES', `True')dnl\n\
         define(`QUEUE_DIR', `{}/queue')dnl\n\
         define(`confDEF_USER_ID', `0:0')dnl\n\
         FEATURE(`nocanonify')dnl\n{lines}\
         FEATURE(`accept_unresolvable_domains')dnl\n\
         MAILER(`local')dnl\nMAILER(`smtp')dnl\n{}\n",
        cf_m4.display(),
        dir.display(),
        MILTER_LINE.replace("/run/srsd/milter", &socket.display().to_string())
    );
    let m4_out = Command::new(m4)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .and_then(|mut c| {
            c.stdin.take().unwrap().write_all(mc.as_bytes())?;
            c.wait_with_output()
        })
        .unwrap();
    assert!(m4_out.status.success());
    let cf = dir.join("milter.cf");
    std::fs::write(&cf, &m4_out.stdout).unwrap();
    let hosts = dir.join("hosts");
    std::fs::write(&hosts, "127.0.0.1 fwd.example fwd localhost\n").unwrap();
    format!(
        "ip link set lo up && hostname fwd.example && mount --bind {} /etc/hosts && exec {} -C {} -odq -bs -M{{client_addr}}192.0.2.1",
        hosts.display(),
        sendmail.display(),
        cf.display()
    )
}

/// Each queued message's sender, ESMTP body type and recipients, sorted.
fn queued(dir: &Path) -> Vec<Vec<String>> {
    let mut queued: Vec<Vec<String>> = std::fs::read_dir(dir.join("queue"))
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with("qf"))
        .map(|e| {
            String::from_utf8_lossy(&std::fs::read(e.path()).unwrap())
                .lines()
                .filter(|l| l.starts_with('S') || l.starts_with('B') || l.starts_with("rRFC822"))
                .map(str::to_owned)
                .collect()
        })
        .collect();
    queued.sort();
    queued
}

/// sendmail 8.17 with srsd's milter: an SMTP session on `sendmail -bs`
/// (queue only) in the test's namespaces. The queue files show the signed
/// sender (ESMTP BODY kept) and the reversed bounce recipient, a forged SRS
/// recipient gets 550 at RCPT, and with srsd gone MAIL gets 451.
#[test]
fn sendmail_with_the_milter() {
    let Some(peers) = milter_peers() else {
        return;
    };
    let (dir, keys) = milter_dir("sendmail-milter");
    let socket = dir.join("milter");
    let run = Run::start(&dir, &keys, "milter", &socket);
    let script = milter_sendmail(&peers, &dir, &socket, "FEATURE(`promiscuous_relay')dnl\n");
    let (mut child, mut say) = smtp_session(&script);
    let code = |reply: String| reply.get(..3).unwrap_or_default().to_owned();
    assert_eq!(code(say("")), "220");
    assert_eq!(code(say("EHLO client.test")), "250");
    for (from, to, message) in [
        (
            "<alice@origin.example> BODY=8BITMIME",
            "<dest@dest.example>",
            "forward",
        ),
        ("<>", &format!("<{ALICE}>")[..], "bounce"),
    ] {
        assert_eq!(code(say(&format!("MAIL FROM:{from}"))), "250");
        assert_eq!(code(say(&format!("RCPT TO:{to}"))), "250");
        assert_eq!(code(say("DATA")), "354");
        assert_eq!(
            code(say(&format!("Subject: {message}\r\n\r\n{message}\r\n."))),
            "250"
        );
    }
    assert_eq!(code(say("MAIL FROM:<>")), "250");
    assert_eq!(
        say("RCPT TO:<SRS0=AAAA=JM=origin.example=alice@fwd.example>"),
        "550 5.1.1 <SRS0=AAAA=JM=origin.example=alice@fwd.example>... Invalid SRS address"
    );
    assert_eq!(code(say("QUIT")), "221");
    child.wait().unwrap();
    drop(say);
    assert_eq!(
        queued(&dir),
        [
            vec![
                "B8BITMIME".to_owned(),
                format!("S<{ALICE}>"),
                "rRFC822; dest@dest.example".to_owned()
            ],
            vec!["S<>".to_owned(), "rRFC822; alice@origin.example".to_owned()],
        ]
    );
    // srsd gone: F=T makes sendmail defer at MAIL.
    let mut run = run;
    let _ = run.srsd.child.kill();
    let _ = run.srsd.child.wait();
    let (mut child, mut say) = smtp_session(&script);
    assert_eq!(code(say("")), "220");
    assert_eq!(code(say("EHLO client.test")), "250");
    assert_eq!(
        say("MAIL FROM:<alice@origin.example>"),
        "451 4.3.2 Please try again later"
    );
    assert_eq!(code(say("QUIT")), "221");
    child.wait().unwrap();
    drop(run);
}

/// sendmail's SMTP session on stdin (`-bs`) run by `script`, and a function
/// that sends one line (none for the greeting) and gives the last line of
/// the reply. sendmail refuses a client that talks before its reply, so it
/// is one command at a time.
fn smtp_session(script: &str) -> (Child, impl FnMut(&str) -> String) {
    use std::io::{BufRead, BufReader, Write};
    let mut child = Command::new("unshare")
        .args(["--net", "--uts", "--mount", "sh", "-c", script])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    let mut replies = BufReader::new(child.stdout.take().unwrap());
    let say = move |line: &str| -> String {
        if !line.is_empty() {
            input.write_all(format!("{line}\r\n").as_bytes()).unwrap();
        }
        loop {
            let mut l = String::new();
            replies.read_line(&mut l).unwrap();
            if l.as_bytes().get(3) != Some(&b'-') {
                return l.trim_end().to_owned();
            }
        }
    };
    (child, say)
}

/// The README's sendmail lines for the domain form: the SRS subdomains as
/// relay domains, so sendmail accepts their recipients and the milter
/// turns them back into the original senders.
const DOMAIN_FORM_LINES: &str = "RELAY_DOMAIN(`srs0.fwd.example')dnl
RELAY_DOMAIN(`srs1.fwd.example')dnl";

/// sendmail 8.17 with the milter and `--address-form domain`: a forwarded
/// sender leaves in the domain form; a bounce to it is accepted through the
/// README's relay domains and queued to the original sender; a forged one
/// gets 550 at RCPT; another domain is still not relayed.
#[test]
fn sendmail_routes_the_domain_form() {
    let Some(peers) = milter_peers() else {
        return;
    };
    let (dir, keys) = milter_dir("sendmail-domain-form");
    let socket = dir.join("milter");
    let run = Run::start_with(
        &dir,
        &keys,
        "milter",
        &socket,
        &["--address-form", "domain"],
    );
    // dest.example stands for where the forwarder sends mail on.
    let script = milter_sendmail(
        &peers,
        &dir,
        &socket,
        &format!("{DOMAIN_FORM_LINES}\nRELAY_DOMAIN(`dest.example')dnl\n"),
    );
    let signed = {
        let o = Command::new(env!("CARGO_BIN_EXE_srs"))
            .args(["--now", &NOW.to_string(), "-k"])
            .arg(&keys)
            .args(["--address-form", "domain", "forward", "-a", "fwd.example"])
            .arg("alice@origin.example")
            .output()
            .unwrap();
        String::from_utf8(o.stdout).unwrap().trim().to_owned()
    };
    assert!(
        signed.ends_with(".origin.example.srs0.fwd.example"),
        "{signed}"
    );
    let (mut child, mut say) = smtp_session(&script);
    let code = |reply: String| reply.get(..3).unwrap_or_default().to_owned();
    assert_eq!(code(say("")), "220");
    assert_eq!(code(say("EHLO client.test")), "250");
    // The bounce first: sendmail forgets the client's address given with
    // -M{client_addr} once a message is queued, and relays anything after.
    assert_eq!(code(say("MAIL FROM:<>")), "250");
    // The relay domains open the SRS subdomains only.
    assert_eq!(
        say("RCPT TO:<bob@elsewhere.example>"),
        "550 5.7.1 <bob@elsewhere.example>... Relaying denied"
    );
    // Under the SRS subdomain, any shape: it must reverse.
    assert_eq!(
        say("RCPT TO:<alice@aaaaaaaaaaaaaaaa.origin.example.srs0.fwd.example>"),
        "550 5.1.1 <alice@aaaaaaaaaaaaaaaa.origin.example.srs0.fwd.example>... Invalid SRS address"
    );
    assert_eq!(
        say(&format!("RCPT TO:<{signed}>")),
        format!("250 2.1.5 <{signed}>... Recipient ok (will queue)")
    );
    assert_eq!(code(say("DATA")), "354");
    assert_eq!(code(say("Subject: bounce\r\n\r\nbounce\r\n.")), "250");
    assert_eq!(code(say("MAIL FROM:<alice@origin.example>")), "250");
    assert_eq!(code(say("RCPT TO:<dest@dest.example>")), "250");
    assert_eq!(code(say("DATA")), "354");
    assert_eq!(code(say("Subject: forward\r\n\r\nforward\r\n.")), "250");
    assert_eq!(code(say("QUIT")), "221");
    child.wait().unwrap();
    drop(say);
    assert_eq!(
        queued(&dir),
        [
            vec!["S<>".to_owned(), "rRFC822; alice@origin.example".to_owned()],
            vec![
                format!("S<{signed}>"),
                "rRFC822; dest@dest.example".to_owned()
            ],
        ]
    );
    drop(run);
}
