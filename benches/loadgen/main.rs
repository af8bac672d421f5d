//! Load generator for srsd, side by side with an echo server speaking the same
//! protocol (the ceiling on this machine), postsrsd 1.10 (tcp_table) and Perl
//! srsd (line protocol), at several numbers of keep-alive clients; then ten
//! thousand idle connections held and each still answered.
//!
//! Then srsd's milter: whole transactions from 8 sessions, reported per
//! transaction. `--only database`: long senders embedded, in SQLite and in
//! Redis.
//!
//! Run: `cargo bench --bench loadgen` (options after `--`: `--seconds N`,
//! `--clients 1,8,64`, `--idle N`, `--only milter|database`, and with
//! `database`, `--mode sqlite|redis` for that mode beside embedded;
//! `--baseline PATH` compares this srsd with another build, interleaved;
//! `--only startup` times one address through `srs` as a whole process
//! against `/bin/true`, `--baseline-srs PATH` beside it, and `--srs PATH`
//! (such as the static build of scripts/build.sh) in place of this one;
//! `--srsd PATH` measures another build of srsd instead of this one).
//! Everything runs on loopback and Unix
//! sockets, each measurement for a bounded time, and every server it starts
//! is stopped at the end.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use mail_srs::protocol::netstring;

mod builds;
mod database;
mod milter;

use builds::{compare, startup};
use database::database_load;
use milter::milter_load;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Proto {
    Socketmap,
    TcpTable,
    Line,
}

impl Proto {
    fn name(self) -> &'static str {
        match self {
            Proto::Socketmap => "socketmap",
            Proto::TcpTable => "tcp_table",
            Proto::Line => "line",
        }
    }
}

#[derive(Clone, Debug)]
enum Addr {
    Unix(PathBuf),
    Tcp(u16),
}

trait Conn: Read + Write {}
impl<T: Read + Write> Conn for T {}

fn connect(addr: &Addr) -> Box<dyn Conn> {
    for _ in 0..200 {
        let c: std::io::Result<Box<dyn Conn>> = match addr {
            Addr::Unix(p) => UnixStream::connect(p).map(|s| Box::new(s) as Box<dyn Conn>),
            Addr::Tcp(port) => TcpStream::connect(("127.0.0.1", *port)).map(|s| {
                let _ = s.set_nodelay(true);
                Box::new(s) as Box<dyn Conn>
            }),
        };
        if let Ok(c) = c {
            return c;
        }
        std::thread::sleep(Duration::from_millis(25));
    }
    panic!("cannot connect to {addr:?}");
}

/// A server under test, stopped on drop.
struct Server {
    name: String,
    proto: Proto,
    addr: Addr,
    child: Child,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if let Addr::Unix(p) = &self.addr {
            let _ = std::fs::remove_file(p);
        }
    }
}

impl Server {
    /// CPU time of the server so far, in microseconds: its own, its reaped
    /// children's, and that of children still alive (postsrsd forks one per
    /// connection).
    fn cpu_us(&self) -> u64 {
        process_cpu_us(self.child.id())
    }

    fn rss_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .unwrap_or_default();
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.split_whitespace().next()?.parse().ok())
            .unwrap_or(0)
    }
}

/// CPU time of process `pid` so far, in microseconds: its own, its reaped
/// children's, and that of children still alive (postsrsd forks one per
/// connection).
fn process_cpu_us(pid: u32) -> u64 {
    let pid = pid.to_string();
    let mut total = 0;
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        let after_comm = stat.rsplit_once(')').map_or("", |(_, r)| r);
        // After the command: state, ppid, ... utime (11), stime (12), cutime (13), cstime (14).
        let f: Vec<&str> = after_comm.split_whitespace().collect();
        let n = |i: usize| f.get(i).and_then(|x| x.parse::<u64>().ok()).unwrap_or(0);
        let own = entry.file_name().to_str() == Some(pid.as_str());
        if own {
            total += n(11) + n(12) + n(13) + n(14);
        } else if f.get(1) == Some(&pid.as_str()) {
            total += n(11) + n(12);
        }
    }
    // 100 clock ticks per second on Linux.
    total * 10_000
}

fn request(proto: Proto, address: &str) -> Vec<u8> {
    match proto {
        Proto::Socketmap => {
            let mut r = Vec::new();
            netstring::encode(&mut r, format!("reverse {address}").as_bytes());
            r
        }
        Proto::TcpTable => format!("get {address}\n").into_bytes(),
        Proto::Line => format!("REVERSE {address}\n").into_bytes(),
    }
}

