//! srsd's configuration refused with its reasons: start-up errors, secrets kept out of messages, --check-config, public listeners, the bounce policy, postsrsd's options.

use super::*;

#[test]
fn start_up_errors_name_the_problem() {
    let s = Setup::new();
    let keys = s.keys().to_str().unwrap().to_owned();
    let empty = s.dir.path().join("empty");
    write_keys(&empty, "\n");
    let listen = format!("socketmap=unix:{}", s.socketmap);
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_srsd"))
            .args(args)
            .output()
            .unwrap()
    };
    for (args, code, message) in [
        (
            vec!["-d", "fwd.example", "--listen", &listen],
            78,
            "no secret",
        ),
        (
            vec![
                "-d",
                "fwd.example",
                "-k",
                empty.to_str().unwrap(),
                "--listen",
                &listen,
            ],
            78,
            "holds no secret",
        ),
        (
            vec![
                "-d",
                "fwd.example",
                "-k",
                &keys,
                "--hash-length",
                "30",
                "--listen",
                &listen,
            ],
            78,
            "hash length 30",
        ),
        (
            vec![
                "-d",
                "fwd.example",
                "-k",
                &keys,
                "--listen",
                "socketmap=/relative",
            ],
            64,
            "must start with unix: or inet:",
        ),
        (vec!["-k", &keys, "--listen", &listen], 64, "--domain"),
        (
            vec![
                "-d",
                "fwd.example",
                "-k",
                &keys,
                "--listen",
                "line=unix:/nonexistent/dir/sock",
            ],
            69,
            "cannot listen on line=unix:/nonexistent/dir/sock",
        ),
    ] {
        let o = run(&args);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(code), "{args:?}: {err}");
        assert!(err.contains(message), "{args:?}: {err}");
    }
    // A live daemon's socket is never taken over.
    let _d = srsd(&["-d", "fwd.example", "-k", &keys, "--listen", &listen]);
    let o = run(&["-d", "fwd.example", "-k", &keys, "--listen", &listen]);
    assert_eq!(o.status.code(), Some(69));
    assert!(String::from_utf8_lossy(&o.stderr).contains("in use by a running daemon"));
}

/// A keys file given as the configuration, a secret where a key, a yes/no or
/// a number belongs, a line without '=': the error names file, line and key,
/// never the secret, at start-up and in the log of a reload.
#[test]
fn configuration_errors_never_show_a_secret() {
    const SECRET: &str = "hunter2-Zq9";
    let s = Setup::new();
    let keys = s.dir.path().join("keysfile");
    write_keys(&keys, &format!("{SECRET}==\nc2VjcmV0MQ==\n"));
    let conf = s.dir.path().join("srsd.conf");
    let base = format!(
        "domain = fwd.example\nsecret-file = {}\nlisten = socketmap=unix:{}\n",
        s.keys().display(),
        s.socketmap
    );
    let cases = [
        (
            format!("{base}secret {SECRET}\n"),
            "line 4: expected 'key = value'",
        ),
        (format!("{base}{SECRET} = x\n"), "line 4: unknown key"),
        (
            format!("{base}always-rewrite = {SECRET}\n"),
            "line 4: always-rewrite: expected yes or no",
        ),
        (
            format!("{base}hash-length = {SECRET}\n"),
            "line 4: hash-length: invalid value, expected N (invalid digit found in string)",
        ),
    ];
    let conf_s = conf.display().to_string();
    // srsd takes no operand; the forwarder needs a recipient.
    let programs = [
        ("srsd", env!("CARGO_BIN_EXE_srsd"), &[][..], 78),
        (
            "srs-forwarder",
            env!("CARGO_BIN_EXE_srs-forwarder"),
            &["d@x.example"][..],
            75,
        ),
    ];
    let run = |program: &str, config: &str, operands: &[&str]| {
        Command::new(program)
            .args(["--config", config])
            .args(operands)
            .stdin(Stdio::null())
            .output()
            .unwrap()
    };
    for (text, message) in &cases {
        std::fs::write(&conf, text).unwrap();
        for (name, program, operands, code) in programs {
            let o = run(program, &conf_s, operands);
            let err = String::from_utf8_lossy(&o.stderr);
            assert_eq!(err, format!("{name}: {conf_s}, {message}\n"), "{text}");
            assert_eq!(o.status.code(), Some(code));
        }
    }
    // The keys file itself as the configuration.
    let keys_s = keys.display().to_string();
    for (_, program, operands, code) in programs {
        let o = run(program, &keys_s, operands);
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(
            !err.contains(SECRET) && !err.contains("c2VjcmV0MQ"),
            "{err}"
        );
        assert!(
            err.contains(&format!("{keys_s}, line 1: unknown key\n")),
            "{err}"
        );
        assert_eq!(o.status.code(), Some(code), "{err}");
    }
    // On reload, the same errors reach the log, and the old state stays.
    std::fs::write(&conf, &base).unwrap();
    let d = srsd(&["-c", &conf_s]);
    for (text, message) in &cases {
        std::fs::write(&conf, text).unwrap();
        d.signal(Signal::SIGHUP);
        d.wait_for_log(message);
    }
    assert!(
        !d.lines().iter().any(|l| l.contains(SECRET)),
        "{:?}",
        d.lines()
    );
    assert_eq!(
        stdout(&srsc(&[
            "-s",
            &s.socketmap,
            "forward",
            "alice@origin.example"
        ])),
        format!("{ALICE}\n")
    );
}

