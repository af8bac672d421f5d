//! srsrelay's session never panics, never consumes more than it got, and
//! what it sends the client is whole CRLF-ended lines. The input is split at
//! NUL bytes into turns, client and upstream in alternation; the first byte
//! picks the side and LMTP.
#![no_main]

#[path = "protocol_common.rs"]
mod common;

use libfuzzer_sys::fuzz_target;
use mail_srs::protocol::relay::{RelaySession, RelaySettings, Side};

fuzz_target!(|data: &[u8]| {
    let Some((&first, rest)) = data.split_first() else {
        return;
    };
    let side = if first & 1 == 0 { Side::Pack } else { Side::Unpack };
    let settings = RelaySettings {
        domains: vec!["fwd.example".into(), "other.example".into()],
        lmtp: first & 2 != 0,
        ..RelaySettings::default()
    };
    common::with_lookup(|lookup| {
        let mut session = RelaySession::new(side);
        let (mut held_client, mut held_upstream) = (Vec::new(), Vec::new());
        let (mut client, mut upstream) = (Vec::new(), Vec::new());
        for (turn, bytes) in rest.split(|&b| b == 0).enumerate() {
            if turn % 2 == 0 {
                held_client.extend_from_slice(bytes);
            } else {
                held_upstream.extend_from_slice(bytes);
                let s = session.from_upstream(&held_upstream, settings.lmtp, &mut client);
                assert!(s.consumed <= held_upstream.len());
                held_upstream.drain(..s.consumed);
                if s.close {
                    break;
                }
            }
            let s = session.from_client(&held_client, lookup, &settings, &mut client, &mut upstream);
            assert!(s.consumed <= held_client.len());
            held_client.drain(..s.consumed);
        }
        assert!(client.is_empty() || client.ends_with(b"\r\n") || client.ends_with(b"\n"), "{client:?}");
    });
});