/// Reads one reply; returns its text without framing.
fn read_reply(proto: Proto, r: &mut BufReader<Box<dyn Conn>>) -> String {
    match proto {
        Proto::Socketmap => {
            let mut len = Vec::new();
            r.read_until(b':', &mut len).unwrap();
            let n: usize = std::str::from_utf8(&len[..len.len() - 1])
                .unwrap()
                .parse()
                .unwrap();
            let mut payload = vec![0u8; n + 1];
            r.read_exact(&mut payload).unwrap();
            payload.pop();
            String::from_utf8(payload).unwrap()
        }
        Proto::TcpTable | Proto::Line => {
            let mut l = String::new();
            r.read_line(&mut l).unwrap();
            l.trim_end().to_owned()
        }
    }
}

/// One client: requests in a closed loop until `until`; keep-alive except for
/// the line protocol, whose servers close after each reply.
fn client(server: &Addr, proto: Proto, req: &[u8], expect: &str, until: Instant) -> Vec<u32> {
    let mut lat = Vec::with_capacity(1 << 16);
    let mut conn = None;
    while Instant::now() < until {
        let t = Instant::now();
        let r = conn.get_or_insert_with(|| BufReader::new(connect(server)));
        r.get_mut().write_all(req).unwrap();
        let reply = read_reply(proto, r);
        assert!(reply.ends_with(expect), "unexpected reply {reply:?}");
        lat.push(t.elapsed().as_micros() as u32);
        if proto == Proto::Line {
            conn = None;
        }
    }
    lat
}

struct Row {
    server: String,
    proto: Proto,
    clients: usize,
    rps: f64,
    p50: u32,
    p99: u32,
    cpu_per_req: f64,
}

fn measure(s: &Server, address: &str, expect: &str, clients: usize, seconds: f64) -> Row {
    measure_request(s, &request(s.proto, address), expect, clients, seconds)
}

/// Like [`measure`], with the request to send.
fn measure_request(s: &Server, req: &[u8], expect: &str, clients: usize, seconds: f64) -> Row {
    // Warm up, then measure.
    client(
        &s.addr,
        s.proto,
        req,
        expect,
        Instant::now() + Duration::from_millis(100),
    );
    let cpu0 = s.cpu_us();
    let start = Instant::now();
    let until = start + Duration::from_secs_f64(seconds);
    let threads: Vec<_> = (0..clients)
        .map(|_| {
            let (addr, r, e, p) = (s.addr.clone(), req.to_vec(), expect.to_owned(), s.proto);
            std::thread::spawn(move || client(&addr, p, &r, &e, until))
        })
        .collect();
    let mut lat: Vec<u32> = threads
        .into_iter()
        .flat_map(|t| t.join().unwrap())
        .collect();
    let elapsed = start.elapsed().as_secs_f64();
    let cpu = s.cpu_us() - cpu0;
    lat.sort_unstable();
    let n = lat.len().max(1);
    Row {
        server: s.name.clone(),
        proto: s.proto,
        clients,
        rps: lat.len() as f64 / elapsed,
        p50: lat.get(n / 2).copied().unwrap_or(0),
        p99: lat.get(n * 99 / 100).copied().unwrap_or(0),
        cpu_per_req: cpu as f64 / n as f64,
    }
}

fn spawn(name: &str, proto: Proto, addr: Addr, cmd: &mut Command) -> Server {
    let child = cmd
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("start {name}: {e}"));
    let s = Server {
        name: name.into(),
        proto,
        addr,
        child,
    };
    drop(connect(&s.addr));
    s
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn which(p: &str) -> Option<PathBuf> {
    let path = PathBuf::from(p);
    path.is_file().then_some(path)
}

/// The echo server: same runtime and framing as srsd, a fixed answer.
fn echo_server(proto: &str, addr: &str) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async move {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let proto = match proto {
            "socketmap" => Proto::Socketmap,
            "tcp_table" => Proto::TcpTable,
            _ => Proto::Line,
        };
        async fn serve<S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin>(
            mut s: S,
            proto: Proto,
        ) {
            let (mut input, mut out, mut chunk) = (Vec::new(), Vec::new(), [0u8; 4096]);
            loop {
                let n = match s.read(&mut chunk).await {
                    Ok(n) if n > 0 => n,
                    _ => return,
                };
                input.extend_from_slice(&chunk[..n]);
                let mut used = 0;
                let mut close = false;
                loop {
                    let rest = &input[used..];
                    match proto {
                        Proto::Socketmap => match netstring::decode(rest, 100_000) {
                            Ok(Some((_, n))) => {
                                used += n;
                                netstring::encode(&mut out, b"OK alice@origin.example");
                            }
                            _ => break,
                        },
                        _ => match rest.iter().position(|&b| b == b'\n') {
                            Some(i) => {
                                used += i + 1;
                                out.extend_from_slice(if proto == Proto::Line {
                                    b"alice@origin.example\n"
                                } else {
                                    b"200 alice@origin.example\n"
                                });
                                close = proto == Proto::Line;
                            }
                            None => break,
                        },
                    }
                }
                input.drain(..used);
                if s.write_all(&out).await.is_err() || close {
                    return;
                }
                out.clear();
            }
        }
        if let Some(path) = addr.strip_prefix("unix:") {
            let l = tokio::net::UnixListener::bind(path).unwrap();
            loop {
                let (s, _) = l.accept().await.unwrap();
                tokio::spawn(serve(s, proto));
            }
        } else {
            let l = tokio::net::TcpListener::bind(addr).await.unwrap();
            loop {
                let (s, _) = l.accept().await.unwrap();
                let _ = s.set_nodelay(true);
                tokio::spawn(serve(s, proto));
            }
        }
    });
}

