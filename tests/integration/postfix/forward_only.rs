//! Forward-only signing with real Postfix: docs/policy.md's lines, run as written.

use super::*;

/// The Postfix lines of docs/policy.md that sign only forwarded mail: Postfix
/// decides after alias expansion, and `sender_dependent_relayhost_maps`
/// sends mail with a foreign sender to a remote destination through
/// srsd's relay-pack service, whose upstream is a second smtpd of the same
/// Postfix that takes the signed mail back in; SRS, local and null senders
/// go straight out. With `--srs-domain-from recipient` the relay signs
/// with the domain the ORCPT Postfix sends names.
#[test]
fn forward_only_signing_with_postfix() {
    let Some((dir, keys)) = private_dir("forward-only") else {
        return;
    };
    let d = dir.display().to_string();
    // The socketmap that reverses bounces, and the signing hop apart, so
    // that the hop can go down alone.
    let _reverser = srsd(
        &keys,
        &[
            "--local-domain",
            "customer.example",
            "--listen",
            &format!("socketmap=unix:{d}/srs"),
        ],
    );
    let reinject = common::free_port();
    let signer = |port: u16| {
        let process = srsd(
            &keys,
            &[
                "--local-domain",
                "customer.example",
                "--srs-domain-from",
                "recipient",
                "--upstream",
                &format!("127.0.0.1:{reinject}"),
                "--listen",
                &format!("relay-pack=inet:127.0.0.1:{port}"),
            ],
        );
        let port = process.port("relay-pack");
        (process, port)
    };
    let (hop, pack) = signer(0);
    let cfg = dir.join("cfg");
    std::fs::create_dir_all(&cfg).unwrap();
    std::fs::write(
        cfg.join("srs-signing"),
        FORWARD_ONLY_SIGNING.replace("10252", &pack.to_string()),
    )
    .unwrap();
    std::fs::write(cfg.join("aliases"), "fwdalias alias-dest@dest.example\n").unwrap();
    std::fs::write(
        cfg.join("virtual-fwd"),
        "list@fwd.example dest@dest.example\ninfo@customer.example cust-dest@dest.example\n",
    )
    .unwrap();
    let Some(sink) = Sink::start("smtp", &dir) else {
        return;
    };
    let postfix = Postfix::start_with(
        &dir,
        sink.port,
        &format!(
            "{main}
alias_maps = texthash:{d}/cfg/aliases
local_recipient_maps = proxy:unix:passwd.byname $alias_maps
virtual_alias_domains = customer.example
virtual_alias_maps = texthash:{d}/cfg/virtual-fwd
recipient_canonical_maps = socketmap:unix:{d}/srs:reverse
recipient_canonical_classes = envelope_recipient
# Deferred mail is tried again within seconds, not minutes: the test
# waits for the retry rather than asking for it with postfix flush.
queue_run_delay = 1s
minimal_backoff_time = 1s
maximal_backoff_time = 1s",
            main = FORWARD_ONLY_MAIN.replace("/etc/postfix", &format!("{d}/cfg")),
        ),
        &FORWARD_ONLY_MASTER.replace("10253", &reinject.to_string()),
    );
    let signed_at =
        |sender: &str, domain: &str| srs(&keys, NOW, &["forward", "-a", domain, sender]);
    let alice_fwd = signed_at("alice@origin.example", "fwd.example");
    let once = |token: &str| {
        let e = sink.wait_for_or(token, || postfix.log());
        let copies = sink
            .messages()
            .iter()
            .filter(|m| m.data.contains(token))
            .count();
        assert_eq!(copies, 1, "{token} arrived {copies} times");
        e
    };

    // Local mailbox delivery keeps the sender.
    assert_eq!(
        postfix.send("alice@origin.example", &["root@fwd.example"], "f-mailbox"),
        [250]
    );
    let mailbox = postfix.wait_for_mailbox("root", "f-mailbox");
    assert!(
        mailbox.contains("Return-Path: <alice@origin.example>"),
        "{mailbox}"
    );
    // A local user writing to a remote address keeps the sender.
    assert_eq!(
        postfix.send("bob@fwd.example", &["carol@dest.example"], "f-outgoing"),
        [250],
        "{}",
        postfix.log()
    );
    assert_eq!(once("f-outgoing").from, "bob@fwd.example");
    // An /etc/aliases forward and a virtual_alias_maps forward are signed,
    // each with the domain that forwards it.
    assert_eq!(
        postfix.send("alice@origin.example", &["fwdalias@fwd.example"], "f-alias"),
        [250]
    );
    let e = once("f-alias");
    assert_eq!(
        (e.from.as_str(), e.to.as_slice()),
        (
            alice_fwd.as_str(),
            &["alias-dest@dest.example".to_owned()][..]
        )
    );
    assert_eq!(
        postfix.send("alice@origin.example", &["list@fwd.example"], "f-virtual"),
        [250]
    );
    assert_eq!(once("f-virtual").from, alice_fwd);
    let alice_customer = signed_at("alice@origin.example", "customer.example");
    assert_eq!(
        postfix.send(
            "alice@origin.example",
            &["info@customer.example"],
            "f-customer"
        ),
        [250]
    );
    let e = once("f-customer");
    assert_eq!(
        (e.from.as_str(), e.to.as_slice()),
        (
            alice_customer.as_str(),
            &["cust-dest@dest.example".to_owned()][..]
        )
    );
    // One message to a mailbox and to a forward: only the forwarded copy
    // is signed.
    assert_eq!(
        postfix.send(
            "alice@origin.example",
            &["root@fwd.example", "list@fwd.example"],
            "f-mixed"
        ),
        [250, 250]
    );
    assert_eq!(once("f-mixed").from, alice_fwd);
    let mailbox = postfix.wait_for_mailbox("root", "f-mixed");
    let copy = &mailbox[mailbox[..mailbox.find("f-mixed").unwrap()]
        .rfind("Return-Path:")
        .unwrap()..];
    assert!(
        copy.starts_with("Return-Path: <alice@origin.example>"),
        "{copy}"
    );
    // Bounces to the SRS addresses, of either domain, reach alice.
    for (address, token) in [
        (&alice_fwd, "f-bounce"),
        (&alice_customer, "f-bounce-customer"),
    ] {
        assert_eq!(postfix.send("", &[address], token), [250], "{address}");
        let e = once(token);
        assert_eq!(
            (e.from.as_str(), e.to.as_slice()),
            ("", &["alice@origin.example".to_owned()][..])
        );
    }
    assert!(
        !postfix.log().contains("mail forwarding loop"),
        "{}",
        postfix.log()
    );

    // The signing hop down: the forward waits in the queue, deferred,
    // and leaves signed once the hop is back.
    let mut hop = hop;
    let _ = hop.child.kill();
    let _ = hop.child.wait();
    assert_eq!(
        postfix.send("alice@origin.example", &["list@fwd.example"], "f-down"),
        [250]
    );
    postfix.wait_for_log(&["status=deferred", &format!("127.0.0.1[127.0.0.1]:{pack}")]);
    assert!(
        sink.messages().iter().all(|m| !m.data.contains("f-down")),
        "sent while the signing hop was down"
    );
    // Back up: the next retry (queue_run_delay above) takes it.
    let (_hop, _) = signer(pack);
    assert_eq!(once("f-down").from, alice_fwd);
}

/// docs/policy.md holds the forward-only lines the test runs, verbatim.
#[test]
fn the_forward_only_lines_are_these() {
    let policy = common::guide("policy");
    for lines in [FORWARD_ONLY_MAIN, FORWARD_ONLY_SIGNING, FORWARD_ONLY_MASTER] {
        assert!(
            policy.contains(&common::flat(lines)),
            "docs/policy.md lacks:\n{lines}"
        );
    }
}
