//! Regular files: reading the ones srsd and the tools are configured with,
//! which must be regular files of a bounded size (opening a FIFO for reading
//! blocks until a writer comes, and reading a device or `/dev/zero` never
//! ends), and replacing a file atomically (the keys file, the pid file).

use std::fs::File;
use std::io::{self, Read};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use nix::fcntl::OFlag;

/// Largest file read: keys, configuration and local-domains files are small.
pub const MAX_SIZE: u64 = 1 << 20;

/// Reads the regular file at `path` (symlinks followed), at most [`MAX_SIZE`]
/// bytes. Anything else is an error saying what it is.
pub fn read(path: &Path) -> io::Result<Vec<u8>> {
    // O_NONBLOCK: the open of a FIFO returns at once instead of waiting for
    // a writer; it changes nothing for a regular file.
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(OFlag::O_NONBLOCK.bits())
        .open(path)?;
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("not a regular file ({})", kind(&meta.file_type())),
        ));
    }
    let mut bytes = Vec::with_capacity(meta.len().min(MAX_SIZE) as usize);
    File::take(file, MAX_SIZE + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > MAX_SIZE {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("larger than {MAX_SIZE} bytes"),
        ));
    }
    Ok(bytes)
}

/// [`read`], as UTF-8 text.
pub fn read_text(path: &Path) -> io::Result<String> {
    String::from_utf8(read(path)?)
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "not UTF-8 text"))
}

fn kind(t: &std::fs::FileType) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    if t.is_dir() {
        "a directory"
    } else if t.is_fifo() {
        "a FIFO"
    } else if t.is_socket() {
        "a socket"
    } else if t.is_char_device() || t.is_block_device() {
        "a device"
    } else {
        "not a file"
    }
}

/// Replaces the file at `path` with `bytes`, atomically: a new file is
/// written beside it (never through a symbolic link), given `mode` and
/// `owner` (uid, gid), synced, and renamed over `path`, so a reader sees the
/// old file or the new one, never part of either.
pub fn replace(path: &Path, bytes: &[u8], mode: u32, owner: Option<(u32, u32)>) -> io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::PermissionsExt;
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let written = (|| {
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .custom_flags(OFlag::O_NOFOLLOW.bits())
            .open(&tmp)?;
        f.set_permissions(std::fs::Permissions::from_mode(mode))?;
        if let Some((uid, gid)) = owner {
            std::os::unix::fs::fchown(&f, Some(uid), Some(gid))?;
        }
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)?;
        File::open(dir)?.sync_all()
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    written
}

/// The path, inside the chroot `root`, of a file named from outside it.
///
/// The rule for every path srsd is given (configuration, keys, local
/// domains, sockets, pid file): write it as seen from outside the chroot.
/// srsd uses it as written before changing root, and with `root` taken off
/// after, at reload and at exit. A path outside `root` cannot be reached then.
pub fn inside_chroot(root: &Path, outside: &Path) -> Result<std::path::PathBuf, String> {
    if !outside.is_absolute() {
        return Err(format!(
            "{} is relative; with --chroot, give absolute paths",
            outside.display()
        ));
    }
    let rest = outside.strip_prefix(root).map_err(|_| {
        format!(
            "{} is outside the chroot {}, where srsd cannot reach it after start",
            outside.display(),
            root.display()
        )
    })?;
    Ok(Path::new("/").join(rest))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_inside_the_chroot() {
        let root = Path::new("/var/lib/srsd");
        assert_eq!(
            inside_chroot(root, Path::new("/var/lib/srsd/etc/keys")).as_deref(),
            Ok(Path::new("/etc/keys"))
        );
        assert_eq!(inside_chroot(root, root).as_deref(), Ok(Path::new("/")));
        assert_eq!(
            inside_chroot(root, Path::new("/etc/keys")),
            Err("/etc/keys is outside the chroot /var/lib/srsd, where srsd cannot reach it after start".into())
        );
        assert!(inside_chroot(root, Path::new("/var/lib/srsdx/k")).is_err());
        assert!(inside_chroot(root, Path::new("keys")).is_err());
    }
}
