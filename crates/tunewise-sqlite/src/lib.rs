//! tunewise storage on SQLite: the embedded default for any study given a file.
//!
//! # Concept
//!
//! [`SqliteStorage`] implements [`tunewise_core::Storage`] on one SQLite file. A study in it
//! survives its process: drop the handle, kill the process, open the file again and
//! `StudyBuilder::load` resumes where it stopped. Any number of threads and processes **on one
//! machine** may share the file: each state change is one short transaction, and the database
//! is the only coordinator. For workers on several machines, use PostgreSQL
//! (`tunewise-postgres`).
//!
//! ```no_run
//! use std::sync::Arc;
//! use tunewise_core::{Budget, Study, TrialError};
//! use tunewise_sqlite::SqliteStorage;
//!
//! let storage = Arc::new(SqliteStorage::open("study.db")?);
//! let study = Study::builder().name("quadratic").storage(storage).load_if_exists(true).create()?;
//! study.optimize(
//!     |t| -> Result<f64, TrialError> { Ok(t.suggest_float("x", -10.0, 10.0)?.powi(2)) },
//!     Budget::trials(100),
//! )?;
//! # Ok::<(), tunewise_core::Error>(())
//! ```
//!
//! # The protocol on SQLite
//!
//! - **Claims**: [`start_trial`](tunewise_core::Storage::start_trial) runs inside
//!   `BEGIN IMMEDIATE`, which takes the database's single write lock first: the oldest waiting
//!   trial is claimed with one `UPDATE … WHERE id = (SELECT … LIMIT 1) RETURNING`, else a running
//!   trial whose lease expired (attempt + 1, parameters kept as fixed values, reports cleared),
//!   else a new trial is inserted.
//! - **Numbering**: a per-study counter (`studies.next_number`) incremented in the transaction
//!   that inserts the trial, with a unique index on `(study_id, number)` as a safety net.
//! - **Leases** are expiry times on the database's clock (`unixepoch('subsec')`, milliseconds);
//!   a lease of `None` is `NULL` and never expires.
//! - **Fencing**: every write to a trial checks `id`, `attempt` and `state = 'running'` inside
//!   its transaction and tells a reclaimed attempt (`StaleAttempt`) from a finished trial
//!   (`TrialFinished`); at most one finish is accepted.
//! - **Incremental reads**: a per-study change counter (`studies.seq`) is bumped by every
//!   transaction that changes a trial and stored on the trial's row, indexed by
//!   `(study_id, seq)`; `trials_since(cursor)` reads only rows with `seq > cursor`.
//! - **Cost**: a trial run by `Study::optimize` is two commits (start, finish), plus one per
//!   report, attribute or early parameter flush. [`SqliteStorage::commits`] counts them.
//!
//! # File format (schema version 1)
//!
//! | table | holds |
//! | --- | --- |
//! | `schema_version` | one row per migration applied: `version`, `applied` (µs), `tunewise` (crate version) |
//! | `studies` | `id`, unique `name`, `directions` (JSON), `user_attrs` (JSON object or NULL), `created` (µs), `next_number`, `seq` |
//! | `param_keys` | one row per (study, parameter name, distribution): `distribution` as tagged JSON |
//! | `trials` | one row per trial (below) |
//! | `intermediate_values` | `(trial_id, step)` → `vals`, appended by each report |
//!
//! A trial row holds `number`, `state` (`waiting`, `running`, `complete`, `pruned`, `failed`),
//! `attempt`, `worker_id`, `lease_expires` (ms on the database clock), `params`, `fixed_params`,
//! `vals`, `constraints`, `user_attrs`, `fail_reason`, `datetime_start`, `datetime_complete`
//! (µs since the Unix epoch, UTC), `reported` and `seq`. Numbers are stored exactly, as blobs of
//! little-endian `f64` (`vals`, `constraints`, intermediate `vals`: infinities and NaN
//! included). `params` is a blob of 16-byte entries, a `param_keys` id (`i64`) and the internal
//! value (`f64`), in suggestion order: names and distributions are stored once per study and
//! shared in memory as `Arc`s, so a study of 100,000 trials loads in well under a second.
//! `fixed_params` is JSON, `[["name", kind, value], …]` with kind `f`, `i`, `b` or `s`.
//!
//! Every file is stamped with `PRAGMA application_id = 0x54575351` ("TWSQ") and a schema version.
//! Opening a file runs the migrations from its version to this build's ([`SCHEMA_VERSION`]), all
//! in one transaction. A file written by a newer tunewise, an SQLite file of another program or a
//! file that is not SQLite at all is refused with an error that says so, and is not changed:
//! it is inspected through a read-only connection before anything is written.
//!
//! # Durability and settings
//!
//! - `journal_mode = WAL`: readers never block the writer and a crash never leaves a
//!   half-written transaction (the file must be on a local disk, not a network file system).
//! - `synchronous = FULL`: a transaction is on disk when its commit returns, so an acknowledged
//!   result survives a power cut, not only a crash of the process. Writes that only a live
//!   worker depends on (claiming a trial, renewing its lease, its parameters so far,
//!   intermediate reports, user attributes) commit with `synchronous = NORMAL`: atomic and safe
//!   from a crash of the process, and made durable by the next full commit (a trial's finish
//!   syncs the write-ahead log with them); a power cut before it loses only those writes, and
//!   the workers that made them die with the machine. A trial costs one disk sync (its
//!   finish) however many folds or epochs it reports.
//! - `foreign_keys = ON`: deleting a study deletes its trials, keys and reports.
//! - A busy timeout of [`DEFAULT_LOCK_TIMEOUT`] (or [`SqliteStorage::open_with`]'s), and a
//!   retry with backoff where SQLite reports "busy" without waiting: an operation fails only
//!   when another process held the lock for the whole timeout.
//!
//! # What is safe across processes
//!
//! Every operation of the [`Storage`](tunewise_core::Storage) trait, from any number of processes
//! on one machine, each with its own [`SqliteStorage`]: claims are serialized by SQLite's write
//! lock, so no trial is claimed twice, numbers stay unique and dense, and a reader sees only
//! whole transactions. A process killed at any moment (even mid-commit) loses only what it had
//! not committed; its running trials are reclaimed when their lease expires, or at once when a
//! worker restarts with the same worker id. A reader that must never change the file (the
//! dashboard) opens it with [`SqliteStorage::open_read_only`]. Do not share the file over NFS
//! or SMB, and do not copy it while workers write (copy the `-wal` file with it, or use
//! SQLite's backup).
//!
//! # Errors
//!
//! Every error is a [`tunewise_core::Error`]: the protocol's own (`StudyNotFound`,
//! `StaleAttempt`, …) or [`Error::Storage`](tunewise_core::Error::Storage) with the file, the
//! operation and a hint.
#![deny(missing_docs)]
#![cfg_attr(not(test), warn(clippy::unwrap_used, clippy::expect_used))]

mod cache;
mod codec;
mod db;
mod error;
mod open;
mod schema;
mod storage;

pub use schema::SCHEMA_VERSION;
pub use storage::{SqliteStorage, DEFAULT_LOCK_TIMEOUT, MAX_LOCK_TIMEOUT};
