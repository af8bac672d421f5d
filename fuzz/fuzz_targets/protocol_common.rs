// Shared by the protocol targets: a codec and a fixed clock.
use std::time::{Duration, UNIX_EPOCH};

use mail_srs::engine::Rewriter;
use mail_srs::srs::{Options, Srs};

pub fn with_lookup(f: impl FnOnce(&Rewriter<'_>)) {
    let srs = Srs::new(
        &[b"fuzz".as_slice()],
        Options { local_domains: vec!["local.example".into()], ..Options::default() },
    )
    .expect("valid options");
    let lookup = Rewriter::new(&srs, "fwd.example", UNIX_EPOCH + Duration::from_secs(1_795_435_200));
    f(&lookup);
}
