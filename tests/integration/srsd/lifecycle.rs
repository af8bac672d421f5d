//! srsd's life as a process: signals, reload, stop, privileges, the pid file, syslog, systemd and socket activation, background, chroot.

use super::*;

#[test]
fn sighup_reloads_and_a_broken_file_keeps_the_old_keys() {
    let s = Setup::new();
    let d = s.spawn(&[]);
    let forward = || {
        stdout(&srsc(&[
            "-s",
            &s.socketmap,
            "forward",
            "alice@origin.example",
        ]))
    };
    assert_eq!(forward(), format!("{ALICE}\n"));

    write_keys(&s.keys(), "newkey\ns3cret\n");
    d.signal(Signal::SIGHUP);
    d.wait_for_log("reloaded");
    assert_eq!(forward(), format!("{ALICE_NEWKEY}\n"));
    assert_eq!(
        stdout(&srsc(&["-s", &s.socketmap, "reverse", ALICE])),
        "alice@origin.example\n"
    );

    write_keys(&s.keys(), "# emptied by mistake\n");
    d.signal(Signal::SIGHUP);
    d.wait_for_log("reload failed, keeping the previous keys");
    assert_eq!(
        forward(),
        format!("{ALICE_NEWKEY}\n"),
        "the previous keys stay in force"
    );
}

#[test]
fn sigterm_stops_and_removes_the_sockets() {
    let s = Setup::new();
    let mut d = s.spawn(&[]);
    d.signal(Signal::SIGTERM);
    let status = d.child.wait().unwrap();
    assert_eq!(status.code(), Some(0));
    assert!(!Path::new(&s.socketmap).exists());
}

#[test]
fn privileges_socket_ownership_and_pid_file() {
    if !is_root() {
        common::skip("giving up privileges needs root");
        return;
    }
    let s = Setup::new();
    std::fs::set_permissions(s.dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let nobody = nix::unistd::User::from_name("nobody").unwrap().unwrap();
    let nogroup = nix::unistd::Group::from_gid(nobody.gid).unwrap().unwrap();
    let pid_file = s.dir.path().join("srsd.pid");
    let d = s.spawn(&[
        "--user",
        "nobody",
        "--socket-group",
        &nogroup.name,
        "--socket-mode",
        "0660",
        "--pid-file",
        pid_file.to_str().unwrap(),
    ]);
    let pid = d.child.id();
    assert_eq!(ids(pid), (nobody.uid.to_string(), nobody.gid.to_string()));
    assert_eq!(
        std::fs::read_to_string(&pid_file).unwrap(),
        format!("{pid}\n")
    );
    let meta = std::fs::metadata(&s.socketmap).unwrap();
    assert_eq!(
        std::os::unix::fs::MetadataExt::gid(&meta),
        nobody.gid.as_raw()
    );
    assert_eq!(meta.permissions().mode() & 0o777, 0o660);
    assert_eq!(
        stdout(&srsc(&["-s", &s.socketmap, "reverse", ALICE])),
        "alice@origin.example\n"
    );
    // After the drop the keys file (0600 root) cannot be re-read: the reload
    // fails and the daemon keeps serving with the keys it has.
    d.signal(Signal::SIGHUP);
    d.wait_for_log("reload failed");
    assert_eq!(
        stdout(&srsc(&["-s", &s.socketmap, "reverse", ALICE])),
        "alice@origin.example\n"
    );

    let o = Command::new(env!("CARGO_BIN_EXE_srsd"))
        .args([
            "-d",
            "x",
            "-k",
            s.keys().to_str().unwrap(),
            "--listen",
            &format!("line=unix:{}", s.line),
            "--user",
            "no-such-user-here",
        ])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(78));
    assert!(String::from_utf8_lossy(&o.stderr).contains("no user named \"no-such-user-here\""));
}

#[test]
fn syslog_mail_facility() {
    let s = Setup::new();
    let log_path = s.dir.path().join("dev-log");
    let syslog = std::os::unix::net::UnixDatagram::bind(&log_path).unwrap();
    syslog
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_srsd"))
        .args(s.base_args())
        .args([
            "--log",
            "syslog",
            "--syslog-socket",
            log_path.to_str().unwrap(),
        ])
        .spawn()
        .unwrap();
    let mut buf = [0u8; 1024];
    let n = syslog.recv(&mut buf).unwrap();
    let line = String::from_utf8_lossy(&buf[..n]).into_owned();
    let _ = child.kill();
    let _ = child.wait();
    // <22> is mail.info.
    assert!(
        line.starts_with(&format!("<22>srsd[{}]: serving fwd.example on", child.id())),
        "{line}"
    );
}

