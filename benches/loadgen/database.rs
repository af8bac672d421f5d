//! `--only database`: long senders embedded, in SQLite and in Redis, through srsd's socketmap.

use super::*;

/// One socketmap request and its reply payload.
fn socketmap_ask(r: &mut BufReader<Box<dyn Conn>>, request: &str) -> String {
    let mut out = Vec::new();
    netstring::encode(&mut out, request.as_bytes());
    r.get_mut().write_all(&out).unwrap();
    read_reply(Proto::Socketmap, r)
}

/// A database client: forward a new sender, reverse what came back, until
/// `until`; gives the latency of each request in µs.
fn database_client(path: &Path, id: usize, until: Instant) -> Vec<u32> {
    let mut r = BufReader::new(connect(&Addr::Unix(path.to_owned())));
    let mut lat = Vec::with_capacity(1 << 16);
    let mut n = 0u64;
    while Instant::now() < until {
        n += 1;
        let sender = format!("{id}-{n}-0f8fad5b-d9cb-469f-a165-70867728950e@bulk.example");
        let t = Instant::now();
        let signed = socketmap_ask(&mut r, &format!("forward {sender}"));
        lat.push(t.elapsed().as_micros() as u32);
        let signed = signed
            .strip_prefix("OK ")
            .unwrap_or_else(|| panic!("{signed}"));
        let t = Instant::now();
        let back = socketmap_ask(&mut r, &format!("reverse {signed}"));
        lat.push(t.elapsed().as_micros() as u32);
        assert_eq!(back, format!("OK {sender}"));
    }
    lat
}

/// srsd through socketmap with every sender embedded, stored in SQLite, and
/// stored in a private redis-server (when installed): each client forwards
/// a new 50-character sender and reverses the result, so half the requests
/// write and half read. Requests per second, median latency, srsd's CPU
/// per request, and redis-server's, counted apart.
pub fn database_load(srsd: &str, keys: &Path, dir: &Path, seconds: f64, only: Option<&str>) {
    let mut modes: Vec<(String, Vec<String>)> = vec![
        ("embedded".into(), vec![]),
        // A database given but only read (original-envelope embedded):
        // every request still leaves the serving thread, none touches the
        // file. The difference to "embedded" is the cost of that handoff.
        (
            "embedded, database configured".into(),
            vec![
                "--database".into(),
                format!("sqlite:{}", dir.join("idle.db").display()),
            ],
        ),
        (
            "sqlite".into(),
            vec![
                "--original-envelope".into(),
                "database".into(),
                "--database".into(),
                format!("sqlite:{}", dir.join("load.db").display()),
            ],
        ),
    ];
    let mut redis = None;
    if let Some(server) =
        which("/usr/bin/redis-server").filter(|_| only.is_none_or(|o| o == "redis"))
    {
        let port = free_port();
        redis = Some(
            Command::new(server)
                .args([
                    "--port",
                    &port.to_string(),
                    "--bind",
                    "127.0.0.1",
                    "--save",
                    "",
                ])
                .args(["--appendonly", "no"])
                .arg("--dir")
                .arg(dir)
                .stdout(Stdio::null())
                .spawn()
                .unwrap(),
        );
        drop(connect(&Addr::Tcp(port)));
        modes.push((
            "redis".into(),
            vec![
                "--original-envelope".into(),
                "database".into(),
                "--database".into(),
                format!("redis://127.0.0.1:{port}/0"),
            ],
        ));
    }
    modes.retain(|(name, _)| name == "embedded" || only.is_none_or(|o| name == o));
    println!();
    println!(
        "| sender | clients | requests/s | p50 µs | srsd CPU µs/request | redis-server CPU µs/request | x embedded |"
    );
    println!("| --- | ---: | ---: | ---: | ---: | ---: | ---: |");
    let redis_pid = redis.as_ref().map(Child::id);
    let mut embedded = std::collections::HashMap::new();
    for (name, args) in &modes {
        let path = dir.join(format!("db-{name}"));
        let mut child = Command::new(srsd)
            .args(["-d", "fwd.example", "-k"])
            .arg(keys)
            .args(["--listen", &format!("socketmap=unix:{}", path.display())])
            .args(["--log-level", "error"])
            .args(args)
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        drop(connect(&Addr::Unix(path.clone())));
        for clients in [1usize, 8] {
            database_client(&path, 999, Instant::now() + Duration::from_millis(100));
            let cpu0 = process_cpu_us(child.id());
            let peer0 = redis_pid.map(process_cpu_us);
            let start = Instant::now();
            let until = start + Duration::from_secs_f64(seconds);
            let threads: Vec<_> = (0..clients)
                .map(|id| {
                    let path = path.clone();
                    std::thread::spawn(move || database_client(&path, id, until))
                })
                .collect();
            let mut lat: Vec<u32> = threads
                .into_iter()
                .flat_map(|t| t.join().unwrap())
                .collect();
            let elapsed = start.elapsed().as_secs_f64();
            let cpu = process_cpu_us(child.id()) - cpu0;
            let peer = match (redis_pid, peer0) {
                (Some(pid), Some(p0)) if name == "redis" => {
                    format!(
                        "{:.1}",
                        (process_cpu_us(pid) - p0) as f64 / lat.len().max(1) as f64
                    )
                }
                _ => "-".to_owned(),
            };
            lat.sort_unstable();
            let n = lat.len().max(1);
            let rps = lat.len() as f64 / elapsed;
            if name == "embedded" {
                embedded.insert(clients, rps);
            }
            println!(
                "| {name} | {clients} | {rps:.0} | {} | {:.1} | {peer} | {:.2}x |",
                lat[n / 2],
                cpu as f64 / n as f64,
                rps / embedded.get(&clients).copied().unwrap_or(rps)
            );
        }
        let _ = child.kill();
        let _ = child.wait();
    }
    if let Some(mut r) = redis {
        let _ = r.kill();
        let _ = r.wait();
    }
}
