//! Line-protocol input never panics and never consumes more than it got.
#![no_main]

#[path = "protocol_common.rs"]
mod common;

use libfuzzer_sys::fuzz_target;
use mail_srs::protocol::line;

fuzz_target!(|data: &[u8]| {
    common::with_lookup(|lookup| {
        for keep_alive in [false, true] {
            let mut out = Vec::new();
            let p = line::serve(data, lookup, keep_alive, &mut out);
            assert!(p.consumed <= data.len());
        }
    });
});
