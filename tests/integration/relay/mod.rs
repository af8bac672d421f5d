//! srsrelay's SMTP/LMTP pass-through without I/O: what reaches upstream and
//! what reaches the client, byte for byte, for each case the relay must get
//! right (rewriting, reply order under PIPELINING, DATA and BDAT, LMTP,
//! limits, STARTTLS).

mod unpack;

use crate::common;

use std::time::{Duration, UNIX_EPOCH};

use mail_srs::daemon::State;
use mail_srs::engine::Rewriter;
use mail_srs::protocol::relay::{RelaySession, RelaySettings, Side};
use mail_srs::srs::{Options, Srs};

/// Day 20780 (stamp JM).
const NOW: u64 = 1_795_435_200;

fn srs() -> Srs {
    Srs::new(&["s3cret"], Options::default()).unwrap()
}

fn settings(lmtp: bool) -> RelaySettings {
    RelaySettings {
        domains: vec!["example.com".into(), "example.org".into()],
        upstream: "upstream.test:25".into(),
        lmtp,
        ..RelaySettings::default()
    }
}

/// A session driven by hand: bytes in from either side, what came out.
struct Relay {
    session: RelaySession,
    srs: Srs,
    settings: RelaySettings,
    held: Vec<u8>,
    upstream: Vec<u8>,
    client: Vec<u8>,
    closed: bool,
}

impl Relay {
    fn new(side: Side, lmtp: bool) -> Relay {
        let mut r = Relay {
            session: RelaySession::new(side),
            srs: srs(),
            settings: settings(lmtp),
            held: Vec::new(),
            upstream: Vec::new(),
            client: Vec::new(),
            closed: false,
        };
        r.upstream_sends("220 upstream.test ESMTP\r\n");
        assert_eq!(r.sent_to_client(), "220 upstream.test ESMTP\r\n");
        r
    }

    fn client_sends(&mut self, bytes: &[u8]) {
        self.held.extend_from_slice(bytes);
        self.pump();
    }

    fn upstream_sends(&mut self, text: &str) {
        let step =
            self.session
                .from_upstream(text.as_bytes(), self.settings.lmtp, &mut self.client);
        assert_eq!(step.consumed, text.len(), "whole replies are consumed");
        self.closed |= step.close;
        self.pump();
    }

    fn pump(&mut self) {
        let lookup = Rewriter::new(
            &self.srs,
            "example.com",
            UNIX_EPOCH + Duration::from_secs(NOW),
        );
        let step = self.session.from_client(
            &self.held,
            &lookup,
            &self.settings,
            &mut self.client,
            &mut self.upstream,
        );
        self.held.drain(..step.consumed);
        self.closed |= step.close;
    }

    fn sent_upstream(&mut self) -> String {
        String::from_utf8(std::mem::take(&mut self.upstream)).unwrap()
    }

    fn sent_to_client(&mut self) -> String {
        String::from_utf8(std::mem::take(&mut self.client)).unwrap()
    }
}

fn signed(sender: &str) -> String {
    match srs()
        .forward(sender, "example.com", UNIX_EPOCH + Duration::from_secs(NOW))
        .unwrap()
    {
        mail_srs::Forwarded::Rewritten(a) => a,
        other => panic!("{other:?}"),
    }
}

