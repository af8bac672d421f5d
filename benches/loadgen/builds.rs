//! Two builds side by side: `--only startup` (srs as a whole process against /bin/true) and `--baseline` (srsd's socketmap server CPU against another srsd).

use super::*;

/// `--only startup`: one address through `srs` as a whole process, beside
/// `/bin/true` (and `--baseline-srs PATH`, another build), 2000 runs each
/// in interleaved rounds of 100; the mean wall time per run and its ratio
/// to `/bin/true`.
pub fn startup(keys: &Path, srs: Option<&str>, baseline: Option<&str>) {
    let srs = srs.unwrap_or(env!("CARGO_BIN_EXE_srs"));
    let mut programs: Vec<(&str, Vec<String>)> = vec![
        ("/bin/true", vec![]),
        (
            srs,
            [
                "-k",
                &keys.display().to_string(),
                "forward",
                "-a",
                "fwd.example",
                "alice@origin.example",
            ]
            .map(String::from)
            .to_vec(),
        ),
    ];
    if let Some(b) = baseline {
        let args = programs[1].1.clone();
        programs.push((b, args));
    }
    let mut total = vec![Duration::ZERO; programs.len()];
    const ROUNDS: usize = 20;
    const RUNS: usize = 100;
    for _ in 0..ROUNDS {
        for (i, (program, args)) in programs.iter().enumerate() {
            let t = Instant::now();
            for _ in 0..RUNS {
                let status = Command::new(program)
                    .args(args)
                    .stdout(Stdio::null())
                    .status()
                    .unwrap();
                assert!(status.success(), "{program} failed");
            }
            total[i] += t.elapsed();
        }
    }
    let per = |d: Duration| d.as_secs_f64() * 1e6 / (ROUNDS * RUNS) as f64;
    let base = per(total[0]);
    println!(
        "{} runs each, interleaved; wall time per run",
        ROUNDS * RUNS
    );
    for ((program, _), t) in programs.iter().zip(&total) {
        println!(
            "{:<40} {:>8.0} µs {:>6.2}x",
            program,
            per(*t),
            per(*t) / base
        );
    }
}

/// `--baseline PATH`: this srsd against another build of it, socketmap at
/// 8 clients, forward and reverse, in five interleaved rounds each (this,
/// then that, five times), so that both see the same machine; the median
/// server CPU per request of each, and their ratio.
pub fn compare(srsd: &str, baseline: &str, keys: &Path, dir: &Path, seconds: f64, address: &str) {
    let start = |name: &str, bin: &str| {
        let path = dir.join(format!("{name}.sock"));
        spawn(
            name,
            Proto::Socketmap,
            Addr::Unix(path.clone()),
            Command::new(bin)
                .args(["-d", "fwd.example", "-k"])
                .arg(keys)
                .arg("--listen")
                .arg(format!("socketmap=unix:{}", path.display()))
                .args(["--log-level", "error"]),
        )
    };
    let servers = [start("this", srsd), start("baseline", baseline)];
    println!(
        "{seconds} s per round, 8 clients, socketmap; server CPU per request (median of 5 rounds)"
    );
    println!(
        "{:<8} {:>12} {:>12} {:>7}",
        "map", "this µs", "baseline µs", "ratio"
    );
    for (map, key, expect) in [
        ("forward", "alice@origin.example", "@fwd.example"),
        ("reverse", address, "alice@origin.example"),
    ] {
        let mut req = Vec::new();
        netstring::encode(&mut req, format!("{map} {key}").as_bytes());
        let mut cpu = [Vec::new(), Vec::new()];
        for _ in 0..5 {
            for (i, s) in servers.iter().enumerate() {
                cpu[i].push(measure_request(s, &req, expect, 8, seconds).cpu_per_req);
            }
        }
        let median = |v: &mut Vec<f64>| {
            v.sort_by(f64::total_cmp);
            v[v.len() / 2]
        };
        let (this, base) = (median(&mut cpu[0]), median(&mut cpu[1]));
        println!("{map:<8} {this:>12.2} {base:>12.2} {:>6.3}x", this / base);
    }
}
