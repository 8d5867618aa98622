//! Helpers shared by the test modules.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use tunewise_core::Storage;
use tunewise_sqlite::SqliteStorage;

/// A temporary directory on the real disk (`tempfile` honours `TMPDIR`).
pub fn temp_dir() -> tempfile::TempDir {
    tempfile::Builder::new().prefix("tunewise-sqlite-").tempdir().unwrap()
}

/// The path of a database file in `dir`.
pub fn db_path(dir: &impl AsRef<Path>) -> PathBuf {
    dir.as_ref().join("study.db")
}

/// Opens a storage, panicking with the error's message.
pub fn open(path: &Path) -> Arc<SqliteStorage> {
    match SqliteStorage::open(path) {
        Ok(s) => Arc::new(s),
        Err(e) => panic!("opening {}: {e}", path.display()),
    }
}

/// Opens a storage as the trait object a study takes.
pub fn open_dyn(path: &Path) -> Arc<dyn Storage> {
    open(path)
}

/// The smallest objective: one float in [0, 1].
pub fn one_float(trial: &mut tunewise_core::Trial) -> Result<f64, tunewise_core::TrialError> {
    Ok(trial.suggest_float("x", 0.0, 1.0)?)
}