/// `srsd -t` (`--check-config`) checks everything without binding: 0 and
/// "configuration OK", or 78 with every problem named.
#[test]
fn check_config_names_every_problem() {
    let s = Setup::new();
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_srsd"))
            .args(args)
            .output()
            .unwrap()
    };
    let mut good = vec!["-t"];
    let base = s.base_args();
    good.extend(base.iter().map(String::as_str));
    let o = run(&good);
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(
        String::from_utf8_lossy(&o.stdout),
        "srsd: configuration OK\n"
    );
    assert!(!Path::new(&s.socketmap).exists(), "nothing is bound");
    let o = run(&[
        "--check-config",
        "-d",
        "forwarder.example",
        "-k",
        "/nonexistent/keys",
        "--user",
        "no-such-user-here",
        "--listen",
        "line=unix:/nonexistent/dir/sock",
        "--listen",
        "socketmap=inet:0.0.0.0:1",
    ]);
    assert_eq!(o.status.code(), Some(78));
    assert_eq!(
        String::from_utf8_lossy(&o.stderr),
        "srsd: domain forwarder.example is the example configuration's placeholder: set domain to your forwarding domain\n\
         srsd: listener socketmap=inet:0.0.0.0:1 is not on a loopback address: anyone who reaches it can make valid SRS addresses; use 127.0.0.1 or ::1, or give --allow-non-loopback\n\
         srsd: cannot read keys file /nonexistent/keys: No such file or directory (os error 2)\n\
         srsd: no user named \"no-such-user-here\"\n\
         srsd: listener line=unix:/nonexistent/dir/sock: directory /nonexistent/dir does not exist\n"
    );
    // postsrsd's -v for the version.
    let o = run(&["-v"]);
    assert_eq!(
        String::from_utf8_lossy(&o.stdout),
        format!("srsd {}\n", env!("CARGO_PKG_VERSION"))
    );
}

