//! The codec against the SPEC's examples and its edge cases.

use super::*;
use std::time::{Duration, UNIX_EPOCH};

fn day_20780() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_795_435_200)
}

#[test]
fn spec_example_srs1_hash() {
    // SPEC section 1: SRS0=KkCV=... via hop2.example with secret mysecret.
    let srs = Srs::new(&[b"mysecret"], Options::default()).unwrap();
    let mut out = String::new();
    srs.push_hash(
        &mut out,
        &[b"fwd.example", b"=KkCV=JM=Orig.Example.com=user"],
    );
    assert_eq!(out, "jjkt");
    let sent = "SRS1=jjkt=fwd.example==KkCV=JM=Orig.Example.com=user@hop2.example";
    let srs_at_fwd = Srs::new(
        &[b"mysecret"],
        Options {
            local_domains: vec!["fwd.example".into()],
            ..Options::default()
        },
    )
    .unwrap();
    // Both hops are ours: reverse goes all the way back.
    assert_eq!(
        srs_at_fwd.reverse(sent, day_20780()).unwrap(),
        "user@Orig.Example.com"
    );
    // Otherwise it stops at the first hop.
    assert_eq!(
        srs.reverse(sent, day_20780()).unwrap(),
        "SRS0=KkCV=JM=Orig.Example.com=user@fwd.example"
    );
}

#[test]
fn internal_form_is_never_quoted() {
    let srs = Srs::new(&[b"s3cret"], Options::default()).unwrap();
    let f = srs
        .forward_in(
            Form::Internal,
            "john doe@origin.example",
            "fwd.example",
            day_20780(),
        )
        .unwrap();
    let Forwarded::Rewritten(a) = f else {
        panic!("{f:?}")
    };
    assert_eq!(a, "SRS0=l1Sz=JM=origin.example=john doe@fwd.example");
    assert_eq!(
        srs.reverse_in(Form::Internal, &a, day_20780()).unwrap(),
        "john doe@origin.example"
    );
}

#[test]
fn reverse_loop_is_bounded() {
    // An SRS1 whose first hop is ours, wrapping an SRS0 that is also ours.
    let opts = Options {
        local_domains: vec!["a.example".into()],
        ..Options::default()
    };
    let srs = Srs::new(&[b"k"], opts).unwrap();
    let now = day_20780();
    let Forwarded::Rewritten(inner) = srs.forward("x@o.example", "a.example", now).unwrap() else {
        panic!()
    };
    assert_eq!(srs.reverse(&inner, now).unwrap(), "x@o.example");
}

#[test]
fn a_domain_with_equals_is_refused() {
    // Signed, "x@evil=" would reverse to "=x@evil" with a valid hash: the
    // hash input has no delimiters, and "evil=" + "x" is "evil" + "=x".
    // ("x@evil=y" would not: "evil=y" + "x" differs from "evil" + "y=x".)
    let srs = Srs::new(&[b"k"], Options::default()).unwrap();
    for sender in ["x@evil=", "x@evil=y", "x@SRS1="] {
        assert_eq!(
            srs.forward(sender, "fwd.example", day_20780()),
            Err(ForwardError::EqualsInHost),
            "{sender}"
        );
    }
}

#[test]
fn local_domain_entries() {
    assert!(domain_matches("mail.corp.example", ".corp.example"));
    assert!(!domain_matches("corp.example", ".corp.example"));
    assert!(!domain_matches("xcorp.example", ".corp.example"));
    assert!(domain_matches("CORP.example.", "corp.example"));
}

/// Reverse following SRS addresses back through our own domains.
mod rounds {

    use super::*;

    /// `address` wrapped in one more SRS0 layer at fwd.example, signed with
    /// `srs`'s first key (forward itself never wraps our own addresses).
    fn wrap(srs: &Srs, address: &str, now: SystemTime) -> String {
        let (local, host) = address.rsplit_once('@').unwrap();
        let stamp = Day::of(now).encode();
        let mut out = String::from("SRS0=");
        srs.push_hash(&mut out, &[&stamp, host.as_bytes(), local.as_bytes()]);
        out.push('=');
        out.extend(stamp.map(char::from));
        out.push_str(&format!("={host}={local}@fwd.example"));
        out
    }

    #[test]
    fn reverse_stops_after_max_rounds() {
        let now = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_795_435_200);
        let options = Options {
            local_domains: vec!["fwd.example".into()],
            ..Options::default()
        };
        let srs = Srs::new(&[b"k"], options).unwrap();
        let mut address = "x@o.example".to_owned();
        for _ in 0..MAX_ROUNDS {
            address = wrap(&srs, &address, now);
        }
        // MAX_ROUNDS layers reverse fully.
        assert_eq!(srs.reverse(&address, now).as_deref(), Ok("x@o.example"));
        // One more is refused, naming the limit.
        let deeper = wrap(&srs, &address, now);
        assert_eq!(srs.reverse(&deeper, now), Err(ReverseError::TooManyRounds));
        assert_eq!(
            ReverseError::TooManyRounds.to_string(),
            "still an SRS address at one of our domains after 8 rounds"
        );
    }
}

proptest::proptest! {
    /// The one-pass check of a sender's bytes agrees with the character
    /// checks on every sender that splits, in both forms.
    #[test]
    fn check_sender_fast_path_agrees(
        sender in "[a-z.]{0,5}[\"\\\\ =<>(),;@\u{1}\u{7f}\u{85}\u{a0}é\t]?[a-z.]{0,4}@[a-z.]{0,5}[\"\\\\ =<>(),;@\u{1}\u{7f}\u{85}\u{a0}é\t]?[a-z.]{0,4}"
    ) {
        for form in [Form::External, Form::Internal] {
            if let Ok(parts) = address::split(&sender, form) {
                proptest::prop_assert_eq!(
                    check_sender(&sender, &parts, form),
                    check_sender_closely(&sender, &parts, form)
                );
            }
        }
    }
}
