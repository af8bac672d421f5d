//! Forward and reverse in-process, with one and with three secrets.
//!
//! Run: `cargo bench --bench codec`

use std::hint::black_box;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use criterion::{Criterion, criterion_group, criterion_main};
use mail_srs::srs::{Forwarded, Options, Srs};

fn now() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_795_435_200)
}

fn codec(c: &mut Criterion) {
    let one = Srs::new(&[b"s3cret".as_slice()], Options::default()).unwrap();
    let three = Srs::new(
        &[b"newest".as_slice(), b"middle", b"s3cret"],
        Options::default(),
    )
    .unwrap();
    let sender = "alice.smith@origin.example";
    let Forwarded::Rewritten(by_first) = one.forward(sender, "fwd.example", now()).unwrap() else {
        unreachable!()
    };
    let Forwarded::Rewritten(by_newest) = three.forward(sender, "fwd.example", now()).unwrap()
    else {
        unreachable!()
    };

    c.bench_function("forward/1-secret", |b| {
        b.iter(|| one.forward(black_box(sender), black_box("fwd.example"), now()))
    });
    c.bench_function("forward/3-secrets", |b| {
        b.iter(|| three.forward(black_box(sender), black_box("fwd.example"), now()))
    });
    c.bench_function("forward/srs1", |b| {
        b.iter(|| {
            one.forward(
                black_box("SRS0=xyzw=JM=orig.example=bob@relay.example"),
                "fwd.example",
                now(),
            )
        })
    });
    c.bench_function("reverse/1-secret", |b| {
        b.iter(|| one.reverse(black_box(&by_first), now()))
    });
    c.bench_function("reverse/3-secrets-signed-by-first", |b| {
        b.iter(|| three.reverse(black_box(&by_newest), now()))
    });
    c.bench_function("reverse/3-secrets-signed-by-last", |b| {
        b.iter(|| three.reverse(black_box(&by_first), now()))
    });
    c.bench_function("reverse/3-secrets-forged", |b| {
        b.iter(|| {
            three.reverse(
                black_box("SRS0=AAAA=JM=origin.example=alice.smith@fwd.example"),
                now(),
            )
        })
    });
}

criterion_group!(benches, codec);
criterion_main!(benches);
