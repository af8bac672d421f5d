//! socketmap input never panics, never consumes more than it got, and every
//! reply is a well-formed netstring.
#![no_main]

#[path = "protocol_common.rs"]
mod common;

use libfuzzer_sys::fuzz_target;
use mail_srs::protocol::{netstring, socketmap};

fuzz_target!(|data: &[u8]| {
    common::with_lookup(|lookup| {
        let mut out = Vec::new();
        let p = socketmap::serve(data, lookup, 1000, &mut out);
        assert!(p.consumed <= data.len());
        let mut rest = &out[..];
        while !rest.is_empty() {
            let (_, used) = netstring::decode(rest, 100_000).expect("valid reply").expect("complete reply");
            rest = &rest[used..];
        }
    });
});
