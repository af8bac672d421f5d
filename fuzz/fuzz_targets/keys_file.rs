//! Keys-file parsing never panics and never yields a blank or comment secret.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mail_srs::secrets::{LineEnds, parse};

fuzz_target!(|data: &[u8]| {
    for ends in [LineEnds::Strip, LineEnds::KeepPerl] {
        for secret in parse(data, ends).0 {
            assert!(!secret.is_empty() && secret[0] != b'#');
        }
    }
});
