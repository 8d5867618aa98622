//! Storage in the memory of one process: the fastest, and gone when the process ends.

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use chrono::Utc;

use super::{Lease, Storage, StudyId, StudyRecord, TrialChanges, TrialFinish};
use crate::direction::Direction;
use crate::error::{Error, Result};
use crate::frozen::{AttrValue, FrozenTrial, Param, TrialState};

/// Keeps studies in memory, shared by the threads of one process.
///
/// Every operation takes one mutex for a short time; trials are shared with readers as
/// `Arc<FrozenTrial>`, so reads copy pointers, not records.
#[derive(Debug, Default)]
pub struct InMemoryStorage {
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    studies: BTreeMap<StudyId, StudyData>,
    next_study: u64,
    next_trial_id: u64,
}

#[derive(Debug)]
struct StudyData {
    record: StudyRecord,
    /// Trials by number.
    trials: Vec<Arc<FrozenTrial>>,
    /// Change counter of the study.
    seq: u64,
    /// Sequence number of each trial's latest change, by trial number.
    changed_at: Vec<u64>,
    /// Latest change sequence → trial number, for incremental reads.
    changes: BTreeMap<u64, u64>,
    /// Enqueued trials, oldest first.
    waiting: VecDeque<u64>,
    /// Running trials → lease deadline (`None`: never expires).
    running: BTreeMap<u64, Option<Instant>>,
    /// The worker id of the latest trial started, shared by the records of its trials.
    last_worker: Option<Arc<str>>,
}

impl StudyData {
    fn touch(&mut self, number: u64) {
        self.seq += 1;
        let n = number as usize;
        if let Some(old) = self.changed_at.get(n).copied() {
            self.changes.remove(&old);
            self.changed_at[n] = self.seq;
        } else {
            self.changed_at.push(self.seq);
        }
        self.changes.insert(self.seq, number);
    }

    fn push(&mut self, trial: FrozenTrial) -> Arc<FrozenTrial> {
        let number = trial.number;
        let trial = Arc::new(trial);
        self.trials.push(trial.clone());
        self.touch(number);
        trial
    }

    /// The running trial a lease names, for writing.
    fn running_mut(&mut self, lease: &Lease) -> Result<&mut FrozenTrial> {
        let trial = self
            .trials
            .get_mut(lease.number as usize)
            .filter(|t| t.id == lease.trial_id)
            .ok_or_else(|| Error::TrialNotFound(lease.number.to_string()))?;
        if trial.attempt != lease.attempt {
            return Err(Error::StaleAttempt {
                number: lease.number,
                attempt: lease.attempt,
                reason: format!("the trial was reclaimed as attempt {}", trial.attempt),
            });
        }
        if trial.state != TrialState::Running {
            return Err(Error::TrialFinished(lease.number));
        }
        Ok(Arc::make_mut(trial))
    }

    /// Makes a trial run again as a new attempt, keeping its parameters as fixed values.
    fn requeue_params(trial: &mut FrozenTrial) {
        for p in std::mem::take(&mut trial.params) {
            let value = p.value();
            if !trial.fixed_params.iter().any(|(n, _)| *n == p.name) {
                trial.fixed_params.push((p.name, value));
            }
        }
        trial.intermediate_values.clear();
        trial.attempt += 1;
    }
}

/// Adds parameters to a trial, replacing any of the same name.
fn merge_params(trial: &mut FrozenTrial, params: &[Param]) {
    // Records live as long as the study: size the list exactly rather than let `push` double it
    // (ten parameters would otherwise keep room for sixteen).
    trial.params.reserve_exact(params.len());
    for p in params {
        match trial.params.iter_mut().find(|q| q.name == p.name) {
            Some(q) => *q = p.clone(),
            None => trial.params.push(p.clone()),
        }
    }
}

impl InMemoryStorage {
    /// An empty storage.
    pub fn new() -> Self {
        Self::default()
    }

