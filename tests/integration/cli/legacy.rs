//! The srs command line in the Debian Perl srs flags.

use super::*;

#[test]
fn courier_style_call_forwards() {
    let dir = TempDir::new().unwrap();
    let k = keys(&dir, b"mysecret\n");
    // Perl keeps the newline in keys from --secretfile: 3bm4, not KkCV.
    srs()
        .args([
            "user@Orig.Example.com",
            "--secretfile",
            &k,
            "--alias",
            "fwd.example",
        ])
        .assert()
        .success()
        .stdout(
            predicate::str::is_match(r"^SRS0=....=..=Orig\.Example\.com=user@fwd\.example\n$")
                .unwrap(),
        );
    srs()
        .args([
            "--secret=mysecret",
            "--alias=postmaster@fwd.example",
            "--separator=+",
            "--hashlength=6",
        ])
        .args(["--address=bob@fwd.example", "a@b.example"])
        .assert()
        .success()
        .stdout(
            predicate::str::is_match(
                r"^bob@fwd\.example\nSRS0\+[^=]{6}=..=b\.example=a@fwd\.example\n$",
            )
            .unwrap(),
        );
}

#[test]
fn reverse_accepts_both_key_forms() {
    let dir = TempDir::new().unwrap();
    let k = keys(&dir, b"mysecret\n");
    let ours = String::from_utf8(
        srs()
            .args([
                "-k",
                &k,
                "forward",
                "-a",
                "fwd.example",
                "user@Orig.Example.com",
            ])
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    let perl = String::from_utf8(
        srs()
            .args([
                "--secretfile",
                &k,
                "--alias",
                "fwd.example",
                "user@Orig.Example.com",
            ])
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    assert_ne!(ours, perl);
    srs()
        .args(["--reverse", "--secretfile", &k, ours.trim(), perl.trim()])
        .assert()
        .success()
        .stdout("user@Orig.Example.com\nuser@Orig.Example.com\n");
}

#[test]
fn usage_and_configuration_errors() {
    srs()
        .args(["--secret=x", "a@b.example"])
        .assert()
        .code(64)
        .stderr(predicate::str::contains("needs --alias"));
    srs()
        .args(["--secret=x", "--alias=f.example"])
        .assert()
        .code(64)
        .stderr(predicate::str::contains("no address given"));
    srs()
        .args(["--sec=x", "a@b.example"])
        .assert()
        .code(64)
        .stderr(predicate::str::contains("ambiguous"));
    srs()
        .args(["--secret=x", "--separator=x", "--alias=f", "a@b"])
        .assert()
        .code(64);
    srs()
        .args(["--alias=f.example", "--reverse", "a@b.example"])
        .assert()
        .code(78);
    srs()
        .args(["--secret=x", "--hashlength=0", "--alias=f", "a@b"])
        .assert()
        .code(78);
    srs()
        .args(["--secretfile=/nonexistent", "--alias=f", "a@b"])
        .assert()
        .code(78);
}

#[test]
fn a_bad_address_exits_65_and_the_rest_are_answered() {
    srs()
        .args([
            "--reverse",
            "--secret=s3cret",
            "nope@x.example",
            "--address=also@bad.example",
        ])
        .assert()
        .code(65)
        .stdout("\n\n");
}
