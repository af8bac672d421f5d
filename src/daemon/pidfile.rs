//! The pid file: written as root before privileges are dropped, so it never
//! follows a symbolic link (which could point at any file) and is replaced
//! atomically, so a reader never sees it half written.

use std::io;
use std::path::Path;

/// Writes this process's ID to `path`: refuses a symbolic link at `path`,
/// writes a new file beside it without following links, and renames it over.
pub fn write(path: &Path) -> io::Result<()> {
    if std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink()) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "it is a symbolic link; srsd does not write through one",
        ));
    }
    crate::files::replace(
        path,
        format!("{}\n", std::process::id()).as_bytes(),
        0o644,
        None,
    )
}