#[test]
fn systemd_notification_sequence() {
    let s = Setup::new();
    let notify_path = s.dir.path().join("notify");
    let notify = std::os::unix::net::UnixDatagram::bind(&notify_path).unwrap();
    notify
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_srsd"))
        .args(s.base_args())
        .env("NOTIFY_SOCKET", &notify_path)
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let got = std::cell::RefCell::new(Vec::new());
    let next = || {
        let mut buf = [0u8; 256];
        let n = notify
            .recv(&mut buf)
            .unwrap_or_else(|e| panic!("no notification after {:?}: {e}", got.borrow()));
        let text = String::from_utf8_lossy(&buf[..n]).into_owned();
        got.borrow_mut().push(text.clone());
        text
    };
    assert!(next().starts_with("READY=1"));
    kill(Pid::from_raw(child.id() as i32), Signal::SIGHUP).unwrap();
    assert!(next().starts_with("RELOADING=1\nMONOTONIC_USEC="));
    assert_eq!(next(), "READY=1");
    kill(Pid::from_raw(child.id() as i32), Signal::SIGTERM).unwrap();
    assert_eq!(next(), "STOPPING=1");
    assert_eq!(child.wait().unwrap().code(), Some(0));
}

#[test]
fn socket_activation_by_name() {
    let Some(python) = common::peer("python3", "python3") else {
        return;
    };
    let s = Setup::new();
    // Bind as systemd would, then exec srsd with the socket as fd 3.
    let launcher = r#"
import os, socket, sys
path, srsd = sys.argv[1], sys.argv[2:]
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(path); s.listen(16)
if s.fileno() != 3:
    os.dup2(s.fileno(), 3)
os.set_inheritable(3, True)
os.environ.update(LISTEN_FDS="1", LISTEN_PID=str(os.getpid()), LISTEN_FDNAMES="socketmap")
os.execv(srsd[0], srsd)
"#;
    let mut cmd = Command::new(python);
    cmd.args([
        "-c",
        launcher,
        &s.socketmap,
        env!("CARGO_BIN_EXE_srsd"),
        "--now",
        NOW,
        "-d",
        "fwd.example",
        "-k",
        s.keys().to_str().unwrap(),
    ]);
    let mut d = Srsd::start_command(&mut cmd);
    d.wait_for_log("serving fwd.example on socketmap (from systemd)");
    assert_eq!(
        stdout(&srsc(&["-s", &s.socketmap, "reverse", ALICE])),
        "alice@origin.example\n"
    );
    d.signal(Signal::SIGTERM);
    d.child.wait().unwrap();
    assert!(
        Path::new(&s.socketmap).exists(),
        "a socket systemd made is systemd's to remove"
    );
}

#[test]
fn background_returns_once_ready() {
    let s = Setup::new();
    let pid_file = s.dir.path().join("srsd.pid");
    let o = Command::new(env!("CARGO_BIN_EXE_srsd"))
        .args([
            "--background",
            "--now",
            NOW,
            "-d",
            "fwd.example",
            "-k",
            s.keys().to_str().unwrap(),
        ])
        .args([
            "--listen",
            &format!("socketmap=unix:{}", s.socketmap),
            "--pid-file",
            pid_file.to_str().unwrap(),
        ])
        .stderr(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0));
    // Ready means serving: no waiting needed.
    assert_eq!(
        stdout(&srsc(&["-s", &s.socketmap, "reverse", ALICE])),
        "alice@origin.example\n"
    );
    let pid: i32 = std::fs::read_to_string(&pid_file)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let sid = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let fields: Vec<&str> = sid.rsplit_once(')').unwrap().1.split_whitespace().collect();
    assert_eq!(
        fields[3],
        pid.to_string(),
        "the daemon leads its own session"
    );
    kill(Pid::from_raw(pid), Signal::SIGTERM).unwrap();
    common::wait_until("srsd to stop", Duration::from_secs(20), || {
        !Path::new(&s.socketmap).exists()
    });
    // A start-up failure is the command's failure.
    let o = Command::new(env!("CARGO_BIN_EXE_srsd"))
        .args([
            "--background",
            "-d",
            "fwd.example",
            "--listen",
            &format!("socketmap=unix:{}", s.socketmap),
        ])
        .stderr(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(78));
}