fn idle_connections(srsd: &Server, address: &str, n: usize) {
    use nix::sys::resource::{Resource, getrlimit, setrlimit};
    if let Ok((_, hard)) = getrlimit(Resource::RLIMIT_NOFILE) {
        let _ = setrlimit(Resource::RLIMIT_NOFILE, hard, hard);
    }
    let start = Instant::now();
    let mut conns: Vec<BufReader<Box<dyn Conn>>> = (0..n)
        .map(|_| BufReader::new(connect(&srsd.addr)))
        .collect();
    let opened = start.elapsed();
    let rss_idle = srsd.rss_kib();
    let req = request(Proto::Socketmap, address);
    let mut answered = 0;
    for c in &mut conns {
        c.get_mut().write_all(&req).unwrap();
    }
    for c in &mut conns {
        if read_reply(Proto::Socketmap, c) == "OK alice@origin.example" {
            answered += 1;
        }
    }
    println!(
        "\n{n} idle keep-alive connections to srsd (socketmap): opened in {:.2} s, {answered} of {n} answered afterwards, srsd RSS {:.1} MiB idle, {:.1} MiB after answering",
        opened.as_secs_f64(),
        rss_idle as f64 / 1024.0,
        srsd.rss_kib() as f64 / 1024.0
    );
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--echo") {
        echo_server(&args[i + 1], &args[i + 2]);
        return;
    }
    let opt = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    let seconds = opt("--seconds")
        .and_then(|s| s.parse::<f64>().ok())
        .unwrap_or(2.0)
        .clamp(0.2, 30.0);
    let clients: Vec<usize> = opt("--clients")
        .unwrap_or_else(|| "1,8,64".into())
        .split(',')
        .filter_map(|c| c.parse().ok())
        .filter(|&c| (1..=512).contains(&c))
        .collect();
    let idle: usize = opt("--idle")
        .and_then(|s| s.parse().ok())
        .unwrap_or(10_000)
        .min(15_000);

    let dir = tempfile::TempDir::new().unwrap();
    let keys = dir.path().join("keys");
    std::fs::write(&keys, "loadgen-secret\n").unwrap();
    // Private, as srs wants it: no warning written at each start.
    std::fs::set_permissions(&keys, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
    let srs = Command::new(env!("CARGO_BIN_EXE_srs"))
        .arg("-k")
        .arg(&keys)
        .args(["forward", "-a", "fwd.example", "alice@origin.example"])
        .output()
        .unwrap();
    let address = String::from_utf8(srs.stdout).unwrap().trim().to_owned();
    let me = std::env::current_exe().unwrap();
    // `--srsd PATH`: another build in place of this one (for --only milter
    // or database, to compare).
    let srsd_override = opt("--srsd");
    let srsd = srsd_override
        .as_deref()
        .unwrap_or(env!("CARGO_BIN_EXE_srsd"));
    let unix = |n: &str| dir.path().join(n);

    if opt("--only").as_deref() == Some("startup") {
        startup(
            &keys,
            opt("--srs").as_deref(),
            opt("--baseline-srs").as_deref(),
        );
        return;
    }
    if let Some(baseline) = opt("--baseline") {
        compare(srsd, &baseline, &keys, dir.path(), seconds, &address);
        return;
    }
    if opt("--only").as_deref() == Some("milter") {
        milter_load(srsd, &keys, &unix("milter"), seconds);
        return;
    }
    if opt("--only").as_deref() == Some("database") {
        database_load(srsd, &keys, dir.path(), seconds, opt("--mode").as_deref());
        return;
    }
    let mut servers: Vec<(Server, &str)> = Vec::new();
    for (proto, listen) in [
        (Proto::Socketmap, "socketmap"),
        (Proto::TcpTable, "tcp-reverse"),
        (Proto::Line, "line"),
    ] {
        let (addr, spec) = match proto {
            Proto::TcpTable => {
                let p = free_port();
                (Addr::Tcp(p), format!("{listen}=inet:127.0.0.1:{p}"))
            }
            _ => {
                let p = unix(listen);
                (
                    Addr::Unix(p.clone()),
                    format!("{listen}=unix:{}", p.display()),
                )
            }
        };
        let expect = if proto == Proto::Socketmap {
            "OK alice@origin.example"
        } else {
            "alice@origin.example"
        };
        servers.push((
            spawn(
                "srsd",
                proto,
                addr,
                Command::new(srsd)
                    .args(["-d", "fwd.example", "-k"])
                    .arg(&keys)
                    .args(["--listen", &spec, "--log-level", "error"]),
            ),
            expect,
        ));
        let (eaddr, espec) = match proto {
            Proto::TcpTable => {
                let p = free_port();
                (Addr::Tcp(p), format!("127.0.0.1:{p}"))
            }
            _ => {
                let p = unix(&format!("echo-{listen}"));
                (Addr::Unix(p.clone()), format!("unix:{}", p.display()))
            }
        };
        servers.push((
            spawn(
                "echo",
                proto,
                eaddr,
                Command::new(&me).args(["--echo", proto.name(), &espec]),
            ),
            expect,
        ));
    }
    if let Some(postsrsd) = which("/usr/sbin/postsrsd") {
        let (f, r) = (free_port(), free_port());
        servers.push((
            spawn(
                "postsrsd 1.10",
                Proto::TcpTable,
                Addr::Tcp(r),
                Command::new(postsrsd)
                    .arg("-s")
                    .arg(&keys)
                    .args(["-d", "fwd.example", "-l", "127.0.0.1", "-4"])
                    .arg(format!("-f{f}"))
                    .arg(format!("-r{r}")),
            ),
            "alice@origin.example",
        ));
    } else {
        eprintln!("postsrsd not installed (apt-get install postsrsd): left out");
    }
    let perl_socket = Path::new("/tmp/srsd");
    if let Some(perl) = which("/usr/bin/srsd") {
        if UnixStream::connect(perl_socket).is_err() {
            let _ = std::fs::remove_file(perl_socket);
            servers.push((
                spawn(
                    "Perl srsd",
                    Proto::Line,
                    Addr::Unix(perl_socket.into()),
                    Command::new(perl).arg("--secret=loadgen-secret"),
                ),
                "alice@origin.example",
            ));
        } else {
            eprintln!("/tmp/srsd is in use: Perl srsd left out");
        }
    } else {
        eprintln!("Perl srsd not installed (apt-get install srs): left out");
    }

    println!("{seconds} s per row, requests: reverse of a valid SRS0 address");
    println!(
        "| server | protocol | clients | req/s | p50 µs | p99 µs | server CPU µs/req | vs echo |"
    );
    println!("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |");
    let mut echo_rps = std::collections::HashMap::new();
    for proto in [Proto::Socketmap, Proto::TcpTable, Proto::Line] {
        for &c in &clients {
            // The echo server first: it is the ceiling the others are compared with.
            let mut order: Vec<&(Server, &str)> =
                servers.iter().filter(|(s, _)| s.proto == proto).collect();
            order.sort_by_key(|(s, _)| s.name != "echo");
            for (s, expect) in order {
                let row = measure(s, &address, expect, c, seconds);
                if row.server == "echo" {
                    echo_rps.insert((proto.name(), c), row.rps);
                }
                let ratio = echo_rps
                    .get(&(proto.name(), c))
                    .map_or("".into(), |e| format!("{:.2}x", row.rps / e));
                println!(
                    "| {} | {} | {} | {:.0} | {} | {} | {:.1} | {} |",
                    row.server,
                    row.proto.name(),
                    row.clients,
                    row.rps,
                    row.p50,
                    row.p99,
                    row.cpu_per_req,
                    ratio
                );
            }
        }
    }
    milter_load(srsd, &keys, &unix("milter"), seconds);
    if idle > 0 {
        let p = unix("idle-socketmap");
        let s = spawn(
            "srsd",
            Proto::Socketmap,
            Addr::Unix(p.clone()),
            Command::new(srsd)
                .args(["-d", "fwd.example", "-k"])
                .arg(&keys)
                .args([
                    "--listen",
                    &format!("socketmap=unix:{}", p.display()),
                    "--log-level",
                    "error",
                ]),
        );
        idle_connections(&s, &address, idle);
    }
}
