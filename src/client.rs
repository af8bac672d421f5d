//! The client side of srsd's protocols, for `srsc` and the tests.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::time::Duration;

use thiserror::Error;

use crate::protocol::{netstring, socketmap, tcp_table};

use crate::engine::Direction;

/// Where the daemon listens.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    /// A Unix socket.
    Unix(PathBuf),
    /// A TCP address.
    Tcp(SocketAddr),
}

/// Which protocol to speak.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClientProtocol {
    /// socketmap netstrings.
    Socketmap,
    /// Postfix tcp_table; the listener decides the direction.
    TcpTable,
    /// The Perl srsd line protocol; one request per connection.
    Line,
}

/// What the daemon answered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reply {
    /// The rewritten address.
    Found(String),
    /// Not rewritten, with the daemon's reason when the protocol carries one.
    NotFound(Option<String>),
}

/// Why there is no answer.
#[derive(Debug, Error)]
pub enum ClientError {
    /// The daemon cannot be reached.
    #[error("cannot connect to {target}: {source}")]
    Unavailable {
        /// The socket path or address srsc tried.
        target: String,
        /// The operating system's reason.
        source: io::Error,
    },
    /// The daemon reported a temporary failure or did not answer in time.
    #[error("temporary failure: {0}")]
    Temporary(String),
    /// The daemon's answer makes no sense in this protocol.
    #[error("protocol error: {0}")]
    Protocol(String),
    /// The request cannot be sent in this protocol.
    #[error("{0}")]
    Request(String),
}

/// A connected socket of either kind.
trait Stream: Read + Write {}
impl<T: Read + Write> Stream for T {}

/// What both socket kinds need before the first request: the timeouts.
trait Timeouts: Stream + Sized + 'static {
    fn set_timeouts(&self, timeout: Duration) -> std::io::Result<()>;

    fn with_timeouts(self, timeout: Duration) -> std::io::Result<Box<dyn Stream>> {
        self.set_timeouts(timeout)?;
        Ok(Box::new(self))
    }
}

impl Timeouts for UnixStream {
    fn set_timeouts(&self, timeout: Duration) -> std::io::Result<()> {
        self.set_read_timeout(Some(timeout))?;
        self.set_write_timeout(Some(timeout))
    }
}

impl Timeouts for TcpStream {
    fn set_timeouts(&self, timeout: Duration) -> std::io::Result<()> {
        // Requests are small and each waits for its reply.
        let _ = self.set_nodelay(true);
        self.set_read_timeout(Some(timeout))?;
        self.set_write_timeout(Some(timeout))
    }
}

/// A connection to srsd, opened on first use and reused where the protocol allows.
pub struct Client {
    target: Target,
    protocol: ClientProtocol,
    timeout: Duration,
    conn: Option<BufReader<Box<dyn Stream>>>,
}

impl Client {
    /// A client for `target`, waiting at most `timeout` for each reply.
    pub fn new(target: Target, protocol: ClientProtocol, timeout: Duration) -> Client {
        Client {
            target,
            protocol,
            timeout,
            conn: None,
        }
    }

    fn describe(&self) -> String {
        match &self.target {
            Target::Unix(p) => p.display().to_string(),
            Target::Tcp(a) => a.to_string(),
        }
    }

    fn connect(&mut self) -> Result<&mut BufReader<Box<dyn Stream>>, ClientError> {
        if self.conn.is_none() {
            let unavailable = |source| ClientError::Unavailable {
                target: self.describe(),
                source,
            };
            let stream = match &self.target {
                Target::Unix(p) => {
                    UnixStream::connect(p).and_then(|s| s.with_timeouts(self.timeout))
                }
                Target::Tcp(a) => TcpStream::connect_timeout(a, self.timeout)
                    .and_then(|s| s.with_timeouts(self.timeout)),
            }
            .map_err(unavailable)?;
            self.conn = Some(BufReader::new(stream));
        }
        self.conn
            .as_mut()
            .ok_or_else(|| ClientError::Protocol("no connection".into()))
    }

    /// Asks the daemon to forward (through `alias`, line protocol only) or reverse `address`.
    pub fn lookup(
        &mut self,
        direction: Direction,
        address: &str,
        alias: Option<&str>,
    ) -> Result<Reply, ClientError> {
        let result = self.exchange(direction, address, alias);
        if result.is_err() || self.protocol == ClientProtocol::Line {
            self.conn = None;
        }
        result
    }

