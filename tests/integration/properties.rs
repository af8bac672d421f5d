//! Properties of the codec over generated input.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use mail_srs::srs::{Form, Forwarded, HashAlphabet, Options, Separator, Srs};
use proptest::prelude::*;

fn separator() -> impl Strategy<Value = Separator> {
    prop_oneof![
        Just(Separator::Equals),
        Just(Separator::Plus),
        Just(Separator::Minus)
    ]
}

fn alphabet() -> impl Strategy<Value = HashAlphabet> {
    prop_oneof![Just(HashAlphabet::Standard), Just(HashAlphabet::Url)]
}

/// A time between 1970 and 2106.
fn time() -> impl Strategy<Value = SystemTime> {
    (0u64..u64::from(u32::MAX)).prop_map(|s| UNIX_EPOCH + Duration::from_secs(s))
}

/// Local parts as senders write them: atext, dots, and the separators SRS uses.
const LOCAL: &str = "[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]{1,40}";
/// Hosts that are never the alias domain.
const HOST: &str = "([a-zA-Z0-9-]{1,12}\\.){0,3}[a-z]{2,6}\\.test";

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn forward_then_reverse_gives_the_sender_back(
        local in LOCAL,
        host in HOST,
        secrets in prop::collection::vec(prop::collection::vec(any::<u8>(), 1..48), 1..4),
        sep in separator(),
        hash_length in 1usize..=27,
        alpha in alphabet(),
        now in time(),
        later in 0u64..=21,
    ) {
        prop_assume!(!local.to_ascii_lowercase().starts_with("srs"));
        let opts = Options { separator: sep, hash_length, alphabet: alpha, ..Options::default() };
        let srs = Srs::new(&secrets, opts).unwrap();
        let sender = format!("{local}@{host}");
        let Forwarded::Rewritten(srs_address) = srs.forward(&sender, "fwd.example", now).unwrap() else {
            panic!("{sender} was not rewritten");
        };
        prop_assert!(srs_address.ends_with("@fwd.example"));
        let then = now + Duration::from_secs(later * 86_400);
        prop_assert_eq!(srs.reverse(&srs_address, then).unwrap(), sender.clone());
        // Mail systems may smash case; the hash still checks out.
        let lowered = srs.reverse(&srs_address.to_ascii_lowercase(), then).unwrap();
        prop_assert_eq!(lowered, sender.to_ascii_lowercase());
        // A rotated-in key signs, the old one still verifies.
        let mut rotated = vec![b"new key".to_vec()];
        rotated.extend(secrets.iter().cloned());
        let after_rotation = Srs::new(&rotated, srs.options().clone()).unwrap();
        prop_assert_eq!(after_rotation.reverse(&srs_address, then).unwrap(), sender);
    }

    #[test]
    fn quoted_and_internal_forms_round_trip(
        words in prop::collection::vec("[a-z\"\\\\@ ]{1,8}", 1..4),
        host in HOST,
        now in time(),
    ) {
        let local = words.join(" ");
        let srs = Srs::new(&[b"k"], Options::default()).unwrap();
        // Internal form: literal, split at the last @.
        let sender = format!("{local}@{host}");
        let f = srs.forward_in(Form::Internal, &sender, "fwd.example", now).unwrap();
        let a = f.address(&sender).to_owned();
        prop_assert_eq!(srs.reverse_in(Form::Internal, &a, now).unwrap(), sender.clone());
        // External form: quoted, with escapes.
        let mut quoted = String::from("\"");
        for c in local.chars() {
            if c == '"' || c == '\\' { quoted.push('\\'); }
            quoted.push(c);
        }
        let sender = format!("{quoted}\"@{host}");
        let f = srs.forward(&sender, "fwd.example", now).unwrap();
        let a = f.address(&sender).to_owned();
        prop_assert!(a.starts_with("\"SRS0="));
        prop_assert_eq!(srs.reverse(&a, now).unwrap(), sender);
    }

    #[test]
    fn srs0_from_elsewhere_becomes_srs1_and_back(
        inner in "[A-Za-z0-9+/]{4}=[A-Z2-7]{2}=[a-z]{1,10}\\.test=[a-z]{1,10}",
        sep_in in "[=+-]",
        hop1 in HOST,
        sep in separator(),
        now in time(),
    ) {
        let srs = Srs::new(&[b"k"], Options { separator: sep, ..Options::default() }).unwrap();
        let sender = format!("SRS0{sep_in}{inner}@{hop1}");
        let Forwarded::Rewritten(wrapped) = srs.forward(&sender, "fwd.example", now).unwrap() else {
            panic!("not rewritten");
        };
        let srs1_prefix = format!("SRS1{}", sep.as_char());
        prop_assert!(wrapped.starts_with(&srs1_prefix));
        prop_assert_eq!(srs.reverse(&wrapped, now).unwrap(), sender.clone());
        // Through a second forwarder: still SRS1, same first hop.
        let other = Srs::new(&[b"other"], Options::default()).unwrap();
        let Forwarded::Rewritten(again) = other.forward(&wrapped, "hop3.example", now).unwrap() else {
            panic!("not rewritten");
        };
        prop_assert_eq!(other.reverse(&again, now).unwrap(), sender);
    }

    #[test]
    fn reverse_and_forward_never_panic_on_bytes(bytes in prop::collection::vec(any::<u8>(), 0..200), now in time()) {
        let srs = Srs::new(&[b"k"], Options { local_domains: vec!["x".into()], ..Options::default() }).unwrap();
        let s = String::from_utf8_lossy(&bytes);
        for form in [Form::External, Form::Internal] {
            let _ = srs.reverse_in(form, &s, now);
            let _ = srs.forward_in(form, &s, "fwd.example", now);
        }
    }

    #[test]
    fn reverse_never_panics_on_srs_shaped_input(
        s in "(?i)(\"?srs[01][=+-][A-Za-z0-9+/=_\"\\\\ -]{0,60}\"?@[a-z.=]{0,12}){1,3}",
        now in time(),
    ) {
        let srs = Srs::new(&[b"k"], Options { local_domains: vec!["a".into(), "b.c".into()], hash_min: Some(1), ..Options::default() }).unwrap();
        let _ = srs.reverse(&s, now);
        let _ = srs.forward(&s, "a", now);
    }
}
