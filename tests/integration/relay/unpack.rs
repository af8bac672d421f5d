//! The unpack side of the relay session: recipients reversed (the domain form and loose forms too) or refused, in command order.

use super::*;

#[test]
fn unpack_reverses_the_domain_form_too() {
    let domain_form = Srs::new(
        &["s3cret"],
        Options {
            address_form: mail_srs::srs::AddressForm::Domain,
            ..Options::default()
        },
    )
    .unwrap();
    let Ok(mail_srs::Forwarded::Rewritten(signed)) = domain_form.forward(
        "alice@origin.example",
        "example.com",
        UNIX_EPOCH + Duration::from_secs(NOW),
    ) else {
        panic!("not rewritten");
    };
    let mut r = Relay::new(Side::Unpack, false);
    r.client_sends(format!("RCPT TO:<{signed}>\r\n").as_bytes());
    assert_eq!(r.sent_upstream(), "RCPT TO:<alice@origin.example>\r\n");
    let forged = signed.replacen("@jm", "@jn", 1);
    r.client_sends(format!("RCPT TO:<{forged}>\r\n").as_bytes());
    r.upstream_sends("250 ok\r\n");
    assert_eq!(
        r.sent_to_client(),
        "250 ok\r\n550 5.1.1 Invalid SRS address\r\n"
    );
    // Any shape under the srs0/srs1 subdomains of one of its domains is a
    // claim it refuses; another forwarder's domain form passes untouched.
    r.client_sends(b"RCPT TO:<alice@x.srs1.example.ORG>\r\n");
    assert_eq!(r.sent_to_client(), "550 5.1.1 Invalid SRS address\r\n");
    let theirs = signed.replace(".srs0.example.com", ".srs0.other.example");
    r.client_sends(format!("RCPT TO:<{theirs}>\r\n").as_bytes());
    assert_eq!(r.sent_upstream(), format!("RCPT TO:<{theirs}>\r\n"));
}

#[test]
fn unpack_reverses_and_refuses_in_command_order() {
    let alice = signed("alice@origin.example");
    let forged = format!("SRS0=AAAA{}", &alice[9..]);
    let mut r = Relay::new(Side::Unpack, false);
    // One pipelined group: MAIL, a good SRS recipient (at the hidden
    // transport domain), a forged one, a plain one, DATA.
    let hidden = alice.replace("@example.com", "@SRS.emCTfnXjF");
    let group = format!(
        "MAIL FROM:<>\r\nRCPT TO:<{hidden}> ORCPT=rfc822;x@y\r\nRCPT TO:<{forged}>\r\nRCPT TO:<postmaster@example.com>\r\nDATA\r\n"
    );
    r.client_sends(group.as_bytes());
    // The forged recipient never goes upstream.
    assert_eq!(
        r.sent_upstream(),
        "MAIL FROM:<>\r\nRCPT TO:<alice@origin.example> ORCPT=rfc822;x@y\r\nRCPT TO:<postmaster@example.com>\r\nDATA\r\n"
    );
    // Its 550 waits for the replies before it.
    assert_eq!(r.sent_to_client(), "");
    r.upstream_sends("250 2.1.0 Ok\r\n");
    assert_eq!(r.sent_to_client(), "250 2.1.0 Ok\r\n");
    r.upstream_sends("250 2.1.5 Ok\r\n");
    assert_eq!(
        r.sent_to_client(),
        "250 2.1.5 Ok\r\n550 5.1.1 Invalid SRS address\r\n"
    );
    r.upstream_sends("250 2.1.5 Ok\r\n354 End data with <CR><LF>.<CR><LF>\r\n");
    assert_eq!(
        r.sent_to_client(),
        "250 2.1.5 Ok\r\n354 End data with <CR><LF>.<CR><LF>\r\n"
    );
}

/// The unpack side reads a loose `RCPT TO` as the pack side reads a loose
/// `MAIL FROM`, and refuses one it cannot read.
#[test]
fn unpack_reverses_a_loose_recipient() {
    let alice = signed("alice@origin.example");
    let mut r = Relay::new(Side::Unpack, false);
    r.client_sends(format!("RCPT TO: <{alice}> NOTIFY=NEVER\r\n").as_bytes());
    assert_eq!(
        r.sent_upstream(),
        "RCPT TO:<alice@origin.example> NOTIFY=NEVER\r\n"
    );
    let mut r = Relay::new(Side::Unpack, false);
    r.client_sends(format!("rcpt to:{alice}\n").as_bytes());
    assert_eq!(r.sent_upstream(), "RCPT TO:<alice@origin.example>\r\n");
    let mut r = Relay::new(Side::Unpack, false);
    r.client_sends(format!("RCPT TO:<{alice} >\r\n").as_bytes());
    assert_eq!(r.sent_upstream(), "");
    assert_eq!(
        r.sent_to_client(),
        "501 5.1.3 Bad recipient address syntax\r\n"
    );
}

/// The unpack side reverses an SRS address signed at another of the relay's
/// domains (`srs-domain-from recipient`) as at the first.
#[test]
fn unpack_reverses_an_address_at_another_listed_domain() {
    let now = UNIX_EPOCH + Duration::from_secs(NOW);
    let signed = match srs()
        .forward("alice@origin.example", "example.org", now)
        .unwrap()
    {
        mail_srs::Forwarded::Rewritten(a) => a,
        other => panic!("{other:?}"),
    };
    let mut r = Relay::new(Side::Unpack, false);
    r.client_sends(format!("RCPT TO:<{signed}>\r\n").as_bytes());
    assert_eq!(r.sent_upstream(), "RCPT TO:<alice@origin.example>\r\n");
}
