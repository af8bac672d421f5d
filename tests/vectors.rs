//! Every vector from the real Mail::SRS, pysrs and postsrsd, through the library.

mod common;

use mail_srs::Srs;

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
            (None, Err(_)) => true,
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