    fn exchange(
        &mut self,
        direction: Direction,
        address: &str,
        alias: Option<&str>,
    ) -> Result<Reply, ClientError> {
        let request = match self.protocol {
            ClientProtocol::Socketmap => {
                let map = match direction {
                    Direction::Forward => "forward",
                    Direction::Reverse => "reverse",
                };
                let mut r = Vec::new();
                netstring::encode(&mut r, format!("{map} {address}").as_bytes());
                r
            }
            ClientProtocol::TcpTable => {
                let mut r = b"get ".to_vec();
                tcp_table::encode(&mut r, address.as_bytes());
                r.push(b'\n');
                r
            }
            ClientProtocol::Line => {
                if address.is_empty() || address.contains(char::is_whitespace) {
                    return Err(ClientError::Request(
                        "the line protocol cannot carry an empty address or one with white space"
                            .into(),
                    ));
                }
                match (direction, alias) {
                    (Direction::Forward, Some(alias)) => {
                        format!("FORWARD {address} {alias}\n").into_bytes()
                    }
                    (Direction::Forward, None) => {
                        return Err(ClientError::Request(
                            "forward over the line protocol needs an ALIAS".into(),
                        ));
                    }
                    (Direction::Reverse, _) => format!("REVERSE {address}\n").into_bytes(),
                }
            }
        };
        let protocol = self.protocol;
        let conn = self.connect()?;
        conn.get_mut().write_all(&request).map_err(io_failure)?;
        conn.get_mut().flush().map_err(io_failure)?;
        match protocol {
            ClientProtocol::Socketmap => read_socketmap(conn),
            ClientProtocol::TcpTable | ClientProtocol::Line => {
                let mut line = Vec::new();
                conn.by_ref()
                    .take(crate::protocol::MAX_LINE as u64)
                    .read_until(b'\n', &mut line)
                    .map_err(io_failure)?;
                if line.pop() != Some(b'\n') {
                    return Err(ClientError::Protocol(
                        if line.len() + 1 >= crate::protocol::MAX_LINE {
                            format!("reply longer than {} bytes", crate::protocol::MAX_LINE)
                        } else {
                            "reply not terminated by a newline".to_owned()
                        },
                    ));
                }
                let line = String::from_utf8(line)
                    .map_err(|_| ClientError::Protocol("reply is not UTF-8".into()))?;
                if protocol == ClientProtocol::Line {
                    Ok(match line.strip_prefix("ERROR: ") {
                        Some(reason) => Reply::NotFound(Some(reason.to_owned())),
                        None => Reply::Found(line),
                    })
                } else {
                    parse_tcp_table(&line)
                }
            }
        }
    }
}

/// The most a scrape of the metrics listener may return.
const MAX_SCRAPE: u64 = 1 << 20;

impl Client {
    /// Fetches the metrics listener's exposition (HTTP `GET /metrics`).
    pub fn scrape(&mut self) -> Result<String, ClientError> {
        let conn = self.connect()?;
        let request = b"GET /metrics HTTP/1.0\r\nHost: srsd\r\n\r\n";
        conn.get_mut().write_all(request).map_err(io_failure)?;
        conn.get_mut().flush().map_err(io_failure)?;
        let mut reply = Vec::new();
        let read = conn
            .by_ref()
            .take(MAX_SCRAPE + 1)
            .read_to_end(&mut reply)
            .map_err(io_failure);
        self.conn = None;
        read?;
        if reply.len() as u64 > MAX_SCRAPE {
            return Err(ClientError::Protocol(format!(
                "reply longer than {MAX_SCRAPE} bytes"
            )));
        }
        let reply = String::from_utf8(reply)
            .map_err(|_| ClientError::Protocol("reply is not UTF-8".into()))?;
        let (head, body) = reply.split_once("\r\n\r\n").ok_or_else(|| {
            ClientError::Protocol("not an HTTP reply (is this the metrics listener?)".into())
        })?;
        let status = head.lines().next().unwrap_or_default();
        if status.split(' ').nth(1) != Some("200") {
            return Err(ClientError::Protocol(format!(
                "the metrics listener answered {status:?}"
            )));
        }
        Ok(body.to_owned())
    }
}

fn io_failure(e: io::Error) -> ClientError {
    match e.kind() {
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => {
            ClientError::Temporary("no reply in time".into())
        }
        _ => ClientError::Temporary(format!("connection failed: {e}")),
    }
}

fn read_socketmap(conn: &mut BufReader<Box<dyn Stream>>) -> Result<Reply, ClientError> {
    let mut buf = Vec::new();
    loop {
        match netstring::decode(&buf, socketmap::MAX_NETSTRING) {
            Ok(Some((payload, _))) => {
                let text = String::from_utf8(payload.to_vec())
                    .map_err(|_| ClientError::Protocol("reply is not UTF-8".into()))?;
                return parse_socketmap(&text);
            }
            Ok(None) => {}
            Err(e) => return Err(ClientError::Protocol(e.to_string())),
        }
        let available = conn.fill_buf().map_err(io_failure)?;
        if available.is_empty() {
            return Err(ClientError::Temporary(
                "the daemon closed the connection".into(),
            ));
        }
        let n = available.len();
        buf.extend_from_slice(available);
        conn.consume(n);
    }
}

fn parse_socketmap(reply: &str) -> Result<Reply, ClientError> {
    let (status, rest) = reply.split_once(' ').unwrap_or((reply, ""));
    match status {
        "OK" => Ok(Reply::Found(rest.to_owned())),
        "NOTFOUND" => Ok(Reply::NotFound((!rest.is_empty()).then(|| rest.to_owned()))),
        "TEMP" | "TIMEOUT" => Err(ClientError::Temporary(rest.to_owned())),
        "PERM" => Err(ClientError::Protocol(format!(
            "the daemon refused the request: {rest}"
        ))),
        _ => Err(ClientError::Protocol(format!("unexpected reply {reply:?}"))),
    }
}

fn parse_tcp_table(line: &str) -> Result<Reply, ClientError> {
    let (code, text) = line.split_once(' ').unwrap_or((line, ""));
    let text = tcp_table::decode(text.as_bytes())
        .and_then(|t| String::from_utf8(t).ok())
        .ok_or_else(|| ClientError::Protocol(format!("bad %-encoding in {line:?}")))?;
    match code {
        "200" => Ok(Reply::Found(text)),
        "500" => Ok(Reply::NotFound(Some(text))),
        "400" => Err(ClientError::Temporary(text)),
        _ => Err(ClientError::Protocol(format!("unexpected reply {line:?}"))),
    }
}
