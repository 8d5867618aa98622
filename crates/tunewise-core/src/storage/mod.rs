//! The storage trait: how studies and trials are persisted and shared between workers.
//!
//! The protocol (see DESIGN.md and `docs/storage.md`):
//! - every state change is one short transaction; none stays open while an objective runs;
//! - trial numbers come from a per-study counter, unique and dense;
//! - [`Storage::start_trial`] claims the oldest waiting trial, or a running trial whose lease
//!   expired (with `attempt + 1`), or else creates a new one, in one transaction;
//! - a running trial's lease is renewed by [`Storage::renew_lease`];
//! - every write to a trial names its [`Lease`] (trial and attempt): a worker whose trial was
//!   reclaimed by another cannot write late results ("fencing"): the write fails with
//!   [`Error::StaleAttempt`]; a write to a finished trial fails with
//!   [`Error::TrialFinished`] (or `StaleAttempt`) and changes nothing;
//! - a study id that does not exist (any more) is
//!   [`Error::StudyNotFound`], a trial number that does not exist
//!   [`Error::TrialNotFound`];
//! - [`Storage::trials_since`] returns only the trials changed since a cursor, so a worker's
//!   cache costs work proportional to the changes, not to the size of the study.

mod memory;

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::direction::Direction;
use crate::error::{Error, Result};
use crate::frozen::{AttrValue, FrozenTrial, Param, TrialState};

pub use memory::InMemoryStorage;

/// A study's id within one storage.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct StudyId(pub u64);

/// A study as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StudyRecord {
    /// Id within the storage.
    pub id: StudyId,
    /// Unique name.
    pub name: String,
    /// One direction per objective.
    pub directions: Vec<Direction>,
    /// User attributes.
    pub user_attrs: BTreeMap<String, AttrValue>,
    /// When it was created.
    pub created: DateTime<Utc>,
}

/// Proof that a worker holds a running trial: every write names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    /// The study.
    pub study: StudyId,
    /// Storage-wide trial id.
    pub trial_id: u64,
    /// Trial number within the study.
    pub number: u64,
    /// The attempt that holds the trial.
    pub attempt: u32,
}

impl Lease {
    /// The lease of a trial record as returned by [`Storage::start_trial`].
    pub fn of(study: StudyId, trial: &FrozenTrial) -> Self {
        Lease { study, trial_id: trial.id, number: trial.number, attempt: trial.attempt }
    }
}

/// How a running trial ends.
#[derive(Debug, Clone, PartialEq)]
pub struct TrialFinish {
    /// `Complete`, `Pruned` or `Failed`.
    pub state: TrialState,
    /// One value per objective (for `Complete`).
    pub values: Option<Vec<f64>>,
    /// Constraint values.
    pub constraints: Vec<f64>,
    /// Why it failed.
    pub fail_reason: Option<String>,
    /// Parameters not yet stored, written in the same transaction.
    pub params: Vec<Param>,
}

/// What changed since a cursor.
#[derive(Debug, Clone, Default)]
pub struct TrialChanges {
    /// The changed (or new) trials, each in its latest state.
    pub trials: Vec<Arc<FrozenTrial>>,
    /// The cursor to pass next time.
    pub cursor: u64,
}

/// Persists studies and trials for one process, many processes or many machines.
///
/// Object-safe and `Send + Sync`: a study holds an `Arc<dyn Storage>` shared by its threads.
/// Every implementation passes the shared conformance suite
/// (`tunewise_core::conformance::storage`, feature `conformance`).
pub trait Storage: Send + Sync + fmt::Debug {
    /// Creates a study; fails with [`Error::StudyExists`] if the name
    /// is taken.
    fn create_study(&self, name: &str, directions: &[Direction]) -> Result<StudyRecord>;

    /// The study of that name, if any.
    fn find_study(&self, name: &str) -> Result<Option<StudyRecord>>;

    /// Every study, in id order.
    fn list_studies(&self) -> Result<Vec<StudyRecord>>;

    /// Deletes a study and all its trials; [`Error::StudyNotFound`]
    /// if there is no such study.
    fn delete_study(&self, study: StudyId) -> Result<()>;

    /// Sets a user attribute of a study.
    fn set_study_user_attr(&self, study: StudyId, key: &str, value: AttrValue) -> Result<()>;

    /// Inserts a trial that no worker runs: `Waiting` (enqueued, with fixed parameters) or
    /// finished (results known from elsewhere). The number and id of `trial` are ignored: the
    /// storage assigns them. Returns the stored record.
    fn insert_trial(&self, study: StudyId, trial: &FrozenTrial) -> Result<Arc<FrozenTrial>>;

    /// Claims a trial for `worker` in one transaction: the oldest waiting trial, else a running
    /// trial whose lease expired (its attempt incremented, its parameters kept as fixed values),
    /// else a new trial. `lease` of `None` never expires (the trial is recovered only by
    /// [`release_worker`](Self::release_worker)).
    fn start_trial(
        &self,
        study: StudyId,
        worker: &str,
        lease: Option<Duration>,
    ) -> Result<Arc<FrozenTrial>>;

