//! The README's sendmail lines, run by real sendmail 8.17 (Debian's
//! sendmail-bin binary; CI unpacks it with dpkg -x because the package
//! conflicts with postfix) in address-test mode: `/map` queries the socket
//! maps on srsd and the program maps that call `srs` in its Perl form.
//!
//! sendmail wants to know its own fully qualified name, so it runs in fresh
//! network, UTS and mount namespaces (only loopback, hostname fwd.example, a
//! hosts file naming it): it can never reach beyond this machine. Needs root.

mod common;

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
    srsd: Child,
}

impl Drop for Run {
    fn drop(&mut self) {
        let _ = self.srsd.kill();
        let _ = self.srsd.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[test]
fn readme_lines_are_these() {
    let flat = |s: &str| s.lines().map(str::trim).collect::<Vec<_>>().join("\n");
    let readme =
        flat(&std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap());
    assert!(
        readme.contains(&flat(SOCKET_MAPS)),
        "the README's socketmap lines differ from the tested ones"
    );
    assert!(
        readme.contains(&flat(PROGRAM_MAPS)),
        "the README's program maps differ from the tested ones"
    );
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
    let srsd = Command::new(env!("CARGO_BIN_EXE_srsd"))
        .args(["--now", &NOW.to_string(), "-d", "fwd.example", "-k"])
        .arg(&keys)
        .arg("--listen")
        .arg(format!("socketmap=unix:{}", socket.display()))
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let run = Run {
        dir: dir.clone(),
        srsd,
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while !socket.exists() {
        assert!(std::time::Instant::now() < deadline, "srsd did not start");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
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