/// `background = yes` in a configuration file: the detached copy reads the
/// same file and serves, without detaching again, so one srsd runs; the
/// private start-up directory is gone once the command returns.
#[test]
fn background_in_a_configuration_file_detaches_once() {
    let s = Setup::new();
    let tmp = s.dir.path().join("tmp");
    std::fs::create_dir(&tmp).unwrap();
    let conf = s.dir.path().join("srsd.conf");
    std::fs::write(
        &conf,
        format!(
            "background = yes\ndomain = fwd.example\nsecret-file = {}\nlisten = socketmap=unix:{}\n",
            s.keys().display(),
            s.socketmap
        ),
    )
    .unwrap();
    // Standard error to a file: the daemon keeps it, so a pipe would not end.
    let said = s.dir.path().join("stderr");
    let status = Command::new(env!("CARGO_BIN_EXE_srsd"))
        .args(["-c", conf.to_str().unwrap()])
        .env("TMPDIR", &tmp)
        .stderr(std::fs::File::create(&said).unwrap())
        .status()
        .unwrap();
    let stderr = std::fs::read_to_string(&said).unwrap();
    assert_eq!(status.code(), Some(0), "{stderr}");
    // The processes whose command line names this configuration file.
    let running: Vec<i32> = std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
        .filter(|pid: &i32| {
            std::fs::read(format!("/proc/{pid}/cmdline")).is_ok_and(|c| {
                c.split(|&b| b == 0)
                    .any(|arg| arg == conf.as_os_str().as_encoded_bytes())
            })
        })
        .collect();
    for pid in &running {
        let _ = kill(Pid::from_raw(*pid), Signal::SIGTERM);
    }
    assert_eq!(running.len(), 1, "srsd processes: {running:?}");
    // The command's lines; the daemon's own log shares the file.
    let running_line = format!("srsd: running in the background as process {}", running[0]);
    assert!(stderr.lines().any(|l| l == running_line), "{stderr}");
    let left: Vec<_> = std::fs::read_dir(&tmp).unwrap().collect();
    assert!(left.is_empty(), "left in TMPDIR: {left:?}");
}

