//! tunewise: hyperparameter tuning for machine learning.
//!
//! This crate is the facade: it re-exports the engine ([`tunewise_core`]) and opens storages by
//! URL. Heavy backends live in their own crates behind cargo features.
//!
//! # Concept map
//!
//! - [`Study`]: one optimization (name, directions, sampler, pruner, storage). [`Study::optimize`]
//!   runs the loop; [`Study::ask`] and [`Study::tell`] let any outer loop drive it.
//! - [`Trial`]: one evaluation; the objective asks it for values as it runs (define-by-run).
//! - [`Distribution`]: float, int (uniform, log, step) and categorical ranges.
//! - Samplers: [`RandomSampler`], [`GridSampler`], [`CoarseToFineSampler`].
//! - [`storage::open`]: a storage from a URL.
//!
//! # Quick start
//!
//! ```
//! use tunewise::prelude::*;
//!
//! let study = Study::builder().minimize().seed(42).create()?;
//! study.optimize(
//!     |trial| -> Result<f64, TrialError> {
//!         let lr = trial.suggest_float_log("lr", 1e-5, 1e-1)?;
//!         let layers = trial.suggest_int("layers", 1, 4)?;
//!         let act = trial.suggest_categorical("activation", &["relu", "tanh"])?;
//!         let penalty = if act == "relu" { 0.0 } else { 0.1 };
//!         Ok((lr.log10() + 3.0).powi(2) + (layers as f64 - 2.0).powi(2) + penalty)
//!     },
//!     Budget::trials(100),
//! )?;
//! println!("best {:?} = {}", study.best_params()?, study.best_value()?);
//! # Ok::<(), tunewise::Error>(())
//! ```
#![deny(missing_docs)]

pub use tunewise_core::*;

/// Storages, and opening one by URL.
pub mod storage {
    use std::sync::Arc;

    pub use tunewise_core::storage::*;

    use crate::{Error, Result};

    /// Opens a storage from a URL:
    ///
    /// - `memory` (or `memory://`): a new in-memory storage, for one process;
    /// - `sqlite://path` (`sqlite:///abs/path` for an absolute one) or a plain file path: the
    ///   embedded SQLite backend (feature `sqlite`, on by default), created if missing;
    /// - `postgres://…` / `postgresql://…`: the PostgreSQL backend (feature `postgres`), for many
    ///   processes on many machines.
    ///
    /// A backend that is not compiled in gives an error naming the cargo feature to enable; an
    /// unknown scheme gives an error listing the ones there are.
    pub fn open(url: &str) -> Result<Arc<dyn Storage>> {
        open_with(url, false)
    }

    /// Opens a storage from a URL, like [`open`], for reading only (as the dashboard does):
    ///
    /// - SQLite: the file must exist and be a tunewise database of this build's schema; it is
    ///   opened with `SQLITE_OPEN_READ_ONLY` and never written, so workers running a study in
    ///   it are never blocked or failed by the reader (see
    ///   `tunewise_sqlite::SqliteStorage::open_read_only`);
    /// - PostgreSQL: every transaction of its connections is read-only on the server
    ///   (`default_transaction_read_only`), so a write through it fails and a database without
    ///   the tunewise schema is refused, not given one; readers never block writers there;
    /// - `memory`: a new, empty in-memory storage.
    pub fn open_read_only(url: &str) -> Result<Arc<dyn Storage>> {
        open_with(url, true)
    }

    fn open_with(url: &str, read_only: bool) -> Result<Arc<dyn Storage>> {
        let trimmed = url.trim();
        let fail = |reason: String| Err(Error::StorageUrl { url: url.to_owned(), reason });
        if trimmed.is_empty() {
            return fail(
                "the URL is empty; use 'memory', 'sqlite://FILE' or 'postgres://…'".into(),
            );
        }
        match trimmed.split_once("://") {
            None if trimmed == "memory" => Ok(Arc::new(InMemoryStorage::new())),
            Some(("memory", "")) => Ok(Arc::new(InMemoryStorage::new())),
            Some(("memory", _)) => fail("an in-memory storage takes no path; use 'memory'".into()),
            Some(("sqlite", path)) => open_sqlite(url, path, read_only),
            None => open_sqlite(url, trimmed, read_only),
            Some(("postgres" | "postgresql", _)) => open_postgres(url, trimmed, read_only),
            Some((other, _)) => fail(format!(
                "unknown scheme '{other}'; use 'memory', 'sqlite://FILE' (or a plain path) or \
                 'postgres://user@host/db'"
            )),
        }
    }

