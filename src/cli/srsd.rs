//! `srsd`: the daemon's options.

use std::path::PathBuf;

use clap::{Parser, ValueEnum};

use super::CodecArgs;
use super::codec::{SetupError, Warning};
use crate::daemon::{Limits, ListenSpec, State};

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
#[derive(Parser, Debug, PartialEq, Eq)]
#[command(name = "srsd", version, help_expected = true, max_term_width = 100)]
pub struct Cli {
    /// Read settings from FILE (key = value, keys named like the long options); options override it
    #[arg(short, long, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// The SRS domain: forward rewrites senders into addresses at it
    #[arg(short, long, value_name = "DOMAIN", value_parser = super::parse_domain)]
    pub domain: String,

    /// A listener, PROTOCOL=unix:/PATH or PROTOCOL=inet:HOST:PORT; protocols socketmap, tcp-forward, tcp-reverse, line (repeatable) [default: socketmap=unix:/var/spool/postfix/srs]
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

    /// Keep line-protocol connections open after each reply (Perl srsd and Exim close them)
    #[arg(long)]
    pub line_keep_alive: bool,

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

impl Cli {
    /// The settings from `args` (with the program name) and the configuration
    /// file it names; run again on reload.
    pub fn load(args: &[std::ffi::OsString]) -> Result<Cli, LoadError> {
        crate::config::load(
            args,
            &crate::config::Reading {
                renames: &[],
                elsewhere: &super::config_keys(),
            },
        )
    }

    /// The listeners, or the default one.
    pub fn listeners(&self) -> Vec<ListenSpec> {
        if self.listen.is_empty() {
            vec![
                DEFAULT_LISTEN
                    .parse()
                    .unwrap_or_else(|_| unreachable!("the default parses")),
            ]
        } else {
            self.listen.clone()
        }
    }

    /// The client limits these options give.
    pub fn limits(&self) -> Limits {
        let d = Limits::default();
        Limits {
            max_connections: self.max_connections.unwrap_or(d.max_connections).max(1),
            idle_timeout: self
                .idle_timeout
                .map_or(d.idle_timeout, std::time::Duration::from_secs),
            line_keep_alive: self.line_keep_alive,
            ..d
        }
    }

    /// Settings that differ from `running` and take effect only at start.
    pub fn restart_only_changes(&self, running: &Cli) -> Vec<&'static str> {
        let mut changed = Vec::new();
        if self.listeners() != running.listeners() {
            changed.push("listen");
        }
        if self.socket_mode != running.socket_mode {
            changed.push("socket-mode");
        }
        if self.limits() != running.limits() {
            changed.push("max-connections, idle-timeout or line-keep-alive");
        }
        if self.log_level != running.log_level || self.log != running.log {
            changed.push("log or log-level");
        }
        if (&self.user, &self.group, &self.chroot, &self.pid_file)
            != (
                &running.user,
                &running.group,
                &running.chroot,
                &running.pid_file,
            )
        {
            changed.push("user, group, chroot or pid-file");
        }
        if (&self.socket_owner, &self.socket_group)
            != (&running.socket_owner, &running.socket_group)
        {
            changed.push("socket-owner or socket-group");
        }
        changed
    }

    /// Reads the keys and local-domains files and builds the daemon's state;
    /// run again on reload.
    pub fn state(&self) -> Result<(State, Vec<Warning>), SetupError> {
        let (secrets, warnings) = self.codec.secrets()?.ok_or(SetupError::NoSecret)?;
        let srs = self.codec.build(&secrets)?;
        Ok((
            State {
                srs,
                domain: self.domain.clone(),
            },
            warnings,
        ))
    }
}
