//! What srsd refuses to run with, and `--check-config`: one
//! [`SrsdCli::validate`] for the settings themselves, used at start-up, at
//! reload and by `--check-config`, which also probes the system (keys,
//! users, directories, sockets).

use thiserror::Error;

use crate::cli::srsd::{PLACEHOLDER_DOMAIN, SrsdCli};
use crate::daemon::{ListenSpec, State};
use crate::protocol::milter::BouncePolicy;

impl SrsdCli {
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
            crate::files::inside_chroot(root, path)?;
        }
        Ok(())
    }

    /// `--check-config` as srsd runs it: every problem on its own line and
    /// 78, or "configuration OK" and 0.
    pub fn check_and_report(&self, prog: &str) -> crate::exit::Exit {
        crate::cli::report_problems(prog, &self.problems())
    }

    /// `--check-config`: every problem srsd would stop on before serving,
    /// found without binding anything or changing user: [`SrsdCli::validate`],
    /// then what the system says (the chroot, the keys and local domains,
    /// the users and groups, the sockets' directories). Empty when all is
    /// well.
    pub fn problems(&self) -> Vec<String> {
        let mut problems: Vec<String> = self.validate().iter().map(ToString::to_string).collect();
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

    /// Everything srsd checks and reads before binding, as one step:
    /// [`SrsdCli::validate`], the paths under `--chroot`, the keys and local
    /// domains. Gives the state to serve and the warnings to log, or the
    /// message to log before exiting 78.
    pub fn prepare(&self) -> Result<(State, Vec<String>), String> {
        let mut notes = self.check()?;
        self.check_chroot_paths()?;
        let (state, warnings) = self.state().map_err(|e| e.to_string())?;
        notes.extend(warnings.iter().map(ToString::to_string));
        Ok((state, notes))
    }

    /// [`SrsdCli::validate`] as start-up and reload use it: the first problem,
    /// or the warnings for what is allowed but risky.
    pub fn check(&self) -> Result<Vec<String>, String> {
        match self.validate().into_iter().next() {
            Some(problem) => Err(problem.to_string()),
            None => Ok(self.warnings()),
        }
    }

    /// Every setting srsd refuses to run with, whatever the system holds:
    /// the example configuration's placeholder domain, relay listeners
    /// without an upstream, a bounce policy that would refuse genuine
    /// bounces, and inet listeners off loopback without
    /// `--allow-non-loopback` (an SRS signer anyone can reach lets anyone
    /// mint addresses this forwarder will relay).
    pub fn validate(&self) -> Vec<Problem> {
        let mut problems = Vec::new();
        if self
            .domain
            .trim_end_matches('.')
            .eq_ignore_ascii_case(PLACEHOLDER_DOMAIN)
        {
            problems.push(Problem::PlaceholderDomain);
        }
        let relays = self.listeners().iter().any(|l| l.protocol.relays());
        if relays && self.upstream.as_deref().unwrap_or_default().is_empty() {
            problems.push(Problem::RelayWithoutUpstream);
        }
        if let Some(policy @ (BouncePolicy::Data | BouncePolicy::Rcpt)) = self.bounce_policy
            && !self.codec.always_rewrite
        {
            problems.push(Problem::BouncePolicyWithoutAlwaysRewrite(match policy {
                BouncePolicy::Rcpt => "rcpt",
                _ => "data",
            }));
        }
        if !self.allow_non_loopback {
            problems.extend(self.public_listeners().map(Problem::PublicListener));
        }
        problems
    }

    /// What srsd allows but warns of: listeners reachable from other hosts.
    pub fn warnings(&self) -> Vec<String> {
        if !self.allow_non_loopback {
            return Vec::new();
        }
        self.public_listeners()
            .map(|spec| {
                format!(
                    "listener {spec} is reachable from other hosts (--allow-non-loopback): firewall it"
                )
            })
            .collect()
    }

    /// The inet listeners off loopback that mint addresses. The metrics
    /// listener mints nothing: a scraper on another host is its usual
    /// client.
    fn public_listeners(&self) -> impl Iterator<Item = ListenSpec> {
        self.listeners().into_iter().filter(|spec| {
            matches!(&spec.address, crate::daemon::Address::Inet(addr) if !addr.ip().is_loopback())
                && spec.protocol.looks_up()
        })
    }
}

/// A setting srsd refuses to run with.
#[derive(Clone, Debug, Error, PartialEq, Eq)]
pub enum Problem {
    /// The example configuration's domain, left unchanged.
    #[error(
        "domain {PLACEHOLDER_DOMAIN} is the example configuration's placeholder: set domain to your forwarding domain"
    )]
    PlaceholderDomain,
    /// relay-pack or relay-unpack with nowhere to relay to.
    #[error("relay-pack and relay-unpack listeners need --upstream HOST:PORT")]
    RelayWithoutUpstream,
    /// A bounce policy that refuses unsigned bounces, while local senders
    /// are not signed.
    #[error(
        "bounce-policy = {0} needs always-rewrite: it refuses every bounce to a local address without an SRS signature, and without always-rewrite the senders of the local domains are never signed, so every genuine bounce to a local user would be refused; set always-rewrite, or bounce-policy = off"
    )]
    BouncePolicyWithoutAlwaysRewrite(&'static str),
    /// A listener that mints addresses, reachable from other hosts.
    #[error(
        "listener {0} is not on a loopback address: anyone who reaches it can make valid SRS addresses; use 127.0.0.1 or ::1, or give --allow-non-loopback"
    )]
    PublicListener(ListenSpec),
}
