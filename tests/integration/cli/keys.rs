//! The keys through srs: keygen and rotation, the secret asked for on a terminal, and warnings about how a secret is given or kept.

use super::*;

#[test]
fn keygen_prints_one_fresh_secret() {
    let a = srs().arg("keygen").output().unwrap();
    let b = srs().arg("keygen").output().unwrap();
    assert!(a.status.success());
    let line = String::from_utf8(a.stdout).unwrap();
    assert_eq!(line.len(), 33);
    assert!(line.ends_with('\n'));
    assert_ne!(line.as_bytes(), b.stdout.as_slice());
}

#[test]
fn keygen_rotate_puts_the_new_key_on_top_and_keeps_mode() {
    let dir = TempDir::new().unwrap();
    let path = dir.path().join("srs-keys");
    fs::write(&path, "# site keys\nold-one\nolder\n").unwrap();
    fs::set_permissions(&path, fs::Permissions::from_mode(0o640)).unwrap();
    srs()
        .args(["keygen", "--rotate"])
        .arg(&path)
        .assert()
        .success()
        .stdout("");
    let text = fs::read_to_string(&path).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 4);
    assert_eq!(lines[0], "# site keys");
    assert_eq!(lines[1].len(), 32);
    assert_eq!(&lines[2..], ["old-one", "older"]);
    assert_eq!(
        fs::metadata(&path).unwrap().permissions().mode() & 0o777,
        0o640
    );
    assert_eq!(
        fs::read_dir(dir.path()).unwrap().count(),
        1,
        "no temporary file left"
    );

    // The new key signs; the old one still verifies.
    let old_keys = keys(&dir, b"old-one\n");
    let made = srs_with(&old_keys)
        .args(["forward", "-a", "fwd.example", "alice@origin.example"])
        .output()
        .unwrap();
    let made = String::from_utf8(made.stdout).unwrap();
    srs()
        .args(["--now", NOW, "-k"])
        .arg(&path)
        .args(["reverse", made.trim()])
        .assert()
        .success()
        .stdout("alice@origin.example\n");

    let fresh = dir.path().join("new-keys");
    srs()
        .args(["keygen", "--rotate"])
        .arg(&fresh)
        .assert()
        .success();
    assert_eq!(
        fs::metadata(&fresh).unwrap().permissions().mode() & 0o777,
        0o640
    );
    srs()
        .args(["keygen", "--rotate", "/nonexistent/dir/keys"])
        .assert()
        .code(73)
        .stderr(predicate::str::contains(
            "cannot rotate keys file /nonexistent/dir/keys",
        ));
}

/// `srs keygen --rotate LINK` rotates the file the link points to, in its own
/// directory, with its mode and owner; the link stays a link.
#[test]
fn keygen_rotate_follows_a_symlink_to_the_real_file() {
    use std::os::unix::fs::MetadataExt;
    let dir = TempDir::new().unwrap();
    let real_dir = dir.path().join("real");
    let etc = dir.path().join("etc");
    fs::create_dir(&real_dir).unwrap();
    fs::create_dir(&etc).unwrap();
    let real = real_dir.join("srs-keys");
    fs::write(&real, "old-one\n").unwrap();
    fs::set_permissions(&real, fs::Permissions::from_mode(0o604)).unwrap();
    let owner = if nix::unistd::Uid::effective().is_root() {
        std::os::unix::fs::chown(&real, Some(65534), Some(65534)).unwrap();
        (65534, 65534)
    } else {
        let m = fs::metadata(&real).unwrap();
        (m.uid(), m.gid())
    };
    let link = etc.join("srs-keys");
    std::os::unix::fs::symlink("../real/srs-keys", &link).unwrap();
    srs()
        .args(["keygen", "--rotate"])
        .arg(&link)
        .assert()
        .success()
        .stdout("")
        .stderr("");
    assert!(
        fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink()
    );
    assert_eq!(fs::read_link(&link).unwrap(), Path::new("../real/srs-keys"));
    let text = fs::read_to_string(&real).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!((lines.len(), lines[0].len(), lines[1]), (2, 32, "old-one"));
    let m = fs::metadata(&real).unwrap();
    assert_eq!(m.permissions().mode() & 0o777, 0o604);
    assert_eq!((m.uid(), m.gid()), owner);
    assert_eq!(
        fs::read_dir(&real_dir).unwrap().count(),
        1,
        "no temporary file"
    );
    assert_eq!(fs::read_dir(&etc).unwrap().count(), 1, "no temporary file");
}

