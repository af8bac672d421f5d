//! `srsd`: the daemon's options.

use std::path::PathBuf;

use clap::{Parser, ValueEnum};

use super::CodecArgs;
use super::codec::{SetupError, Warning};
use crate::daemon::{Limits, ListenSpec, State};

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
pub struct Cli {
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
    pub milter_rewrite: Option<MilterRewrite>,

    /// When the milter refuses a bounce (null sender) to a local address that carries no SRS signature; data and rcpt need --always-rewrite [default: off]
    #[arg(long, value_name = "WHEN", value_enum)]
    pub bounce_policy: Option<BouncePolicy>,

    /// Which domain the milter and the relay-pack service sign with: always --domain, or the domain of the local recipient that forwards the mail [default: fixed]
    #[arg(long, value_name = "FROM", value_enum)]
    pub srs_domain_from: Option<SrsDomainFrom>,

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

/// `--milter-rewrite` values.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum MilterRewrite {
    /// Every sender the forward rules rewrite (the sendmail SRS guide's rule)
    Always,
    /// Only when at least one recipient is not local
    Forwarded,
}

/// `--srs-domain-from` values.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum SrsDomainFrom {
    /// Always --domain
    Fixed,
    /// The domain of the first local recipient (milter), or of the first recipient's ORCPT (relay-pack), when it is --domain or a local domain
    Recipient,
}

/// `--bounce-policy` values.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum BouncePolicy {
    /// Never refuse a bounce for want of a signature
    Off,
    /// Refuse at DATA, so address probes (RCPT without DATA) still pass
    Data,
    /// Refuse at RCPT
    Rcpt,
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

impl Cli {
    /// The settings from `args` (with the program name) and the configuration
    /// file it names; run again on reload.
    pub fn load(args: &[std::ffi::OsString]) -> Result<Cli, LoadError> {
        Self::load_in(args, None)
    }

    /// Like [`Cli::load`], from inside the chroot `root` (the paths in
    /// `args` and the file are written as seen from outside it).
    pub fn load_in(
        args: &[std::ffi::OsString],
        root: Option<&std::path::Path>,
    ) -> Result<Cli, LoadError> {
        crate::config::load(
            args,
            &crate::config::Reading {
                renames: &[],
                elsewhere: &super::config_keys(),
                chroot: root,
            },
        )
    }

    /// The files srsd reads again at reload, as given: they must lie inside
    /// `--chroot` when one is set.
    pub fn check_chroot_paths(&self) -> Result<(), String> {
        let Some(root) = &self.chroot else {
            return Ok(());
        };
        let files = [
            self.config.as_deref(),
            self.codec.secret_file.as_deref(),
            self.codec.local_domains_file.as_deref(),
        ];
        for path in files.into_iter().flatten() {
            crate::daemon::privdrop::inside(root, path)?;
        }
        Ok(())
    }

