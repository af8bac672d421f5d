//! Reverse of arbitrary input, in both address forms, never panics; when it
//! succeeds on an SRS0 address, the hash it accepted was really ours: an
//! independent HMAC of the outer layer's fields, with one of our secrets,
//! starts with that hash (ignoring case and the base64 alphabet).
#![no_main]

use std::time::{Duration, UNIX_EPOCH};

use base64::Engine;
use hmac::{Hmac, KeyInit, Mac};
use libfuzzer_sys::fuzz_target;
use mail_srs::srs::{Form, Options, Srs};

const SECRETS: [&[u8]; 2] = [b"fuzz", b"older"];

/// Case and alphabet folded, as SRS compares hashes.
fn fold(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '-' => '+',
            '_' => '/',
            c => c.to_ascii_lowercase(),
        })
        .collect()
}

/// Whether `hash` is a prefix of the HMAC of `fields` with one of SECRETS.
fn signed_by_us(hash: &str, fields: [&str; 3]) -> bool {
    SECRETS.iter().any(|secret| {
        let mut mac = <Hmac<sha1::Sha1> as KeyInit>::new_from_slice(secret).unwrap();
        for f in fields {
            mac.update(f.to_ascii_lowercase().as_bytes());
        }
        let full = base64::engine::general_purpose::STANDARD_NO_PAD.encode(mac.finalize().into_bytes());
        !hash.is_empty() && fold(&full).starts_with(&fold(hash))
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((&day, rest)) = data.split_first() else { return };
    let text = String::from_utf8_lossy(rest);
    let now = UNIX_EPOCH + Duration::from_secs(u64::from(day) * 86_400 * 4);
    let opts = Options {
        local_domains: vec!["fwd.example".into(), ".corp.example".into()],
        hash_min: Some(1),
        ..Options::default()
    };
    let srs = Srs::new(&SECRETS, opts).expect("valid options");
    for form in [Form::External, Form::Internal] {
        let Ok(_) = srs.reverse_in(form, &text, now) else { continue };
        // Check the outer SRS0 layer of an unquoted address.
        let Some((local, _)) = text.rsplit_once('@') else { continue };
        let (Some(tag), Some(after)) = (local.get(..4), local.get(5..)) else { continue };
        if local.contains('"') || !tag.eq_ignore_ascii_case("srs0") {
            continue;
        }
        let mut fields = after.splitn(4, '=');
        let (Some(hash), Some(tt), Some(host), Some(orig)) =
            (fields.next(), fields.next(), fields.next(), fields.next())
        else {
            panic!("reverse accepted an SRS0 address without four fields: {text:?}");
        };
        assert!(signed_by_us(hash, [tt, host, orig]), "accepted a hash we did not make: {text:?}");
    }
});
