//! `srsc`: the client's options.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

use crate::client::{ClientProtocol, Target};

/// The Unix socket srsd listens on by default.
pub const DEFAULT_SOCKET: &str = "/var/spool/postfix/srs";

/// Ask a running srsd to forward or reverse an address.
///
/// With no subcommand, reads requests from standard input, one per line:
/// "forward ADDRESS [ALIAS]" or "reverse ADDRESS", and prints one line for
/// each (empty when not rewritten). The defaults match srsd's, so on a
/// default install `srsc reverse ADDRESS` just works.
#[derive(Parser, Debug, PartialEq, Eq)]
#[command(name = "srsc", version, help_expected = true, max_term_width = 100)]
pub struct SrscCli {
    /// srsd's Unix socket [default: /var/spool/postfix/srs]
    #[arg(short, long, value_name = "PATH", conflicts_with = "connect")]
    pub socket: Option<PathBuf>,

    /// srsd's TCP address (for tcp-table, the port of the direction asked) [default for tcp-table: 127.0.0.1:10001 to forward, 127.0.0.1:10002 to reverse]
    #[arg(short, long, value_name = "HOST:PORT")]
    pub connect: Option<SocketAddr>,

    /// Protocol to speak
    #[arg(short, long, value_enum, default_value_t = ProtocolArg::Socketmap)]
    pub protocol: ProtocolArg,

    /// Seconds to wait for the daemon
    #[arg(long, value_name = "SECONDS", default_value_t = 10)]
    pub timeout: u64,

    /// Write one JSON object per request (input, direction, status, output or reason)
    #[arg(long, global = true)]
    pub json: bool,

    /// One request; standard input when absent
    #[command(subcommand)]
    pub command: Option<Request>,
}

/// `--protocol` values.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProtocolArg {
    /// Postfix/sendmail socketmap
    Socketmap,
    /// Postfix tcp_table (postsrsd 1.x)
    TcpTable,
    /// Perl Mail::SRS srsd line protocol
    Line,
}

/// One request.
#[derive(Subcommand, Debug, PartialEq, Eq)]
pub enum Request {
    /// Rewrite a sender into an SRS address
    Forward {
        /// The sender
        #[arg(value_name = "ADDRESS")]
        address: String,
        /// The alias domain (line protocol only; socketmap and tcp-table use srsd's domain)
        #[arg(value_name = "ALIAS", value_parser = super::parse_domain)]
        alias: Option<String>,
    },
    /// Turn an SRS address back into the address it stands for
    Reverse {
        /// The SRS address
        #[arg(value_name = "ADDRESS")]
        address: String,
    },
    /// Print srsd's counters, read from its metrics listener (-c HOST:PORT or -s PATH)
    Stats,
}

impl SrscCli {
    /// The socket path or address to connect to for requests in
    /// `direction`. tcp-table without `--connect` uses postsrsd 1.x's ports
    /// on 127.0.0.1: 10001 to forward, 10002 to reverse.
    pub fn target(&self, direction: crate::engine::Direction) -> Target {
        use crate::engine::Direction;
        match (&self.connect, &self.socket, self.protocol) {
            (Some(addr), _, _) => Target::Tcp(*addr),
            (None, Some(path), _) => Target::Unix(path.clone()),
            (None, None, ProtocolArg::TcpTable) => Target::Tcp(SocketAddr::from((
                [127, 0, 0, 1],
                match direction {
                    Direction::Forward => 10001,
                    Direction::Reverse => 10002,
                },
            ))),
            (None, None, _) => Target::Unix(PathBuf::from(DEFAULT_SOCKET)),
        }
    }

    /// The protocol srsd speaks there.
    pub fn client_protocol(&self) -> ClientProtocol {
        match self.protocol {
            ProtocolArg::Socketmap => ClientProtocol::Socketmap,
            ProtocolArg::TcpTable => ClientProtocol::TcpTable,
            ProtocolArg::Line => ClientProtocol::Line,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::Direction;

    #[test]
    fn tcp_table_defaults_to_postsrsd_ports() {
        let cli = SrscCli::try_parse_from(["srsc", "-p", "tcp-table", "reverse", "x@y"]).unwrap();
        let tcp = |port| Target::Tcp(SocketAddr::from(([127, 0, 0, 1], port)));
        assert_eq!(cli.target(Direction::Forward), tcp(10001));
        assert_eq!(cli.target(Direction::Reverse), tcp(10002));
        let cli = SrscCli::try_parse_from([
            "srsc",
            "-p",
            "tcp-table",
            "-c",
            "127.0.0.1:7",
            "reverse",
            "x",
        ])
        .unwrap();
        assert_eq!(cli.target(Direction::Forward), tcp(7));
        let cli = SrscCli::try_parse_from(["srsc", "reverse", "x@y"]).unwrap();
        assert_eq!(
            cli.target(Direction::Reverse),
            Target::Unix(PathBuf::from(DEFAULT_SOCKET))
        );
    }
}
