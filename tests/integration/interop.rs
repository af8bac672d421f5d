//! Live interop with the real peers (Debian packages `srs` and `postsrsd`):
//! addresses from our `srs` reverse in theirs and theirs in ours, for SRS0,
//! SRS1 and every separator, and our Perl-flag form prints what Perl prints.
//!
//! The peers read the real clock, so ours does too here; a run that straddles
//! midnight UTC is retried once.

use crate::common;

use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use tempfile::TempDir;

const SECRET: &str = "interop-s3cret";
const SEPARATORS: [&str; 3] = ["=", "+", "-"];

fn ours() -> Command {
    Command::new(env!("CARGO_BIN_EXE_srs"))
}

/// Runs a command and returns its stdout lines, asserting success.
fn lines(cmd: &mut Command) -> Vec<String> {
    let out = cmd.stderr(Stdio::piped()).output().expect("run");
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect()
}

/// Every sender of SENDERS forwarded by our `srs` with `keys` and `sep`.
fn ours_forward(keys: &str, sep: &str) -> Vec<String> {
    lines(
        ours()
            .args([
                "-k",
                keys,
                "--separator",
                sep,
                "forward",
                "-a",
                "fwd.example",
            ])
            .args(SENDERS),
    )
}

/// Retries `f` once if the first run fails, for a run that crosses midnight.
fn twice(f: impl Fn()) {
    if std::panic::catch_unwind(std::panic::AssertUnwindSafe(&f)).is_err() {
        f();
    }
}

struct Keys {
    _dir: TempDir,
    path: String,
}

fn keys() -> Keys {
    let dir = TempDir::new().unwrap();
    let path = dir.path().join("keys");
    std::fs::write(&path, format!("{SECRET}\n")).unwrap();
    std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
    Keys {
        path: path.to_str().unwrap().to_owned(),
        _dir: dir,
    }
}

/// Senders covering the shapes that matter: plain, `=`/`+`/`-` in the local
/// part, mixed case, an SRS0 and an SRS1 from other forwarders.
const SENDERS: &[&str] = &[
    "alice@origin.example",
    "Alice.Smith@Origin.EXAMPLE",
    "a=b+c-d@origin.example",
    "SRS0=xyzw=JM=orig.example=bob@relay.example",
    "SRS0+xyzw=JM=orig.example=bob@relay.example",
    "SRS1=XyZw=first.example==abcd=JM=orig.example=bob@relay.example",
];

#[test]
fn perl_srs_drop_in_prints_the_same() {
    let Some(perl) = common::peer("srs", "srs") else {
        return;
    };
    let k = keys();
    let secret_arg = format!("--secret={SECRET}");
    let file_arg = format!("--secretfile={}", k.path);
    twice(|| {
        for sep in SEPARATORS {
            for hl in ["4", "8"] {
                for key in [&secret_arg, &file_arg] {
                    let args: Vec<String> = [
                        key.as_str(),
                        "--alias=fwd.example",
                        &format!("--separator={sep}"),
                        &format!("--hashlength={hl}"),
                    ]
                    .iter()
                    .map(|s| s.to_string())
                    .chain(SENDERS.iter().map(|s| s.to_string()))
                    .collect();
                    let theirs = lines(Command::new(&perl).args(&args));
                    assert_eq!(lines(ours().args(&args)), theirs, "forward {args:?}");
                    // Reverse each result with the same flags in both.
                    let rev: Vec<String> =
                        [key.as_str(), "--reverse", &format!("--hashlength={hl}")]
                            .iter()
                            .map(|s| s.to_string())
                            .chain(
                                theirs
                                    .iter()
                                    .filter(|a| a.contains("@fwd.example"))
                                    .cloned(),
                            )
                            .collect();
                    assert_eq!(
                        lines(ours().args(&rev)),
                        lines(Command::new(&perl).args(&rev)),
                        "reverse {rev:?}"
                    );
                }
            }
        }
    });
}

#[test]
fn our_addresses_reverse_in_perl_srs_and_theirs_in_ours() {
    let Some(perl) = common::peer("srs", "srs") else {
        return;
    };
    let k = keys();
    let secret_arg = format!("--secret={SECRET}");
    twice(|| {
        for sep in SEPARATORS {
            let made = ours_forward(&k.path, sep);
            for (sender, srs_address) in SENDERS.iter().zip(&made) {
                assert!(srs_address.starts_with(if sender.starts_with("SRS") {
                    "SRS1"
                } else {
                    "SRS0"
                }));
                let back = lines(Command::new(&perl).args([
                    secret_arg.as_str(),
                    "--reverse",
                    srs_address,
                ]));
                let want = match sender.strip_prefix("SRS1=XyZw=first.example=") {
                    // SRS1 reverses to the first hop's SRS0 address.
                    Some(inner) => {
                        format!("SRS0{}@first.example", inner.split('@').next().unwrap())
                    }
                    None => sender.to_string(),
                };
                assert_eq!(back, [want], "Perl reversing our {srs_address}");
            }
            let theirs = lines(
                Command::new(&perl)
                    .args([
                        secret_arg.as_str(),
                        "--alias=fwd.example",
                        &format!("--separator={sep}"),
                    ])
                    .args(SENDERS),
            );
            let back = lines(ours().args(["-k", &k.path, "reverse"]).args(&theirs));
            let firsthop = lines(ours().args(["-k", &k.path, "reverse"]).args(&made));
            assert_eq!(back, firsthop, "ours reversing Perl's {theirs:?}");
        }
    });
}

