//! systemd readiness and reload notification (sd_notify protocol), without libsystemd.
//!
//! Not the sd-notify crate: its `notify` finds `$NOTIFY_SOCKET` and connects
//! at each call, and a srsd under `--chroot` can no longer reach that path
//! when it reports a reload or its stop. The socket is connected here once,
//! before the chroot, and kept.

use std::os::unix::net::UnixDatagram;

/// A connection to `$NOTIFY_SOCKET`, opened at start so it survives a chroot.
pub struct Notifier {
    socket: Option<UnixDatagram>,
}

impl Notifier {
    /// Connects to the socket systemd named, if any.
    pub fn from_env() -> Notifier {
        let socket = std::env::var_os("NOTIFY_SOCKET").and_then(|path| {
            let sock = UnixDatagram::unbound().ok()?;
            let path = path.to_string_lossy().into_owned();
            let connected = match path.strip_prefix('@') {
                // systemd's abstract socket names exist on Linux only.
                #[cfg(target_os = "linux")]
                Some(name) => {
                    use std::os::linux::net::SocketAddrExt;
                    let addr = std::os::unix::net::SocketAddr::from_abstract_name(name).ok()?;
                    sock.connect_addr(&addr)
                }
                #[cfg(not(target_os = "linux"))]
                Some(_) => return None,
                None => sock.connect(&path),
            };
            connected.ok().map(|()| sock)
        });
        Notifier { socket }
    }

    /// Connects to the datagram socket at `path`, as systemd's would be.
    pub fn connect(path: &std::path::Path) -> std::io::Result<Notifier> {
        let sock = UnixDatagram::unbound()?;
        sock.connect(path)?;
        Ok(Notifier { socket: Some(sock) })
    }

    /// Sends `state` (`READY=1`, ...); silently nothing outside systemd.
    pub fn send(&self, state: &str) {
        if let Some(s) = &self.socket {
            let _ = s.send(state.as_bytes());
        }
    }

    /// Tells systemd a reload started (`Type=notify-reload` wants the time).
    pub fn reloading(&self) {
        let usec = nix::time::clock_gettime(nix::time::ClockId::CLOCK_MONOTONIC)
            .map(|t| t.tv_sec() as u64 * 1_000_000 + t.tv_nsec() as u64 / 1_000)
            .unwrap_or(0);
        self.send(&format!("RELOADING=1\nMONOTONIC_USEC={usec}"));
    }
}
