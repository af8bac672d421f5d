//! `srsd`: the daemon's options.

use std::path::PathBuf;

use clap::{Parser, ValueEnum};

use super::CodecArgs;
use crate::daemon::ListenSpec;
use crate::protocol::milter::{BouncePolicy, DomainFrom, RewriteWhen};

/// The domain in `examples/srsd.conf`, which a copied file must not keep.
pub const PLACEHOLDER_DOMAIN: &str = "forwarder.example";

/// The default listener: Postfix's socketmap at the path the Postfix wiring uses.
pub const DEFAULT_LISTEN: &str = "socketmap=unix:/var/spool/postfix/srs";

/// Answer SRS lookups for Postfix, sendmail and Exim.
///
/// Listens on Unix and loopback TCP sockets and speaks the socketmap protocol
/// (Postfix socketmap:, sendmail K socket), Postfix tcp_table (drop-in for
/// postsrsd 1.x) and the Perl Mail::SRS srsd line protocol (Exim
/// ${readsocket}). Runs in the foreground; SIGHUP re-reads the keys and
/// local-domains files, SIGTERM and SIGINT finish the requests in flight,
/// remove the sockets and exit.
#[derive(Parser, Clone, Debug, PartialEq, Eq)]
#[command(name = "srsd", version, help_expected = true, max_term_width = 100)]
pub struct SrsdCli {
    /// Read settings from FILE (key = value, keys named like the long options); options override it
    #[arg(short, long, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// The SRS domain: forward rewrites senders into addresses at it
    #[arg(short, long, value_name = "DOMAIN", value_parser = super::parse_domain)]
    pub domain: String,

    /// A listener, PROTOCOL=unix:/PATH or PROTOCOL=inet:HOST:PORT; protocols socketmap, tcp-forward, tcp-reverse, line, milter, metrics (Prometheus, over HTTP), relay-pack, relay-unpack (see srsrelay) (repeatable) [default: socketmap=unix:/var/spool/postfix/srs]
    #[arg(short, long, value_name = "PROTOCOL=ADDRESS")]
    pub listen: Vec<ListenSpec>,

    /// Codec and secrets
    #[command(flatten)]
    pub codec: CodecArgs,

    /// Permissions of Unix sockets, in octal [default: 0666]
    #[arg(long, value_name = "MODE", value_parser = parse_mode)]
    pub socket_mode: Option<u32>,

    /// Connections served at once; more wait in the listen queue [default: 10240]
    #[arg(long, value_name = "N")]
    pub max_connections: Option<usize>,

    /// Seconds a connection may stay idle before it is closed [default: 300]
    #[arg(long, value_name = "SECONDS")]
    pub idle_timeout: Option<u64>,

    /// Seconds a request may take from its first byte to its end before the connection is closed [default: 10]
    #[arg(long, value_name = "SECONDS", value_parser = clap::value_parser!(u64).range(1..))]
    pub request_timeout: Option<u64>,

    /// Seconds connections get at shutdown to finish their replies before they are cut off [default: 5]
    #[arg(long, value_name = "SECONDS")]
    pub drain_timeout: Option<u64>,

    /// Allow inet listeners on addresses other than loopback (anyone who reaches them can mint valid SRS addresses)
    #[arg(long)]
    pub allow_non_loopback: bool,

    /// Keep line-protocol connections open after each reply (Perl srsd and Exim close them)
    #[arg(long)]
    pub line_keep_alive: bool,

    /// Which senders the milter signs: every one the forward rules rewrite, or only mail with a recipient that is not local [default: always]
    #[arg(long, value_name = "WHEN", value_enum)]
    pub milter_rewrite: Option<RewriteWhen>,

    /// When the milter refuses a bounce (null sender) to a local address that carries no SRS signature; data and rcpt need --always-rewrite [default: off]
    #[arg(long, value_name = "WHEN", value_enum)]
    pub bounce_policy: Option<BouncePolicy>,

    /// Which domain the milter and the relay-pack service sign with: always --domain, or the domain of the local recipient that forwards the mail [default: fixed]
    #[arg(long, value_name = "FROM", value_enum)]
    pub srs_domain_from: Option<DomainFrom>,

