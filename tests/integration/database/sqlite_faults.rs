//! SQLite failing under srsd: errors, a locked file, a deleted or replaced file, a file the service user cannot write.

use super::*;

/// A corrupt file: a clear error from srs (exit 78); a table gone under a
/// running srsd: TEMP, so Postfix defers.
#[test]
fn sqlite_failures_are_clear_and_temporary() {
    let dir = tempfile::TempDir::new().unwrap();
    let keys = keys(dir.path());
    let file = dir.path().join("srs.db");
    std::fs::write(
        &file,
        b"this is not an sqlite database, it is text long enough to have a header\n",
    )
    .unwrap();
    let db = format!("sqlite:{}", file.display());
    let o = srs(
        &keys,
        &[
            "--original-envelope",
            "database",
            "--database",
            &db,
            "forward",
            "-a",
            "fwd.example",
            LONG,
        ],
    );
    assert_eq!(
        (
            o.status.code(),
            String::from_utf8_lossy(&o.stderr).into_owned()
        ),
        (
            Some(78),
            format!(
                "srs: sqlite database {}: file is not a database\n",
                file.display()
            )
        )
    );
    // srsd refuses it at start the same way.
    assert_eq!(
        srsd_at_start(
            dir.path(),
            &keys,
            &["--original-envelope", "database", "--database", &db]
        ),
        (
            Some(78),
            format!(
                "srsd: error: sqlite database {}: file is not a database\n",
                file.display()
            )
        )
    );
    std::fs::remove_file(&file).unwrap();
    let line = dir.path().join("line");
    let line_listen = format!("line=unix:{}", line.display());
    let d = srsd(
        dir.path(),
        "srs",
        &keys,
        &[
            "--original-envelope",
            "database",
            "--database",
            &db,
            "--listen",
            &line_listen,
        ],
    );
    let (code, signed, _) = d.ask("forward", LONG);
    assert_eq!(code, 0);
    // Broken under srsd's feet.
    assert!(common::drop_sqlite_table(&file), "could not drop the table");
    let (code, out, err) = d.ask("forward", "another@bulk.example");
    assert_eq!((code, out.as_str()), (75, ""), "{err}");
    assert!(err.contains("no such table: kv"), "{err}");
    let (code, _, err) = d.ask("reverse", &signed);
    assert_eq!(code, 75, "{err}");
    d.wait_for_log("not stored: sqlite database");
    // The line protocol has no temporary reply of its own: it says so.
    let mut conn = std::os::unix::net::UnixStream::connect(&line).unwrap();
    std::io::Write::write_all(&mut conn, b"FORWARD x@bulk.example fwd.example\n").unwrap();
    let mut reply = String::new();
    std::io::Read::read_to_string(&mut conn, &mut reply).unwrap();
    assert_eq!(
        reply,
        format!(
            "ERROR: temporary failure: sqlite database {}: no such table: kv\n",
            file.display()
        )
    );
}

/// Another process holding SQLite's write lock past the busy timeout (2 s):
/// a forward that must store answers a temporary failure naming the lock,
/// and the next one after the lock is released is served.
#[test]
fn a_locked_sqlite_file_gives_a_temporary_failure() {
    use std::io::{BufRead, BufReader, Write};
    use std::process::Stdio;

    let dir = tempfile::TempDir::new().unwrap();
    let (d, _, file, _) = storing_srsd(dir.path());
    // Debian python3's sqlite3 module takes the lock and holds it until its
    // standard input closes.
    let mut holder = Command::new("/usr/bin/python3")
        .args([
            "-c",
            "import sqlite3,sys\n\
             c=sqlite3.connect(sys.argv[1],isolation_level=None)\n\
             c.execute('BEGIN EXCLUSIVE')\n\
             print('locked',flush=True)\n\
             sys.stdin.read()\n\
             c.execute('ROLLBACK')",
        ])
        .arg(&file)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut said = String::new();
    BufReader::new(holder.stdout.take().unwrap())
        .read_line(&mut said)
        .unwrap();
    assert_eq!(said, "locked\n");
    let (code, out, err) = d.ask("forward", LONG);
    assert_eq!(
        (code, out.as_str(), err.as_str()),
        (
            75,
            "",
            format!(
                "srsc: temporary failure: sqlite database {}: database is locked",
                file.display()
            )
            .as_str()
        )
    );
    holder.stdin.take().unwrap().write_all(b"").unwrap();
    assert!(holder.wait().unwrap().success());
    let (code, signed, err) = d.ask("forward", LONG);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        d.ask("reverse", &signed),
        (0, LONG.to_owned(), String::new())
    );
}

