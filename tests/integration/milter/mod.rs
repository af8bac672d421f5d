//! The milter session as a table of conversations: the packets an MTA
//! sends, and exactly the packets and the close that come back; bounces
//! and the bounce policy in `bounces`.

mod bounces;

use crate::common;

use std::time::{Duration, UNIX_EPOCH};

use mail_srs::engine::Rewriter;
use mail_srs::protocol::milter::{
    BouncePolicy, DomainFrom, MilterSession, MilterSettings, RewriteWhen,
};
use mail_srs::srs::{Options, Srs};

/// alice@origin.example signed with s3cret on day 20780 via fwd.example.
const ALICE: &str = "SRS0=F0KE=JM=origin.example=alice@fwd.example";

fn packet(command: u8, data: &[u8]) -> Vec<u8> {
    let mut out = ((data.len() + 1) as u32).to_be_bytes().to_vec();
    out.push(command);
    out.extend_from_slice(data);
    out
}

/// NUL-terminated strings.
fn z(words: &[&str]) -> Vec<u8> {
    words
        .iter()
        .flat_map(|w| [w.as_bytes(), b"\0"].concat())
        .collect()
}

fn negotiate() -> Vec<u8> {
    let mut data = 6u32.to_be_bytes().to_vec();
    data.extend_from_slice(&0x1ffu32.to_be_bytes());
    data.extend_from_slice(&0x1f_ffffu32.to_be_bytes());
    packet(b'O', &data)
}

fn mail(words: &[&str]) -> Vec<u8> {
    packet(b'M', &z(words))
}

/// A RCPT with the `{rcpt_mailer}` macro Postfix sends before it.
fn rcpt(address: &str, mailer: &str) -> Vec<u8> {
    let mut macros = vec![b'R'];
    macros.extend(z(&["{rcpt_mailer}", mailer]));
    [packet(b'D', &macros), packet(b'R', &z(&[address]))].concat()
}

const CONTINUE: &[u8] = &[0, 0, 0, 1, b'c'];

fn reply_code(text: &str) -> Vec<u8> {
    packet(b'y', &z(&[text]))
}

/// Runs `input` through a fresh session; gives the output and whether the
/// session closed.
fn converse(settings: &MilterSettings, input: &[Vec<u8>]) -> (Vec<u8>, bool) {
    let srs = Srs::new(
        &[b"s3cret"],
        Options {
            local_domains: vec!["local.example".into()],
            ..Options::default()
        },
    )
    .unwrap();
    let lookup = Rewriter::new(
        &srs,
        "fwd.example",
        UNIX_EPOCH + Duration::from_secs(1_795_435_200),
    );
    let mut session = MilterSession::default();
    let bytes = input.concat();
    let mut out = Vec::new();
    let p = session.serve(&bytes, &lookup, settings, &mut out);
    assert_eq!(p.consumed, bytes.len());
    (out, p.close)
}

/// `sender` signed with s3cret on day 20780 via `domain`.
fn signed_at(sender: &str, domain: &str) -> String {
    let srs = Srs::new(&[b"s3cret"], Options::default()).unwrap();
    let now = UNIX_EPOCH + Duration::from_secs(1_795_435_200);
    match srs.forward(sender, domain, now).unwrap() {
        mail_srs::Forwarded::Rewritten(a) => a,
        other => panic!("{other:?}"),
    }
}

/// The negotiation reply: version 6, the four envelope actions, and the
/// steps the filter leaves out or does not answer.
fn negotiated() -> Vec<u8> {
    let mut data = 6u32.to_be_bytes().to_vec();
    data.extend_from_slice(&0xccu32.to_be_bytes());
    data.extend_from_slice(&0x000e_31f3u32.to_be_bytes());
    packet(b'O', &data)
}

