//! The configuration file under clap: which options the command line set,
//! `-c=FILE`, values that begin with '-', repeated keys, and one rule for
//! unknown keys in srsd and the pipe helpers.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use mail_srs::cli::pipe_helpers::{self, ForwarderCli, ReverserCli};
use mail_srs::cli::srsd::SrsdCli;
use mail_srs::config::LoadError;
use tempfile::TempDir;

fn args(list: &[&str]) -> Vec<OsString> {
    list.iter().map(OsString::from).collect()
}

fn file(dir: &TempDir, text: &str) -> PathBuf {
    let path = dir.path().join("srsd.conf");
    std::fs::write(&path, text).unwrap();
    path
}

fn file_error(result: Result<impl std::fmt::Debug, LoadError>) -> String {
    match result {
        Err(LoadError::File(e)) => e.to_string(),
        other => panic!("expected a file error, got {other:?}"),
    }
}

#[test]
fn short_option_with_equals_names_the_file() {
    let dir = TempDir::new().unwrap();
    let conf = file(&dir, "domain = fwd.example\nsecret = s3cret\n");
    let flag = format!("-c={}", conf.display());
    let cli = SrsdCli::load(&args(&["srsd", &flag])).unwrap();
    assert_eq!(cli.domain, "fwd.example");
    assert_eq!(cli.config.as_deref(), Some(conf.as_path()));
    let attached = format!("-c{}", conf.display());
    assert_eq!(
        SrsdCli::load(&args(&["srsd", &attached])).unwrap().domain,
        "fwd.example"
    );
}

#[test]
fn a_value_that_begins_with_a_dash_is_not_an_option() {
    let dir = TempDir::new().unwrap();
    let conf = file(&dir, "domain = fwd.example\nsecret-file = /etc/keys\n");
    let c = conf.to_str().unwrap();
    // "-k" here is sendmail's argument, not our --secret-file.
    let cli: ForwarderCli = pipe_helpers::load(&args(&[
        "srs-forwarder",
        "-c",
        c,
        "--sendmail-option",
        "-k",
        "d@x",
    ]))
    .unwrap();
    assert_eq!(
        cli.common.codec.secret_file.as_deref(),
        Some(Path::new("/etc/keys"))
    );
    assert_eq!(cli.common.sendmail_option, [OsString::from("-k")]);
    // "-c" as a value does not name a configuration file.
    let cli: ForwarderCli = pipe_helpers::load(&args(&[
        "srs-forwarder",
        "--sendmail-option",
        "-c",
        "--sendmail-option",
        "/nonexistent",
        "-a",
        "fwd.example",
        "d@x",
    ]))
    .unwrap();
    assert_eq!(cli.common.config, None);
    // A value in the file may begin with '-' too.
    let conf = file(&dir, "domain = fwd.example\nsendmail-option = -odq\n");
    let cli: ForwarderCli = pipe_helpers::load(&args(&[
        "srs-forwarder",
        "-c",
        conf.to_str().unwrap(),
        "d@x",
    ]))
    .unwrap();
    assert_eq!(cli.common.sendmail_option, [OsString::from("-odq")]);
}

#[test]
fn the_command_line_overrides_whole_keys() {
    let dir = TempDir::new().unwrap();
    let conf = file(
        &dir,
        "domain = wrong.example\nlocal-domain = a.example\nlocal-domain = b.example\nmax-age = 30\n",
    );
    let c = conf.to_str().unwrap();
    let cli = SrsdCli::load(&args(&[
        "srsd",
        "-c",
        c,
        "-d",
        "fwd.example",
        "--local-domain",
        "z.example",
    ]))
    .unwrap();
    assert_eq!(cli.domain, "fwd.example");
    assert_eq!(cli.codec.local_domain, ["z.example"]);
    assert_eq!(cli.codec.max_age, Some(30));
    let cli = SrsdCli::load(&args(&["srsd", "-c", c])).unwrap();
    assert_eq!(cli.codec.local_domain, ["a.example", "b.example"]);
}

#[test]
fn a_single_valued_key_given_twice_names_both_lines() {
    let dir = TempDir::new().unwrap();
    let conf = file(
        &dir,
        "domain = a.example\n# x\nmax-age = 3\ndomain = b.example\n",
    );
    assert_eq!(
        file_error(SrsdCli::load(&args(&[
            "srsd",
            "-c",
            conf.to_str().unwrap()
        ]))),
        format!(
            "{}, line 4: domain: given again (first on line 1)",
            conf.display()
        )
    );
}

#[test]
fn unknown_keys_are_errors_everywhere_and_other_programs_keys_are_skipped() {
    let dir = TempDir::new().unwrap();
    let conf = file(&dir, "domain = fwd.example\nhash-lenght = 8\n");
    let c = conf.to_str().unwrap();
    let expected = format!("{c}, line 2: unknown key (did you mean 'hash-length'?)");
    assert_eq!(
        file_error(SrsdCli::load(&args(&["srsd", "-c", c]))),
        expected
    );
    assert_eq!(
        file_error(pipe_helpers::load::<ForwarderCli>(&args(&[
            "srs-forwarder",
            "-c",
            c,
            "d@x"
        ]))),
        expected
    );
    assert_eq!(
        file_error(pipe_helpers::load::<ReverserCli>(&args(&[
            "srs-reverser",
            "-c",
            c
        ]))),
        expected
    );
    // One file for all three: each skips the keys of the others.
    let conf = file(
        &dir,
        "domain = fwd.example\nlisten = line=unix:/run/srsd/line\nuser = srsd\n\
         sendmail = /usr/sbin/sendmail\ntimeout = 60\ndrop-invalid = yes\nsecret = s\n",
    );
    let c = conf.to_str().unwrap();
    let srsd = SrsdCli::load(&args(&["srsd", "-c", c])).unwrap();
    assert_eq!(srsd.user.as_deref(), Some("srsd"));
    let fwd: ForwarderCli = pipe_helpers::load(&args(&["srs-forwarder", "-c", c, "d@x"])).unwrap();
    assert_eq!(
        (fwd.alias.as_deref(), fwd.common.timeout),
        (Some("fwd.example"), 60)
    );
    let rev: ReverserCli = pipe_helpers::load(&args(&["srs-reverser", "-c", c])).unwrap();
    assert!(rev.drop_invalid);
}

#[test]
fn a_configuration_that_is_not_a_regular_file_is_refused() {
    let dir = TempDir::new().unwrap();
    let d = dir.path().to_str().unwrap();
    assert_eq!(
        file_error(SrsdCli::load(&args(&["srsd", "-c", d]))),
        format!("cannot read configuration file {d}: not a regular file (a directory)")
    );
}