    /// Also rewrite a reversed bounce recipient in the To: header, unless the message has a DKIM signature
    #[arg(long)]
    pub milter_rewrite_to: bool,

    /// A local part that always takes bounces, as postmaster does (repeatable)
    #[arg(long, value_name = "LOCALPART")]
    pub bounce_exempt: Vec<String>,

    /// The milter's reply to a forged, expired or malformed SRS recipient [default: 550 5.1.1 Invalid SRS address]
    #[arg(long, value_name = "REPLY", value_parser = parse_reply)]
    pub milter_reject_invalid: Option<String>,

    /// The milter's reply to a forged bounce [default: 554 5.7.1 Bounce to an address this site never used as a sender]
    #[arg(long, value_name = "REPLY", value_parser = parse_reply)]
    pub milter_reject_bounce: Option<String>,

    /// The server srsrelay's services relay to (relay-pack and relay-unpack listeners)
    #[arg(long, value_name = "HOST:PORT")]
    pub upstream: Option<String>,

    /// The protocol the upstream server speaks [default: smtp]
    #[arg(long, value_name = "PROTOCOL", value_enum)]
    pub upstream_protocol: Option<UpstreamProtocol>,

    /// Seconds connecting to the upstream server may take [default: 30]
    #[arg(long, value_name = "SECONDS", value_parser = clap::value_parser!(u64).range(1..))]
    pub upstream_connect_timeout: Option<u64>,

    /// Seconds the upstream server may take to reply [default: 600]
    #[arg(long, value_name = "SECONDS", value_parser = clap::value_parser!(u64).range(1..))]
    pub upstream_timeout: Option<u64>,

    /// Another domain whose senders the relay-pack service leaves alone, besides --domain (repeatable)
    #[arg(long, value_name = "DOMAIN", value_parser = super::parse_domain)]
    pub relay_domain: Vec<String>,

    /// Run as this user once the sockets are bound (and its group, unless --group)
    #[arg(long, value_name = "USER")]
    pub user: Option<String>,

    /// Run with this group once the sockets are bound
    #[arg(long, value_name = "GROUP")]
    pub group: Option<String>,

    /// Change root to DIR once the sockets are bound; reloads then read files inside it
    #[arg(long, value_name = "DIR")]
    pub chroot: Option<PathBuf>,

    /// Write the process ID to FILE
    #[arg(long, value_name = "FILE")]
    pub pid_file: Option<PathBuf>,

    /// Owner of the Unix sockets srsd creates
    #[arg(long, value_name = "USER")]
    pub socket_owner: Option<String>,

    /// Group of the Unix sockets srsd creates (with --socket-mode 0660, only that group may connect)
    #[arg(long, value_name = "GROUP")]
    pub socket_group: Option<String>,

    /// Where log messages go: stderr (the journal under systemd) or syslog's mail facility
    #[arg(long, value_name = "WHERE", value_enum, default_value_t = LogTo::Stderr)]
    pub log: LogTo,

    /// The syslog socket
    #[arg(long, value_name = "PATH", default_value = "/dev/log", hide = true)]
    pub syslog_socket: PathBuf,

    /// Detach and run in the background once ready (the default is the foreground, as systemd wants); use with --log syslog
    #[arg(long)]
    pub background: bool,

    /// Least severe messages logged
    #[arg(long, value_name = "LEVEL", value_enum, default_value_t = LogLevel::Info)]
    pub log_level: LogLevel,

    /// Use this Unix time (seconds) instead of the clock, to reproduce a result
    #[arg(long, value_name = "SECONDS")]
    pub now: Option<u64>,

    /// Check the configuration, keys, local domains, listeners, users and groups without binding, then exit: 0 when all is well, 78 with every problem named
    #[arg(short = 't', long)]
    pub check_config: bool,

    /// Print the version (as postsrsd's -v does) and exit
    #[arg(short = 'v', action = clap::ArgAction::Version)]
    pub version_short: Option<bool>,
}