    /// `start_trial`, or `start_trial_capped` with `max`: one critical section.
    fn start(
        &self,
        study: StudyId,
        worker: &str,
        lease: Option<Duration>,
        max: Option<u64>,
    ) -> Result<Option<Arc<FrozenTrial>>> {
        let mut inner = self.lock();
        let id = inner.new_trial_id();
        let data = inner.study(study)?;
        let now = Instant::now();
        let deadline = lease.map(|d| now + d);

        let is_waiting =
            |n: &u64| data.trials.get(*n as usize).is_some_and(|t| t.state == TrialState::Waiting);
        let waiting = data.waiting.iter().copied().find(is_waiting);
        let expired =
            || data.running.iter().find(|(_, d)| d.is_some_and(|d| d <= now)).map(|(n, _)| *n);
        let claimed = waiting.or_else(expired);
        let number = claimed.unwrap_or(data.trials.len() as u64);
        if max.is_some_and(|max| number >= max) {
            return Ok(None);
        }
        let worker: Arc<str> = match &data.last_worker {
            Some(w) if **w == *worker => w.clone(),
            _ => data.last_worker.insert(Arc::from(worker)).clone(),
        };
        if waiting.is_some() {
            // Entries before it are trials no longer waiting: drop them with it.
            while data.waiting.pop_front().is_some_and(|n| n != number) {}
        }
        match claimed {
            Some(number) => {
                let slot = &mut data.trials[number as usize];
                let trial = Arc::make_mut(slot);
                if trial.state == TrialState::Running {
                    StudyData::requeue_params(trial);
                }
                trial.state = TrialState::Running;
                trial.worker_id = Some(worker);
                trial.datetime_start = Some(Utc::now());
                data.touch(number);
            }
            None => {
                let mut trial = FrozenTrial::new(id, number, TrialState::Running);
                trial.worker_id = Some(worker);
                trial.datetime_start = Some(Utc::now());
                data.push(trial);
            }
        }
        data.running.insert(number, deadline);
        Ok(Some(data.trials[number as usize].clone()))
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding the lock cannot leave a half-written record: every change is
        // built before it is stored. So a poisoned lock is safe to keep using.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Inner {
    fn study(&mut self, id: StudyId) -> Result<&mut StudyData> {
        self.studies.get_mut(&id).ok_or_else(|| Error::StudyNotFound(format!("#{}", id.0)))
    }

    fn new_trial_id(&mut self) -> u64 {
        self.next_trial_id += 1;
        self.next_trial_id
    }
}

impl Storage for InMemoryStorage {
    fn create_study(&self, name: &str, directions: &[Direction]) -> Result<StudyRecord> {
        let mut inner = self.lock();
        if inner.studies.values().any(|s| s.record.name == name) {
            return Err(Error::StudyExists(name.to_owned()));
        }
        inner.next_study += 1;
        let record = StudyRecord {
            id: StudyId(inner.next_study),
            name: name.to_owned(),
            directions: directions.to_vec(),
            user_attrs: BTreeMap::new(),
            created: Utc::now(),
        };
        inner.studies.insert(
            record.id,
            StudyData {
                record: record.clone(),
                trials: Vec::new(),
                seq: 0,
                changed_at: Vec::new(),
                changes: BTreeMap::new(),
                waiting: VecDeque::new(),
                running: BTreeMap::new(),
                last_worker: None,
            },
        );
        Ok(record)
    }

    fn find_study(&self, name: &str) -> Result<Option<StudyRecord>> {
        let inner = self.lock();
        Ok(inner.studies.values().find(|s| s.record.name == name).map(|s| s.record.clone()))
    }

    fn list_studies(&self) -> Result<Vec<StudyRecord>> {
        Ok(self.lock().studies.values().map(|s| s.record.clone()).collect())
    }

    fn delete_study(&self, study: StudyId) -> Result<()> {
        let mut inner = self.lock();
        inner
            .studies
            .remove(&study)
            .map(|_| ())
            .ok_or_else(|| Error::StudyNotFound(format!("#{}", study.0)))
    }

    fn set_study_user_attr(&self, study: StudyId, key: &str, value: AttrValue) -> Result<()> {
        let mut inner = self.lock();
        inner.study(study)?.record.user_attrs.insert(key.to_owned(), value);
        Ok(())
    }

    fn insert_trial(&self, study: StudyId, trial: &FrozenTrial) -> Result<Arc<FrozenTrial>> {
        if !(trial.state == TrialState::Waiting || trial.state.is_finished()) {
            return Err(Error::InvalidConfig(
                "insert_trial takes a waiting or finished trial; running trials come from start_trial"
                    .into(),
            ));
        }
        let mut inner = self.lock();
        let id = inner.new_trial_id();
        let data = inner.study(study)?;
        let mut record = trial.clone();
        record.id = id;
        record.number = data.trials.len() as u64;
        record.worker_id = None;
        if record.state.is_finished() && record.datetime_complete.is_none() {
            record.datetime_complete = Some(Utc::now());
        }
        if record.state == TrialState::Waiting {
            data.waiting.push_back(record.number);
        }
        Ok(data.push(record))
    }

