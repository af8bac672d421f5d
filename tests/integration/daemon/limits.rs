//! The daemon's limits in-process: slow and silent clients, the connection limit, many clients at once, a broken listener.

use super::*;

/// Slowloris: clients that trickle a byte at a time on one listener are cut
/// off at the request deadline, and cannot take the other listeners' slots.
#[test]
fn trickling_clients_starve_no_listener() {
    let d = Arc::new(Daemon::start(Limits {
        max_connections: 8,
        idle_timeout: Duration::from_secs(15),
        request_timeout: Duration::from_secs(1),
        ..Limits::default()
    }));
    let attack_until = std::time::Instant::now() + Duration::from_secs(4);
    let attackers: Vec<_> = (0..12)
        .map(|_| {
            let path = d.path("socketmap");
            std::thread::spawn(move || {
                // Bounded: 4 s in all; a closed connection is opened again.
                while std::time::Instant::now() < attack_until {
                    let Ok(mut s) = UnixStream::connect(&path) else {
                        continue;
                    };
                    while std::time::Instant::now() < attack_until && s.write_all(b"9").is_ok() {
                        std::thread::sleep(Duration::from_millis(200));
                    }
                }
            })
        })
        .collect();
    // Probes while the attack runs: on another listener, and on the
    // attacked one, every probe is answered.
    while std::time::Instant::now() + Duration::from_millis(500) < attack_until {
        let mut f = d.tcp(d.forward);
        f.write_all(b"get alice@origin.example\n").unwrap();
        let mut line = String::new();
        std::io::BufRead::read_line(&mut std::io::BufReader::new(f), &mut line).unwrap();
        assert_eq!(line, format!("200 {ALICE}\n"));
        let mut s = d.unix("socketmap");
        s.write_all(&netstring("forward alice@origin.example"))
            .unwrap();
        assert_eq!(read_netstrings(&mut s, 1), [format!("OK {ALICE}")]);
    }
    for a in attackers {
        common::joined_within_30s(a);
    }
    // A request that does not complete in time is closed, even though the
    // client keeps sending.
    let mut slow = d.unix("socketmap");
    slow.set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    let mut closed = false;
    for _ in 0..100 {
        if slow.write_all(b"9").is_err() {
            closed = true;
            break;
        }
        let mut byte = [0u8; 1];
        slow.set_read_timeout(Some(Duration::from_millis(200)))
            .unwrap();
        if matches!(slow.read(&mut byte), Ok(0)) {
            closed = true;
            break;
        }
    }
    assert!(closed, "a trickling request was never cut off");
}

#[test]
fn a_client_that_never_reads_blocks_nobody_and_is_closed() {
    let d = Daemon::start(Limits {
        idle_timeout: Duration::from_millis(300),
        ..Limits::default()
    });
    let mut stuck = d.unix("socketmap");
    stuck
        .set_write_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    // Requests until the socket buffers are full and srsd's reply write blocks.
    let request = netstring(&format!("reverse {ALICE}"));
    let mut sent = 0;
    while sent < 200_000 && stuck.write_all(&request).is_ok() {
        sent += 1;
    }
    // Others are still served meanwhile.
    let mut other = d.unix("socketmap");
    other
        .write_all(&netstring("forward alice@origin.example"))
        .unwrap();
    assert_eq!(read_netstrings(&mut other, 1), [format!("OK {ALICE}")]);
    // The stuck client is shut down: reading drains what was answered, then ends.
    stuck
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    let mut sink = Vec::new();
    let end = stuck.read_to_end(&mut sink);
    assert!(
        end.is_ok() || matches!(&end, Err(e) if e.kind() == ErrorKind::ConnectionReset),
        "{end:?}"
    );
}

#[test]
fn connection_limit_queues_the_extra_client() {
    let d = Daemon::start(Limits {
        max_connections: 2,
        ..Limits::default()
    });
    let mut a = d.unix("socketmap");
    let mut b = d.unix("socketmap");
    for s in [&mut a, &mut b] {
        s.write_all(&netstring("forward alice@origin.example"))
            .unwrap();
        read_netstrings(s, 1);
    }
    let mut c = d.unix("socketmap");
    c.write_all(&netstring("forward alice@origin.example"))
        .unwrap();
    c.set_read_timeout(Some(Duration::from_millis(300)))
        .unwrap();
    let mut byte = [0u8; 1];
    let early = c.read(&mut byte);
    assert!(
        matches!(&early, Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut)),
        "{early:?}"
    );
    drop(a);
    c.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    assert_eq!(read_netstrings(&mut c, 1), [format!("OK {ALICE}")]);
}

#[test]
fn many_clients_at_once() {
    let d = Arc::new(Daemon::start(Limits::default()));
    let threads: Vec<_> = (0..16)
        .map(|_| {
            let d = d.clone();
            std::thread::spawn(move || {
                let mut s = d.unix("socketmap");
                for _ in 0..200 {
                    s.write_all(&netstring(&format!("reverse {ALICE}")))
                        .unwrap();
                    assert_eq!(read_netstrings(&mut s, 1), ["OK alice@origin.example"]);
                }
            })
        })
        .collect();
    for t in threads {
        common::joined_within_30s(t);
    }
}

/// A listener whose accept fails for good stops the whole daemon with the
/// error, instead of leaving the others serving alone.
#[test]
fn a_broken_listener_stops_every_listener() {
    let d = Daemon::start(Limits::default());
    let mut s = d.unix("socketmap");
    s.write_all(&netstring("forward alice@origin.example"))
        .unwrap();
    assert_eq!(read_netstrings(&mut s, 1), [format!("OK {ALICE}")]);
    // On Linux, shutting down a listening socket makes accept fail (EINVAL).
    nix::sys::socket::shutdown(d.forward_fd, nix::sys::socket::Shutdown::Read).unwrap();
    let socketmap = d.path("socketmap");
    let e = d.engine.ended().unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput, "{e}");
    assert!(
        e.to_string()
            .starts_with("accept on a tcp-forward listener failed"),
        "{e}"
    );
    assert!(!socketmap.exists());
    assert_eq!(read_to_end(&mut s), "");
}