#[test]
fn forwarded_mail_gets_the_srs_sender_with_its_parameters() {
    let (out, close) = converse(
        &MilterSettings::default(),
        &[
            negotiate(),
            mail(&["<alice@origin.example>", "SIZE=100", "BODY=8BITMIME"]),
            rcpt("<bob@elsewhere.example>", "smtp"),
            packet(b'T', b""),
            packet(b'E', b""),
            packet(b'A', b""),
            packet(b'Q', b""),
        ],
    );
    let chgfrom = packet(b'e', &z(&[&format!("<{ALICE}>"), "SIZE=100 BODY=8BITMIME"]));
    assert_eq!(
        out,
        [
            negotiated(),
            CONTINUE.to_vec(),
            CONTINUE.to_vec(),
            CONTINUE.to_vec(),
            chgfrom,
            CONTINUE.to_vec(),
        ]
        .concat()
    );
    assert!(close);
}

#[test]
fn local_and_null_senders_keep_their_address() {
    for sender in ["<bob@fwd.example>", "<carol@local.example>", "<>"] {
        let (out, _) = converse(
            &MilterSettings {
                bounce_policy: BouncePolicy::Off,
                ..MilterSettings::default()
            },
            &[
                negotiate(),
                mail(&[sender]),
                rcpt("<dave@elsewhere.example>", "smtp"),
                packet(b'E', b""),
            ],
        );
        assert_eq!(
            out,
            [negotiated(), [CONTINUE; 3].concat()].concat(),
            "{sender}"
        );
    }
}

#[test]
fn only_forwarded_mail_is_signed_when_asked() {
    let settings = MilterSettings {
        rewrite: RewriteWhen::Forwarded,
        ..MilterSettings::default()
    };
    let (out, _) = converse(
        &settings,
        &[
            negotiate(),
            mail(&["<alice@origin.example>"]),
            rcpt("<bob@fwd.example>", "local"),
            packet(b'E', b""),
        ],
    );
    assert_eq!(out, [negotiated(), [CONTINUE; 3].concat()].concat());
}

/// `forwarded` judges an SRS recipient by the address it reverses to: a
/// valid SRS address of a remote sender makes the mail forwarded, so its
/// sender is signed (postsrsd 2's "rewrite sender if recipient turns out to
/// be non-local"); one that reverses to a local address does not.
#[test]
fn forwarded_judges_an_srs_recipient_by_its_reversed_address() {
    let settings = MilterSettings {
        rewrite: RewriteWhen::Forwarded,
        ..MilterSettings::default()
    };
    let signed = |sender: &str| signed_at(sender, "fwd.example");
    let remote = signed("bob@origin.example");
    let local = signed("carol@local.example");
    let x = signed("x@other.example");
    let (out, _) = converse(
        &settings,
        &[
            negotiate(),
            mail(&["<x@other.example>"]),
            rcpt(&format!("<{remote}>"), "local"),
            packet(b'E', b""),
        ],
    );
    let delrcpt = packet(b'-', &z(&[&format!("<{remote}>")]));
    let addrcpt = packet(b'2', &z(&["<bob@origin.example>", ""]));
    assert_eq!(
        out,
        [
            negotiated(),
            [CONTINUE; 2].concat(),
            packet(b'e', &z(&[&format!("<{x}>"), ""])),
            delrcpt,
            addrcpt,
            CONTINUE.to_vec()
        ]
        .concat()
    );
    let (out, _) = converse(
        &settings,
        &[
            negotiate(),
            mail(&["<x@other.example>"]),
            rcpt(&format!("<{local}>"), "local"),
            packet(b'E', b""),
        ],
    );
    assert_eq!(
        out,
        [
            negotiated(),
            [CONTINUE; 2].concat(),
            packet(b'-', &z(&[&format!("<{local}>")])),
            packet(b'2', &z(&["<carol@local.example>", ""])),
            CONTINUE.to_vec()
        ]
        .concat()
    );
}

/// `srs-domain-from = recipient`: the sender is signed with the domain of
/// the first recipient, in RCPT order, at the SRS domain or a local domain;
/// with none, with the SRS domain.
#[test]
fn the_recipient_domain_signs_when_asked() {
    let settings = MilterSettings {
        domain_from: DomainFrom::Recipient,
        ..MilterSettings::default()
    };
    for (recipients, domain) in [
        (
            &[
                "<x@elsewhere.example>",
                "<Info@Local.Example>",
                "<bob@fwd.example>",
            ][..],
            "local.example",
        ),
        (
            &["<bob@fwd.example>", "<info@local.example>"],
            "fwd.example",
        ),
        (&["<x@elsewhere.example>"], "fwd.example"),
    ] {
        let mut input = vec![negotiate(), mail(&["<alice@origin.example>"])];
        input.extend(recipients.iter().map(|r| rcpt(r, "smtp")));
        input.push(packet(b'E', b""));
        let (out, _) = converse(&settings, &input);
        let chgfrom = packet(
            b'e',
            &z(&[
                &format!("<{}>", signed_at("alice@origin.example", domain)),
                "",
            ]),
        );
        assert_eq!(
            out,
            [
                negotiated(),
                CONTINUE.repeat(1 + recipients.len()),
                chgfrom,
                CONTINUE.to_vec()
            ]
            .concat(),
            "{recipients:?}"
        );
    }
}

