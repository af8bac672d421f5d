//! The domain form (`local@<sig>.host.srs0.domain`): round trips in both
//! forms and through a second forwarder, tampering with any label, the age
//! check, and the label and length limits that send forward back to the
//! local form.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use mail_srs::srs::{AddressForm, Forwarded, Options, ReverseError, Srs};
use proptest::prelude::*;

/// Day 20780 (stamp JM).
const NOW: u64 = 1_795_435_200;
const DAY: u64 = 86_400;

fn now() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(NOW)
}

fn codec(secret: &str, form: AddressForm, local: &[&str]) -> Srs {
    Srs::new(
        &[secret],
        Options {
            address_form: form,
            local_domains: local.iter().map(|d| d.to_string()).collect(),
            ..Options::default()
        },
    )
    .unwrap()
}

fn forward(srs: &Srs, sender: &str, alias: &str, at: SystemTime) -> String {
    match srs.forward(sender, alias, at).unwrap() {
        Forwarded::Rewritten(a) => a,
        other => panic!("{sender}: {other:?}"),
    }
}

const LOCAL: &str = "[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]{1,40}";
const HOST: &str = "([a-z0-9-]{1,12}\\.){0,4}[a-z]{2,6}\\.test";

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    #[test]
    fn domain_form_round_trips_through_one_and_two_forwarders(local in LOCAL, host in HOST) {
        let sender = format!("{local}@{host}");
        let first = codec("first", AddressForm::Domain, &[]);
        let a = forward(&first, &sender, "fwd.example", now());
        let (l, d) = a.rsplit_once('@').unwrap();
        prop_assert_eq!(l, local.as_str());
        prop_assert!(d.ends_with(&format!(".{host}.srs0.fwd.example")), "{}", a);
        prop_assert_eq!(first.reverse(&a, now()).unwrap(), sender.clone());
        // A second forwarder wraps it as SRS1, and reverses to the first's.
        let second = codec("second", AddressForm::Domain, &[]);
        let b = forward(&second, &a, "hop2.example", now());
        prop_assert!(b.ends_with(".srs1.hop2.example"), "{}", b);
        prop_assert_eq!(second.reverse(&b, now()).unwrap(), a.clone());
        // A host holding both keys and both domains goes straight back.
        let both = Srs::new(
            &["second", "first"],
            Options {
                local_domains: vec!["fwd.example".into(), "hop2.example".into()],
                ..Options::default()
            },
        )
        .unwrap();
        prop_assert_eq!(both.reverse(&b, now()).unwrap(), sender);
    }

    #[test]
    fn changing_any_label_character_is_refused(local in LOCAL, host in HOST, at in 0usize..200, to in "[a-z2-7]") {
        let srs = codec("k", AddressForm::Domain, &[]);
        let a = forward(&srs, &format!("{local}@{host}"), "fwd.example", now());
        let (l, d) = a.rsplit_once('@').unwrap();
        let signed_part = &d[..d.len() - ".srs0.fwd.example".len()];
        let at = at % signed_part.len();
        let mut tampered: Vec<u8> = d.as_bytes().to_vec();
        if tampered[at] == b'.' || tampered[at].eq_ignore_ascii_case(&to.as_bytes()[0]) {
            return Ok(());
        }
        tampered[at] = to.as_bytes()[0];
        let tampered = format!("{l}@{}", String::from_utf8(tampered).unwrap());
        let result = srs.reverse(&tampered, now());
        prop_assert!(result.is_err(), "{} reversed to {:?}", tampered, result);
    }
}

#[test]
fn case_changes_do_not_matter_and_the_local_part_is_signed() {
    let srs = codec("k", AddressForm::Domain, &[]);
    let a = forward(&srs, "Alice@Mail.Origin.Example", "fwd.example", now());
    let (l, d) = a.rsplit_once('@').unwrap();
    assert_eq!(
        srs.reverse(&format!("{l}@{}", d.to_ascii_uppercase()), now()),
        Ok("Alice@MAIL.ORIGIN.EXAMPLE".to_owned())
    );
    assert_eq!(
        srs.reverse(&format!("mallory@{d}"), now()),
        Err(ReverseError::BadHash)
    );
}