/// A postsrsd 1.10 listening on loopback; killed when dropped.
struct Postsrsd {
    child: Child,
    forward: u16,
    reverse: u16,
}

impl Drop for Postsrsd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Postsrsd {
    fn start(program: &std::path::Path, keys: &str, sep: &str) -> Postsrsd {
        let (forward, reverse) = (common::free_port(), common::free_port());
        let child = Command::new(program)
            .args(["-s", keys, "-d", "fwd.example", "-l", "127.0.0.1", "-4"])
            .arg(format!("-a{sep}"))
            .arg(format!("-f{forward}"))
            .arg(format!("-r{reverse}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start postsrsd");
        let p = Postsrsd {
            child,
            forward,
            reverse,
        };
        common::wait_until("postsrsd to listen", Duration::from_secs(10), || {
            TcpStream::connect(("127.0.0.1", p.reverse)).is_ok()
        });
        p
    }

    /// One tcp_table lookup: `get KEY` → the value of a 200 reply, or the whole reply.
    fn get(&self, port: u16, key: &str) -> Result<String, String> {
        let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        writeln!(s, "get {key}").unwrap();
        let mut reply = String::new();
        BufReader::new(s).read_line(&mut reply).unwrap();
        let reply = reply.trim_end();
        match reply.strip_prefix("200 ") {
            Some(v) => Ok(v.to_owned()),
            None => Err(reply.to_owned()),
        }
    }
}

#[test]
fn postsrsd_reverses_ours_and_we_reverse_postsrsd() {
    let Some(program) = common::peer("postsrsd", "postsrsd") else {
        return;
    };
    let k = keys();
    twice(|| {
        for sep in SEPARATORS {
            let d = Postsrsd::start(&program, &k.path, sep);
            let made = ours_forward(&k.path, sep);
            let ours_back = lines(ours().args(["-k", &k.path, "reverse"]).args(&made));
            for ((sender, srs_address), want) in SENDERS.iter().zip(&made).zip(&ours_back) {
                // postsrsd's forward of the same sender is byte-identical to ours.
                assert_eq!(
                    d.get(d.forward, sender).as_ref(),
                    Ok(srs_address),
                    "postsrsd forward of {sender}"
                );
                assert_eq!(
                    d.get(d.reverse, srs_address).as_ref(),
                    Ok(want),
                    "postsrsd reversing our {srs_address}"
                );
                let theirs = d.get(d.forward, sender).unwrap();
                assert_eq!(
                    lines(ours().args(["-k", &k.path, "reverse", &theirs])),
                    std::slice::from_ref(want)
                );
            }
            // Both refuse a forgery.
            let forged = format!("{}AAAA{}", &made[0][..5], &made[0][9..]);
            assert_eq!(
                d.get(d.reverse, &forged),
                Err("500 Hash invalid in SRS address.".to_owned())
            );
            let o = ours()
                .args(["-k", &k.path, "reverse", &forged])
                .output()
                .unwrap();
            assert_eq!(o.status.code(), Some(65));
            assert_eq!(
                String::from_utf8_lossy(&o.stderr),
                format!(
                    "srs: {forged}: hash does not match (forged, or signed with a secret we no longer have)\n"
                )
            );
        }
    });
}

/// postsrsd 1.10 takes a leading `#` comment line of its secrets file as its
/// signing secret, where we skip it: srs-keys(5) and the README's migration
/// notes warn about this. The same file without the comment signs alike.
#[test]
fn postsrsd_signs_with_a_comment_line_where_we_skip_it() {
    let Some(program) = common::peer("postsrsd", "postsrsd") else {
        return;
    };
    let dir = TempDir::new().unwrap();
    let with_comment = dir.path().join("commented");
    std::fs::write(&with_comment, format!("# site keys\n{SECRET}\n")).unwrap();
    let as_secret = dir.path().join("as-secret");
    std::fs::write(&as_secret, "# site keys\n").unwrap();
    for p in [&with_comment, &as_secret] {
        std::fs::set_permissions(p, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
    }
    let path = |p: &std::path::Path| p.to_str().unwrap().to_owned();
    twice(|| {
        let d = Postsrsd::start(&program, &path(&with_comment), "=");
        let theirs = d.get(d.forward, "alice@origin.example").unwrap();
        let forward = |keys: &str| {
            lines(ours().args([
                "-k",
                keys,
                "forward",
                "-a",
                "fwd.example",
                "alice@origin.example",
            ]))
        };
        // Ours, from the same file, signs with the secret after the comment.
        assert_eq!(forward(&keys().path), forward(&path(&with_comment)));
        assert_ne!(forward(&path(&with_comment)), std::slice::from_ref(&theirs));
        // postsrsd signed with the comment line itself. Our reader skips a
        // comment, so give it as --secret.
        let made = lines(ours().args([
            "--secret",
            "# site keys",
            "forward",
            "-a",
            "fwd.example",
            "alice@origin.example",
        ]));
        assert_eq!(made, [theirs]);
    });
}
