//! Opening a file: checking what it is before anything is written, the connection's
//! settings, and creating or migrating the schema.

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};
use tunewise_core::{Error, Result};

use crate::cache::Cache;
use crate::db::{retry, Db};
use crate::error::{sql_error, sql_message};
use crate::schema::{self, Found, Header, MIGRATIONS, SCHEMA_VERSION};
use crate::storage::{SqliteStorage, DEFAULT_LOCK_TIMEOUT, MAX_LOCK_TIMEOUT};

impl SqliteStorage {
    /// Opens (or creates) the tunewise database in the file at `path`, waiting up to
    /// [`DEFAULT_LOCK_TIMEOUT`] for other processes' locks.
    ///
    /// A new or empty file becomes a tunewise database; an older schema is migrated. A file
    /// that is not a tunewise database, or that a newer tunewise wrote, is refused with an
    /// error that says so, and is not changed. The directory must exist.
    pub fn open(path: impl AsRef<Path>) -> Result<SqliteStorage> {
        Self::open_with(path, DEFAULT_LOCK_TIMEOUT)
    }

    /// Like [`open`](Self::open), waiting up to `lock_timeout` for another process's lock
    /// before an operation fails (at most [`MAX_LOCK_TIMEOUT`], about 24 days).
    pub fn open_with(path: impl AsRef<Path>, lock_timeout: Duration) -> Result<SqliteStorage> {
        let lock_timeout = lock_timeout.min(MAX_LOCK_TIMEOUT);
        let path = path.as_ref().to_path_buf();
        check_path(&path)?;
        let fail = |what: &str, e: rusqlite::Error| sql_error(&path, what, &e);
        // Look before SQLite writes anything: even switching to WAL changes a foreign file.
        refuse_by_header(&path, lock_timeout)?;
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(&path, flags).map_err(|e| open_error(&path, e))?;
        conn.busy_timeout(lock_timeout).map_err(|e| fail("setting the busy timeout", e))?;
        conn.pragma_update(None, "foreign_keys", true)
            .map_err(|e| fail("enabling foreign keys", e))?;
        conn.pragma_update(None, "synchronous", "FULL")
            .map_err(|e| fail("setting synchronous = FULL", e))?;
        conn.set_prepared_statement_cache_capacity(64);
        let commits = Arc::new(AtomicU64::new(0));
        let counter = commits.clone();
        conn.commit_hook(Some(move || {
            counter.fetch_add(1, Ordering::Relaxed);
            false
        }));
        let mode: String = retry(lock_timeout, || {
            conn.pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get(0))
        })
        .map_err(|e| refuse_unreadable(&path, e))?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(Error::Storage(format!(
                "SQLite file {}: cannot use write-ahead logging (journal mode stays '{mode}'); \
                 put the file on a local disk",
                path.display()
            )));
        }
        let storage = SqliteStorage {
            path,
            db: Mutex::new(Db { conn, cache: Cache::default(), relaxed: false }),
            commits,
            lock_timeout,
            read_only: false,
        };
        let found =
            storage.read("reading the schema version", |db| Ok(schema::inspect(&db.conn)?))?;
        if found != Found::Tunewise(SCHEMA_VERSION) {
            storage.write("creating or migrating the schema", |db| {
                // Again under the write lock: another process may have done it meanwhile.
                let found = schema::inspect(&db.conn)?;
                acceptable(&storage.path, &found)?;
                match found {
                    Found::Empty => schema::migrate(&db.conn, 0, MIGRATIONS)?,
                    Found::Tunewise(v) if v < SCHEMA_VERSION => {
                        schema::migrate(&db.conn, v, MIGRATIONS)?
                    }
                    _ => {}
                }
                Ok(())
            })?;
        }
        Ok(storage)
    }
}

impl SqliteStorage {
    /// Opens an existing tunewise database for reading only (`SQLITE_OPEN_READ_ONLY`), as the
    /// dashboard does: nothing is ever written to the file, so a study that workers are running
    /// in it is never blocked or failed by this handle. Reads are short deferred transactions,
    /// which in WAL mode take no lock that a writer waits for. Every write through this handle
    /// fails with an error that says it is read-only.
    ///
    /// Refuses, with an error that says why and without changing anything: a missing file, a
    /// file that is not a tunewise database, and a file of an older or newer schema (an older
    /// one is migrated by opening it once with [`open`](Self::open)).
    pub fn open_read_only(path: impl AsRef<Path>) -> Result<SqliteStorage> {
        let lock_timeout = DEFAULT_LOCK_TIMEOUT;
        let path = path.as_ref().to_path_buf();
        check_path(&path)?;
        if !path.exists() {
            return Err(Error::Storage(format!(
                "the SQLite file {} does not exist; give the path of a tunewise study file",
                path.display()
            )));
        }
        // Refuses foreign, non-SQLite and newer files from their header, without opening them.
        refuse_by_header(&path, lock_timeout)?;
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(&path, flags).map_err(|e| open_error(&path, e))?;
        conn.busy_timeout(lock_timeout)
            .map_err(|e| sql_error(&path, "setting the busy timeout", &e))?;
        conn.set_prepared_statement_cache_capacity(64);
        let storage = SqliteStorage {
            path,
            db: Mutex::new(Db { conn, cache: Cache::default(), relaxed: false }),
            commits: Arc::new(AtomicU64::new(0)),
            lock_timeout,
            read_only: true,
        };
        let found = storage
            .read("reading the schema version", |db| Ok(schema::inspect(&db.conn)?))
            .map_err(|e| match e {
                Error::Storage(m) if m.contains("not a database") => not_sqlite(&storage.path),
                e => e,
            })?;
        match found {
            Found::Tunewise(v) if v == SCHEMA_VERSION => Ok(storage),
            Found::Tunewise(v) if v < SCHEMA_VERSION => Err(Error::Storage(format!(
                "{} was written by an older tunewise (schema version {v}, this build reads \
                 {SCHEMA_VERSION}) and a read-only open cannot migrate it; open it once for \
                 writing (any `tunewise` command that writes, such as `tunewise studies`, or \
                 `tunewise dashboard --allow-writes`) and try again",
                storage.path.display()
            ))),
            Found::Empty => Err(Error::Storage(format!(
                "{} is empty: it holds no tunewise study yet; give the path of a tunewise study \
                 file, or create a study there first with `tunewise run`",
                storage.path.display()
            ))),
            found => {
                acceptable(&storage.path, &found)?;
                Err(Error::Storage(format!(
                    "{} is not a tunewise database; give the path of a tunewise study file",
                    storage.path.display()
                )))
            }
        }
    }
}