/// Listeners off loopback and the example's placeholder domain are refused
/// at start; `--allow-non-loopback` allows the first, with a warning.
#[test]
fn public_listeners_and_the_placeholder_domain_are_refused() {
    let s = Setup::new();
    let keys = s.keys().to_str().unwrap().to_owned();
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_srsd"))
            .args(["-k", &keys])
            .args(args)
            .output()
            .unwrap()
    };
    let o = run(&["-d", "fwd.example", "--listen", "socketmap=inet:0.0.0.0:0"]);
    assert_eq!(o.status.code(), Some(78));
    assert_eq!(
        String::from_utf8_lossy(&o.stderr),
        "srsd: error: listener socketmap=inet:0.0.0.0:0 is not on a loopback address: anyone who reaches it can make valid SRS addresses; use 127.0.0.1 or ::1, or give --allow-non-loopback\n"
    );
    let listen = format!("socketmap=unix:{}", s.socketmap);
    let o = run(&["-d", "Forwarder.Example", "--listen", &listen]);
    assert_eq!(o.status.code(), Some(78));
    assert!(
        String::from_utf8_lossy(&o.stderr)
            .contains("domain forwarder.example is the example configuration's placeholder"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let d = srsd(&[
        "-d",
        "fwd.example",
        "-k",
        &keys,
        "--listen",
        "tcp-forward=inet:0.0.0.0:0",
        "--allow-non-loopback",
    ]);
    d.wait_for_log(
        "warning: listener tcp-forward=inet:0.0.0.0:0 is reachable from other hosts (--allow-non-loopback): firewall it",
    );
}

/// A bounce policy that refuses unsigned bounces needs every local sender
/// signed: without `always-rewrite`, `srsd -t` and start-up refuse it with
/// the reason, from the command line and from a configuration file.
#[test]
fn a_bounce_policy_without_always_rewrite_is_refused() {
    let s = Setup::new();
    let base = s.base_args();
    let run = |extra: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_srsd"))
            .args(&base)
            .args(extra)
            .output()
            .unwrap()
    };
    let why = |policy: &str| {
        format!(
            "bounce-policy = {policy} needs always-rewrite: it refuses every bounce to a local address without an SRS signature, and without always-rewrite the senders of the local domains are never signed, so every genuine bounce to a local user would be refused; set always-rewrite, or bounce-policy = off"
        )
    };
    let o = run(&["-t", "--bounce-policy", "data"]);
    assert_eq!(
        (
            o.status.code(),
            String::from_utf8_lossy(&o.stderr).into_owned()
        ),
        (Some(78), format!("srsd: {}\n", why("data")))
    );
    let o = run(&["--bounce-policy", "rcpt"]);
    assert_eq!(
        (
            o.status.code(),
            String::from_utf8_lossy(&o.stderr).into_owned()
        ),
        (Some(78), format!("srsd: error: {}\n", why("rcpt")))
    );
    assert!(!Path::new(&s.socketmap).exists(), "nothing is bound");
    let conf = s.dir.path().join("srsd.conf");
    std::fs::write(&conf, "bounce-policy = data\n").unwrap();
    let o = run(&["-t", "-c", conf.to_str().unwrap()]);
    assert_eq!(
        (
            o.status.code(),
            String::from_utf8_lossy(&o.stderr).into_owned()
        ),
        (Some(78), format!("srsd: {}\n", why("data")))
    );
    std::fs::write(&conf, "bounce-policy = data\nalways-rewrite = yes\n").unwrap();
    let o = run(&["-t", "-c", conf.to_str().unwrap()]);
    assert_eq!(
        (
            o.status.code(),
            String::from_utf8_lossy(&o.stdout).into_owned()
        ),
        (Some(0), "srsd: configuration OK\n".to_owned())
    );
    let o = run(&["-t", "--bounce-policy", "off"]);
    assert_eq!(o.status.code(), Some(0));
    // A reload to such settings keeps the running ones, and says why.
    std::fs::write(&conf, "bounce-policy = off\n").unwrap();
    let d = s.spawn(&["-c", conf.to_str().unwrap()]);
    std::fs::write(&conf, "bounce-policy = data\n").unwrap();
    d.signal(Signal::SIGHUP);
    d.wait_for_log(&format!(
        "reload failed, keeping the previous settings: {}",
        why("data")
    ));
}

/// postsrsd 1.x's options get a usage error and the option's name here.
#[test]
fn postsrsd_options_point_to_their_names_here() {
    for (args, hint) in [
        (
            &["-s", "/etc/postsrsd.secret", "-d", "fwd.example"][..],
            "postsrsd's -s FILE is --secret-file FILE (-k FILE) here",
        ),
        (
            &["-f", "10001"][..],
            "postsrsd's -f PORT is --listen tcp-forward=inet:127.0.0.1:PORT here",
        ),
        (
            &["-X", "example.org"][..],
            "postsrsd's -X DOMAIN is --local-domain DOMAIN here",
        ),
    ] {
        let o = Command::new(env!("CARGO_BIN_EXE_srsd"))
            .args(args)
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(64));
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(
            err.ends_with(&format!(
                "srsd: {hint} (postsrsd's -c DIR is --chroot DIR; see Migrating in the README)\n"
            )),
            "{err}"
        );
    }
}