#[test]
fn pack_signs_outside_senders_only_and_keeps_parameters() {
    let alice = signed("alice@origin.example");
    for (line, sent) in [
        (
            "MAIL FROM:<alice@origin.example> SIZE=1000 BODY=8BITMIME\r\n".to_owned(),
            format!("MAIL FROM:<{alice}> SIZE=1000 BODY=8BITMIME\r\n"),
        ),
        // Any case of the verb; the address as given.
        (
            "mail from:<alice@origin.example>\r\n".to_owned(),
            format!("mail from:<{alice}>\r\n"),
        ),
        // Listed domains, in any case, pass as they are.
        (
            "MAIL FROM:<bob@Example.ORG>\r\n".to_owned(),
            "MAIL FROM:<bob@Example.ORG>\r\n".to_owned(),
        ),
        (
            "MAIL FROM:<bob@example.com>\r\n".to_owned(),
            "MAIL FROM:<bob@example.com>\r\n".to_owned(),
        ),
        // The null sender passes unchanged.
        ("MAIL FROM:<>\r\n".to_owned(), "MAIL FROM:<>\r\n".to_owned()),
        (
            "MAIL FROM: <>\r\n".to_owned(),
            "MAIL FROM: <>\r\n".to_owned(),
        ),
        // What Postfix's smtpd accepts by default beyond the strict form
        // (blanks after the colon, no brackets, a bare LF) is signed, and
        // leaves in the strict form.
        (
            "MAIL FROM: <alice@origin.example>\r\n".to_owned(),
            format!("MAIL FROM:<{alice}>\r\n"),
        ),
        (
            "mail From:\t <alice@origin.example> SIZE=10\n".to_owned(),
            format!("MAIL FROM:<{alice}> SIZE=10\r\n"),
        ),
        (
            "MAIL FROM:alice@origin.example\r\n".to_owned(),
            format!("MAIL FROM:<{alice}>\r\n"),
        ),
        (
            "MAIL FROM:<@relay.example:alice@origin.example>\r\n".to_owned(),
            format!("MAIL FROM:<{alice}>\r\n"),
        ),
    ] {
        let mut r = Relay::new(Side::Pack, false);
        r.client_sends(line.as_bytes());
        assert_eq!(r.sent_upstream(), sent, "{line:?}");
        r.upstream_sends("250 2.1.0 Ok\r\n");
        assert_eq!(r.sent_to_client(), "250 2.1.0 Ok\r\n");
    }
    // The pack side leaves recipients alone, SRS or not.
    let mut r = Relay::new(Side::Pack, false);
    let rcpt = format!("RCPT TO:<{alice}> NOTIFY=NEVER\r\n");
    r.client_sends(rcpt.as_bytes());
    assert_eq!(r.sent_upstream(), rcpt);
}

#[test]
fn a_refusal_first_in_line_is_sent_at_once() {
    let mut r = Relay::new(Side::Unpack, false);
    r.client_sends(b"RCPT TO:<SRS0=xxxx=JM=origin.example=alice@example.com>\r\n");
    assert_eq!(r.sent_upstream(), "");
    assert_eq!(r.sent_to_client(), "550 5.1.1 Invalid SRS address\r\n");
    // Expired: signed 22 days before.
    let old = match srs()
        .forward(
            "alice@origin.example",
            "example.com",
            UNIX_EPOCH + Duration::from_secs(NOW - 22 * 86_400),
        )
        .unwrap()
    {
        mail_srs::Forwarded::Rewritten(a) => a,
        other => panic!("{other:?}"),
    };
    r.client_sends(format!("RCPT TO:<{old}>\r\n").as_bytes());
    assert_eq!(r.sent_to_client(), "550 5.1.1 Invalid SRS address\r\n");
}

#[test]
fn data_passes_untouched_to_its_own_end() {
    let mut r = Relay::new(Side::Pack, false);
    r.client_sends(b"DATA\r\n");
    assert_eq!(r.sent_upstream(), "DATA\r\n");
    // Sent before the 354 (a client that does not wait): held, not parsed.
    r.client_sends(b"MAIL FROM:<x@evil.example>\r\n");
    assert_eq!(r.sent_upstream(), "");
    r.upstream_sends("354 go ahead\r\n");
    assert_eq!(r.sent_to_client(), "354 go ahead\r\n");
    // The held bytes were message text: passed as they are.
    assert_eq!(r.sent_upstream(), "MAIL FROM:<x@evil.example>\r\n");
    // Dot-stuffed lines, a command-like line, binary and 8-bit bytes, a
    // terminator split across reads.
    let body: &[u8] = b"..leading dot\r\nRCPT TO:<SRS0=x@y>\r\n\xff\x00\xe9t\xc3\xa9\r\n\r";
    r.client_sends(body);
    r.client_sends(b"\n.");
    assert_eq!(r.sent_to_client(), "");
    r.client_sends(b"\r\nQUIT\r\n");
    // QUIT may follow the dot at once (RFC 2920); its reply comes after.
    let mut want = body.to_vec();
    want.extend_from_slice(b"\n.\r\nQUIT\r\n");
    assert_eq!(std::mem::take(&mut r.upstream), want);
    r.upstream_sends("250 2.0.0 queued\r\n221 bye\r\n");
    assert_eq!(r.sent_to_client(), "250 2.0.0 queued\r\n221 bye\r\n");
    assert!(r.session.quitting());
}

