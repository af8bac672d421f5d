//! The configuration file parser never panics, and keys and values come back trimmed.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Ok(entries) = mail_srs::config::parse(&text, std::path::Path::new("fuzz.conf")) {
        for e in entries {
            assert_eq!(e.key, e.key.trim());
            assert_eq!(e.value, e.value.trim());
        }
    }
});
