//! systemd socket activation: listeners passed as `LISTEN_FDS`, each named
//! after its protocol with `FileDescriptorName=` in the .socket unit.

use thiserror::Error;

use super::{Bound, Listener};

/// Sockets from systemd that cannot be used.
#[derive(Debug, Error)]
pub enum ActivationError {
    /// A descriptor's name is not a protocol.
    #[error(
        "socket {index} from systemd is named {name:?}; set FileDescriptorName= to one of {} in the .socket unit",
        crate::protocol::listing()
    )]
    UnknownName {
        /// Position in LISTEN_FDS.
        index: usize,
        /// The `FileDescriptorName=` systemd passed for it.
        name: String,
    },
    /// A descriptor is not a listening stream socket.
    #[error("socket {index} from systemd is not a Unix or TCP stream socket: {source}")]
    NotAStream {
        /// Position in LISTEN_FDS.
        index: usize,
        /// Why it cannot be used as a listener.
        source: std::io::Error,
    },
}

/// The listeners systemd passed, or `None` when it passed none to this process.
pub fn listeners() -> Result<Option<Vec<Listener>>, ActivationError> {
    let mut fds = listenfd::ListenFd::from_env();
    if fds.len() == 0 {
        return Ok(None);
    }
    let names: Vec<String> = std::env::var("LISTEN_FDNAMES")
        .unwrap_or_default()
        .split(':')
        .map(str::to_owned)
        .collect();
    let mut out = Vec::new();
    for index in 0..fds.len() {
        let name = names.get(index).cloned().unwrap_or_default();
        let Some(protocol) = crate::protocol::named(&name) else {
            return Err(ActivationError::UnknownName { index, name });
        };
        let bound = match fds.take_tcp_listener(index) {
            Ok(Some(l)) => Bound::Tcp(l),
            _ => match fds.take_unix_listener(index) {
                // systemd owns the socket file: not ours to remove.
                Ok(Some(l)) => Bound::Unix(l, None),
                Ok(None) => continue,
                Err(source) => return Err(ActivationError::NotAStream { index, source }),
            },
        };
        out.push(Listener { protocol, bound });
    }
    // LISTEN_PID names this process, so children never take these sockets.
    Ok(Some(out))
}