#[test]
fn an_empty_message_ends_at_once_and_a_refused_data_is_no_message() {
    let mut r = Relay::new(Side::Pack, false);
    r.client_sends(b"DATA\r\n");
    r.upstream_sends("354 go\r\n");
    r.client_sends(b".\r\nRSET\r\n");
    assert_eq!(r.sent_upstream(), "DATA\r\n.\r\nRSET\r\n");
    let mut r = Relay::new(Side::Pack, false);
    r.client_sends(b"DATA\r\nRSET\r\n");
    r.upstream_sends("554 5.5.1 no valid recipients\r\n");
    assert_eq!(r.sent_upstream(), "DATA\r\nRSET\r\n");
}

#[test]
fn bdat_passes_exactly_the_announced_bytes() {
    let mut r = Relay::new(Side::Unpack, false);
    // A lone "." line and a command-like line inside a chunk are data.
    let chunk1 = b"Subject: t\r\n\r\n.\r\nRCPT TO:<SRS0=xxxx=JM=a=b@c>\r\n";
    let chunk2 = b"bye\r\n";
    let mut bytes = format!("BDAT {}\r\n", chunk1.len()).into_bytes();
    bytes.extend_from_slice(chunk1);
    bytes.extend_from_slice(format!("BDAT {} LAST\r\n", chunk2.len()).as_bytes());
    bytes.extend_from_slice(chunk2);
    bytes.extend_from_slice(b"QUIT\r\n");
    // Split at every byte boundary: the same bytes go upstream.
    for split in 1..bytes.len() {
        let mut r2 = Relay::new(Side::Unpack, false);
        r2.client_sends(&bytes[..split]);
        r2.client_sends(&bytes[split..]);
        assert_eq!(std::mem::take(&mut r2.upstream), bytes, "split at {split}");
    }
    r.client_sends(&bytes);
    assert_eq!(std::mem::take(&mut r.upstream), bytes);
    r.upstream_sends("250 2.0.0 chunk\r\n250 2.0.0 queued\r\n221 bye\r\n");
    assert_eq!(
        r.sent_to_client(),
        "250 2.0.0 chunk\r\n250 2.0.0 queued\r\n221 bye\r\n"
    );
}

#[test]
fn lmtp_gets_one_reply_per_accepted_recipient() {
    let alice = signed("alice@origin.example");
    let mut r = Relay::new(Side::Unpack, true);
    r.client_sends(
        format!(
            "LHLO relay.test\r\nMAIL FROM:<>\r\nRCPT TO:<{alice}>\r\nRCPT TO:<bob@example.com>\r\nRCPT TO:<nobody@example.com>\r\nRCPT TO:<SRS0=bad=JM=a.example=b@example.com>\r\nDATA\r\n"
        )
        .as_bytes(),
    );
    r.upstream_sends("250-lmtp.test\r\n250 PIPELINING\r\n250 ok\r\n250 ok\r\n250 ok\r\n550 5.1.1 no such user\r\n");
    assert_eq!(
        r.sent_to_client(),
        "250-lmtp.test\r\n250 PIPELINING\r\n250 ok\r\n250 ok\r\n250 ok\r\n550 5.1.1 no such user\r\n550 5.1.1 Invalid SRS address\r\n"
    );
    r.upstream_sends("354 go\r\n");
    r.client_sends(b"hello\r\n.\r\nRSET\r\n");
    assert_eq!(
        r.sent_upstream(),
        format!(
            "LHLO relay.test\r\nMAIL FROM:<>\r\nRCPT TO:<alice@origin.example>\r\nRCPT TO:<bob@example.com>\r\nRCPT TO:<nobody@example.com>\r\nDATA\r\nhello\r\n.\r\nRSET\r\n"
        )
    );
    // Two accepted recipients: two replies belong to the message, then RSET's.
    r.upstream_sends("250 2.0.0 alice ok\r\n");
    assert_eq!(r.sent_to_client(), "354 go\r\n250 2.0.0 alice ok\r\n");
    r.upstream_sends("452 4.2.2 bob over quota\r\n250 2.0.0 reset\r\n");
    assert_eq!(
        r.sent_to_client(),
        "452 4.2.2 bob over quota\r\n250 2.0.0 reset\r\n"
    );
    assert!(!r.session.waiting_for_upstream());
}