#[test]
fn an_abort_forgets_the_transaction() {
    let (out, _) = converse(
        &MilterSettings::default(),
        &[
            negotiate(),
            mail(&["<alice@origin.example>"]),
            rcpt("<bob@elsewhere.example>", "smtp"),
            packet(b'A', b""),
            mail(&["<bob@fwd.example>"]),
            rcpt("<carol@elsewhere.example>", "smtp"),
            packet(b'E', b""),
        ],
    );
    assert_eq!(out, [negotiated(), [CONTINUE; 5].concat()].concat());
}

#[test]
fn broken_packets_close_the_connection() {
    let settings = MilterSettings::default();
    for (name, bytes) in [
        ("zero length", vec![0, 0, 0, 0]),
        ("over the limit", vec![0, 1, 0, 1, b'M']),
        ("unknown command", packet(b'Z', b"")),
        ("short negotiation", packet(b'O', &[0, 0, 0, 6])),
        ("unterminated MAIL", packet(b'M', b"<a@b.example>")),
        ("empty RCPT", packet(b'R', b"")),
    ] {
        let (out, close) = converse(&settings, &[bytes]);
        assert_eq!((out, close), (Vec::new(), true), "{name}");
    }
    // A packet cut short waits for the rest.
    let srs = Srs::new(&[b"s3cret"], Options::default()).unwrap();
    let lookup = Rewriter::new(&srs, "fwd.example", UNIX_EPOCH);
    let whole = mail(&["<a@b.example>"]);
    let mut out = Vec::new();
    let p = MilterSession::default().serve(&whole[..6], &lookup, &settings, &mut out);
    assert_eq!((p.consumed, p.close, out.len()), (0, false, 0));
}

#[test]
fn declined_steps_are_answered_only_when_an_answer_is_due() {
    // After negotiation the connect step needs no answer; before it, it does.
    let (out, _) = converse(
        &MilterSettings::default(),
        &[
            negotiate(),
            packet(b'C', &z(&["host", "4"])),
            packet(b'H', &z(&["helo"])),
        ],
    );
    assert_eq!(out, negotiated());
    let (out, _) = converse(&MilterSettings::default(), &[packet(b'H', &z(&["helo"]))]);
    assert_eq!(out, CONTINUE.to_vec());
}

/// The milter as a listener of the daemon: one whole transaction over a
/// Unix socket, the session's state kept across packets.
/// The daemon engine serving the milter on a Unix socket with `state`,
/// and a connection to it.
struct MilterDaemon {
    conn: std::os::unix::net::UnixStream,
    engine: common::engine::Engine,
    _dir: tempfile::TempDir,
}

impl MilterDaemon {
    fn start(state: mail_srs::daemon::State) -> MilterDaemon {
        use mail_srs::daemon::{Bound, Limits, Listener};

        let dir = tempfile::TempDir::new().unwrap();
        let path = dir.path().join("milter");
        let listeners = vec![Listener {
            protocol: mail_srs::protocol::named("milter").unwrap(),
            bound: Bound::Unix(std::os::unix::net::UnixListener::bind(&path).unwrap(), None),
        }];
        let now = UNIX_EPOCH + Duration::from_secs(1_795_435_200);
        let engine = common::engine::Engine::start(listeners, state, now, Limits::default());
        let conn = std::os::unix::net::UnixStream::connect(&path).unwrap();
        conn.set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        MilterDaemon {
            conn,
            engine,
            _dir: dir,
        }
    }

