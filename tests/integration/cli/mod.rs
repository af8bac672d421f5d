//! The `srs` command: vectors through the binary, exit codes and messages,
//! the Perl `srs` flag form (`legacy`), standard-input batches, keygen,
//! rotation and the secret (`keys`).

mod keys;
mod legacy;

use crate::common;

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use assert_cmd::Command;
use predicates::prelude::*;
use tempfile::TempDir;

/// 2026-11-23 12:00 UTC, day 20780, stamp JM.
const NOW: &str = "1795435200";

fn srs() -> Command {
    Command::cargo_bin("srs").expect("srs binary")
}

/// `srs` at day 20780 with the keys file `keys`.
fn srs_with(keys: &str) -> Command {
    let mut cmd = srs();
    cmd.args(["--now", NOW, "-k", keys]);
    cmd
}

/// A private keys file holding `content`.
fn keys(dir: &TempDir, content: &[u8]) -> String {
    let path = dir.path().join("keys");
    fs::write(&path, content).unwrap();
    fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).unwrap();
    path.to_str().unwrap().to_owned()
}

#[test]
fn every_vector_through_the_binary() {
    let dir = TempDir::new().unwrap();
    let mut failures = Vec::new();
    for v in common::vectors() {
        let mut file = Vec::new();
        for s in &v.secrets {
            file.extend_from_slice(s);
            file.push(b'\n');
        }
        let path = keys(&dir, &file);
        let mut cmd = srs();
        cmd.args(["--now", &v.epoch.to_string(), "--secret-file", &path])
            .args(["--separator", &v.separator.to_string()])
            .args(["--hash-length", &v.hash_length.to_string()])
            .args(["--hash-min", &v.hash_min.to_string()])
            .args(["--max-age", &v.max_age.to_string()]);
        match v.op.as_str() {
            "forward" => cmd.args(["forward", "--alias", &v.alias, "--", &v.input]),
            _ => cmd.args(["reverse", "--", &v.input]),
        };
        let out = cmd.output().unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        let ok = match &v.expect {
            Some(want) => out.status.code() == Some(0) && stdout == format!("{want}\n"),
            None => {
                out.status.code().is_some_and(|c| c == 65 || c == 78) && stdout.trim().is_empty()
            }
        };
        if !ok {
            failures.push(format!(
                "{}: want {:?}, got {:?} {:?} {}",
                v.case,
                v.expect,
                out.status.code(),
                stdout,
                String::from_utf8_lossy(&out.stderr)
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn forward_and_reverse_the_spec_example() {
    let dir = TempDir::new().unwrap();
    let k = keys(&dir, b"mysecret\n");
    srs_with(&k)
        .args(["forward", "--alias", "fwd.example", "user@Orig.Example.com"])
        .assert()
        .success()
        .stdout("SRS0=KkCV=JM=Orig.Example.com=user@fwd.example\n")
        .stderr("");
    // A second forwarder with its own secret wraps it as SRS1 ...
    let hop2 = TempDir::new().unwrap();
    let k2 = keys(&hop2, b"hop2-secret\n");
    srs_with(&k2)
        .args(["forward", "--alias", "hop2.example"])
        .arg("SRS0=KkCV=JM=Orig.Example.com=user@fwd.example")
        .assert()
        .success()
        .stdout(
            predicate::str::is_match(
                r"^SRS1=[^=]{4}=fwd\.example==KkCV=JM=Orig\.Example\.com=user@hop2\.example\n$",
            )
            .unwrap(),
        );
    // ... but an address we signed ourselves is not signed again, whatever its domain.
    srs_with(&k)
        .args(["forward", "--alias", "hop2.example"])
        .arg("SRS0=KkCV=JM=Orig.Example.com=user@fwd.example")
        .assert()
        .success()
        .stdout("SRS0=KkCV=JM=Orig.Example.com=user@fwd.example\n");
}

#[test]
fn each_failure_names_the_address_and_exits_65() {
    let dir = TempDir::new().unwrap();
    let k = keys(&dir, b"s3cret\n");
    let cases = [
        (
            "SRS0=A0KE=JM=origin.example=alice@fwd.example",
            "hash does not match",
        ),
        (
            "SRS0=+FvX=IW=origin.example=alice@fwd.example",
            "expired: made 22 days ago",
        ),
        (
            "SRS0=5UlG=JN=origin.example=alice@fwd.example",
            "timestamp is in the future",
        ),
        (
            "SRS0=F0K=JM=origin.example=alice@fwd.example",
            "hash too short: 3 characters",
        ),
        ("SRS0=F0KE=JM=alice@fwd.example", "malformed SRS address"),
        (
            "SRS0=F0KE=J1=origin.example=alice@fwd.example",
            "timestamp is not two base32",
        ),
        ("alice@origin.example", "not an SRS address"),
    ];
    for (address, reason) in cases {
        srs_with(&k)
            .args(["reverse", address])
            .assert()
            .code(65)
            .stdout("\n")
            .stderr(predicate::str::starts_with(format!("srs: {address}: ")))
            .stderr(predicate::str::contains(reason));
    }
    for (address, reason) in [
        ("alice", "no @ in the address"),
        ("alice@", "empty domain"),
        ("", "(empty): the null sender is never rewritten"),
        ("a@b@origin.example", "unquoted @"),
        ("x@evil=y", "domain contains '='"),
    ] {
        srs_with(&k)
            .args(["forward", "--alias", "fwd.example", "--", address])
            .assert()
            .code(65)
            .stderr(predicate::str::contains(reason));
    }
}

#[test]
fn good_and_bad_addresses_keep_their_lines() {
    let dir = TempDir::new().unwrap();
    let k = keys(&dir, b"s3cret\n");
    srs_with(&k)
        .args(["reverse"])
        .write_stdin("SRS0=F0KE=JM=origin.example=alice@fwd.example\r\nbogus@x\n\nsrs0=f0ke=jm=origin.example=alice@fwd.example")
        .assert()
        .code(65)
        .stdout("alice@origin.example\n\n\nalice@origin.example\n")
        .stderr(predicate::str::contains("srs: bogus@x: not an SRS address"));
}

#[test]
fn stdin_batch_of_many_addresses() {
    let dir = TempDir::new().unwrap();
    let k = keys(&dir, b"s3cret\n");
    let input: String = (0..5000)
        .map(|i| format!("user{i}@origin.example\n"))
        .collect();
    let out = srs_with(&k)
        .args(["forward", "--alias", "fwd.example"])
        .write_stdin(input.clone())
        .output()
        .unwrap();
    assert!(out.status.success());
    let forwarded = String::from_utf8(out.stdout).unwrap();
    assert_eq!(forwarded.lines().count(), 5000);
    srs_with(&k)
        .args(["reverse"])
        .write_stdin(forwarded)
        .assert()
        .success()
        .stdout(input);
}

#[test]
fn overlong_lines_and_bad_utf8_are_refused_alone() {
    let dir = TempDir::new().unwrap();
    let k = keys(&dir, b"s3cret\n");
    let mut input = vec![b'a'; 5000];
    input.extend_from_slice(b"@x.example\n\xff@x.example\nok@origin.example\n");
    srs_with(&k)
        .args(["forward", "--alias", "fwd.example"])
        .write_stdin(input)
        .assert()
        .code(65)
        .stdout("\n\nSRS0=1eg/=JM=origin.example=ok@fwd.example\n")
        .stderr(predicate::str::contains("line longer than 4096 bytes"))
        .stderr(predicate::str::contains("not valid UTF-8"));
}

#[test]
fn local_domains_null_and_unchanged_addresses_exit_0() {
    let dir = TempDir::new().unwrap();
    let k = keys(&dir, b"s3cret\n");
    srs_with(&k)
        .args([
            "--local-domain",
            ".corp.example",
            "forward",
            "-a",
            "fwd.example",
        ])
        .args(["bob@FWD.example", "eve@mail.corp.example", "x@corp.example"])
        .assert()
        .success()
        .stdout(
            "bob@FWD.example\neve@mail.corp.example\nSRS0=cTh1=JM=corp.example=x@fwd.example\n",
        );
    srs_with(&k)
        .args([
            "--always-rewrite",
            "forward",
            "-a",
            "fwd.example",
            "bob@fwd.example",
        ])
        .assert()
        .success()
        .stdout(predicate::str::starts_with("SRS0="));
}

#[test]
fn quoted_local_parts_round_trip() {
    let dir = TempDir::new().unwrap();
    let k = keys(&dir, b"s3cret\n");
    srs_with(&k)
        .args([
            "forward",
            "-a",
            "fwd.example",
            "\"john doe\"@origin.example",
        ])
        .assert()
        .success()
        .stdout("\"SRS0=l1Sz=JM=origin.example=john doe\"@fwd.example\n");
    srs_with(&k)
        .args([
            "reverse",
            "\"SRS0=l1Sz=JM=origin.example=john doe\"@fwd.example",
        ])
        .assert()
        .success()
        .stdout("\"john doe\"@origin.example\n");
}

#[test]
fn overlong_result_warns_but_succeeds() {
    let dir = TempDir::new().unwrap();
    let k = keys(&dir, b"s3cret\n");
    let sender = format!("{}@origin.example", "a".repeat(50));
    srs_with(&k)
        .args(["forward", "-a", "fwd.example", &sender])
        .assert()
        .success()
        .stderr(predicate::str::contains(
            "local part is 78 characters, over the 64 of RFC 5321",
        ));
}

#[test]
fn configuration_errors_exit_78() {
    let dir = TempDir::new().unwrap();
    let k = keys(&dir, b"s3cret\n");
    let empty = dir.path().join("empty");
    fs::write(&empty, "# nothing\n\n").unwrap();
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (
            vec!["-k", "/nonexistent/keys"],
            "cannot read keys file /nonexistent/keys",
        ),
        (vec!["-k", empty.to_str().unwrap()], "holds no secret"),
        (
            vec!["-k", &k, "--hash-length", "28"],
            "hash length 28 is out of range",
        ),
        (
            vec!["-k", &k, "--hash-length", "0"],
            "hash length 0 is out of range",
        ),
        (
            vec!["-k", &k, "--hash-min", "5"],
            "minimum hash length 5 is out of range",
        ),
        (
            vec!["-k", &k, "--max-age", "1024"],
            "maximum age 1024 days is out of range",
        ),
        (vec![], "no secret: give --secret-file"),
    ];
    for (args, message) in cases {
        srs()
            .args(&args)
            .args(["reverse", "SRS0=F0KE=JM=origin.example=alice@fwd.example"])
            .write_stdin("")
            .assert()
            .code(78)
            .stdout("")
            .stderr(predicate::str::contains(message));
    }
}

#[test]
fn usage_errors_exit_64() {
    for args in [
        vec!["forward", "x@y.example"],
        vec!["--separator", "x", "reverse"],
        vec!["bogus-subcommand"],
        vec!["--bogus", "reverse"],
        vec!["--hash-length", "four", "reverse"],
    ] {
        srs().args(&args).assert().code(64);
    }
    srs()
        .arg("--help")
        .assert()
        .success()
        .stdout(predicate::str::contains("Usage: srs"));
    srs()
        .arg("--version")
        .assert()
        .success()
        .stdout(predicate::str::starts_with("srs "));
}

#[test]
fn base64url_alphabet_is_written_and_both_are_read() {
    let dir = TempDir::new().unwrap();
    let k = keys(&dir, b"s3cret\n");
    srs_with(&k)
        .args(["--hash-length", "10", "--hash-alphabet", "url"])
        .args(["forward", "-a", "fwd.example", "alice@origin.example"])
        .assert()
        .success()
        .stdout("SRS0=F0KEjY-L49=JM=origin.example=alice@fwd.example\n");
    srs_with(&k)
        .args(["--hash-length", "10", "reverse"])
        .args([
            "SRS0=F0KEjY-L49=JM=origin.example=alice@fwd.example",
            "SRS0=F0KEjY+L49=JM=origin.example=alice@fwd.example",
        ])
        .assert()
        .success()
        .stdout("alice@origin.example\nalice@origin.example\n");
}

/// Output that cannot be written: one line and 74 for a full disk, a quiet
/// 0 for a reader that went away; never a panic.
#[test]
fn unwritable_output_ends_with_74_or_quietly() {
    let full = || {
        fs::OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .unwrap()
    };
    let closed = || {
        let (reader, writer) = std::io::pipe().unwrap();
        drop(reader);
        writer
    };
    let dir = TempDir::new().unwrap();
    let k = keys(&dir, b"s3cret\n");
    let forward = [
        "--now",
        NOW,
        "-k",
        &k,
        "forward",
        "-a",
        "fwd.example",
        "a@o.example",
    ];
    let run = |args: &[&str], out: std::process::Stdio| {
        std::process::Command::new(env!("CARGO_BIN_EXE_srs"))
            .args(args)
            .stdout(out)
            .output()
            .unwrap()
    };
    for args in [&["keygen"][..], &forward[..]] {
        let o = run(args, full().into());
        assert_eq!(o.status.code(), Some(74), "{args:?}");
        assert_eq!(
            String::from_utf8_lossy(&o.stderr),
            "srs: cannot write to standard output: No space left on device (os error 28)\n"
        );
        let o = run(args, closed().into());
        assert_eq!(o.status.code(), Some(0), "{args:?}");
        assert_eq!(String::from_utf8_lossy(&o.stderr), "");
    }
}

/// A mistyped subcommand is named as one, with the nearest subcommand; the
/// Perl form still takes addresses.
#[test]
fn mistyped_subcommands_are_named() {
    for (args, message) in [
        (
            &["forwrd", "-a", "fwd.example", "x@y"][..],
            "srs: unknown subcommand 'forwrd' (did you mean 'forward'?)\n",
        ),
        (
            &["-k", "k", "frobnicate"][..],
            "srs: unknown subcommand 'frobnicate'\n",
        ),
        (
            &["-k", "/etc/keys", "revrse", "x@y"][..],
            "srs: unknown subcommand 'revrse' (did you mean 'reverse'?)\n",
        ),
        (
            &["kegen"][..],
            "srs: unknown subcommand 'kegen' (did you mean 'keygen'?)\n",
        ),
    ] {
        srs()
            .args(args)
            .assert()
            .code(64)
            .stdout("")
            .stderr(message);
    }
    srs()
        .args([
            "--secret=s3cret",
            "--alias=fwd.example",
            "alice@origin.example",
        ])
        .assert()
        .success()
        .stdout(predicate::str::starts_with("SRS0="));
}

/// One pair of angle brackets is taken off; control characters, unquoted
/// white space and empty local parts are refused with a reason; the alias
/// must be a domain.
#[test]
fn addresses_as_mtas_print_them_and_input_that_is_not_one() {
    let dir = TempDir::new().unwrap();
    let k = keys(&dir, b"s3cret\n");
    srs_with(&k)
        .args(["forward", "-a", "fwd.example", "<alice@origin.example>"])
        .assert()
        .success()
        .stdout("SRS0=F0KE=JM=origin.example=alice@fwd.example\n");
    srs_with(&k)
        .args(["reverse", "<SRS0=F0KE=JM=origin.example=alice@fwd.example>"])
        .assert()
        .success()
        .stdout("alice@origin.example\n");
    srs_with(&k)
        .args(["forward", "-a", "fwd.example"])
        .write_stdin("al\x01ice@origin.example\nal ice@origin.example\n\"\"@origin.example\n@origin.example\n<<alice@origin.example>>\n")
        .assert()
        .code(65)
        .stdout("\n\n\n\n\n")
        .stderr(concat!(
            "srs: al\\u{1}ice@origin.example: control character U+0001 in the address\n",
            "srs: al ice@origin.example: unquoted white space in the local part (write \"local part\"@domain)\n",
            "srs: \"\"@origin.example: empty local part before @\n",
            "srs: @origin.example: empty local part before @\n",
            "srs: <<alice@origin.example>>: domain contains '>', which no domain does\n",
        ));
    srs_with(&k)
        .args(["forward", "-a", "bad domain", "alice@origin.example"])
        .assert()
        .code(64)
        .stderr(predicate::str::contains(
            "invalid value 'bad domain' for '--alias <DOMAIN>': ' ' cannot appear in a domain",
        ));
    srs()
        .args([
            "--secret=s3cret",
            "--alias=bad domain",
            "alice@origin.example",
        ])
        .assert()
        .code(64)
        .stderr("srs: --alias \"bad domain\": ' ' cannot appear in a domain\n");
}

/// `reverse --explain`: the secret by position (never its value), the hash
/// length, the age and the days left; a failure is one diagnostic, exit 65.
#[test]
fn reverse_explain_names_the_secret_by_position_and_the_days() {
    let dir = TempDir::new().unwrap();
    // Signed with "mysecret" on day 20780 (JM); "newer" has since gone on top.
    let k = keys(&dir, b"newer\nmysecret\n");
    let day_later = (NOW.parse::<u64>().unwrap() + 3 * 86_400).to_string();
    srs()
        .args(["--now", &day_later, "-k", &k, "reverse", "--explain"])
        .arg("<SRS0=KkCV=JM=Orig.Example.com=user@fwd.example>")
        .assert()
        .success()
        .stdout(
            "address:   <SRS0=KkCV=JM=Orig.Example.com=user@fwd.example>\n\
             original:  user@Orig.Example.com\n\
             form:      SRS0\n\
             secret:    2 (an older secret, still accepted)\n\
             hash:      4 characters\n\
             age:       3 days\n\
             days left: 18\n\n",
        )
        .stderr("");
    srs_with(&k)
        .args(["reverse", "--explain", "SRS0=xxxx=JM=Orig.Example.com=user@fwd.example"])
        .assert()
        .code(65)
        .stdout("")
        .stderr("srs: SRS0=xxxx=JM=Orig.Example.com=user@fwd.example: hash does not match (forged, or signed with a secret we no longer have)\n");
    // The Perl form of a key is named as such.
    let perl_signed = "SRS0=3bm4=JM=Orig.Example.com=user@fwd.example";
    srs_with(&k)
        .args([
            "--accept-perl-newline-keys",
            "reverse",
            "--explain",
            perl_signed,
        ])
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "\nsecret:    2 (with a newline after it, as Perl's srs reads files)\n",
        ));
}

/// `--json`: one object per address, in order, failures included.
#[test]
fn json_gives_one_object_per_address() {
    let dir = TempDir::new().unwrap();
    let k = keys(&dir, b"mysecret\n");
    let out = srs_with(&k)
        .args([
            "--local-domain",
            "fwd.example",
            "forward",
            "--json",
            "-a",
            "fwd.example",
        ])
        .args(["user@Orig.Example.com", "me@fwd.example", "bad address@x"])
        .assert()
        .code(65)
        .stderr("")
        .get_output()
        .stdout
        .clone();
    let lines: Vec<serde_json::Value> = String::from_utf8(out)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(
        lines,
        [
            serde_json::json!({"input": "user@Orig.Example.com", "status": "rewritten",
                "output": "SRS0=KkCV=JM=Orig.Example.com=user@fwd.example"}),
            serde_json::json!({"input": "me@fwd.example", "status": "unchanged",
                "output": "me@fwd.example"}),
            serde_json::json!({"input": "bad address@x", "status": "refused",
                "error": "unquoted white space in the local part (write \"local part\"@domain)"}),
        ]
    );
    let out = srs_with(&k)
        .args([
            "reverse",
            "--json",
            "--explain",
            "SRS0=KkCV=JM=Orig.Example.com=user@fwd.example",
        ])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let object: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(
        object,
        serde_json::json!({"input": "SRS0=KkCV=JM=Orig.Example.com=user@fwd.example",
            "status": "rewritten", "output": "user@Orig.Example.com", "form": "SRS0",
            "secret": 1, "perl_newline": false, "hash_length": 4, "age_days": 0,
            "days_left": 21})
    );
}

/// `srs --help` shows examples, the Perl form and the exit codes; keygen's
/// help lists only what keygen uses, though the codec options stay accepted.
#[test]
fn help_shows_what_applies() {
    let help = srs()
        .arg("--help")
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let help = String::from_utf8(help).unwrap();
    for part in [
        "\nExamples:\n  srs keygen --rotate /etc/postfix/srs-keys\n",
        "\nDebian's Perl srs command line also works, read as Perl reads it:\n  srs [--forward|--reverse]",
        "\nExit status: 0 every address handled; 64 usage; 65 an address could not be\n",
    ] {
        assert!(help.contains(part), "{part:?} not in\n{help}");
    }
    srs()
        .args(["keygen", "--help"])
        .assert()
        .success()
        .stdout(
            "Print a new random secret, or put one on top of a keys file\n\n\
             Usage: srs keygen [OPTIONS]\n\n\
             Options:\n      \
             --rotate <FILE>  Put the new secret on top of FILE (created if missing), keeping the old ones\n  \
             -h, --help           Print help\n",
        );
    srs()
        .args(["keygen", "--hash-length", "6"])
        .assert()
        .success()
        .stdout(predicate::str::is_match("^[A-Za-z0-9+/]{32}\n$").unwrap());
    let reverser = std::process::Command::new(env!("CARGO_BIN_EXE_srs-reverser"))
        .arg("--help")
        .output()
        .unwrap();
    let reverser = String::from_utf8(reverser.stdout).unwrap();
    for hidden in [
        "--separator",
        "--hash-length",
        "--hash-alphabet",
        "--always-rewrite",
    ] {
        assert!(!reverser.contains(hidden), "{hidden} in\n{reverser}");
    }
    assert!(reverser.contains("--hash-min <N>"), "{reverser}");
}