/// Says why the settings could not be loaded, on stderr as program
/// `prog`, and gives the exit status: help and version 0, usage 64 (with a
/// hint for postsrsd 1.x options), a bad configuration file 78.
pub fn report_load_error(prog: &str, e: &LoadError) -> crate::exit::Exit {
    match e {
        LoadError::Usage(e) => {
            let exit = super::report(e);
            if let Some(hint) = postsrsd_hint(e) {
                eprintln!(
                    "{prog}: {hint} (postsrsd's -c DIR is --chroot DIR; see Migrating in the README)"
                );
            }
            exit
        }
        LoadError::File(_) => {
            eprintln!("{prog}: {e}");
            crate::exit::Exit::Config
        }
    }
}

/// What a postsrsd 1.x option given to srsd is called here, for the error
/// message: srsd's `-c` is the configuration file, postsrsd's the chroot.
pub fn postsrsd_hint(e: &clap::Error) -> Option<&'static str> {
    use clap::error::{ContextKind, ContextValue};
    if e.kind() != clap::error::ErrorKind::UnknownArgument {
        return None;
    }
    let Some(ContextValue::String(arg)) = e.get(ContextKind::InvalidArg) else {
        return None;
    };
    Some(match arg.get(..2)? {
        "-s" => "postsrsd's -s FILE is --secret-file FILE (-k FILE) here",
        "-f" => "postsrsd's -f PORT is --listen tcp-forward=inet:127.0.0.1:PORT here",
        "-r" => "postsrsd's -r PORT is --listen tcp-reverse=inet:127.0.0.1:PORT here",
        "-a" => "postsrsd's -a SEP is --separator SEP here",
        "-n" => "postsrsd's -n N is --hash-length N here",
        "-N" => "postsrsd's -N N is --hash-min N here",
        "-X" => "postsrsd's -X DOMAIN is --local-domain DOMAIN here",
        "-A" => "postsrsd's -A is --always-rewrite here",
        "-u" => "postsrsd's -u USER is --user USER here",
        "-p" => "postsrsd's -p FILE is --pid-file FILE here",
        "-D" => "postsrsd's -D is --background here",
        _ => return None,
    })
}

/// `--upstream-protocol` values.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum UpstreamProtocol {
    /// SMTP or ESMTP
    Smtp,
    /// LMTP: one reply per accepted recipient after the message
    Lmtp,
}

/// An SMTP reply for the milter: a 4xx or 5xx code, a space, and printable
/// text without `%` (which sendmail would expand).
fn parse_reply(s: &str) -> Result<String, String> {
    let code_ok = s.len() > 4
        && s.as_bytes()[..3].iter().all(u8::is_ascii_digit)
        && matches!(s.as_bytes()[0], b'4' | b'5')
        && s.as_bytes()[3] == b' ';
    if !code_ok {
        return Err(
            "expected a 4xx or 5xx code, a space and text, such as 550 5.1.1 Invalid SRS address"
                .into(),
        );
    }
    if s.chars().any(|c| c.is_control() || c == '%') {
        return Err("control characters and % cannot appear in a reply".into());
    }
    Ok(s.to_owned())
}

/// `--log` values.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogTo {
    /// Standard error, with journal priorities under systemd
    Stderr,
    /// syslog, mail facility
    Syslog,
}

/// `--log-level` values.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogLevel {
    /// Only failures to serve
    Error,
    /// Also refused reverses and reload failures
    Warning,
    /// Also start, reload and stop
    Info,
    /// Also every connection
    Debug,
}

impl From<LogLevel> for log::LevelFilter {
    fn from(l: LogLevel) -> Self {
        match l {
            LogLevel::Error => log::LevelFilter::Error,
            LogLevel::Warning => log::LevelFilter::Warn,
            LogLevel::Info => log::LevelFilter::Info,
            LogLevel::Debug => log::LevelFilter::Debug,
        }
    }
}

fn parse_mode(s: &str) -> Result<u32, String> {
    u32::from_str_radix(s, 8)
        .ok()
        .filter(|m| *m <= 0o777)
        .ok_or_else(|| format!("{s:?} is not an octal mode such as 0660"))
}

pub use crate::config::LoadError;
