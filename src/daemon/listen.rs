//! Listener addresses (`PROTOCOL=unix:/path`, `PROTOCOL=inet:HOST:PORT`) and binding.

use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::str::FromStr;

use thiserror::Error;

use crate::protocol::Protocol;

/// Where a listener listens.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Address {
    /// A Unix stream socket at this path.
    Unix(PathBuf),
    /// A TCP socket.
    Inet(SocketAddr),
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Address::Unix(p) => write!(f, "unix:{}", p.display()),
            Address::Inet(a) => write!(f, "inet:{a}"),
        }
    }
}

/// One `--listen` value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListenSpec {
    /// What the listener speaks.
    pub protocol: &'static dyn Protocol,
    /// Where it listens.
    pub address: Address,
}

impl fmt::Display for ListenSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}={}", self.protocol.name(), self.address)
    }
}

/// A `--listen` value that does not parse.
#[derive(Clone, Debug, Error, PartialEq, Eq)]
#[error(
    "listener {value:?}: {reason} (write PROTOCOL=unix:/path or PROTOCOL=inet:127.0.0.1:PORT; protocols: {})",
    crate::protocol::listing()
)]
pub struct ListenSpecError {
    /// The `--listen` value, as given.
    pub value: String,
    /// What is wrong with it.
    pub reason: &'static str,
}

impl FromStr for ListenSpec {
    type Err = ListenSpecError;
    fn from_str(value: &str) -> Result<Self, ListenSpecError> {
        let err = |reason| ListenSpecError {
            value: value.to_owned(),
            reason,
        };
        let (protocol, address) = value.split_once('=').ok_or_else(|| err("no '='"))?;
        let protocol = crate::protocol::named(protocol).ok_or_else(|| err("unknown protocol"))?;
        let address = if let Some(path) = address.strip_prefix("unix:") {
            if !path.starts_with('/') {
                return Err(err("a Unix socket path must be absolute"));
            }
            Address::Unix(PathBuf::from(path))
        } else if let Some(inet) = address.strip_prefix("inet:") {
            Address::Inet(
                inet.parse()
                    .map_err(|_| err("not HOST:PORT with a numeric host"))?,
            )
        } else {
            return Err(err("the address must start with unix: or inet:"));
        };
        Ok(ListenSpec { protocol, address })
    }
}

/// A bound socket, before the runtime takes it.
#[derive(Debug)]
pub enum Bound {
    /// A Unix listener and the path to remove at exit (none when systemd made it).
    Unix(std::os::unix::net::UnixListener, Option<PathBuf>),
    /// A TCP listener.
    Tcp(std::net::TcpListener),
}

/// Binds `address`. A socket file left by a dead daemon is replaced; a path
/// where a daemon still answers, or that is not a socket, is left alone.
pub fn bind(address: &Address, mode: Option<u32>) -> io::Result<Bound> {
    match address {
        Address::Inet(a) => Ok(Bound::Tcp(std::net::TcpListener::bind(a)?)),
        Address::Unix(path) => {
            remove_stale(path)?;
            let listener = std::os::unix::net::UnixListener::bind(path)?;
            if let Some(mode) = mode {
                std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))?;
            }
            Ok(Bound::Unix(listener, Some(path.clone())))
        }
    }
}

fn remove_stale(path: &Path) -> io::Result<()> {
    let meta = match std::fs::symlink_metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e),
    };
    if !meta.file_type().is_socket() {
        return Err(io::Error::new(
            io::ErrorKind::AlreadyExists,
            format!("{} exists and is not a socket", path.display()),
        ));
    }
    if std::os::unix::net::UnixStream::connect(path).is_ok() {
        return Err(io::Error::new(
            io::ErrorKind::AddrInUse,
            format!("{} is in use by a running daemon", path.display()),
        ));
    }
    std::fs::remove_file(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_listen_values() {
        let s: ListenSpec = "socketmap=unix:/var/spool/postfix/srs".parse().unwrap();
        assert_eq!(s.address, Address::Unix("/var/spool/postfix/srs".into()));
        let s: ListenSpec = "tcp-reverse=inet:[::1]:10002".parse().unwrap();
        assert_eq!(s.protocol.name(), "tcp-reverse");
        assert_eq!(s.to_string(), "tcp-reverse=inet:[::1]:10002");
        for bad in [
            "socketmap",
            "smtp=unix:/x",
            "line=unix:rel",
            "line=inet:localhost:1",
            "line=/x",
        ] {
            assert!(bad.parse::<ListenSpec>().is_err(), "{bad}");
        }
    }
}