    /// Sends `send` and reads exactly `want` back.
    fn expect(&mut self, send: Vec<u8>, want: Vec<u8>) {
        use std::io::{Read, Write};
        self.conn.write_all(&send).unwrap();
        let mut got = vec![0u8; want.len()];
        self.conn.read_exact(&mut got).unwrap();
        assert_eq!(got, want);
    }

    /// Quits: the connection closes with nothing more, the daemon stops.
    fn quit(mut self) {
        use std::io::{Read, Write};
        self.conn.write_all(&packet(b'Q', b"")).unwrap();
        let mut rest = Vec::new();
        self.conn.read_to_end(&mut rest).unwrap();
        assert_eq!(rest, b"");
        self.engine.stop().unwrap();
    }
}

#[test]
fn the_daemon_serves_the_milter_on_a_socket() {
    let mut d = MilterDaemon::start(mail_srs::daemon::State::new(
        Srs::new(&[b"s3cret"], Options::default()).unwrap(),
        "fwd.example".into(),
    ));
    d.expect(negotiate(), negotiated());
    d.expect(mail(&["<alice@origin.example>"]), CONTINUE.to_vec());
    d.expect(rcpt("<bob@elsewhere.example>", "smtp"), CONTINUE.to_vec());
    d.expect(
        packet(b'E', b""),
        [
            packet(b'e', &z(&[&format!("<{ALICE}>"), ""])),
            CONTINUE.to_vec(),
        ]
        .concat(),
    );
    d.quit();
}

/// With the address database, the milter signs a long sender as its key's
/// SRS address, and a bounce to that address goes back to the sender.
#[test]
fn the_daemons_milter_uses_the_address_database() {
    use mail_srs::database::{Database, key_of};
    use mail_srs::engine::StoreWhen;
    use mail_srs::srs::{Form, Forwarded};

    let dir = tempfile::TempDir::new().unwrap();
    let db = Database::open(&format!("sqlite:{}", dir.path().join("srs.db").display())).unwrap();
    let srs = || Srs::new(&[b"s3cret"], Options::default()).unwrap();
    let long = "0f8fad5b-d9cb-469f-a165-70867728950e.bounces-x1@bulk.example";
    let now = UNIX_EPOCH + Duration::from_secs(1_795_435_200);
    let keyed = match srs().forward_in(Form::External, &key_of(long), "fwd.example", now) {
        Ok(Forwarded::Rewritten(a)) => a,
        other => panic!("{other:?}"),
    };
    let mut d = MilterDaemon::start(mail_srs::daemon::State {
        database: Some(std::sync::Arc::new(db)),
        store_when: StoreWhen::TooLong,
        ..mail_srs::daemon::State::new(srs(), "fwd.example".into())
    });
    d.expect(negotiate(), negotiated());
    d.expect(mail(&[&format!("<{long}>")]), CONTINUE.to_vec());
    d.expect(rcpt("<bob@elsewhere.example>", "smtp"), CONTINUE.to_vec());
    d.expect(
        packet(b'E', b""),
        [
            packet(b'e', &z(&[&format!("<{keyed}>"), ""])),
            CONTINUE.to_vec(),
        ]
        .concat(),
    );
    // The bounce, its packets in one write.
    d.expect(
        [
            mail(&["<>"]),
            rcpt(&format!("<{keyed}>"), "local"),
            packet(b'E', b""),
        ]
        .concat(),
        [
            [CONTINUE; 2].concat(),
            packet(b'-', &z(&[&format!("<{keyed}>")])),
            packet(b'2', &z(&[&format!("<{long}>"), ""])),
            CONTINUE.to_vec(),
        ]
        .concat(),
    );
    // The table gone under srsd: a temporary failure at the end of the
    // message for the sender, at RCPT for the bounce.
    assert!(common::drop_sqlite_table(&dir.path().join("srs.db")));
    let tempfail = reply_code("451 4.3.0 SRS address database unavailable, try again later");
    d.expect(
        [
            mail(&[&format!("<c-{long}>")]),
            rcpt("<bob@elsewhere.example>", "smtp"),
            packet(b'E', b""),
        ]
        .concat(),
        [CONTINUE, CONTINUE, &tempfail].concat(),
    );
    d.expect(
        [mail(&["<>"]), rcpt(&format!("<{keyed}>"), "local")].concat(),
        [CONTINUE, &tempfail].concat(),
    );
    d.quit();
}

