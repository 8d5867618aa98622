//! Bad input gets a clear error, and nothing already stored is changed.

use std::fmt::Debug;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use rusqlite::Connection;
use tunewise_core::prelude::*;
use tunewise_core::rng::Rng;
use tunewise_core::{Error, Storage};
use tunewise_sqlite::{SqliteStorage, SCHEMA_VERSION};

use crate::common::{db_path, one_float, open, temp_dir};

/// Everything that would show a change to a file: its bytes and its modification time, and
/// whether SQLite left a journal beside it.
#[derive(Debug, PartialEq)]
struct Snapshot {
    len: usize,
    /// FNV-1a of the bytes.
    hash: u64,
    mtime: (i64, i64),
    siblings: Vec<PathBuf>,
}

fn fnv(bytes: &[u8]) -> u64 {
    bytes
        .iter()
        .fold(0xCBF2_9CE4_8422_2325, |h, b| (h ^ u64::from(*b)).wrapping_mul(0x100_0000_01B3))
}

fn snapshot(path: &Path) -> Snapshot {
    let meta = std::fs::metadata(path).unwrap();
    let mut siblings: Vec<PathBuf> = ["-wal", "-shm", "-journal"]
        .iter()
        .map(|ext| PathBuf::from(format!("{}{ext}", path.display())))
        .filter(|p| p.exists())
        .collect();
    siblings.sort();
    let bytes = std::fs::read(path).unwrap();
    Snapshot {
        len: bytes.len(),
        hash: fnv(&bytes),
        mtime: (meta.mtime(), meta.mtime_nsec()),
        siblings,
    }
}

/// Asserts a storage error whose message contains every needle.
#[track_caller]
fn assert_storage_error<T: Debug>(result: Result<T, Error>, needles: &[&str]) -> String {
    match result {
        Err(e @ Error::Storage(_)) => {
            let message = e.to_string();
            for n in needles {
                assert!(message.contains(n), "'{n}' is not in: {message}");
            }
            message
        }
        other => panic!("expected a storage error containing {needles:?}, got {other:?}"),
    }
}

#[test]
fn a_file_that_is_not_sqlite_is_refused_and_left_unchanged() {
    let dir = temp_dir();
    let mut rng = Rng::new(5);
    let random: Vec<u8> = (0..5000).map(|_| rng.next_u64() as u8).collect();
    for (name, content) in [
        ("random.bin", random),
        ("notes.txt", b"lr = 0.01\nbatch = 32\n".to_vec()),
        ("short", b"x".to_vec()),
    ] {
        let path = dir.path().join(name);
        std::fs::write(&path, &content).unwrap();
        let before = snapshot(&path);
        let message = assert_storage_error(
            SqliteStorage::open(&path),
            &["not a tunewise database", "not an SQLite file", "not changed", name],
        );
        assert_eq!(snapshot(&path), before, "{name} was changed: {message}");
        assert!(before.siblings.is_empty());
    }
}

#[test]
fn an_sqlite_file_of_another_program_is_refused_and_left_unchanged() {
    let dir = temp_dir();
    for (name, setup) in [
        ("users.db", "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT); INSERT INTO users VALUES (1, 'ada');"),
        // The same table name as ours, but not stamped as a tunewise file.
        ("versions.db", "CREATE TABLE schema_version (version INTEGER); INSERT INTO schema_version VALUES (1);"),
        ("stamped.db", "PRAGMA application_id = 1234; CREATE TABLE t (x);"),
        ("view.db", "CREATE VIEW v AS SELECT 1;"),
    ] {
        let path = dir.path().join(name);
        Connection::open(&path).unwrap().execute_batch(setup).unwrap();
        let before = snapshot(&path);
        assert_storage_error(
            SqliteStorage::open(&path),
            &["another program", "not a tunewise database", "not changed"],
        );
        assert_eq!(snapshot(&path), before, "{name} was changed");
    }
    let conn = Connection::open(dir.path().join("users.db")).unwrap();
    let name: String =
        conn.query_row("SELECT name FROM users WHERE id = 1", [], |r| r.get(0)).unwrap();
    assert_eq!(name, "ada");
    let mode: String = conn.query_row("PRAGMA journal_mode", [], |r| r.get(0)).unwrap();
    assert_eq!(mode, "delete", "the file was not switched to WAL");
}

#[test]
fn a_database_of_a_newer_tunewise_is_refused_and_left_unchanged() {
    let dir = temp_dir();
    let path = db_path(&dir);
    {
        let storage = open(&path);
        let study = Study::builder().name("s").storage(storage).create().unwrap();
        study.optimize(one_float, Budget::trials(3)).unwrap();
    }
    // What a newer tunewise's migration leaves: a row in `schema_version`, mirrored in the
    // header's `user_version`. First only the table (a header that lags behind), then both.
    let newer = SCHEMA_VERSION + 1;
    let conn = Connection::open(&path).unwrap();
    conn.execute(
        "INSERT INTO schema_version (version, applied, tunewise) VALUES (?1, 0, '9.9.9')",
        [newer],
    )
    .unwrap();
    let rows = |conn: &Connection| -> i64 {
        conn.query_row("SELECT count(*) FROM trials", [], |r| r.get(0)).unwrap()
    };
    let needles =
        ["newer tunewise", &format!("schema version {newer}"), "upgrade tunewise", "not changed"];
    assert_storage_error(SqliteStorage::open(&path), &needles);
    let versions: i64 =
        conn.query_row("SELECT count(*) FROM schema_version", [], |r| r.get(0)).unwrap();
    assert_eq!((versions, rows(&conn)), (2, 3), "the tables were not changed");

    conn.pragma_update(None, "user_version", newer).unwrap();
    drop(conn);
    let before = snapshot(&path);
    assert!(before.siblings.is_empty(), "the WAL was checkpointed when the writer closed");
    assert_storage_error(SqliteStorage::open(&path), &needles);
    assert_eq!(snapshot(&path), before, "the file or its directory was changed");
}

