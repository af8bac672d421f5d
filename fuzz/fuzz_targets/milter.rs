//! Milter input never panics, never consumes more than it got, and what
//! comes back is whole packets: a 4-byte length, then that many bytes.
#![no_main]

#[path = "protocol_common.rs"]
mod common;

use libfuzzer_sys::fuzz_target;
use mail_srs::protocol::milter::{MilterSession, MilterSettings};

fuzz_target!(|data: &[u8]| {
    common::with_lookup(|lookup| {
        for rewrite_to in [false, true] {
            let settings = MilterSettings { rewrite_to, ..MilterSettings::default() };
            let mut out = Vec::new();
            let p = MilterSession::default().serve(data, lookup, &settings, &mut out);
            assert!(p.consumed <= data.len());
            let mut rest = &out[..];
            while !rest.is_empty() {
                let len = u32::from_be_bytes(rest[..4].try_into().unwrap()) as usize;
                assert!(len >= 1 && rest.len() >= 4 + len, "cut packet in {out:?}");
                rest = &rest[4 + len..];
            }
        }
    });
});