    /// What a reload of the daemon running as `self` (started with `args`)
    /// would serve: the settings, keys and local domains read afresh, from
    /// inside the chroot if there is one, with the warnings to log. Anything
    /// wrong is one message; the caller keeps the running state then.
    pub fn reload(&self, args: &[std::ffi::OsString]) -> Result<(State, Vec<String>), String> {
        let root = self.chroot.as_deref();
        let mut fresh = Self::load_in(args, root)
            .map_err(|e| format!("reload failed, keeping the previous settings: {e}"))?;
        if let Some(root) = root {
            let map = |p: &mut Option<PathBuf>| -> Result<(), String> {
                if let Some(path) = p {
                    *path = crate::daemon::privdrop::inside(root, path)?;
                }
                Ok(())
            };
            map(&mut fresh.codec.secret_file)
                .and_then(|()| map(&mut fresh.codec.local_domains_file))
                .map_err(|e| format!("reload failed, keeping the previous settings: {e}"))?;
        }
        if let Err(e) = fresh.check() {
            return Err(format!("reload failed, keeping the previous settings: {e}"));
        }
        let (state, warnings) = fresh
            .state()
            .map_err(|e| format!("reload failed, keeping the previous keys: {e}"))?;
        let mut notes: Vec<String> = warnings.iter().map(ToString::to_string).collect();
        notes.extend(
            fresh
                .restart_only_changes(self)
                .into_iter()
                .map(|s| format!("{s} changed; restart srsd to apply it")),
        );
        Ok((state, notes))
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

    /// What the supervisor does around serving, from these options.
    pub fn plan(&self) -> crate::daemon::supervise::Plan {
        crate::daemon::supervise::Plan {
            listen: self.listeners(),
            socket_mode: self.socket_mode.unwrap_or(0o666),
            socket_owner: self.socket_owner.clone(),
            socket_group: self.socket_group.clone(),
            pid_file: self.pid_file.clone(),
            user: self.user.clone(),
            group: self.group.clone(),
            chroot: self.chroot.clone(),
            limits: self.limits(),
        }
    }

    /// The clock: the real one, or the fixed time of `--now`.
    pub fn clock(&self) -> std::sync::Arc<dyn crate::clock::Clock> {
        match self.now {
            Some(s) => std::sync::Arc::new(crate::clock::FixedClock(
                std::time::UNIX_EPOCH + std::time::Duration::from_secs(s),
            )),
            None => std::sync::Arc::new(crate::clock::SystemClock),
        }
    }

    /// `--check-config` as srsd runs it: every problem on its own line and
    /// 78, or "configuration OK" and 0.
    pub fn check_and_report(&self, prog: &str) -> crate::exit::Exit {
        super::report_problems(prog, &self.problems())
    }

    /// `--check-config`: every problem srsd would stop on before serving,
    /// found without binding anything or changing user. Empty when all is
    /// well.
    pub fn problems(&self) -> Vec<String> {
        let (mut problems, _) = self.refused_settings();
        if let Err(e) = self.check_chroot_paths() {
            problems.push(e);
        }
        if let Err(e) = self.state() {
            problems.push(e.to_string());
        }
        for name in self.user.iter().chain(&self.socket_owner) {
            if let Err(e) = crate::daemon::privdrop::user(name) {
                problems.push(e.to_string());
            }
        }
        for name in self.group.iter().chain(&self.socket_group) {
            if let Err(e) = crate::daemon::privdrop::group(name) {
                problems.push(e.to_string());
            }
        }
        if let Some(root) = &self.chroot
            && !root.is_dir()
        {
            problems.push(format!("chroot {} is not a directory", root.display()));
        }
        for spec in self.listeners() {
            if let crate::daemon::Address::Unix(path) = &spec.address {
                let dir = path.parent().unwrap_or(std::path::Path::new("/"));
                if !dir.is_dir() {
                    problems.push(format!(
                        "listener {spec}: directory {} does not exist",
                        dir.display()
                    ));
                } else if path.exists() && std::os::unix::net::UnixStream::connect(path).is_ok() {
                    problems.push(format!(
                        "listener {spec}: {} is in use by a running daemon",
                        path.display()
                    ));
                }
            }
        }
        problems
    }

    /// Everything srsd checks and reads before binding, as one step: the
    /// refused settings, the paths under `--chroot`, the keys and local
    /// domains. Gives the state to serve and the warnings to log, or the
    /// message to log before exiting 78.
    pub fn prepare(&self) -> Result<(State, Vec<String>), String> {
        let mut notes = self.check()?;
        self.check_chroot_paths()?;
        let (state, warnings) = self.state().map_err(|e| e.to_string())?;
        notes.extend(warnings.iter().map(ToString::to_string));
        Ok((state, notes))
    }

    /// How the milter behaves, from these options.
    pub fn milter_settings(&self) -> crate::protocol::milter::MilterSettings {
        use crate::protocol::milter;
        let d = milter::MilterSettings::default();
        milter::MilterSettings {
            rewrite: match self.milter_rewrite {
                Some(MilterRewrite::Forwarded) => milter::Rewrite::Forwarded,
                Some(MilterRewrite::Always) | None => milter::Rewrite::Always,
            },
            domain_from: match self.srs_domain_from {
                Some(SrsDomainFrom::Recipient) => milter::DomainFrom::Recipient,
                Some(SrsDomainFrom::Fixed) | None => milter::DomainFrom::Fixed,
            },
            bounce_policy: match self.bounce_policy {
                Some(BouncePolicy::Off) | None => milter::BouncePolicy::Off,
                Some(BouncePolicy::Rcpt) => milter::BouncePolicy::Rcpt,
                Some(BouncePolicy::Data) => milter::BouncePolicy::Data,
            },
            reject_invalid: self
                .milter_reject_invalid
                .clone()
                .unwrap_or(d.reject_invalid),
            reject_bounce: self.milter_reject_bounce.clone().unwrap_or(d.reject_bounce),
            exempt: self.bounce_exempt.clone(),
            rewrite_to: self.milter_rewrite_to,
        }
    }

    /// Where and how srsrelay's services relay, from these options.
    pub fn relay_settings(&self) -> crate::protocol::relay::RelaySettings {
        let d = crate::protocol::relay::RelaySettings::default();
        crate::protocol::relay::RelaySettings {
            domains: std::iter::once(self.domain.clone())
                .chain(self.relay_domain.iter().cloned())
                .collect(),
            upstream: self.upstream.clone().unwrap_or_default(),
            lmtp: self.upstream_protocol == Some(UpstreamProtocol::Lmtp),
            connect_timeout: self
                .upstream_connect_timeout
                .map_or(d.connect_timeout, std::time::Duration::from_secs),
            reply_timeout: self
                .upstream_timeout
                .map_or(d.reply_timeout, std::time::Duration::from_secs),
            domain_from_orcpt: self.srs_domain_from == Some(SrsDomainFrom::Recipient),
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
            request_timeout: self
                .request_timeout
                .map_or(d.request_timeout, std::time::Duration::from_secs),
            drain_timeout: self
                .drain_timeout
                .map_or(d.drain_timeout, std::time::Duration::from_secs),
            protocols: crate::protocol::Settings {
                line_keep_alive: self.line_keep_alive,
                milter: self.milter_settings(),
                relay: self.relay_settings(),
                ..d.protocols
            },
        }
    }

    /// Settings that differ from `running` and take effect only at start.
    pub fn restart_only_changes(&self, running: &Cli) -> Vec<&'static str> {
        let mut changed = Vec::new();
        if self.listeners() != running.listeners()
            || self.allow_non_loopback != running.allow_non_loopback
        {
            changed.push("listen or allow-non-loopback");
        }
        if self.socket_mode != running.socket_mode {
            changed.push("socket-mode");
        }
        if self.limits() != running.limits() {
            changed.push(
                "max-connections, idle-timeout, request-timeout, drain-timeout, line-keep-alive, a milter or a relay setting",
            );
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

    /// Settings that make a daemon unsafe or surely wrong, refused at start:
    /// the example configuration's placeholder domain, and inet listeners
    /// off loopback without `--allow-non-loopback` (an SRS signer anyone can
    /// reach lets anyone mint addresses this forwarder will relay). Gives
    /// the warnings for what is allowed but risky.
    pub fn check(&self) -> Result<Vec<String>, String> {
        let (mut refused, warnings) = self.refused_settings();
        if refused.is_empty() {
            Ok(warnings)
        } else {
            Err(refused.remove(0))
        }
    }

    /// Every setting [`Cli::check`] refuses, and the warnings for what is
    /// allowed but risky.
    fn refused_settings(&self) -> (Vec<String>, Vec<String>) {
        let mut refused = Vec::new();
        if self
            .domain
            .trim_end_matches('.')
            .eq_ignore_ascii_case(PLACEHOLDER_DOMAIN)
        {
            refused.push(format!(
                "domain {PLACEHOLDER_DOMAIN} is the example configuration's placeholder: set domain to your forwarding domain"
            ));
        }
        let relays = self.listeners().iter().any(|l| l.protocol.relays());
        if relays && self.upstream.as_deref().unwrap_or_default().is_empty() {
            refused
                .push("relay-pack and relay-unpack listeners need --upstream HOST:PORT".to_owned());
        }
        if let Some(policy @ (BouncePolicy::Data | BouncePolicy::Rcpt)) = self.bounce_policy
            && !self.codec.always_rewrite
        {
            let policy = match policy {
                BouncePolicy::Rcpt => "rcpt",
                _ => "data",
            };
            refused.push(format!(
                "bounce-policy = {policy} needs always-rewrite: it refuses every bounce to a local address without an SRS signature, and without always-rewrite the senders of the local domains are never signed, so every genuine bounce to a local user would be refused; set always-rewrite, or bounce-policy = off"
            ));
        }
        let mut warnings = Vec::new();
        for spec in self.listeners() {
            // The metrics listener mints nothing: a scraper on another
            // host is its usual client.
            if let crate::daemon::Address::Inet(addr) = &spec.address
                && !addr.ip().is_loopback()
                && spec.protocol.looks_up()
            {
                if self.allow_non_loopback {
                    warnings.push(format!(
                        "listener {spec} is reachable from other hosts (--allow-non-loopback): firewall it"
                    ));
                } else {
                    refused.push(format!(
                        "listener {spec} is not on a loopback address: anyone who reaches it can make valid SRS addresses; use 127.0.0.1 or ::1, or give --allow-non-loopback"
                    ));
                }
            }
        }
        (refused, warnings)
    }

    /// Reads the keys and local-domains files and builds the daemon's state;
    /// run again on reload.
    pub fn state(&self) -> Result<(State, Vec<Warning>), SetupError> {
        let (secrets, warnings) = self.codec.secrets()?.ok_or(SetupError::NoSecret)?;
        let srs = self.codec.build(&secrets)?;
        let mut state = State::new(srs, self.domain.clone());
        if let Some((db, when)) = self.codec.database()? {
            state.database = Some(std::sync::Arc::new(db));
            state.store_when = when;
        }
        Ok((state, warnings))
    }
}
