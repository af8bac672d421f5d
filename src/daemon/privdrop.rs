//! Giving up root after the sockets are bound: chroot, then supplementary
//! groups, group and user, in that order, before any thread starts.

use std::path::Path;

use nix::unistd::{Gid, Group, Uid, User, chown, chroot, setgid, setgroups, setuid};
use thiserror::Error;

/// Why privileges could not be given up; the daemon must not run then.
#[derive(Debug, Error)]
pub enum PrivError {
    /// No such user.
    #[error("no user named {0:?}")]
    NoUser(String),
    /// No such group.
    #[error("no group named {0:?}")]
    NoGroup(String),
    /// A system call failed.
    #[error("cannot {what}: {source}")]
    Sys {
        /// What was being done.
        what: String,
        /// The system call's error.
        source: nix::Error,
    },
}

fn sys(what: impl Into<String>) -> impl FnOnce(nix::Error) -> PrivError {
    let what = what.into();
    move |source| PrivError::Sys { what, source }
}

/// The user named `name`.
pub fn user(name: &str) -> Result<User, PrivError> {
    User::from_name(name)
        .ok()
        .flatten()
        .ok_or_else(|| PrivError::NoUser(name.to_owned()))
}

/// The group named `name`.
pub fn group(name: &str) -> Result<Group, PrivError> {
    Group::from_name(name)
        .ok()
        .flatten()
        .ok_or_else(|| PrivError::NoGroup(name.to_owned()))
}

/// Gives `path` the owner and group named (either may be absent).
pub fn chown_path(
    path: &Path,
    owner: Option<&str>,
    group_name: Option<&str>,
) -> Result<(), PrivError> {
    let uid = owner.map(user).transpose()?.map(|u| u.uid);
    let gid = group_name.map(group).transpose()?.map(|g| g.gid);
    if uid.is_some() || gid.is_some() {
        chown(path, uid, gid).map_err(sys(format!("change the owner of {}", path.display())))?;
    }
    Ok(())
}

/// Changes root to `root` (if given) and becomes `user_name` with `group_name`
/// (default: the user's own group). Names are looked up before the chroot.
pub fn drop_privileges(
    user_name: Option<&str>,
    group_name: Option<&str>,
    root: Option<&Path>,
) -> Result<(), PrivError> {
    let target = user_name.map(user).transpose()?;
    let gid: Option<Gid> = match (group_name, &target) {
        (Some(g), _) => Some(group(g)?.gid),
        (None, Some(u)) => Some(u.gid),
        (None, None) => None,
    };
    if let Some(dir) = root {
        chroot(dir).map_err(sys(format!("chroot to {}", dir.display())))?;
        std::env::set_current_dir("/").map_err(|e| PrivError::Sys {
            what: "change directory to / in the chroot".into(),
            source: nix::Error::from_raw(e.raw_os_error().unwrap_or(0)),
        })?;
    }
    if let Some(gid) = gid {
        setgroups(&[gid]).map_err(sys("drop supplementary groups"))?;
        setgid(gid).map_err(sys("set the group"))?;
    }
    if let Some(u) = target {
        setuid(u.uid).map_err(sys(format!("become user {}", u.name)))?;
        // A real drop cannot be undone.
        if !u.uid.is_root() && setuid(Uid::from_raw(0)).is_ok() {
            return Err(PrivError::Sys {
                what: "drop root for good".into(),
                source: nix::Error::EPERM,
            });
        }
    }
    Ok(())
}
