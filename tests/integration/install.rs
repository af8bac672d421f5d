//! scripts/install.sh into a temporary DESTDIR: every program answers
//! --version and --help, every page renders with man -l, and an existing
//! configuration or keys file is left alone.

use crate::common;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;

fn install(destdir: &Path) -> std::process::Output {
    install_with(&[("PREFIX", "/usr"), ("DESTDIR", destdir.to_str().unwrap())])
}

fn install_with(env: &[(&str, &str)]) -> std::process::Output {
    let bindir = Path::new(env!("CARGO_BIN_EXE_srs")).parent().unwrap();
    Command::new("sh")
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/install.sh"))
        .env_remove("DESTDIR")
        .envs(env.iter().copied())
        .env("BINDIR", bindir)
        .output()
        .unwrap()
}

#[test]
fn installs_into_destdir() {
    let dest = tempfile::TempDir::new().unwrap();
    let out = install(dest.path());
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let usr = dest.path().join("usr");
    for program in [
        "bin/srs",
        "bin/srsc",
        "bin/srs-forwarder",
        "bin/srs-reverser",
        "sbin/srsd",
        "sbin/srsrelay",
    ] {
        for flag in ["--version", "--help"] {
            let o = Command::new(usr.join(program)).arg(flag).output().unwrap();
            assert!(
                o.status.success() && !o.stdout.is_empty(),
                "{program} {flag}: {}",
                String::from_utf8_lossy(&o.stderr)
            );
        }
    }
    let pages = [
        "man1/srs.1",
        "man1/srsc.1",
        "man5/srs-keys.5",
        "man5/srsd.conf.5",
        "man8/srsd.8",
        "man8/srs-forwarder.8",
        "man8/srs-reverser.8",
        "man8/srsrelay.8",
    ];
    if let Some(man) = common::peer("man", "man-db") {
        for page in pages {
            let o = Command::new(&man)
                .arg("-l")
                .arg(usr.join("share/man").join(page))
                .env("MANPAGER", "cat")
                .output()
                .unwrap();
            assert!(
                o.status.success() && o.stdout.len() > 500,
                "man -l {page}: {}",
                String::from_utf8_lossy(&o.stderr)
            );
        }
    }
    for f in [
        "share/bash-completion/completions/srsd",
        "share/zsh/site-functions/_srs",
        "share/fish/vendor_completions.d/srsc.fish",
        "lib/systemd/system/srsd.service",
        "lib/systemd/system/srsd.socket",
        "lib/systemd/system/srsrelay.service",
        "lib/sysusers.d/srsd.conf",
    ] {
        assert!(usr.join(f).is_file(), "{f} missing");
    }
    let unit = std::fs::read_to_string(usr.join("lib/systemd/system/srsd.service")).unwrap();
    assert!(unit.contains("ExecStart=/usr/sbin/srsd --config /etc/mail-srs/srsd.conf"));
    let relay = std::fs::read_to_string(usr.join("lib/systemd/system/srsrelay.service")).unwrap();
    assert!(relay.contains("ExecStart=/usr/sbin/srsrelay $SRSRELAY_OPTIONS $SRSRELAY_ARGS"));
    assert!(dest.path().join("etc/default/srsrelay").is_file());

    let said = String::from_utf8_lossy(&out.stdout).into_owned();
    let usr_text = usr.display().to_string();
    assert!(
        said.contains(&format!("installed {usr_text}/sbin/srsd\n"))
            && said.contains(&format!("installed {usr_text}/share/man/man8/srsd.8\n"))
            && said.contains(&format!(
                "installed {usr_text}/share/doc/mail-srs/policy.md\n"
            )),
        "{said}"
    );
    // Under DESTDIR no key is made: it would ship in the package.
    let etc = dest.path().join("etc/mail-srs");
    assert!(!etc.join("srs-keys").exists());
    assert!(
        said.ends_with(
            "no keys file under DESTDIR: srsd.service creates /etc/mail-srs/srs-keys at first start\n"
        ),
        "{said}"
    );

    // A second install keeps what the postmaster has.
    std::fs::write(etc.join("srsd.conf"), "domain = mine.example\n").unwrap();
    std::fs::write(etc.join("srs-keys"), "mine\n").unwrap();
    let out = install(dest.path());
    assert!(out.status.success());
    assert_eq!(
        std::fs::read_to_string(etc.join("srsd.conf")).unwrap(),
        "domain = mine.example\n"
    );
    assert_eq!(
        std::fs::read_to_string(etc.join("srs-keys")).unwrap(),
        "mine\n"
    );
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        said.contains(&format!(
            "kept existing {}\n",
            etc.join("srs-keys").display()
        )),
        "{said}"
    );
}

/// Installed straight onto a system (no DESTDIR; here a private prefix and
/// configuration directory), a missing keys file is made, mode 0640.
#[test]
fn a_direct_install_makes_the_keys_file() {
    let dir = tempfile::TempDir::new().unwrap();
    let prefix = dir.path().join("prefix");
    let etc = dir.path().join("etc");
    let out = install_with(&[
        ("PREFIX", prefix.to_str().unwrap()),
        ("SYSCONFDIR", etc.to_str().unwrap()),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let keys = etc.join("mail-srs/srs-keys");
    assert_eq!(
        std::fs::read_to_string(&keys).unwrap().len(),
        33,
        "one fresh secret"
    );
    assert_eq!(
        std::fs::metadata(&keys).unwrap().permissions().mode() & 0o777,
        0o640
    );
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        said.ends_with(&format!("created {} with a new secret\n", keys.display())),
        "{said}"
    );
    let unit = std::fs::read_to_string(prefix.join("lib/systemd/system/srsd.service")).unwrap();
    assert!(
        unit.contains(&format!(
            "{}/bin/srs keygen --rotate {}/mail-srs/srs-keys",
            prefix.display(),
            etc.display()
        )),
        "{unit}"
    );
}