    #[cfg(feature = "sqlite")]
    fn open_sqlite(url: &str, path: &str, read_only: bool) -> Result<Arc<dyn Storage>> {
        if path.is_empty() {
            return Err(Error::StorageUrl {
                url: url.to_owned(),
                reason: "no file given; use 'sqlite://study.db' or 'sqlite:///absolute/path.db'"
                    .into(),
            });
        }
        if read_only {
            return Ok(Arc::new(tunewise_sqlite::SqliteStorage::open_read_only(path)?));
        }
        Ok(Arc::new(tunewise_sqlite::SqliteStorage::open(path)?))
    }

    #[cfg(not(feature = "sqlite"))]
    fn open_sqlite(url: &str, _path: &str, _read_only: bool) -> Result<Arc<dyn Storage>> {
        Err(Error::StorageUrl {
            url: url.to_owned(),
            reason: "this build has no SQLite backend; enable the cargo feature `sqlite` of \
                     tunewise (on by default)"
                .into(),
        })
    }

    #[cfg(feature = "postgres")]
    fn open_postgres(_url: &str, trimmed: &str, read_only: bool) -> Result<Arc<dyn Storage>> {
        let builder = tunewise_postgres::PostgresStorage::builder(trimmed);
        let builder = if read_only { builder.read_only() } else { builder };
        Ok(Arc::new(builder.connect()?))
    }

    #[cfg(not(feature = "postgres"))]
    fn open_postgres(url: &str, _trimmed: &str, _read_only: bool) -> Result<Arc<dyn Storage>> {
        Err(Error::StorageUrl {
            url: url.to_owned(),
            reason: "this build has no PostgreSQL backend; enable the cargo feature `postgres` of \
                     tunewise (for example `tunewise = { version = \"0.1\", features = [\"postgres\"] }`)"
                .into(),
        })
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn memory_urls_open() {
            for url in ["memory", "memory://", " memory "] {
                let s = open(url).unwrap();
                assert!(s.list_studies().unwrap().is_empty());
            }
            assert!(open("memory://x").unwrap_err().to_string().contains("no path"));
        }

        #[test]
        fn unknown_schemes_and_empty_urls_say_what_to_do() {
            let err = open("redis://localhost").unwrap_err().to_string();
            assert!(err.contains("unknown scheme 'redis'") && err.contains("sqlite://"), "{err}");
            assert!(open("").unwrap_err().to_string().contains("empty"));
        }

        #[cfg(feature = "sqlite")]
        #[test]
        fn an_sqlite_url_needs_a_file() {
            assert!(open("sqlite://").unwrap_err().to_string().contains("no file"));
        }

        #[cfg(not(feature = "sqlite"))]
        #[test]
        fn sqlite_without_its_feature_names_it() {
            let err = open("study.db").unwrap_err().to_string();
            assert!(err.contains("feature `sqlite`"), "{err}");
        }

        #[cfg(not(feature = "postgres"))]
        #[test]
        fn a_backend_not_compiled_in_names_its_feature() {
            let err = open("postgres://u@127.0.0.1/db").unwrap_err().to_string();
            assert!(err.contains("feature `postgres`"), "{err}");
        }

        #[cfg(feature = "postgres")]
        #[test]
        fn an_unreachable_postgres_server_is_a_clear_error() {
            // Port 1 on loopback: nothing listens there.
            let err = open("postgres://postgres@127.0.0.1:1/test?connect_timeout=2")
                .unwrap_err()
                .to_string();
            assert!(!err.is_empty(), "{err}");
        }

        #[cfg(feature = "sqlite")]
        #[test]
        fn sqlite_urls_and_plain_paths_open_the_same_file() {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("t.db");
            let by_url = open(&format!("sqlite://{}", path.display())).unwrap();
            by_url.create_study("s", &[crate::Direction::Minimize]).unwrap();
            drop(by_url);
            let by_path = open(path.to_str().unwrap()).unwrap();
            assert_eq!(by_path.list_studies().unwrap()[0].name, "s");
        }

        #[cfg(feature = "sqlite")]
        #[test]
        fn a_read_only_sqlite_url_reads_an_existing_file_and_refuses_writes_and_missing_files() {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("t.db");
            let url = format!("sqlite://{}", path.display());
            let err = open_read_only(&url).unwrap_err().to_string();
            assert!(err.contains("does not exist"), "{err}");
            assert!(!path.exists(), "a read-only open does not create the file");
            open(&url).unwrap().create_study("s", &[crate::Direction::Minimize]).unwrap();
            let reader = open_read_only(&url).unwrap();
            assert_eq!(reader.list_studies().unwrap()[0].name, "s");
            let err = reader.create_study("t", &[crate::Direction::Minimize]).unwrap_err();
            assert!(err.to_string().contains("read-only"), "{err}");
        }
    }
}
