//! `--only milter`: whole milter transactions from 8 sessions.

use super::*;

/// One milter packet: length, command, data.
fn milter_packet(command: u8, data: &[u8]) -> Vec<u8> {
    let mut out = ((data.len() + 1) as u32).to_be_bytes().to_vec();
    out.push(command);
    out.extend_from_slice(data);
    out
}

/// Reads one milter packet and gives its command byte.
fn read_milter_packet(r: &mut impl Read) -> u8 {
    let mut len = [0u8; 4];
    r.read_exact(&mut len).unwrap();
    let mut body = vec![0u8; u32::from_be_bytes(len) as usize];
    r.read_exact(&mut body).unwrap();
    body[0]
}

/// A milter client doing whole transactions (MAIL, RCPT with its macros,
/// DATA, end of message with the sender signed, abort) until `until`,
/// `per_connection` on each connection; gives how many it did.
fn milter_client(path: &Path, per_connection: usize, until: Instant) -> u64 {
    let mut negotiate = 6u32.to_be_bytes().to_vec();
    negotiate.extend_from_slice(&0x1ffu32.to_be_bytes());
    negotiate.extend_from_slice(&0x1f_ffffu32.to_be_bytes());
    let negotiate = milter_packet(b'O', &negotiate);
    let transaction = [
        milter_packet(b'M', b"<alice@origin.example>\0SIZE=1000\0"),
        milter_packet(b'D', b"R{rcpt_mailer}\0smtp\0"),
        milter_packet(b'R', b"<bob@elsewhere.example>\0"),
        milter_packet(b'T', b""),
        milter_packet(b'E', b""),
    ]
    .concat();
    let abort = milter_packet(b'A', b"");
    let mut done = 0;
    while Instant::now() < until {
        let mut s = UnixStream::connect(path).unwrap();
        s.write_all(&negotiate).unwrap();
        assert_eq!(read_milter_packet(&mut s), b'O');
        for _ in 0..per_connection {
            s.write_all(&transaction).unwrap();
            // MAIL, RCPT and DATA continue; end of message signs, then continues.
            for want in [b'c', b'c', b'c', b'e', b'c'] {
                assert_eq!(read_milter_packet(&mut s), want);
            }
            s.write_all(&abort).unwrap();
            done += 1;
        }
        s.write_all(&milter_packet(b'Q', b"")).unwrap();
    }
    done
}

/// srsd's milter under 8 sessions, 1 and 20 transactions per connection:
/// transactions per second and server CPU per transaction.
pub fn milter_load(srsd: &str, keys: &Path, path: &Path, seconds: f64) {
    let mut child = Command::new(srsd)
        .args(["-d", "fwd.example", "-k"])
        .arg(keys)
        .args(["--listen", &format!("milter=unix:{}", path.display())])
        .args(["--log-level", "error"])
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while UnixStream::connect(path).is_err() {
        assert!(Instant::now() < deadline, "srsd did not listen");
        std::thread::sleep(Duration::from_millis(20));
    }
    println!();
    println!(
        "| server | protocol | sessions | transactions per connection | transactions/s | server CPU µs/transaction |"
    );
    println!("| --- | --- | ---: | ---: | ---: | ---: |");
    for per_connection in [1, 20] {
        let cpu_before = process_cpu_us(child.id());
        let start = Instant::now();
        let until = start + Duration::from_secs_f64(seconds);
        let threads: Vec<_> = (0..8)
            .map(|_| {
                let path = path.to_owned();
                std::thread::spawn(move || milter_client(&path, per_connection, until))
            })
            .collect();
        let total: u64 = threads.into_iter().map(|t| t.join().unwrap()).sum();
        let elapsed = start.elapsed().as_secs_f64();
        let cpu = process_cpu_us(child.id()) - cpu_before;
        println!(
            "| srsd | milter | 8 | {per_connection} | {:.0} | {:.1} |",
            total as f64 / elapsed,
            cpu as f64 / total.max(1) as f64
        );
    }
    let _ = child.kill();
    let _ = child.wait();
}
