//! tunewise storage on PostgreSQL: many worker processes on many machines share one study, and
//! the database is their only coordinator.
//!
//! # Concept map
//!
//! - [`PostgresStorage`] implements [`tunewise_core::Storage`]. Open it with
//!   [`PostgresStorage::connect`] (a URL) or [`PostgresStorage::builder`] (timeouts, reconnect
//!   budget, schema, TLS CA file), wrap it in an `Arc` and give it to any number of studies.
//! - Every worker is the same program pointed at the same study: start as many as you like,
//!   anywhere (Slurm arrays, Kubernetes Jobs, ssh). Each claims waiting trials, or trials whose
//!   worker died, or starts new ones.
//! - [`PostgresStats`]: connections opened and operations retried, for benchmarks.
//!
//! # Quick start
//!
//! ```no_run
//! use std::sync::Arc;
//! use tunewise_core::{Budget, Study, TrialError};
//! use tunewise_postgres::PostgresStorage;
//!
//! let storage = Arc::new(PostgresStorage::connect("postgres://tuner@db.example/studies")?);
//! let study = Study::builder()
//!     .name("resnet-lr")
//!     .minimize()
//!     .storage(storage)
//!     .load_if_exists(true)
//!     .create()?;
//! study.optimize(
//!     |trial| -> Result<f64, TrialError> {
//!         let lr = trial.suggest_float_log("lr", 1e-5, 1e-1)?;
//!         Ok((lr.log10() + 3.0).powi(2))
//!     },
//!     Budget::trials(100),
//! )?;
//! # Ok::<(), tunewise_core::Error>(())
//! ```
//!
//! # Schema
//!
//! Created on first connect if missing (`CREATE … IF NOT EXISTS` in one transaction under an
//! advisory lock, so concurrent first connects do not race); a database whose schema version is
//! newer than [`PostgresStorage::SCHEMA_VERSION`] is refused and left unchanged. Every name
//! starts with `tunewise_`, so the tables can share a database with others; or give
//! [`PostgresBuilder::schema`] to keep them in a PostgreSQL schema of their own.
//!
//! | table | holds |
//! | --- | --- |
//! | `tunewise_schema_version` | the schema version |
//! | `tunewise_studies` | name, directions, user attributes, the trial counter `next_number` and the change counter `seq` |
//! | `tunewise_param_keys` | interned (name, distribution) pairs of a study |
//! | `tunewise_trials` | one row per trial: state, attempt, worker, lease deadline, parameters as two arrays (key ids, internal values), values, intermediate values, attributes, times, and its `seq` |
//!
//! Indexes: `(study_id, number)` unique, `(study_id, seq)` for incremental reads, and two
//! partial indexes for claiming, over waiting and over running trials. Each state change is one
//! call of a PL/pgSQL function (`tunewise_start_trial`, `tunewise_finish_trial`, …), so one
//! statement, one round trip and one short transaction: no lock is ever held while a client
//! thinks, freezes or dies. A trial costs two commits when the objective reports nothing: one
//! to start it, one to finish it with its parameters and values.
//!
//! # Protocol, and what each guarantee rests on
//!
//! - **Numbers unique and dense**: the number comes from `tunewise_studies.next_number`,
//!   incremented by an `UPDATE … RETURNING` in the transaction that inserts the trial; the row
//!   lock serializes creators, a rolled-back insert rolls the counter back, and
//!   `UNIQUE (study_id, number)` is the safety net.
//! - **No trial run by two workers at once**: a claim takes the oldest waiting trial, else the
//!   running trial whose lease expired longest ago, with `FOR UPDATE SKIP LOCKED` and a recheck of
//!   its state; a reclaimed trial gets `attempt + 1`, its parameters become fixed values and its
//!   intermediate values are cleared. Leases are timed by the database clock
//!   (`clock_timestamp()`), never by a worker's; a lease of `None` never expires.
//! - **At most one completion per trial (fencing)**: every write to a trial names its lease and
//!   matches `WHERE id = … AND attempt = … AND state = 'running'` under the row lock; when nothing
//!   matches, the error says why: [`StaleAttempt`](tunewise_core::Error::StaleAttempt) (the trial
//!   was reclaimed), [`TrialFinished`](tunewise_core::Error::TrialFinished),
//!   `TrialNotFound` or `StudyNotFound`.
//! - **No acknowledged result lost**: `finish_trial` returns only after its commit (PostgreSQL's
//!   durable commit); a result that was not acknowledged may be lost, never a trial: it stays
//!   running until its lease expires and is then rerun.
//! - **Trials of dead workers recovered** within the lease (a heartbeat renews it every
//!   lease / 4) plus the time until some worker next starts a trial; at once when a worker
//!   restarts with the same worker id (`release_worker`).
//! - **Readers never see half a trial**: a trial is one row written in one transaction.
//! - **Incremental reads**: each transaction that changes a trial bumps the study's `seq` and
//!   stamps the trial with it; `trials_since(cursor)` returns the rows with `seq > cursor` and the
//!   study's `seq` as the next cursor, in one statement (one snapshot). Because the study row
//!   stays locked until commit, seq values commit in increasing order, so a reader never passes
//!   over a change that commits later (a global sequence would allow that). Writers of one study
//!   serialize on that row for the length of one short server-side statement and its commit.
//!   Locks are always taken trial first, study last, so writers cannot deadlock.
//!
//! Parameter names and distributions are interned per study in `tunewise_param_keys` and cached
//! in each process as shared `Arc<str>` / `Arc<Distribution>`; a trial row stores key ids and
//! internal values as arrays, so a study of 100,000 trials loads in well under a second.
//! Floats are stored as `double precision` (exact, infinities included); JSON that must read
//! back exactly is stored as text.
//!
//! # Connections, timeouts and reconnection
//!
//! - Each connection runs on a private current-thread runtime; every request has a client-side
//!   deadline (twice the statement timeout, at most 10 s more), on top of the server's `statement_timeout` (default
//!   30 s), `connect_timeout` (default 10 s), TCP keepalives and a TCP user timeout, so no call
//!   waits forever on a dead server or network.
//! - When the server goes away (connection refused or reset, shutdown, recovery, a request past
//!   its deadline), an operation reconnects and retries with exponential backoff (25 ms doubling
//!   to 2 s, with jitter) within the reconnect budget (default 60 s), then fails with an error
//!   naming the server, the tries and the last error. The first connection of `connect` is not
//!   retried, so a wrong URL fails at once.
//! - **Ambiguous commits**: when the connection breaks after a write was sent, the write may
//!   have committed. Retries are idempotent: `start_trial`, `insert_trial`, `finish_trial` and
//!   `create_study` carry a client-generated token, and a retry first looks for the row its
//!   first try may have written (so no second running trial leaks, no trial is inserted twice,
//!   and a retried finish that already committed returns success). Reports, attributes,
//!   parameters and lease renewals set values by key and are idempotent as they are;
//!   `delete_study` counts a retry that finds the study gone as success.
//! - Errors are [`tunewise_core::Error`]; server failures are `Error::Storage` with the
//!   operation, the server's message and its SQLSTATE.
//! - Calls block their thread (as the `Storage` trait is synchronous): from async code, call them
//!   through `spawn_blocking`, not on a runtime's worker thread.
//! - URL parameters (`connect_timeout`, `keepalives_idle`, `options=-c …`, `application_name`)
//!   win over the builder's values.
//!
//! # TLS
//!
//! With the cargo feature `tls`, a URL with `sslmode=require` (or `verify-ca` / `verify-full`)
//! connects with rustls and always verifies the server certificate and host name: against the
//! CA file given with `sslrootcert=FILE` or [`PostgresBuilder::ca_file`], else the webpki roots.
//! Without the feature, such a URL is refused with an error naming the feature. Other
//! `sslmode`s connect without TLS.
#![deny(missing_docs)]
#![cfg_attr(not(test), warn(clippy::unwrap_used, clippy::expect_used))]

mod codec;
mod conn;
mod options;
mod schema;
mod storage;

pub use options::PostgresBuilder;
pub use storage::{PostgresStats, PostgresStorage};