/// Clear errors for paths SQLite would only call "unable to open".
fn check_path(path: &Path) -> Result<()> {
    let shown = path.display();
    if path.as_os_str().is_empty() {
        return Err(Error::Storage("the SQLite file path is empty; give a file path".into()));
    }
    if path.is_dir() {
        return Err(Error::Storage(format!(
            "{shown} is a directory; give the path of a file, such as {}",
            path.join("study.db").display()
        )));
    }
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        if !dir.exists() {
            return Err(Error::Storage(format!(
                "cannot open the SQLite file {shown}: directory {} does not exist; create it first",
                dir.display()
            )));
        }
        if !dir.is_dir() {
            return Err(Error::Storage(format!(
                "cannot open the SQLite file {shown}: {} is not a directory",
                dir.display()
            )));
        }
    }
    Ok(())
}

/// An error from opening the file, with the operating system's reason where it has one.
fn open_error(path: &Path, e: rusqlite::Error) -> Error {
    let os = match std::fs::OpenOptions::new().read(true).write(true).open(path) {
        Err(io) if path.exists() => format!(" ({io})"),
        _ => String::new(),
    };
    Error::Storage(format!("{}{os}", sql_message(path, "opening", &e)))
}

fn not_sqlite(path: &Path) -> Error {
    Error::Storage(format!(
        "{} is not a tunewise database (it is not an SQLite file at all); it was not changed. \
         Give the path of a new file or of a tunewise study file",
        path.display()
    ))
}

/// The error for a file whose first read failed: for a file that is not SQLite at all, a clear
/// refusal.
fn refuse_unreadable(path: &Path, e: rusqlite::Error) -> Error {
    if e.sqlite_error_code() == Some(rusqlite::ErrorCode::NotADatabase) {
        not_sqlite(path)
    } else {
        sql_error(path, "reading the file's header", &e)
    }
}

/// Refuses, from its header alone, a file this build must not open.
fn refuse_by_header(path: &Path, lock_timeout: Duration) -> Result<()> {
    let mut head = Vec::with_capacity(100);
    match std::fs::File::open(path) {
        Ok(f) => {
            use std::io::Read;
            f.take(100)
                .read_to_end(&mut head)
                .map_err(|e| Error::Storage(format!("cannot read {}: {e}", path.display())))?;
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(Error::Storage(format!("cannot open {}: {e}", path.display()))),
    }
    let found = match schema::header(&head) {
        Header::Empty => return Ok(()),
        Header::NotSqlite => return Err(not_sqlite(path)),
        Header::Tunewise(v) => Found::Tunewise(v),
        Header::Foreign { application_id, wal } => {
            // A file in rollback mode can be read for its table names without leaving anything
            // behind; a WAL file would get `-wal` and `-shm` files, so it is refused unread.
            let objects = if wal { Vec::new() } else { foreign_objects(path, lock_timeout) };
            Found::Foreign { application_id, objects }
        }
    };
    acceptable(path, &found)
}

/// The first few objects of a foreign file in rollback mode, read through a read-only
/// connection; empty if they cannot be read.
fn foreign_objects(path: &Path, lock_timeout: Duration) -> Vec<String> {
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let Ok(conn) = Connection::open_with_flags(path, flags) else { return Vec::new() };
    let _ = conn.busy_timeout(lock_timeout);
    match schema::inspect(&conn) {
        Ok(Found::Foreign { objects, .. }) => objects,
        _ => Vec::new(),
    }
}

/// Refuses what this build must not open: another program's database, or a newer schema.
fn acceptable(path: &Path, found: &Found) -> Result<()> {
    match found {
        Found::Empty => Ok(()),
        Found::Tunewise(v) if *v <= SCHEMA_VERSION => Ok(()),
        Found::Tunewise(v) => Err(Error::Storage(format!(
            "{} was written by a newer tunewise (schema version {v}; this build reads versions up \
             to {SCHEMA_VERSION}); upgrade tunewise to open it. The file was not changed",
            path.display()
        ))),
        Found::Foreign { application_id, objects } => {
            let what = if *application_id != 0 && *application_id != schema::APPLICATION_ID {
                format!(
                    "an SQLite database of another program (application id {application_id:#x})"
                )
            } else if objects.is_empty() {
                "an SQLite database of another program".to_owned()
            } else {
                format!("an SQLite database of another program (it holds {})", objects.join(", "))
            };
            Err(Error::Storage(format!(
                "{} is {what}, not a tunewise database; it was not changed. Give the path of a new \
                 file or of a tunewise study file",
                path.display()
            )))
        }
    }
}