    fn start_trial(
        &self,
        study: StudyId,
        worker: &str,
        lease: Option<Duration>,
    ) -> Result<Arc<FrozenTrial>> {
        self.start(study, worker, lease, None)?
            .ok_or_else(|| Error::Storage("start_trial without a cap claimed nothing".into()))
    }

    fn start_trial_capped(
        &self,
        study: StudyId,
        worker: &str,
        lease: Option<Duration>,
        max_trials: u64,
    ) -> Result<Option<Arc<FrozenTrial>>> {
        self.start(study, worker, lease, Some(max_trials))
    }

    fn renew_lease(&self, lease: &Lease, duration: Duration) -> Result<()> {
        let mut inner = self.lock();
        let data = inner.study(lease.study)?;
        data.running_mut(lease)?;
        data.running.insert(lease.number, Some(Instant::now() + duration));
        Ok(())
    }

    fn set_trial_params(&self, lease: &Lease, params: &[Param]) -> Result<()> {
        let mut inner = self.lock();
        let data = inner.study(lease.study)?;
        merge_params(data.running_mut(lease)?, params);
        data.touch(lease.number);
        Ok(())
    }

    fn set_trial_user_attr(&self, lease: &Lease, key: &str, value: AttrValue) -> Result<()> {
        let mut inner = self.lock();
        let data = inner.study(lease.study)?;
        data.running_mut(lease)?.user_attrs.insert(key.to_owned(), value);
        data.touch(lease.number);
        Ok(())
    }

    fn report(&self, lease: &Lease, step: u64, values: &[f64]) -> Result<()> {
        let mut inner = self.lock();
        let data = inner.study(lease.study)?;
        data.running_mut(lease)?.intermediate_values.insert(step, values.to_vec());
        data.touch(lease.number);
        Ok(())
    }

    fn finish_trial(&self, lease: &Lease, finish: &TrialFinish) -> Result<Arc<FrozenTrial>> {
        if !finish.state.is_finished() {
            return Err(Error::InvalidConfig(format!(
                "a trial finishes as complete, pruned or failed, not {}",
                finish.state
            )));
        }
        let mut inner = self.lock();
        let data = inner.study(lease.study)?;
        let trial = data.running_mut(lease)?;
        merge_params(trial, &finish.params);
        trial.state = finish.state;
        trial.values = finish.values.clone();
        trial.constraints = finish.constraints.clone();
        trial.fail_reason = finish.fail_reason.clone();
        trial.datetime_complete = Some(Utc::now());
        data.running.remove(&lease.number);
        data.touch(lease.number);
        Ok(data.trials[lease.number as usize].clone())
    }

    fn trials_since(&self, study: StudyId, cursor: u64) -> Result<TrialChanges> {
        let mut inner = self.lock();
        let data = inner.study(study)?;
        let trials = data
            .changes
            .range(cursor.saturating_add(1)..)
            .map(|(_, n)| data.trials[*n as usize].clone())
            .collect();
        Ok(TrialChanges { trials, cursor: data.seq })
    }

    fn trial(&self, study: StudyId, number: u64) -> Result<Arc<FrozenTrial>> {
        let mut inner = self.lock();
        let data = inner.study(study)?;
        data.trials
            .get(number as usize)
            .cloned()
            .ok_or_else(|| Error::TrialNotFound(number.to_string()))
    }

    fn release_worker(&self, study: StudyId, worker: &str) -> Result<usize> {
        let mut inner = self.lock();
        let data = inner.study(study)?;
        let mine: Vec<u64> = data
            .running
            .keys()
            .copied()
            .filter(|n| data.trials[*n as usize].worker_id.as_deref() == Some(worker))
            .collect();
        for n in &mine {
            let trial = Arc::make_mut(&mut data.trials[*n as usize]);
            StudyData::requeue_params(trial);
            trial.state = TrialState::Waiting;
            trial.worker_id = None;
            data.running.remove(n);
            data.touch(*n);
        }
        for n in mine.iter().rev() {
            data.waiting.push_front(*n);
        }
        Ok(mine.len())
    }
}