#[test]
fn starttls_is_neither_offered_nor_relayed() {
    let mut r = Relay::new(Side::Pack, false);
    r.client_sends(b"EHLO client.test\r\n");
    r.upstream_sends(
        "250-up.test\r\n250-PIPELINING\r\n250-STARTTLS\r\n250-CHUNKING\r\n250 starttls\r\n",
    );
    assert_eq!(
        r.sent_to_client(),
        "250-up.test\r\n250-PIPELINING\r\n250 CHUNKING\r\n"
    );
    r.client_sends(b"STARTTLS\r\n");
    assert_eq!(r.sent_upstream(), "EHLO client.test\r\n");
    assert_eq!(
        r.sent_to_client(),
        "454 4.7.0 TLS not available: this relay reads the envelope; use TLS on the upstream hop\r\n"
    );
    // AUTH, XCLIENT and XFORWARD pass through.
    r.client_sends(b"AUTH PLAIN AGFAYg==\r\nXCLIENT ADDR=192.0.2.1\r\nXFORWARD NAME=x\r\n");
    assert_eq!(
        r.sent_upstream(),
        "AUTH PLAIN AGFAYg==\r\nXCLIENT ADDR=192.0.2.1\r\nXFORWARD NAME=x\r\n"
    );
}

#[test]
fn over_long_lines_are_refused_and_upstream_421_closes() {
    let mut r = Relay::new(Side::Pack, false);
    let mut long = vec![b'x'; 5000];
    long.extend_from_slice(b"\r\nNOOP\r\n");
    r.client_sends(&long[..3000]);
    assert_eq!(r.sent_to_client(), "500 5.5.2 Line too long\r\n");
    r.client_sends(&long[3000..]);
    assert_eq!(r.sent_upstream(), "NOOP\r\n");
    // A complete line over the limit, in one read.
    let mut line = vec![b'y'; 2100];
    line.extend_from_slice(b"\r\n");
    r.client_sends(&line);
    // Its 500 waits for the reply to the NOOP before it.
    assert_eq!(r.sent_to_client(), "");
    assert_eq!(r.sent_upstream(), "");
    r.upstream_sends("250 ok\r\n421 4.4.2 upstream.test closing\r\n");
    assert_eq!(
        r.sent_to_client(),
        "250 ok\r\n500 5.5.2 Line too long\r\n421 4.4.2 upstream.test closing\r\n"
    );
    assert!(r.closed);
}

#[test]
fn an_over_long_or_broken_reply_ends_the_session_with_421() {
    let mut r = Relay::new(Side::Pack, false);
    r.client_sends(b"NOOP\r\n");
    let mut reply = b"250 ".to_vec();
    reply.extend(vec![b'z'; 3000]);
    let step = r.session.from_upstream(&reply, false, &mut r.client);
    assert!(step.close);
    assert_eq!(
        r.sent_to_client(),
        "421 4.4.2 Upstream server sent an invalid reply, try again later\r\n"
    );
    // A greeting that is not SMTP.
    let mut r = Relay::new(Side::Pack, false);
    let step = r.session.from_upstream(b"hello\r\n", false, &mut r.client);
    assert!(step.close && step.invalid_reply);
    assert_eq!(
        r.sent_to_client(),
        "421 4.4.2 Upstream server sent an invalid reply, try again later\r\n"
    );
}

