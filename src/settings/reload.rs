//! A reload: the settings read afresh, and the ones that changed but take
//! effect only at start.

use std::path::PathBuf;

use crate::cli::srsd::SrsdCli;
use crate::daemon::State;

impl SrsdCli {
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
                    *path = crate::files::inside_chroot(root, path)?;
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

    /// Settings that differ from `running` and take effect only at start.
    pub fn restart_only_changes(&self, running: &SrsdCli) -> Vec<&'static str> {
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
}