/// The SQLite file deleted, or another renamed over it, while srsd runs:
/// srsd notices before its next write, opens the path again (creating the
/// table) and logs an error, so every address it hands out afterwards
/// reverses for the next process that opens the path.
#[test]
fn a_deleted_or_replaced_sqlite_file_is_opened_again() {
    let dir = tempfile::TempDir::new().unwrap();
    let (d, keys, file, db) = storing_srsd(dir.path());
    let (code, _, err) = d.ask("forward", LONG);
    assert_eq!(code, 0, "{err}");
    // A cleanup script removes the file and its journal.
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", file.display()));
    }
    let deleted = format!("deleted-{LONG}");
    let (code, signed, err) = d.ask("forward", &deleted);
    assert_eq!(code, 0, "{err}");
    d.wait_for_log(&format!(
        "error: sqlite database {}: the file was deleted or replaced while open",
        file.display()
    ));
    // A later process finds it there.
    let o = srs(&keys, &["--database", &db, "reverse", &signed]);
    assert_eq!((o.status.code(), stdout(&o)), (Some(0), deleted));

    // A restored copy renamed over the path.
    let other = dir.path().join("restored.db");
    stored_elsewhere(&keys, &other, "restored@bulk.example");
    std::fs::rename(&other, &file).unwrap();
    let renamed = format!("renamed-{LONG}");
    let (code, signed, err) = d.ask("forward", &renamed);
    assert_eq!(code, 0, "{err}");
    let o = srs(&keys, &["--database", &db, "reverse", &signed]);
    assert_eq!((o.status.code(), stdout(&o)), (Some(0), renamed));
}

/// srsd started as root with `--user`: the file it creates goes to that
/// user; a file that user cannot write is refused at start (exit 78), and
/// one that becomes unwritable under srsd's feet gives TEMP until it is
/// writable again. Root ignores file modes, so this needs `--user`.
#[test]
fn an_sqlite_file_the_service_user_cannot_write() {
    use std::os::unix::fs::PermissionsExt;
    if !nix::unistd::geteuid().is_root() {
        common::skip("running srsd with --user needs root");
        return;
    }
    let nobody = nix::unistd::User::from_name("nobody").unwrap().unwrap();
    let dir = tempfile::TempDir::new().unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let keys = keys(dir.path());
    let data = dir.path().join("data");
    std::fs::create_dir(&data).unwrap();
    std::os::unix::fs::chown(&data, Some(nobody.uid.as_raw()), None).unwrap();
    let file = data.join("srs.db");
    let db = format!("sqlite:{}", file.display());
    let args = [
        "--original-envelope",
        "database",
        "--database",
        &db,
        "--user",
        "nobody",
    ];
    let d = srsd(dir.path(), "srs", &keys, &args);
    let owner = |p: &Path| std::os::unix::fs::MetadataExt::uid(&std::fs::metadata(p).unwrap());
    assert_eq!(owner(&file), nobody.uid.as_raw());
    let (code, signed, err) = d.ask("forward", LONG);
    assert_eq!(code, 0, "{err}");
    // A copy made by root is renamed over it: srsd opens it again, and
    // cannot write it.
    let copy = data.join("copy.db");
    stored_elsewhere(&keys, &copy, LONG);
    std::fs::rename(&copy, &file).unwrap();
    let other = format!("other-{LONG}");
    assert_eq!(
        d.ask("forward", &other),
        (
            75,
            String::new(),
            format!(
                "srsc: temporary failure: sqlite database {}: attempt to write a readonly database",
                file.display()
            )
        )
    );
    // Given to the service user, it is served again.
    std::os::unix::fs::chown(&file, Some(nobody.uid.as_raw()), None).unwrap();
    let (code, again, err) = d.ask("forward", &other);
    assert_eq!(code, 0, "{err}");
    assert_eq!(d.ask("reverse", &again), (0, other.clone(), String::new()));
    assert_eq!(
        d.ask("reverse", &signed),
        (0, LONG.to_owned(), String::new())
    );
    drop(d);
    // Started on a file the service user cannot write: refused, named.
    std::os::unix::fs::chown(&file, Some(0), None).unwrap();
    assert_eq!(
        srsd_at_start(dir.path(), &keys, &args),
        (
            Some(78),
            format!(
                "srsd: error: sqlite database {}: attempt to write a readonly database (as user nobody, which srsd runs as)\n",
                file.display()
            )
        )
    );
}