#[test]
fn asks_for_the_secret_without_echo_on_a_terminal() {
    let Some(script) = common::peer("script", "bsdutils") else {
        return;
    };
    let srs = env!("CARGO_BIN_EXE_srs");
    let mut child = std::process::Command::new(script)
        .args(["-qec"])
        .arg(format!(
            "{srs} --now {NOW} --local-domain prompt-test.invalid reverse SRS0=F0KE=JM=origin.example=alice@fwd.example"
        ))
        .arg("/dev/null")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Type the secret once the prompt is on the screen (and echo is off just after).
    let mut stdout = child.stdout.take().unwrap();
    let screen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let reader = {
        let screen = screen.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 256];
            while let Ok(n @ 1..) = std::io::Read::read(&mut stdout, &mut buf) {
                screen.lock().unwrap().extend_from_slice(&buf[..n]);
            }
        })
    };
    common::wait_until("the prompt", std::time::Duration::from_secs(20), || {
        String::from_utf8_lossy(&screen.lock().unwrap()).contains("SRS secret: ")
    });
    // The prompt is written before echo goes off: type only once srs sits
    // in read(2) on the terminal, which it enters after turning echo off.
    wait_until_reading(&[srs, "prompt-test.invalid"]);
    std::io::Write::write_all(child.stdin.as_mut().unwrap(), b"s3cret\n").unwrap();
    child.wait().unwrap();
    common::joined_within_30s(reader);
    let out = screen.lock().unwrap().clone();
    let screen = String::from_utf8_lossy(&out);
    assert!(screen.starts_with("SRS secret: "), "{screen:?}");
    assert!(screen.contains("alice@origin.example"), "{screen:?}");
    assert!(
        !screen.contains("s3cret"),
        "the secret was echoed: {screen:?}"
    );
}

/// Waits until the process whose command line holds every one of `args` is
/// blocked in read(2), as /proc/PID/syscall shows (syscall number 0 on
/// x86_64, 63 on aarch64).
fn wait_until_reading(args: &[&str]) {
    let read_nr = if cfg!(target_arch = "aarch64") {
        "63"
    } else {
        "0"
    };
    common::wait_until(
        "srs to wait for the secret",
        std::time::Duration::from_secs(20),
        || {
            fs::read_dir("/proc").unwrap().flatten().any(|e| {
                let dir = e.path();
                let cmdline = fs::read(dir.join("cmdline")).unwrap_or_default();
                let words: Vec<&[u8]> = cmdline.split(|&b| b == 0).collect();
                args.iter().all(|a| words.contains(&a.as_bytes()))
                    && fs::read_to_string(dir.join("syscall"))
                        .is_ok_and(|sc| sc.split(' ').next() == Some(read_nr))
            })
        },
    );
}

#[test]
fn secret_on_the_command_line_warns() {
    srs()
        .args([
            "--now",
            NOW,
            "--secret",
            "s3cret",
            "reverse",
            "SRS0=F0KE=JM=origin.example=alice@fwd.example",
        ])
        .assert()
        .success()
        .stdout("alice@origin.example\n")
        .stderr(predicate::str::contains("visible to every user in ps"))
        .stderr(predicate::str::contains("s3cret").not());
}

#[test]
fn perl_newline_keys_are_accepted_on_request() {
    // Perl `srs --secretfile` with "mysecret\n" signed this (key with the newline).
    let perl_signed = "SRS0=3bm4=JM=Orig.Example.com=user@fwd.example";
    let dir = TempDir::new().unwrap();
    let k = keys(&dir, b"mysecret\n");
    srs_with(&k)
        .args(["reverse", perl_signed])
        .assert()
        .code(65);
    srs_with(&k)
        .args(["--accept-perl-newline-keys", "reverse", perl_signed])
        .assert()
        .success()
        .stdout("user@Orig.Example.com\n");
}

#[test]
fn world_readable_keys_file_warns() {
    let dir = TempDir::new().unwrap();
    let k = keys(&dir, b"s3cret\n");
    fs::set_permissions(&k, fs::Permissions::from_mode(0o644)).unwrap();
    srs_with(&k)
        .args(["reverse", "SRS0=F0KE=JM=origin.example=alice@fwd.example"])
        .assert()
        .success()
        .stderr(predicate::str::contains("is readable by every user"));
}
