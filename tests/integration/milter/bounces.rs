//! Bounces through the milter: SRS recipients reversed, forged, expired and malformed ones refused, and the bounce policy at DATA and at RCPT.

use super::*;

#[test]
fn forged_bounces_are_refused_at_data_and_probes_pass() {
    let settings = MilterSettings {
        bounce_policy: BouncePolicy::Data,
        ..MilterSettings::default()
    };
    let bounce = [
        negotiate(),
        mail(&["<>"]),
        rcpt("<bob@fwd.example>", "local"),
    ];
    let (out, _) = converse(
        &settings,
        &[bounce.to_vec(), vec![packet(b'T', b"")]].concat(),
    );
    assert_eq!(
        out,
        [
            negotiated(),
            [CONTINUE; 2].concat(),
            reply_code(&settings.reject_bounce)
        ]
        .concat()
    );
    // A callback probe: RCPT, then abort and quit, without DATA.
    let (out, close) = converse(
        &settings,
        &[
            bounce.to_vec(),
            vec![packet(b'A', b""), packet(b'A', b""), packet(b'Q', b"")],
        ]
        .concat(),
    );
    assert_eq!(out, [negotiated(), [CONTINUE; 2].concat()].concat());
    assert!(close);
    // postmaster and the exempt list always take bounces.
    let settings = MilterSettings {
        exempt: vec!["abuse".into()],
        bounce_policy: BouncePolicy::Data,
        ..MilterSettings::default()
    };
    for to in ["<postmaster@fwd.example>", "<Abuse@fwd.example>"] {
        let (out, _) = converse(
            &settings,
            &[
                negotiate(),
                mail(&["<>"]),
                rcpt(to, "local"),
                packet(b'T', b""),
            ],
        );
        assert_eq!(out, [negotiated(), [CONTINUE; 3].concat()].concat(), "{to}");
    }
    // A bounce relayed elsewhere is not ours to judge.
    let (out, _) = converse(
        &settings,
        &[
            negotiate(),
            mail(&["<>"]),
            rcpt("<x@elsewhere.example>", "smtp"),
            packet(b'T', b""),
        ],
    );
    assert_eq!(out, [negotiated(), [CONTINUE; 3].concat()].concat());
}

/// A bounce to a domain-form address (`local@<sig>.host.srs0.fwd.example`)
/// is reversed like one in the local form; a forged one is refused.
#[test]
fn domain_form_recipients_are_reversed_or_refused() {
    let srs = Srs::new(
        &[b"s3cret"],
        Options {
            address_form: mail_srs::srs::AddressForm::Domain,
            ..Options::default()
        },
    )
    .unwrap();
    let Ok(mail_srs::Forwarded::Rewritten(signed)) = srs.forward(
        "alice@origin.example",
        "fwd.example",
        UNIX_EPOCH + Duration::from_secs(1_795_435_200),
    ) else {
        panic!("not rewritten");
    };
    let (out, _) = converse(
        &MilterSettings::default(),
        &[
            negotiate(),
            mail(&["<>"]),
            rcpt(&format!("<{signed}>"), "smtp"),
            packet(b'T', b""),
            packet(b'E', b""),
        ],
    );
    assert_eq!(
        out,
        [
            negotiated(),
            [CONTINUE; 3].concat(),
            packet(b'-', &z(&[&format!("<{signed}>")])),
            packet(b'2', &z(&["<alice@origin.example>", ""])),
            CONTINUE.to_vec(),
        ]
        .concat()
    );
    let forged = signed.replacen("@jm", "@jn", 1);
    let (out, _) = converse(
        &MilterSettings::default(),
        &[
            negotiate(),
            mail(&["<>"]),
            rcpt(&format!("<{forged}>"), "smtp"),
        ],
    );
    assert_eq!(
        out,
        [
            negotiated(),
            CONTINUE.to_vec(),
            reply_code("550 5.1.1 Invalid SRS address"),
        ]
        .concat()
    );
}

#[test]
fn forged_expired_and_malformed_srs_recipients_are_refused_at_rcpt() {
    for address in [
        "<SRS0=AAAA=JM=origin.example=alice@fwd.example>",
        "<SRS0=+FvX=IW=origin.example=alice@fwd.example>",
        "<SRS0=F0KE=JM=alice@fwd.example>",
        // Under our domain form's subdomains, whatever the shape.
        "<alice@jmcaaaaaaaaaaaaa.origin.example.srs0.fwd.example>",
        "<alice@aaaaaaaaaaaaaaaa.origin.example.srs0.fwd.example>",
        "<alice@x.srs1.FWD.example>",
    ] {
        // sendmail gives relay domains the esmtp mailer.
        let mailer = if address.contains(".srs") {
            "esmtp"
        } else {
            "local"
        };
        let (out, _) = converse(
            &MilterSettings::default(),
            &[negotiate(), mail(&["<>"]), rcpt(address, mailer)],
        );
        assert_eq!(
            out,
            [
                negotiated(),
                CONTINUE.to_vec(),
                reply_code("550 5.1.1 Invalid SRS address")
            ]
            .concat(),
            "{address}"
        );
    }
}

