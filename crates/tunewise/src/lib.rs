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
    /// - `sqlite://path` or a plain file path: the embedded SQLite backend;
    /// - `postgres://…` / `postgresql://…`: the PostgreSQL backend, for many machines.
    ///
    /// A backend that is not compiled in gives an error naming what to enable.
    pub fn open(url: &str) -> Result<Arc<dyn Storage>> {
        let trimmed = url.trim();
        let fail = |reason: &str| {
            Err(Error::StorageUrl { url: url.to_owned(), reason: reason.to_owned() })
        };
        if trimmed.is_empty() {
            return fail("the URL is empty; use 'memory', 'sqlite://FILE' or 'postgres://…'");
        }
        match trimmed.split_once("://").map(|(scheme, _)| scheme) {
            None if trimmed == "memory" => Ok(Arc::new(InMemoryStorage::new())),
            Some("memory") => Ok(Arc::new(InMemoryStorage::new())),
            Some("sqlite") | None => fail(
                "the SQLite backend (crate tunewise-sqlite, cargo feature `sqlite`) is not part of this \
                 build yet; use 'memory' for now",
            ),
            Some("postgres" | "postgresql") => fail(
                "the PostgreSQL backend (crate tunewise-postgres, cargo feature `postgres`) is not part \
                 of this build yet; use 'memory' for now",
            ),
            Some(other) => fail(&format!(
                "unknown scheme '{other}'; use 'memory', 'sqlite://FILE' or 'postgres://…'"
            )),
        }
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
        }

        #[test]
        fn unknown_and_missing_backends_say_what_to_do() {
            let err = open("redis://localhost").unwrap_err().to_string();
            assert!(err.contains("unknown scheme 'redis'"), "{err}");
            let err = open("postgres://u@h/db").unwrap_err().to_string();
            assert!(err.contains("feature `postgres`"), "{err}");
            let err = open("sqlite://study.db").unwrap_err().to_string();
            assert!(err.contains("feature `sqlite`"), "{err}");
            assert!(open("").unwrap_err().to_string().contains("empty"));
        }
    }
}