/// A sender the relay cannot read is refused with 501 and never reaches
/// upstream, so no sender leaves unsigned unless it is null or listed.
#[test]
fn pack_refuses_a_sender_it_cannot_read() {
    for line in [
        &b"MAIL FROM:<alice @origin.example>\r\n"[..],
        b"MAIL FROM:<alice\x00@origin.example>\r\n",
        b"MAIL FROM:<alice@origin.example\r\n",
        b"MAIL FROM:<<alice@origin.example>>\r\n",
        b"MAIL FROM:<alice@origin.example>SIZE=10\r\n",
        b"MAIL FROM:<\"alice@origin.example>\r\n",
        b"MAIL FROM:<postmaster>\r\n",
        b"MAIL FROM <alice@origin.example>\r\n",
        b"MAIL\r\n",
    ] {
        let mut r = Relay::new(Side::Pack, false);
        r.client_sends(line);
        assert_eq!(r.sent_upstream(), "", "{line:?}");
        assert_eq!(
            r.sent_to_client(),
            "501 5.1.7 Bad sender address syntax\r\n",
            "{line:?}"
        );
    }
    // A quoted local part may hold blanks.
    let quoted = signed("\"john doe\"@origin.example");
    let mut r = Relay::new(Side::Pack, false);
    r.client_sends(b"MAIL FROM:<\"john doe\"@origin.example>\r\n");
    assert_eq!(r.sent_upstream(), format!("MAIL FROM:<{quoted}>\r\n"));
}

/// SMTP smuggling: a bare LF or a bare CR ends a line as CR LF does, for
/// the relay as for any upstream, and goes upstream as CR LF. So
/// `<LF>.<CR><LF>` ends the message at the relay too, and the MAIL after
/// it is read (and signed) as a command, never passed on as text.
#[test]
fn bare_line_ends_are_made_cr_lf_so_no_command_is_smuggled() {
    let smuggled = signed("smuggled@origin.example");
    for (end, text) in [
        (&b"\n.\r\n"[..], "x\r\n.\r\n"),
        (b"\r\n.\n", "x\r\n.\r\n"),
        (b"\n.\n", "x\r\n.\r\n"),
        (b"\r.\r", "x\r\n.\r\n"),
        (b"\r.\r\n", "x\r\n.\r\n"),
    ] {
        let mut body = b"x".to_vec();
        body.extend_from_slice(end);
        body.extend_from_slice(
            b"MAIL FROM:<smuggled@origin.example>\r\nRCPT TO:<victim@remote.example>\r\nDATA\r\n",
        );
        // Byte by byte too: a CR last in a read waits for what follows it.
        for split in [body.len(), 1] {
            let mut r = Relay::new(Side::Pack, false);
            r.client_sends(b"DATA\r\n");
            assert_eq!(r.sent_upstream(), "DATA\r\n");
            r.upstream_sends("354 go ahead\r\n");
            for piece in body.chunks(split) {
                r.client_sends(piece);
            }
            assert_eq!(
                r.sent_upstream(),
                format!(
                    "{text}MAIL FROM:<{smuggled}>\r\nRCPT TO:<victim@remote.example>\r\nDATA\r\n"
                ),
                "{end:?} in pieces of {split}"
            );
        }
    }
    // Bare line ends inside the text are made CR LF; a dot-stuffed line
    // and a dot with more on its line do not end it.
    let mut r = Relay::new(Side::Pack, false);
    r.client_sends(b"DATA\n");
    assert_eq!(r.sent_upstream(), "DATA\r\n");
    r.upstream_sends("354 go ahead\r\n");
    r.client_sends(b"a\rb\nc\r\n..\n.x\r\n. \r\n.\r\nQUIT\r");
    assert_eq!(r.sent_upstream(), "a\r\nb\r\nc\r\n..\r\n.x\r\n. \r\n.\r\n");
    r.client_sends(b"\n");
    assert_eq!(r.sent_upstream(), "QUIT\r\n");
}

/// The relay services run whole inside the test: the daemon engine with
/// injected listeners, clock and shutdown, toward a scripted upstream that
/// echoes each command it gets as the text of a 250 reply.
#[test]
fn the_engine_runs_both_relay_services_in_process() {
    let alice = signed("alice@origin.example");
    relay_in_process(
        State::new(srs(), "example.com".into()),
        &[
            (
                Side::Pack,
                "MAIL FROM:<alice@origin.example> SIZE=9\r\n".into(),
                format!("250 MAIL FROM:<{alice}> SIZE=9\r\n"),
            ),
            (
                Side::Unpack,
                format!("RCPT TO:<{alice}>\r\n"),
                "250 RCPT TO:<alice@origin.example>\r\n".into(),
            ),
        ],
    );
}

