//! tcp_table input never panics; replies are lines with a 200/500 code.
#![no_main]

#[path = "protocol_common.rs"]
mod common;

use libfuzzer_sys::fuzz_target;
use mail_srs::protocol::tcp_table;
use mail_srs::engine::Direction;

fuzz_target!(|data: &[u8]| {
    common::with_lookup(|lookup| {
        for direction in [Direction::Forward, Direction::Reverse] {
            let mut out = Vec::new();
            let p = tcp_table::serve(data, lookup, direction, &mut out);
            assert!(p.consumed <= data.len());
            for line in out.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
                assert!(line.starts_with(b"200 ") || line.starts_with(b"500 "), "{line:?}");
                assert!(line.len() <= tcp_table::MAX_LINE);
            }
        }
    });
});