#[test]
fn age_is_checked_as_in_the_local_form() {
    let srs = codec("k", AddressForm::Domain, &[]);
    let old = forward(
        &srs,
        "a@b.example",
        "fwd.example",
        now() - Duration::from_secs(22 * DAY),
    );
    assert_eq!(
        srs.reverse(&old, now()),
        Err(ReverseError::Expired {
            age: 22,
            max_age: 21
        })
    );
    let last_day = forward(
        &srs,
        "a@b.example",
        "fwd.example",
        now() - Duration::from_secs(21 * DAY),
    );
    assert_eq!(srs.reverse(&last_day, now()), Ok("a@b.example".to_owned()));
    let future = forward(
        &srs,
        "a@b.example",
        "fwd.example",
        now() + Duration::from_secs(2 * DAY),
    );
    assert_eq!(srs.reverse(&future, now()), Err(ReverseError::Future));
}

#[test]
fn auto_uses_the_domain_form_only_for_long_senders() {
    let srs = codec("k", AddressForm::Auto, &[]);
    // A 40-character local part makes a 77-character SRS local part.
    let uuid = "0f8fad5b-d9cb-469f-a165-70867728950e-bulk";
    let long = forward(&srs, &format!("{uuid}@bulk.example"), "fwd.example", now());
    assert!(
        long.starts_with(&format!("{uuid}@")) && long.ends_with(".bulk.example.srs0.fwd.example"),
        "{long}"
    );
    assert!(long.rsplit_once('@').unwrap().0.len() <= 64);
    let short = forward(&srs, "alice@origin.example", "fwd.example", now());
    assert!(short.starts_with("SRS0="), "{short}");
    // Our own domain form is not signed again.
    assert_eq!(
        srs.forward(&long, "fwd.example", now()),
        Ok(Forwarded::Unchanged(mail_srs::srs::Unchanged::AlreadyOurs))
    );
}

#[test]
fn what_cannot_be_written_falls_back_to_the_local_form() {
    let srs = codec("k", AddressForm::Domain, &[]);
    // Over 253 characters in all.
    let host = format!("{}.example", vec!["a".repeat(60); 4].join("."));
    let a = forward(&srs, &format!("x@{host}"), "fwd.example", now());
    assert!(a.starts_with("SRS0="), "{a}");
    // A label over 63 characters cannot come from DNS, but is refused too.
    let a = forward(
        &srs,
        &format!("x@{}.example", "d".repeat(64)),
        "fwd.example",
        now(),
    );
    assert!(a.starts_with("SRS0="), "{a}");
    // More than 31 labels.
    let host = format!("{}example", "a.".repeat(31));
    let a = forward(&srs, &format!("x@{host}"), "fwd.example", now());
    assert!(a.starts_with("SRS0="), "{a}");
    // Just inside the limits: 253 characters.
    let alias = "fwd.example";
    let room = 253 - (16 + 1) - (".srs0.".len() + alias.len());
    // Three labels of 63, then what is left.
    let host = format!("{0}.{0}.{0}.{1}", "b".repeat(63), "c".repeat(room - 3 * 64));
    let a = forward(&srs, &format!("x@{host}"), alias, now());
    assert_eq!(a.rsplit_once('@').unwrap().1.len(), 253, "{a}");
    assert_eq!(srs.reverse(&a, now()), Ok(format!("x@{host}")));
}

#[test]
fn a_quoted_local_part_stays_quoted() {
    let srs = codec("k", AddressForm::Domain, &[]);
    let a = forward(&srs, "\"john doe\"@origin.example", "fwd.example", now());
    assert!(a.starts_with("\"john doe\"@"), "{a}");
    assert_eq!(
        srs.reverse(&a, now()),
        Ok("\"john doe\"@origin.example".to_owned())
    );
}

#[test]
fn explain_names_the_domain_form() {
    let old = codec("old", AddressForm::Domain, &[]);
    let a = forward(
        &old,
        "a@b.example",
        "fwd.example",
        now() - Duration::from_secs(3 * DAY),
    );
    let both = Srs::new(&["new", "old"], Options::default()).unwrap();
    let e = both
        .explain(mail_srs::srs::Form::External, &a, now())
        .unwrap();
    assert_eq!(
        (
            e.tag,
            e.secret,
            e.hash_length,
            e.age,
            e.days_left,
            e.original.as_str()
        ),
        ("SRS0, domain form", 2, 13, Some(3), Some(18), "a@b.example")
    );
}