/// With the address database, a long sender goes out as its key's SRS
/// address, and comes back, through the engine.
#[test]
fn the_relay_services_use_the_address_database() {
    let dir = tempfile::TempDir::new().unwrap();
    let keyed = signed(&mail_srs::database::key_of(LONG));
    relay_in_process(
        with_database(&dir.path().join("srs.db")),
        &[
            (
                Side::Pack,
                format!("MAIL FROM:<{LONG}>\r\n"),
                format!("250 MAIL FROM:<{keyed}>\r\n"),
            ),
            (
                Side::Unpack,
                format!("RCPT TO:<{keyed}> NOTIFY=NEVER\r\n"),
                format!("250 RCPT TO:<{LONG}> NOTIFY=NEVER\r\n"),
            ),
        ],
    );
}

/// A database that fails answers 451 to the MAIL it cannot sign and to the
/// RCPT it cannot reverse, and the MTA retries.
#[test]
fn the_relay_services_answer_451_when_the_database_fails() {
    let dir = tempfile::TempDir::new().unwrap();
    let file = dir.path().join("srs.db");
    let state = with_database(&file);
    assert!(common::drop_sqlite_table(&file));
    let tempfail = "451 4.3.0 SRS address database unavailable, try again later\r\n";
    relay_in_process(
        state,
        &[
            (
                Side::Pack,
                format!("MAIL FROM:<{LONG}>\r\n"),
                tempfail.into(),
            ),
            (
                Side::Unpack,
                format!(
                    "RCPT TO:<{}>\r\n",
                    signed(&mail_srs::database::key_of(LONG))
                ),
                tempfail.into(),
            ),
            // A short sender needs no database.
            (
                Side::Pack,
                "MAIL FROM:<alice@origin.example>\r\n".into(),
                format!("250 MAIL FROM:<{}>\r\n", signed("alice@origin.example")),
            ),
        ],
    );
}

/// A 60-character sender, too long for the local form.
const LONG: &str = "0f8fad5b-d9cb-469f-a165-70867728950e.bounces-x1@bulk.example";

/// A state storing senders too long for SRS in an SQLite `file`.
fn with_database(file: &std::path::Path) -> State {
    let db = mail_srs::database::Database::open(&format!("sqlite:{}", file.display())).unwrap();
    State {
        database: Some(std::sync::Arc::new(db)),
        store_when: mail_srs::engine::StoreWhen::TooLong,
        ..State::new(srs(), "example.com".into())
    }
}

/// Runs both relay services on the engine with `state`; each exchange is a
/// connection to a side that sends a command and reads one reply.
fn relay_in_process(state: State, exchanges: &[(Side, String, String)]) {
    use std::io::{BufRead, BufReader, Write};
    use std::net::{TcpListener, TcpStream};

    use mail_srs::daemon::{Bound, Limits, Listener};

    let upstream = TcpListener::bind("127.0.0.1:0").unwrap();
    let upstream_addr = upstream.local_addr().unwrap().to_string();
    let count = exchanges.len();
    std::thread::spawn(move || {
        for conn in upstream.incoming().take(count) {
            let conn = conn.unwrap();
            std::thread::spawn(move || {
                let mut out = conn.try_clone().unwrap();
                out.write_all(b"220 echo.test\r\n").unwrap();
                for line in BufReader::new(conn).lines().map_while(Result::ok) {
                    out.write_all(format!("250 {line}\r\n").as_bytes()).unwrap();
                }
            });
        }
    });
    let (pack, unpack) = (
        TcpListener::bind("127.0.0.1:0").unwrap(),
        TcpListener::bind("127.0.0.1:0").unwrap(),
    );
    let ports = (
        pack.local_addr().unwrap().port(),
        unpack.local_addr().unwrap().port(),
    );
    let mut limits = Limits::default();
    limits.protocols.relay = RelaySettings {
        upstream: upstream_addr,
        ..settings(false)
    };
    let listeners = vec![
        Listener {
            protocol: mail_srs::protocol::named("relay-pack").unwrap(),
            bound: Bound::Tcp(pack),
        },
        Listener {
            protocol: mail_srs::protocol::named("relay-unpack").unwrap(),
            bound: Bound::Tcp(unpack),
        },
    ];
    let now = UNIX_EPOCH + Duration::from_secs(NOW);
    let engine = common::engine::Engine::start(listeners, state, now, limits);
    for (side, command, reply) in exchanges {
        let port = match side {
            Side::Pack => ports.0,
            Side::Unpack => ports.1,
        };
        let conn = TcpStream::connect(("127.0.0.1", port)).unwrap();
        conn.set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        let mut out = conn.try_clone().unwrap();
        let mut replies = BufReader::new(conn);
        let mut line = String::new();
        replies.read_line(&mut line).unwrap();
        assert_eq!(line, "220 echo.test\r\n");
        out.write_all(command.as_bytes()).unwrap();
        line.clear();
        replies.read_line(&mut line).unwrap();
        assert_eq!(&line, reply);
    }
    engine.stop().unwrap();
}

