//! The one error path: every SQLite error becomes a [`tunewise_core::Error`] that names the
//! file, the operation and, where there is one, what to do.

use std::path::Path;

use rusqlite::ErrorCode;
use tunewise_core::Error;

/// A failure inside a transaction: from SQLite (maybe worth retrying), or from the protocol.
#[derive(Debug)]
pub(crate) enum Fail {
    Sql(rusqlite::Error),
    Core(Error),
}

impl From<rusqlite::Error> for Fail {
    fn from(e: rusqlite::Error) -> Self {
        Fail::Sql(e)
    }
}

impl From<Error> for Fail {
    fn from(e: Error) -> Self {
        Fail::Core(e)
    }
}

impl Fail {
    /// Another connection holds a lock: the transaction can be tried again.
    pub(crate) fn is_busy(&self) -> bool {
        match self {
            Fail::Sql(e) => busy(e),
            Fail::Core(_) => false,
        }
    }

    pub(crate) fn into_error(self, path: &Path, what: &str) -> Error {
        match self {
            Fail::Core(e) => e,
            Fail::Sql(e) => sql_error(path, what, &e),
        }
    }
}

/// Whether SQLite said another connection holds a lock.
pub(crate) fn busy(e: &rusqlite::Error) -> bool {
    matches!(e.sqlite_error_code(), Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked))
}

/// An SQLite error, with the file, what was being done, and a hint.
pub(crate) fn sql_error(path: &Path, what: &str, e: &rusqlite::Error) -> Error {
    Error::Storage(sql_message(path, what, e))
}

/// The message of [`sql_error`].
pub(crate) fn sql_message(path: &Path, what: &str, e: &rusqlite::Error) -> String {
    let hint = match e.sqlite_error_code() {
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => {
            "; another process held the database lock for longer than the lock timeout \
             (SqliteStorage::open_with sets it)"
        }
        Some(ErrorCode::NotADatabase) => {
            "; the file is not an SQLite database, so not a tunewise study file: give another path"
        }
        Some(ErrorCode::ReadOnly) => {
            "; the file or its directory is read-only: tunewise writes the file and its -wal and \
             -shm files beside it"
        }
        Some(ErrorCode::CannotOpen) => {
            "; check that the directory exists and that this user may create files in it"
        }
        Some(ErrorCode::DiskFull) => "; the disk is full",
        Some(ErrorCode::DatabaseCorrupt) => {
            "; the file is damaged: restore it from a copy, or run sqlite3's .recover on it"
        }
        Some(ErrorCode::PermissionDenied) => "; permission denied for this user",
        _ => "",
    };
    format!("SQLite file {}: {what}: {e}{hint}", path.display())
}