    /// Like [`start_trial`](Self::start_trial), for a study-wide trial budget: claims the trial
    /// `start_trial` would claim, unless that trial is numbered `max_trials` or more (a new
    /// trial when the study already holds `max_trials` trials, or a waiting or abandoned trial
    /// beyond them); then nothing changes and the answer is `None`. The check and the claim are
    /// one transaction, so workers sharing the study never create more than `max_trials`
    /// trials between them.
    ///
    /// The default implementation refuses with [`Error::InvalidConfig`]: a storage that
    /// supports the study-wide budget overrides it (the three of tunewise do).
    fn start_trial_capped(
        &self,
        study: StudyId,
        worker: &str,
        lease: Option<Duration>,
        max_trials: u64,
    ) -> Result<Option<Arc<FrozenTrial>>> {
        let _ = (study, worker, lease, max_trials);
        Err(Error::InvalidConfig(
            "this storage cannot cap the number of trials of a study (start_trial_capped); use \
             a number of trials per run (Budget::trials) instead of Budget::study_trials"
                .into(),
        ))
    }

    /// Renews the lease of a running trial for another `duration`.
    fn renew_lease(&self, lease: &Lease, duration: Duration) -> Result<()>;

    /// Appends parameters to a running trial.
    fn set_trial_params(&self, lease: &Lease, params: &[Param]) -> Result<()>;

    /// Sets a user attribute of a running trial.
    fn set_trial_user_attr(&self, lease: &Lease, key: &str, value: AttrValue) -> Result<()>;

    /// Records intermediate values (one per objective) at `step`.
    fn report(&self, lease: &Lease, step: u64, values: &[f64]) -> Result<()>;

    /// Finishes a running trial; at most one finish is accepted per trial.
    fn finish_trial(&self, lease: &Lease, finish: &TrialFinish) -> Result<Arc<FrozenTrial>>;

    /// The trials created or changed after `cursor` (0 for all), and the next cursor.
    fn trials_since(&self, study: StudyId, cursor: u64) -> Result<TrialChanges>;

    /// One trial by number.
    fn trial(&self, study: StudyId, number: u64) -> Result<Arc<FrozenTrial>>;

    /// Puts every trial left running by `worker` back to waiting (attempt + 1, parameters kept),
    /// for a worker that restarts with the same id. Returns how many were recovered.
    fn release_worker(&self, study: StudyId, worker: &str) -> Result<usize>;
}

/// Copies a study, with every trial, from one storage to another (or to a new name in the same
/// storage). Trial numbers, parameters, values, intermediate values, constraints, attributes,
/// times and attempts are kept. A trial that was running in the source has no worker in the
/// copy: it arrives waiting, with its parameters as fixed values, so the next worker runs it
/// again.
///
/// Nothing is written when the source study does not exist or the destination name is taken;
/// if a write fails midway, the partial copy is deleted.
pub fn copy_study(
    from: &dyn Storage,
    name: &str,
    to: &dyn Storage,
    new_name: Option<&str>,
) -> Result<StudyRecord> {
    let source = from.find_study(name)?.ok_or_else(|| Error::StudyNotFound(name.to_owned()))?;
    let target_name = new_name.unwrap_or(name);
    if to.find_study(target_name)?.is_some() {
        return Err(Error::StudyExists(target_name.to_owned()));
    }
    let mut trials = from.trials_since(source.id, 0)?.trials;
    trials.sort_by_key(|t| t.number);
    let target = to.create_study(target_name, &source.directions)?;
    let copy = || -> Result<()> {
        for (key, value) in &source.user_attrs {
            to.set_study_user_attr(target.id, key, value.clone())?;
        }
        for t in &trials {
            let mut record = (**t).clone();
            if record.state == TrialState::Running {
                for p in std::mem::take(&mut record.params) {
                    if !record.fixed_params.iter().any(|(n, _)| *n == p.name) {
                        let value = p.value();
                        record.fixed_params.push((p.name, value));
                    }
                }
                record.state = TrialState::Waiting;
                record.intermediate_values.clear();
            }
            let stored = to.insert_trial(target.id, &record)?;
            if stored.number != t.number {
                return Err(Error::Storage(format!(
                    "copying trial {} gave it number {} in the destination",
                    t.number, stored.number
                )));
            }
        }
        Ok(())
    };
    match copy() {
        Ok(()) => {
            to.find_study(target_name)?.ok_or_else(|| Error::StudyNotFound(target_name.to_owned()))
        }
        Err(e) => {
            // Best effort: the error that stopped the copy is the one to report.
            let _ = to.delete_study(target.id);
            Err(e)
        }
    }
}

/// Deletes a study by name.
pub fn delete_study_by_name(storage: &dyn Storage, name: &str) -> Result<()> {
    let record = storage.find_study(name)?.ok_or_else(|| Error::StudyNotFound(name.to_owned()))?;
    storage.delete_study(record.id)
}