/// miltertest, a real milter client scripted in Lua, against srsd: the
/// negotiation with today's defaults and with a version-2 MTA that lets no
/// step be skipped, a reversed bounce, a forged recipient, an abort in
/// mid-transaction (`tests/data/milter.lua`).
#[test]
fn miltertest_drives_the_milter() {
    let Some(miltertest) = common::peer("miltertest", "miltertest") else {
        return;
    };
    let dir = tempfile::TempDir::new().unwrap();
    let keys = dir.path().join("keys");
    std::fs::write(&keys, "s3cret\n").unwrap();
    std::fs::set_permissions(&keys, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
    let sock = dir.path().join("milter");
    let srsd = common::srsd::Srsd::start_command(
        std::process::Command::new(env!("CARGO_BIN_EXE_srsd"))
            .args(["--now", "1795435200", "-d", "fwd.example", "-k"])
            .arg(&keys)
            .args(["--listen", &format!("milter=unix:{}", sock.display())]),
    );
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/milter.lua");
    let o = std::process::Command::new(miltertest)
        .arg("-D")
        .arg(format!("SOCK=unix:{}", sock.display()))
        .arg("-D")
        .arg(format!("ALICE={ALICE}"))
        .args(["-s", script])
        .output()
        .unwrap();
    drop(srsd);
    assert_eq!(
        String::from_utf8_lossy(&o.stdout),
        "ok negotiate\nok reverse\nok forged\nok abort\nok version-2\n",
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert_eq!(o.status.code(), Some(0));
}

#[test]
fn the_to_header_is_rewritten_on_request_unless_dkim_signed() {
    let settings = MilterSettings {
        rewrite_to: true,
        ..MilterSettings::default()
    };
    let header = |name: &str, value: &str| packet(b'L', &z(&[name, value]));
    let bounce = |dkim: bool| {
        let mut input = vec![
            negotiate(),
            mail(&["<>"]),
            rcpt(&format!("<{ALICE}>"), "local"),
            packet(b'T', b""),
            header("Subject", "bounce"),
            header("To", &format!(" Alice <{}>", ALICE.to_ascii_lowercase())),
        ];
        if dkim {
            input.push(header("DKIM-Signature", " v=1; d=example"));
        }
        input.push(packet(b'E', b""));
        converse(&settings, &input).0
    };
    // Headers are now asked for (no NOHDRS), with no reply each, and the
    // header action.
    let mut negotiated = 6u32.to_be_bytes().to_vec();
    negotiated.extend_from_slice(&0xdcu32.to_be_bytes());
    negotiated.extend_from_slice(&0x000e_31d3u32.to_be_bytes());
    let recipients = [
        packet(b'-', &z(&[&format!("<{ALICE}>")])),
        packet(b'2', &z(&["<alice@origin.example>", ""])),
    ]
    .concat();
    let mut chgheader = 1u32.to_be_bytes().to_vec();
    chgheader.extend(z(&["To", " Alice <alice@origin.example>"]));
    assert_eq!(
        bounce(false),
        [
            packet(b'O', &negotiated),
            [CONTINUE; 3].concat(),
            packet(b'm', &chgheader),
            recipients.clone(),
            CONTINUE.to_vec(),
        ]
        .concat()
    );
    assert_eq!(
        bounce(true),
        [
            packet(b'O', &negotiated),
            [CONTINUE; 3].concat(),
            recipients,
            CONTINUE.to_vec()
        ]
        .concat()
    );
}

/// Commands out of order (a RCPT before any MAIL, an end of message with no
/// transaction) are answered as usual, not tempfailed, and nothing is
/// changed.
#[test]
fn out_of_order_commands_are_answered() {
    let (out, close) = converse(
        &MilterSettings::default(),
        &[
            negotiate(),
            rcpt("<bob@elsewhere.example>", "smtp"),
            packet(b'E', b""),
            packet(b'E', b""),
        ],
    );
    assert_eq!(out, [negotiated(), [CONTINUE; 3].concat()].concat());
    assert!(!close);
}