#[test]
fn a_bounce_to_a_valid_srs_address_goes_to_the_original_sender() {
    let (out, _) = converse(
        &MilterSettings::default(),
        &[
            negotiate(),
            mail(&["<>"]),
            [
                {
                    let mut m = vec![b'R'];
                    m.extend(z(&["{rcpt_mailer}", "local"]));
                    packet(b'D', &m)
                },
                packet(b'R', &z(&[&format!("<{ALICE}>"), "NOTIFY=NEVER"])),
            ]
            .concat(),
            packet(b'T', b""),
            packet(b'E', b""),
        ],
    );
    assert_eq!(
        out,
        [
            negotiated(),
            [CONTINUE; 3].concat(),
            packet(b'-', &z(&[&format!("<{ALICE}>")])),
            packet(b'2', &z(&["<alice@origin.example>", "NOTIFY=NEVER"])),
            CONTINUE.to_vec(),
        ]
        .concat()
    );
}

/// An SRS address signed at a local domain (`srs-domain-from recipient`)
/// is reversed like one at the SRS domain; a forged one there is refused.
#[test]
fn a_bounce_to_an_srs_address_at_a_local_domain_is_reversed() {
    let signed = signed_at("alice@origin.example", "local.example");
    let (out, _) = converse(
        &MilterSettings::default(),
        &[
            negotiate(),
            mail(&["<>"]),
            rcpt(&format!("<{signed}>"), "local"),
            packet(b'E', b""),
        ],
    );
    assert_eq!(
        out,
        [
            negotiated(),
            [CONTINUE; 2].concat(),
            packet(b'-', &z(&[&format!("<{signed}>")])),
            packet(b'2', &z(&["<alice@origin.example>", ""])),
            CONTINUE.to_vec()
        ]
        .concat()
    );
    let forged = format!("SRS0=AAAA{}", &signed[9..]);
    let settings = MilterSettings::default();
    let (out, _) = converse(
        &settings,
        &[
            negotiate(),
            mail(&["<>"]),
            rcpt(&format!("<{forged}>"), "local"),
        ],
    );
    assert_eq!(
        out,
        [
            negotiated(),
            CONTINUE.to_vec(),
            reply_code(&settings.reject_invalid)
        ]
        .concat()
    );
}

#[test]
fn the_rcpt_policy_refuses_at_rcpt() {
    let settings = MilterSettings {
        bounce_policy: BouncePolicy::Rcpt,
        ..MilterSettings::default()
    };
    let (out, _) = converse(
        &settings,
        &[
            negotiate(),
            mail(&["<>"]),
            rcpt("<bob@fwd.example>", "local"),
        ],
    );
    assert_eq!(
        out,
        [
            negotiated(),
            CONTINUE.to_vec(),
            reply_code(&settings.reject_bounce)
        ]
        .concat()
    );
}

/// Under the defaults (bounce-policy off) a genuine bounce to a local user,
/// whose sender was never signed, is taken.
#[test]
fn a_bounce_to_a_local_user_passes_under_the_defaults() {
    let (out, _) = converse(
        &MilterSettings::default(),
        &[
            negotiate(),
            mail(&["<>"]),
            rcpt("<bob@fwd.example>", "local"),
            packet(b'T', b""),
            packet(b'E', b""),
        ],
    );
    assert_eq!(out, [negotiated(), [CONTINUE; 4].concat()].concat());
}

/// Another forwarder's domain form is not ours to check: it passes, as any
/// remote recipient does.
#[test]
fn another_forwarders_domain_form_passes() {
    let (out, _) = converse(
        &MilterSettings::default(),
        &[
            negotiate(),
            mail(&["<carol@origin.example>"]),
            rcpt(
                "<alice@jmcaaaaaaaaaaaaa.origin.example.srs0.other.example>",
                "esmtp",
            ),
        ],
    );
    assert_eq!(
        out,
        [negotiated(), CONTINUE.to_vec(), CONTINUE.to_vec()].concat()
    );
}
