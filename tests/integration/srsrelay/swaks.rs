//! srsrelay driven by swaks, upstream aiosmtpd: both services over SMTP, and LMTP's reply per recipient.

use super::*;

#[test]
fn swaks_through_both_services_to_aiosmtpd() {
    if common::peer("swaks", "swaks").is_none() {
        return;
    }
    let dir = tempfile::TempDir::new().unwrap();
    let Some(sink) = Sink::start("smtp", dir.path()) else {
        return;
    };
    let keys = keys(dir.path(), "# srsrelay test key\nrelay-secret\n");
    let relay = Relay::start(&keys, sink.port, &[]);
    relay.wait_for_log("1 key(s) in 2 line(s) of");
    let srs0 = srs(
        &keys,
        NOW,
        &["forward", "-a", SRS_DOMAIN, "alice@origin.example"],
    );

    // Pack: an outside sender arrives as SRS0, pipelined.
    let o = swaks(
        relay.pack,
        &[
            "--pipeline",
            "--from",
            "alice@origin.example",
            "--to",
            "bob@dest.example",
            "--body",
            "t-pack",
        ],
    );
    assert!(o.status.success(), "{}", text(&o));
    let m = sink.wait_for("t-pack");
    assert_eq!(
        (m.from.as_str(), m.to.as_slice()),
        (srs0.as_str(), &["bob@dest.example".to_owned()][..])
    );

    // A listed domain, in another case, stays.
    let o = swaks(
        relay.pack,
        &[
            "--pipeline",
            "--from",
            "carol@other.EXAMPLE",
            "--to",
            "bob@dest.example",
            "--body",
            "t-listed",
        ],
    );
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(sink.wait_for("t-listed").from, "carol@other.EXAMPLE");

    // Unpack: a bounce to the SRS address goes to alice, null sender kept;
    // in the same pipelined group, a forged one is refused by the relay.
    let forged = format!("SRS0=AAAA{}", &srs0[9..]);
    let o = swaks(
        relay.unpack,
        &[
            "--pipeline",
            "--from",
            "<>",
            "--to",
            &format!("{srs0},{forged}"),
            "--body",
            "t-bounce",
        ],
    );
    let said = text(&o);
    assert!(said.contains("<** 550 5.1.1 Invalid SRS address"), "{said}");
    let m = sink.wait_for("t-bounce");
    assert_eq!(
        (m.from.as_str(), m.to.as_slice()),
        ("", &["alice@origin.example".to_owned()][..])
    );
    relay.wait_for_log(&format!("refused reverse of {forged} from 127.0.0.1:"));

    // STARTTLS is neither offered nor relayed.
    let o = swaks(
        relay.pack,
        &["--tls", "--to", "bob@dest.example", "--quit-after", "EHLO"],
    );
    let said = text(&o);
    assert!(
        !said.contains("250-STARTTLS") && !said.contains("250 STARTTLS"),
        "{said}"
    );
    assert!(said.contains("STARTTLS"), "{said}");
}

#[test]
fn swaks_lmtp_gets_one_reply_per_recipient() {
    if common::peer("swaks", "swaks").is_none() {
        return;
    }
    let dir = tempfile::TempDir::new().unwrap();
    let Some(sink) = Sink::start("lmtp", dir.path()) else {
        return;
    };
    let keys = keys(dir.path(), "relay-secret\n");
    let relay = Relay::start(&keys, sink.port, &["--upstream-protocol", "lmtp"]);
    let srs0 = srs(
        &keys,
        NOW,
        &["forward", "-a", SRS_DOMAIN, "alice@origin.example"],
    );
    for port in [relay.pack, relay.unpack] {
        let o = swaks(
            port,
            &[
                "--protocol",
                "LMTP",
                "--pipeline",
                "--from",
                "<>",
                "--to",
                &format!("{srs0},full@dest.example"),
                "--body",
                &format!("t-lmtp-{port}"),
            ],
        );
        let said = text(&o);
        // Two accepted recipients, two replies after the message.
        let reversed = if port == relay.unpack {
            "alice@origin.example"
        } else {
            srs0.as_str()
        };
        assert!(
            said.contains(&format!("<-  250 2.0.0 {reversed} delivered")),
            "{said}"
        );
        assert!(
            said.contains("<** 452 4.2.2 full@dest.example is full"),
            "{said}"
        );
        sink.wait_for(&format!("t-lmtp-{port}"));
    }
}
