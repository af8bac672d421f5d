//! srsd's settings as a model: the options of [`SrsdCli`] (from the command
//! line and the configuration file) turned into what the daemon runs with
//! (listeners, limits, the milter's and the relay's settings, the state);
//! their validation ([`validate`]), and what a reload changes
//! ([`reload`]). `cli/` holds only their clap definitions.

pub mod reload;
pub mod validate;

use crate::cli::codec::{SetupError, Warning};
use crate::cli::srsd::{DEFAULT_LISTEN, LoadError, SrsdCli, UpstreamProtocol};
use crate::daemon::{Limits, ListenSpec, State};

impl SrsdCli {
    /// The settings from `args` (with the program name) and the configuration
    /// file it names; run again on reload.
    pub fn load(args: &[std::ffi::OsString]) -> Result<SrsdCli, LoadError> {
        Self::load_in(args, None)
    }

    /// Like [`SrsdCli::load`], from inside the chroot `root` (the paths in
    /// `args` and the file are written as seen from outside it).
    pub fn load_in(
        args: &[std::ffi::OsString],
        root: Option<&std::path::Path>,
    ) -> Result<SrsdCli, LoadError> {
        crate::config::load(
            args,
            &crate::config::Reading {
                renames: &[],
                elsewhere: &crate::cli::config_keys(),
                chroot: root,
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

    /// How the milter behaves, from these options.
    pub fn milter_settings(&self) -> crate::protocol::milter::MilterSettings {
        use crate::protocol::milter;
        let d = milter::MilterSettings::default();
        milter::MilterSettings {
            rewrite: self.milter_rewrite.unwrap_or_default(),
            domain_from: self.srs_domain_from.unwrap_or_default(),
            bounce_policy: self.bounce_policy.unwrap_or_default(),
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
            domain_from_orcpt: self.srs_domain_from
                == Some(crate::protocol::milter::DomainFrom::Recipient),
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
