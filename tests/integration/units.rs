//! The shipped systemd units verify, and the example configuration starts srsd.

use crate::common;
use crate::common::srsd::Srsd;

use std::process::Command;

#[test]
fn systemd_units_verify() {
    let Some(analyze) = common::peer("systemd-analyze", "systemd") else {
        return;
    };
    let dir = tempfile::TempDir::new().unwrap();
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    for unit in ["srsd.service", "srsd.socket", "srsrelay.service"] {
        let text = std::fs::read_to_string(root.join("systemd").join(unit)).unwrap();
        // Point ExecStart at the binary just built; the units install it in /usr/sbin.
        std::fs::write(
            dir.path().join(unit),
            text.replace("/usr/sbin/srsrelay", env!("CARGO_BIN_EXE_srsrelay"))
                .replace("/usr/sbin/srsd", env!("CARGO_BIN_EXE_srsd")),
        )
        .unwrap();
    }
    let out = Command::new(analyze)
        .args([
            "verify",
            "--man=no",
            "./srsd.service",
            "./srsd.socket",
            "./srsrelay.service",
        ])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(
        out.status.success() && out.stderr.is_empty(),
        "systemd-analyze verify: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn example_configuration_starts_srsd() {
    let dir = tempfile::TempDir::new().unwrap();
    let keys = dir.path().join("keys");
    std::fs::write(&keys, "example-secret\n").unwrap();
    std::fs::set_permissions(&keys, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
    let sock = dir.path().join("socketmap");
    let example = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/srsd.conf");
    // Unchanged, the example is refused: its domain is a placeholder.
    let o = Command::new(env!("CARGO_BIN_EXE_srsd"))
        .args(["--config", example])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(78));
    assert!(
        String::from_utf8_lossy(&o.stderr)
            .contains("placeholder: set domain to your forwarding domain"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    // The example's domain and paths are a real system's; override them.
    let srsd = Srsd::start_command(
        Command::new(env!("CARGO_BIN_EXE_srsd"))
            .args([
                "--config",
                example,
                "--domain",
                "fwd.example",
                "--secret-file",
            ])
            .arg(&keys)
            .arg("--listen")
            .arg(format!("socketmap=unix:{}", sock.display())),
    );
    let o = Command::new(env!("CARGO_BIN_EXE_srsc"))
        .arg("-s")
        .arg(&sock)
        .args(["forward", "a@origin.example"])
        .output()
        .unwrap();
    drop(srsd);
    assert!(String::from_utf8_lossy(&o.stdout).ends_with("=origin.example=a@fwd.example\n"));
}

/// srsd.service's first-start step makes a keys file, 0640 and in srsd's
/// group, only when there is none. Run here with the built srs, a private
/// path and our own group for srsd's.
#[test]
fn first_start_makes_the_keys_file_once() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let unit = std::fs::read_to_string(root.join("systemd/srsd.service")).unwrap();
    let line = unit
        .lines()
        .find_map(|l| l.strip_prefix("ExecStartPre=+/bin/sh -c "))
        .expect("an ExecStartPre line");
    let script = line.trim_matches('\'');
    let dir = tempfile::TempDir::new().unwrap();
    let keys = dir.path().join("srs-keys");
    let gid = nix::unistd::getgid().to_string();
    let script = script
        .replace("/etc/mail-srs/srs-keys", keys.to_str().unwrap())
        .replace("/usr/bin/srs ", &format!("{} ", env!("CARGO_BIN_EXE_srs")))
        .replace("chgrp srsd", &format!("chgrp {gid}"));
    let run = || {
        let o = Command::new("/bin/sh")
            .args(["-c", &script])
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    };
    run();
    let made = std::fs::read_to_string(&keys).unwrap();
    assert_eq!(made.len(), 33, "one fresh secret: {made:?}");
    let mode = std::fs::metadata(&keys).unwrap();
    assert_eq!(
        std::os::unix::fs::PermissionsExt::mode(&mode.permissions()) & 0o777,
        0o640
    );
    run();
    assert_eq!(
        std::fs::read_to_string(&keys).unwrap(),
        made,
        "never replaced"
    );
}

/// The shipped /etc/default/srsrelay gives srsrelay.service a command line
/// that parses, and is refused until its placeholder domain is changed.
#[test]
fn the_srsrelay_defaults_parse_and_wait_for_a_domain() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let defaults = std::fs::read_to_string(root.join("examples/srsrelay.default")).unwrap();
    let operands = defaults
        .lines()
        .find_map(|l| l.strip_prefix("SRSRELAY_ARGS="))
        .unwrap()
        .trim_matches('"');
    let dir = tempfile::TempDir::new().unwrap();
    let keys = dir.path().join("keys");
    std::fs::write(&keys, "relay-secret\n").unwrap();
    std::fs::set_permissions(&keys, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_srsrelay"))
        .arg("-t")
        .arg("-k")
        .arg(&keys)
        .args(operands.split_whitespace())
        .output()
        .unwrap();
    assert_eq!(
        (o.status.code(), String::from_utf8_lossy(&o.stderr).into_owned()),
        (
            Some(78),
            "srsrelay: domain forwarder.example is the example configuration's placeholder: set domain to your forwarding domain\n".to_owned()
        )
    );
}