/// `srs-domain-from = recipient` on the pack side: MAIL FROM is answered by
/// the relay and sent upstream, signed with the domain the first
/// recipient's ORCPT names when that is one of the relay's domains (else
/// the first), just before that RCPT. Upstream's reply to it is not passed
/// on; a refusal stands in for the recipients' replies.
#[test]
fn pack_signs_with_the_domain_of_the_first_recipients_orcpt() {
    let now = UNIX_EPOCH + Duration::from_secs(NOW);
    let at = |domain: &str| match srs().forward("alice@origin.example", domain, now).unwrap() {
        mail_srs::Forwarded::Rewritten(a) => a,
        other => panic!("{other:?}"),
    };
    for (orcpt, domain) in [
        (" ORCPT=rfc822;info@Example.ORG", "example.org"),
        (
            " NOTIFY=NEVER ORCPT=rfc822;list+2Bx@example.org",
            "example.org",
        ),
        (" ORCPT=rfc822;x@elsewhere.example", "example.com"),
        ("", "example.com"),
    ] {
        let mut r = Relay::new(Side::Pack, false);
        r.settings.domain_from_orcpt = true;
        r.client_sends(b"MAIL FROM:<alice@origin.example> SIZE=10\r\n");
        assert_eq!(r.sent_upstream(), "");
        assert_eq!(r.sent_to_client(), "250 2.1.0 Ok\r\n");
        let rcpt = format!("RCPT TO:<dest@remote.example>{orcpt}\r\n");
        r.client_sends(rcpt.as_bytes());
        assert_eq!(
            r.sent_upstream(),
            format!("MAIL FROM:<{}> SIZE=10\r\n{rcpt}", at(domain)),
            "{orcpt}"
        );
        r.upstream_sends("250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n");
        assert_eq!(r.sent_to_client(), "250 2.1.5 Ok\r\n");
        // Later recipients pass as they are.
        r.client_sends(b"RCPT TO:<other@remote.example>\r\n");
        assert_eq!(r.sent_upstream(), "RCPT TO:<other@remote.example>\r\n");
    }
    // Upstream refuses the sender: each recipient gets that refusal, not
    // upstream's "need MAIL".
    let mut r = Relay::new(Side::Pack, false);
    r.settings.domain_from_orcpt = true;
    r.client_sends(b"MAIL FROM:<alice@origin.example>\r\nRCPT TO:<a@remote.example>\r\nRCPT TO:<b@remote.example>\r\n");
    r.upstream_sends(
        "452 4.3.1 Insufficient system storage\r\n503 5.5.1 Error: need MAIL command\r\n503 5.5.1 Error: need MAIL command\r\n",
    );
    assert_eq!(
        r.sent_to_client(),
        "250 2.1.0 Ok\r\n452 4.3.1 Insufficient system storage\r\n452 4.3.1 Insufficient system storage\r\n"
    );
    // A sender at a listed domain, and the null sender, pass at once.
    let mut r = Relay::new(Side::Pack, false);
    r.settings.domain_from_orcpt = true;
    r.client_sends(b"MAIL FROM:<>\r\n");
    assert_eq!(r.sent_upstream(), "MAIL FROM:<>\r\n");
}