#[test]
fn paths_that_cannot_hold_a_file_are_clear_errors_and_create_nothing() {
    let dir = temp_dir();
    let missing = dir.path().join("no-such-dir").join("study.db");
    assert_storage_error(
        SqliteStorage::open(&missing),
        &["no-such-dir", "does not exist", "create it"],
    );
    assert!(!dir.path().join("no-such-dir").exists(), "a directory was created");

    assert_storage_error(SqliteStorage::open(dir.path()), &["is a directory", "study.db"]);

    let file = dir.path().join("plain.txt");
    std::fs::write(&file, b"x").unwrap();
    assert_storage_error(SqliteStorage::open(file.join("study.db")), &["is not a directory"]);
    assert_storage_error(SqliteStorage::open(""), &["empty"]);
    let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert_eq!(left.len(), 1, "only plain.txt is there");
}

/// Makes a directory unwritable for this process until dropped: `chattr +i` (which binds root
/// too) where the file system has it, else `chmod` for an ordinary user.
struct Unwritable(PathBuf, bool);

impl Unwritable {
    fn new(dir: &Path) -> Option<Self> {
        if Command::new("chattr").arg("+i").arg(dir).status().is_ok_and(|s| s.success()) {
            return Some(Unwritable(dir.to_path_buf(), true));
        }
        let probe = dir.join(".owner-probe");
        std::fs::write(&probe, b"").ok()?;
        let root = std::fs::metadata(&probe).ok()?.uid() == 0;
        std::fs::remove_file(&probe).ok()?;
        if root {
            return None;
        }
        let mut perms = std::fs::metadata(dir).ok()?.permissions();
        std::os::unix::fs::PermissionsExt::set_mode(&mut perms, 0o500);
        std::fs::set_permissions(dir, perms).ok()?;
        Some(Unwritable(dir.to_path_buf(), false))
    }
}

impl Drop for Unwritable {
    fn drop(&mut self) {
        if self.1 {
            let _ = Command::new("chattr").arg("-i").arg(&self.0).status();
        } else if let Ok(meta) = std::fs::metadata(&self.0) {
            let mut perms = meta.permissions();
            std::os::unix::fs::PermissionsExt::set_mode(&mut perms, 0o700);
            let _ = std::fs::set_permissions(&self.0, perms);
        }
    }
}

#[test]
fn a_directory_without_write_permission_is_a_clear_error() {
    let dir = temp_dir();
    let locked = dir.path().join("locked");
    std::fs::create_dir(&locked).unwrap();
    let Some(_guard) = Unwritable::new(&locked) else {
        eprintln!("skipped: neither chattr nor chmod can deny this user writing here");
        return;
    };
    let path = locked.join("study.db");
    assert_storage_error(SqliteStorage::open(&path), &["study.db", "opening", "directory"]);
    assert!(!path.exists());
}

#[test]
fn loading_a_missing_study_is_study_not_found_and_writes_nothing() {
    let dir = temp_dir();
    let path = db_path(&dir);
    let storage = open(&path);
    let study = Study::builder().name("present").storage(storage.clone()).create().unwrap();
    study.optimize(one_float, Budget::trials(3)).unwrap();
    let trials = study.trials().unwrap();
    let commits = storage.commits();

    let missing = Study::builder().name("absent").storage(storage.clone()).load();
    match missing {
        Err(e @ Error::StudyNotFound(_)) => {
            assert_eq!(e, Error::StudyNotFound("absent".into()));
            assert!(e.to_string().contains("create it first"), "{e}");
        }
        other => panic!("expected StudyNotFound, got {other:?}"),
    }
    assert_eq!(storage.commits(), commits, "a failed load wrote to the file");
    assert_eq!(storage.list_studies().unwrap().len(), 1);
    assert_eq!(study.trials().unwrap(), trials);
}

#[test]
fn creating_a_taken_name_is_study_exists_and_changes_nothing() {
    let dir = temp_dir();
    let path = db_path(&dir);
    let storage = open(&path);
    let study = Study::builder().name("taken").storage(storage.clone()).create().unwrap();
    study.set_user_attr("owner", "ada").unwrap();
    study.optimize(one_float, Budget::trials(3)).unwrap();
    let record = storage.find_study("taken").unwrap().unwrap();
    let trials = study.trials().unwrap();
    let commits = storage.commits();

    let again = Study::builder().name("taken").maximize().storage(storage.clone()).create();
    assert_eq!(again.unwrap_err(), Error::StudyExists("taken".into()));
    let direct = storage.create_study("taken", &[Direction::Maximize]);
    assert_eq!(direct.unwrap_err(), Error::StudyExists("taken".into()));
    assert_eq!(storage.commits(), commits, "a refused create committed something");

    drop((study, storage));
    let reopened = open(&path);
    assert_eq!(reopened.list_studies().unwrap(), vec![record]);
    let study = Study::builder().name("taken").storage(reopened).load().unwrap();
    assert_eq!(study.trials().unwrap(), trials);
}

#[test]
fn an_endless_lock_timeout_is_cut_to_what_sqlite_takes() {
    let dir = temp_dir();
    let storage = SqliteStorage::open_with(db_path(&dir), std::time::Duration::MAX).unwrap();
    let study = Study::builder().name("s").storage(std::sync::Arc::new(storage)).create().unwrap();
    study.optimize(one_float, Budget::trials(2)).unwrap();
    assert_eq!(study.trials().unwrap().len(), 2);
}
