//! Forward of arbitrary input never panics, and an SRS0 address it makes
//! reverses to the sender's domain.
#![no_main]

use std::time::{Duration, UNIX_EPOCH};

use libfuzzer_sys::fuzz_target;
use mail_srs::srs::{Form, Forwarded, Options, Srs};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let now = UNIX_EPOCH + Duration::from_secs(1_795_435_200);
    let srs = Srs::new(&[b"fuzz".as_slice()], Options::default()).expect("valid options");
    for form in [Form::External, Form::Internal] {
        if let Ok(Forwarded::Rewritten(a)) = srs.forward_in(form, &text, "fwd.example", now) {
            // Quoting may be normalised on the way back, so compare domains.
            let srs1 = a.trim_start_matches('"').starts_with("SRS1");
            if let (Ok(back), false) = (srs.reverse_in(form, &a, now), srs1) {
                assert_eq!(back.rsplit('@').next(), text.rsplit('@').next(), "{text:?} -> {a:?}");
            }
        }
    }
});