/// The pid file is never written through a symbolic link.
#[test]
fn the_pid_file_does_not_follow_links() {
    let s = Setup::new();
    let victim = s.dir.path().join("victim");
    std::fs::write(&victim, "precious\n").unwrap();
    let link = s.dir.path().join("srsd.pid");
    std::os::unix::fs::symlink(&victim, &link).unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_srsd"))
        .args(["-d", "fwd.example", "-k", s.keys().to_str().unwrap()])
        .args(["--listen", &format!("socketmap=unix:{}", s.socketmap)])
        .args(["--pid-file", link.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(73));
    assert_eq!(
        String::from_utf8_lossy(&o.stderr),
        format!(
            "srsd: error: cannot write pid file {}: it is a symbolic link; srsd does not write through one\n",
            link.display()
        )
    );
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious\n");
    // A plain path is written atomically, and removed at exit.
    let pid_file = s.dir.path().join("plain.pid");
    let mut d = s.spawn(&["--pid-file", pid_file.to_str().unwrap()]);
    assert_eq!(
        std::fs::read_to_string(&pid_file).unwrap(),
        format!("{}\n", d.child.id())
    );
    assert_eq!(
        std::fs::read_dir(s.dir.path())
            .unwrap()
            .filter(|e| {
                e.as_ref()
                    .unwrap()
                    .file_name()
                    .to_string_lossy()
                    .ends_with(".tmp")
            })
            .count(),
        0
    );
    d.signal(Signal::SIGTERM);
    assert_eq!(d.exit_code(), Some(0));
    assert!(!pid_file.exists());
}

/// A keys or configuration file that became a FIFO is refused at reload,
/// at once, and the daemon goes on serving with what it had.
#[test]
fn reload_refuses_files_that_are_not_regular() {
    let s = Setup::new();
    let conf = s.config("domain = fwd.example\n");
    let d = srsd(&["-c", conf.to_str().unwrap()]);
    std::fs::remove_file(s.keys()).unwrap();
    nix::unistd::mkfifo(&s.keys(), nix::sys::stat::Mode::from_bits_truncate(0o600)).unwrap();
    d.signal(Signal::SIGHUP);
    d.wait_for_log(&format!(
        "reload failed, keeping the previous keys: cannot read keys file {}: not a regular file (a FIFO)",
        s.keys().display()
    ));
    assert_eq!(
        stdout(&srsc(&["-s", &s.socketmap, "reverse", ALICE])),
        "alice@origin.example\n"
    );
    std::fs::remove_file(&conf).unwrap();
    nix::unistd::mkfifo(&conf, nix::sys::stat::Mode::from_bits_truncate(0o600)).unwrap();
    d.signal(Signal::SIGHUP);
    d.wait_for_log(&format!(
        "reload failed, keeping the previous settings: cannot read configuration file {}: not a regular file (a FIFO)",
        conf.display()
    ));
    assert_eq!(
        stdout(&srsc(&[
            "-s",
            &s.socketmap,
            "forward",
            "alice@origin.example"
        ])),
        format!("{ALICE}\n")
    );
}

/// SIGTERM with a client that never reads its replies: srsd stops within
/// the drain time, not the idle timeout, and exits 0.
#[test]
fn sigterm_stops_within_the_drain_time() {
    let s = Setup::new();
    let mut d = s.spawn(&[
        "--listen",
        "tcp-reverse=inet:127.0.0.1:0",
        "--drain-timeout",
        "1",
    ]);
    let port = d.port("tcp-reverse");
    let mut stuck = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    common::stop_reading(&mut stuck, format!("get {ALICE}\n").as_bytes());
    d.signal(Signal::SIGTERM);
    assert_eq!(d.exit_code(), Some(0));
    let log = d.lines();
    assert!(
        log.iter().any(
            |l| l.ends_with("1 connections still busy after the drain time of 1 s were closed")
        ),
        "{log:?}"
    );
    assert!(!Path::new(&s.socketmap).exists());
}

/// Out of descriptors, accept fails again and again: the warning is logged
/// ten times, the rest at debug level, and their number at stop.
#[test]
fn accept_errors_do_not_flood_the_log() {
    let s = Setup::new();
    let mut cmd = Command::new("sh");
    cmd.arg("-c")
        .arg("ulimit -n 32 && exec \"$@\"")
        .arg("sh")
        .arg(env!("CARGO_BIN_EXE_srsd"))
        .args([
            "--now",
            NOW,
            "--log-level",
            "debug",
            "-d",
            "fwd.example",
            "-k",
        ])
        .arg(s.keys())
        .args(["--listen", &format!("socketmap=unix:{}", s.socketmap)]);
    let mut d = Srsd::start_command(&mut cmd);
    // More clients than descriptors; they wait in the listen queue.
    let clients: Vec<_> = (0..60)
        .map(|_| std::os::unix::net::UnixStream::connect(&s.socketmap).unwrap())
        .collect();
    d.wait_for_log(
        "debug: not logged as a warning: accept on a socketmap listener: Too many open files",
    );
    d.signal(Signal::SIGTERM);
    assert_eq!(d.exit_code(), Some(0));
    drop(clients);
    let log = d.lines();
    let warned = log
        .iter()
        .filter(|l| {
            l.starts_with("srsd: warning: accept on a socketmap listener: Too many open files")
        })
        .count();
    assert_eq!(warned, 10, "{log:?}");
    let summary = log
        .iter()
        .find(|l| l.contains("more accept errors not logged in the last"))
        .unwrap_or_else(|| panic!("no summary: {log:?}"));
    let suppressed = log
        .iter()
        .filter(|l| l.contains("debug: not logged as a warning: accept"))
        .count();
    assert!(
        summary.starts_with(&format!("srsd: warning: {suppressed} more accept errors")),
        "{summary} after {suppressed}"
    );
}

/// With --user, sockets and the pid file live in a directory the service
/// user owns (systemd's RuntimeDirectory=) and are removed at stop; where
/// they cannot be, the log says so.
#[test]
fn cleanup_after_giving_up_root() {
    if !is_root() {
        common::skip("giving up privileges needs root");
        return;
    }
    let s = Setup::new();
    std::fs::set_permissions(s.dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let nobody = nix::unistd::User::from_name("nobody").unwrap().unwrap();
    let run_dir = s.dir.path().join("run");
    std::fs::create_dir(&run_dir).unwrap();
    nix::unistd::chown(&run_dir, Some(nobody.uid), Some(nobody.gid)).unwrap();
    for (dir, removable) in [(&run_dir, true), (&s.dir.path().to_path_buf(), false)] {
        let socket = dir.join("sock");
        let pid_file = dir.join("srsd.pid");
        let mut d = srsd(&[
            "-d",
            "fwd.example",
            "-k",
            s.keys().to_str().unwrap(),
            "--listen",
            &format!("socketmap=unix:{}", socket.display()),
            "--pid-file",
            pid_file.to_str().unwrap(),
            "--user",
            "nobody",
        ]);
        d.signal(Signal::SIGTERM);
        assert_eq!(d.exit_code(), Some(0));
        assert_eq!(
            (socket.exists(), pid_file.exists()),
            (!removable, !removable)
        );
        let log = d.lines();
        if !removable {
            for line in [
                format!(
                    "srsd: warning: cannot remove socket {}: Permission denied (os error 13)",
                    socket.display()
                ),
                format!(
                    "srsd: warning: cannot remove pid file {}: Permission denied (os error 13)",
                    pid_file.display()
                ),
            ] {
                assert!(log.contains(&line), "{line} not in {log:?}");
            }
            let _ = std::fs::remove_file(&socket);
            let _ = std::fs::remove_file(&pid_file);
        }
    }
}

/// Under --chroot, every path is written as seen from outside and must lie
/// inside the chroot: it works at start, at reload and at stop.
#[test]
fn chroot_paths_work_at_start_reload_and_stop() {
    if !is_root() {
        common::skip("chroot needs root");
        return;
    }
    let s = Setup::new();
    std::fs::set_permissions(s.dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let nobody = nix::unistd::User::from_name("nobody").unwrap().unwrap();
    let jail = s.dir.path().join("jail");
    let (etc, run) = (jail.join("etc"), jail.join("run"));
    std::fs::create_dir_all(&etc).unwrap();
    std::fs::create_dir_all(&run).unwrap();
    nix::unistd::chown(&run, Some(nobody.uid), Some(nobody.gid)).unwrap();
    let keys = etc.join("keys");
    write_keys(&keys, "s3cret\n");
    nix::unistd::chown(&keys, Some(nobody.uid), None).unwrap();
    let (socket, pid_file) = (run.join("socketmap"), run.join("srsd.pid"));
    let conf = etc.join("srsd.conf");
    std::fs::write(
        &conf,
        format!(
            "domain = fwd.example\nsecret-file = {}\nlisten = socketmap=unix:{}\npid-file = {}\nchroot = {}\nuser = nobody\n",
            keys.display(),
            socket.display(),
            pid_file.display(),
            jail.display()
        ),
    )
    .unwrap();
    let mut d = srsd(&["-c", conf.to_str().unwrap()]);
    assert_eq!(
        std::fs::read_link(format!("/proc/{}/root", d.child.id())).unwrap(),
        jail
    );
    let sock = socket.to_str().unwrap();
    assert_eq!(
        stdout(&srsc(&["-s", sock, "reverse", ALICE])),
        "alice@origin.example\n"
    );
    // A new key on top, read at reload from inside the chroot.
    write_keys(&keys, "another\ns3cret\n");
    nix::unistd::chown(&keys, Some(nobody.uid), None).unwrap();
    d.signal(Signal::SIGHUP);
    d.wait_for_log("reloaded");
    assert_eq!(
        stdout(&srsc(&["-s", sock, "forward", "alice@origin.example"])),
        format!("{ALICE_ANOTHER}\n")
    );
    assert_eq!(
        stdout(&srsc(&["-s", sock, "reverse", ALICE])),
        "alice@origin.example\n"
    );
    d.signal(Signal::SIGTERM);
    assert_eq!(d.exit_code(), Some(0));
    assert_eq!((socket.exists(), pid_file.exists()), (false, false));

    // A keys file outside the chroot could not be read at reload: refused.
    let o = Command::new(env!("CARGO_BIN_EXE_srsd"))
        .args([
            "-c",
            conf.to_str().unwrap(),
            "-k",
            s.keys().to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(78));
    assert_eq!(
        String::from_utf8_lossy(&o.stderr),
        format!(
            "srsd: error: {} is outside the chroot {}, where srsd cannot reach it after start\n",
            s.keys().display(),
            jail.display()
        )
    );
}
