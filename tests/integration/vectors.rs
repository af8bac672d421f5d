//! Every vector from the real Mail::SRS, pysrs and postsrsd, through the library.

use crate::common;

use mail_srs::Srs;

/// The exact reason for each vector the implementations refuse: the vectors
/// say only that they do, and a refusal for the wrong reason is a bug.
const REFUSALS: &[(&str, &str)] = &[
    ("fwd/sender-empty", "the null sender is never rewritten"),
    ("fwd/sender-empty-local", "empty local part before @"),
    ("fwd/sender-no-at", "no @ in the address"),
    (
        "rev/age-22",
        "expired: made 22 days ago, the maximum age is 21 days",
    ),
    (
        "rev/age-30",
        "expired: made 30 days ago, the maximum age is 21 days",
    ),
    (
        "rev/bad-hash",
        "hash does not match (forged, or signed with a secret we no longer have)",
    ),
    (
        "rev/empty-hash",
        "hash too short: 0 characters, at least 4 required",
    ),
    ("rev/future-1", "timestamp is in the future"),
    ("rev/future-2", "timestamp is in the future"),
    (
        "rev/hl8-hmin8-4chars",
        "hash too short: 4 characters, at least 8 required",
    ),
    ("rev/malformed-at-only", "not an SRS address"),
    ("rev/malformed-empty", "not an SRS address"),
    ("rev/malformed-not-srs", "not an SRS address"),
    ("rev/malformed-srs2", "not an SRS address"),
    ("rev/malformed-tag-only", "not an SRS address"),
    (
        "rev/malformed-tag-sep-only",
        "malformed SRS address: SRS0 needs hash, timestamp, host and local part",
    ),
    (
        "rev/maxage7-age-8",
        "expired: made 8 days ago, the maximum age is 7 days",
    ),
    (
        "rev/rotation-old-secret-dropped",
        "hash does not match (forged, or signed with a secret we no longer have)",
    ),
    (
        "rev/srs1-bad-hash",
        "hash does not match (forged, or signed with a secret we no longer have)",
    ),
    (
        "rev/srs1-hashless-old-format",
        "malformed SRS address: empty first hop or SRS0 part",
    ),
    (
        "rev/too-few-fields",
        "malformed SRS address: SRS0 needs hash, timestamp, host and local part",
    ),
    (
        "rev/ts-empty",
        "malformed SRS address: timestamp is not two base32 characters",
    ),
    (
        "rev/utf8-upper-local-unicode-lowered-hash",
        "hash does not match (forged, or signed with a secret we no longer have)",
    ),
    (
        "xrev/exim-output-to-sha1",
        "hash does not match (forged, or signed with a secret we no longer have)",
    ),
    (
        "xrev/hl28/simple/from-perl-mail-srs+perl-srs-cli",
        "hash length 28 is out of range (1 to 27)",
    ),
];

#[test]
fn every_vector_through_the_library() {
    let vectors = common::vectors();
    assert!(vectors.len() >= 90, "vectors file looks truncated");
    let mut failures = Vec::new();
    for v in &vectors {
        let got = Srs::new(&v.secrets, v.options())
            .map_err(|e| e.to_string())
            .and_then(|srs| match v.op.as_str() {
                "forward" => srs
                    .forward(&v.input, &v.alias, v.now())
                    .map(|f| f.address(&v.input).to_owned())
                    .map_err(|e| e.to_string()),
                "reverse" => srs.reverse(&v.input, v.now()).map_err(|e| e.to_string()),
                op => panic!("unknown op {op}"),
            });
        let ok = match (&v.expect, &got) {
            (Some(want), Ok(have)) => want == have,
            (None, Err(reason)) => {
                let want = REFUSALS
                    .iter()
                    .find(|(case, _)| *case == v.case)
                    .map(|(_, r)| *r);
                want == Some(reason.as_str())
            }
            _ => false,
        };
        if !ok {
            failures.push(format!(
                "{}: input {:?}: want {:?}, got {:?}",
                v.case, v.input, v.expect, got
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} vectors failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
