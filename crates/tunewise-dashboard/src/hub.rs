//! The server's view of the storage: one cached snapshot per study, refreshed incrementally
//! with [`Storage::trials_since`] at most once per refresh interval however many clients ask.
//!
//! A 50,000-trial study is read in full once; after that each refresh reads only the trials
//! that changed since the cursor of the previous one. Readers get an immutable
//! [`Snapshot`] (`Arc`), so a request never holds a lock while it filters, sorts or draws.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::{Duration, Instant};

use tunewise_core::storage::{StudyRecord, TrialChanges};
use tunewise_core::{Direction, Distribution, FrozenTrial, Storage, TrialState};
use tunewise_plot::Summary;

use crate::error::ApiError;
use crate::figures::Rendered;

/// What the study page needs to know about one parameter.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub(crate) struct ParamInfo {
    pub(crate) name: String,
    /// Categorical: compared as text, no contour.
    pub(crate) categorical: bool,
}

/// A study as of one refresh. Immutable: requests share it through an `Arc`.
#[derive(Debug)]
pub(crate) struct Snapshot {
    pub(crate) record: StudyRecord,
    /// Every trial, sorted by number.
    pub(crate) trials: Arc<Vec<Arc<FrozenTrial>>>,
    /// The storage's change cursor this snapshot is at.
    pub(crate) cursor: u64,
    /// The parameters of the trials, by name.
    pub(crate) params: Vec<ParamInfo>,
    /// Trials by state.
    pub(crate) counts: BTreeMap<TrialState, usize>,
    /// Whether some trial reported intermediate values.
    pub(crate) has_intermediate: bool,
    /// Whether some trial has started (a timeline exists).
    pub(crate) has_started: bool,
    /// The best trial as the API shows it (see [`best_json`]).
    pub(crate) best: serde_json::Value,
    /// When the latest trial started or finished (RFC 3339).
    pub(crate) last_activity: Option<String>,
}

impl Snapshot {
    fn build(record: StudyRecord, trials: Arc<Vec<Arc<FrozenTrial>>>, cursor: u64) -> Snapshot {
        let mut params: BTreeMap<&str, bool> = BTreeMap::new();
        let mut counts = BTreeMap::new();
        let mut has_intermediate = false;
        let mut has_started = false;
        for t in trials.iter() {
            *counts.entry(t.state).or_insert(0) += 1;
            has_intermediate |= !t.intermediate_values.is_empty();
            has_started |= t.datetime_start.is_some();
            for p in &t.params {
                params
                    .entry(&p.name)
                    .or_insert(matches!(&*p.distribution, Distribution::Categorical(_)));
            }
        }
        let params = params
            .into_iter()
            .map(|(name, categorical)| ParamInfo { name: name.to_owned(), categorical })
            .collect();
        let best = best_json(&record.directions, &trials);
        let last_activity = trials
            .iter()
            .filter_map(|t| t.datetime_complete.or(t.datetime_start))
            .max()
            .map(|d| d.to_rfc3339());
        Snapshot {
            record,
            trials,
            cursor,
            params,
            counts,
            has_intermediate,
            has_started,
            best,
            last_activity,
        }
    }

    /// Whether a parameter of this name exists.
    pub(crate) fn param(&self, name: &str) -> Option<&ParamInfo> {
        self.params.iter().find(|p| p.name == name)
    }
}

fn number_json(v: f64) -> serde_json::Value {
    serde_json::Number::from_f64(v)
        .map_or_else(|| serde_json::Value::String(v.to_string()), serde_json::Value::Number)
}

/// The best trial: for one objective its number, value and parameters; for several, the
/// numbers of the Pareto front; `null` when no trial is complete.
fn best_json(directions: &[Direction], trials: &[Arc<FrozenTrial>]) -> serde_json::Value {
    use serde_json::json;
    if directions.len() == 1 {
        match Summary::of(trials, directions).best {
            Some(b) => json!({
                "number": b.number,
                "value": number_json(b.value),
                "params": b.params.into_iter().collect::<BTreeMap<_, _>>(),
            }),
            None => serde_json::Value::Null,
        }
    } else {
        let front = tunewise_core::pareto_front(directions, trials.iter().map(|t| &**t));
        if front.is_empty() {
            serde_json::Value::Null
        } else {
            json!({ "pareto_front": front.iter().map(|t| t.number).collect::<Vec<_>>() })
        }
    }
}

/// One study's cache entry.
#[derive(Debug, Default)]
struct Entry {
    /// Held by the one request that refreshes; the others wait and take its result.
    gate: tokio::sync::Mutex<()>,
    state: RwLock<Option<(Arc<Snapshot>, Instant)>>,
    /// Rendered figures by their options, with the cursor they were drawn at.
    figures: Mutex<HashMap<String, (u64, Arc<Rendered>)>>,
}

/// The storage and the studies' caches.
#[derive(Debug)]
pub(crate) struct Hub {
    pub(crate) storage: Arc<dyn Storage>,
    interval: Duration,
    entries: Mutex<BTreeMap<String, Arc<Entry>>>,
}

/// Runs blocking storage work off the async threads.
pub(crate) async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| ApiError::internal(format!("a storage task failed: {e}")))?
}

impl Hub {
    pub(crate) fn new(storage: Arc<dyn Storage>, interval: Duration) -> Hub {
        Hub { storage, interval, entries: Mutex::new(BTreeMap::new()) }
    }

    fn entry(&self, name: &str) -> Arc<Entry> {
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        entries.entry(name.to_owned()).or_default().clone()
    }

    fn forget(&self, name: &str) {
        self.entries.lock().unwrap_or_else(PoisonError::into_inner).remove(name);
    }

    /// The studies of the storage (read on every call: one small query).
    pub(crate) async fn list(&self) -> Result<Vec<StudyRecord>, ApiError> {
        let storage = self.storage.clone();
        let mut studies =
            blocking(move || storage.list_studies().map_err(|e| ApiError::storage(&e))).await?;
        // Studies deleted since they were cached are dropped from the cache.
        let names: BTreeSet<&str> = studies.iter().map(|s| s.name.as_str()).collect();
        self.entries
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .retain(|name, _| names.contains(name.as_str()));
        studies.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(studies)
    }

    /// The study's snapshot, refreshed if the last refresh is older than the interval.
    pub(crate) async fn study(&self, name: &str) -> Result<Arc<Snapshot>, ApiError> {
        self.study_fresh(name, self.interval).await
    }

    /// The study's snapshot, refreshed if the last refresh is older than `max_age`.
    pub(crate) async fn study_fresh(
        &self,
        name: &str,
        max_age: Duration,
    ) -> Result<Arc<Snapshot>, ApiError> {
        let entry = self.entry(name);
        if let Some(snap) = fresh(&entry, max_age) {
            return Ok(snap);
        }
        let _gate = entry.gate.lock().await;
        // Another request may have refreshed it while this one waited.
        if let Some(snap) = fresh(&entry, max_age) {
            return Ok(snap);
        }
        let old = entry.state.read().unwrap_or_else(PoisonError::into_inner).clone();
        let storage = self.storage.clone();
        let owned = name.to_owned();
        let result = blocking(move || refresh(&*storage, &owned, old.map(|(s, _)| s))).await;
        match result {
            Ok(snap) => {
                *entry.state.write().unwrap_or_else(PoisonError::into_inner) =
                    Some((snap.clone(), Instant::now()));
                Ok(snap)
            }
            Err(e) => {
                if e.status == axum::http::StatusCode::NOT_FOUND {
                    self.forget(name);
                }
                Err(e)
            }
        }
    }

    /// A rendered figure cached for this study at `cursor`, if any.
    pub(crate) fn cached_figure(
        &self,
        name: &str,
        key: &str,
        cursor: u64,
    ) -> Option<Arc<Rendered>> {
        let entry = self.entry(name);
        let figures = entry.figures.lock().unwrap_or_else(PoisonError::into_inner);
        figures.get(key).filter(|(c, _)| *c == cursor).map(|(_, r)| r.clone())
    }

    /// Keeps a rendered figure for this study at `cursor` (replacing an older one).
    pub(crate) fn keep_figure(&self, name: &str, key: String, cursor: u64, figure: Arc<Rendered>) {
        let entry = self.entry(name);
        let mut figures = entry.figures.lock().unwrap_or_else(PoisonError::into_inner);
        figures.insert(key, (cursor, figure));
    }
}

fn fresh(entry: &Entry, max_age: Duration) -> Option<Arc<Snapshot>> {
    let state = entry.state.read().unwrap_or_else(PoisonError::into_inner);
    state.as_ref().filter(|(_, at)| at.elapsed() < max_age).map(|(s, _)| s.clone())
}

/// Reads what changed since `old` (everything when there is no `old`, or when the study was
/// deleted and created again under the same name).
fn refresh(
    storage: &dyn Storage,
    name: &str,
    old: Option<Arc<Snapshot>>,
) -> Result<Arc<Snapshot>, ApiError> {
    let not_found = || ApiError::not_found(format!("no study named '{name}' in the storage"));
    if let Some(old) = old {
        match storage.trials_since(old.record.id, old.cursor) {
            Ok(changes) => {
                if changes.cursor == old.cursor && changes.trials.is_empty() {
                    return Ok(old);
                }
                let trials = merge(&old.trials, changes);
                let record = old.record.clone();
                let cursor = trials.1;
                return Ok(Arc::new(Snapshot::build(record, Arc::new(trials.0), cursor)));
            }
            // Deleted, perhaps created again: look it up by name below.
            Err(tunewise_core::Error::StudyNotFound(_)) => {}
            Err(e) => return Err(ApiError::storage(&e)),
        }
    }
    let record =
        storage.find_study(name).map_err(|e| ApiError::storage(&e))?.ok_or_else(not_found)?;
    let changes = match storage.trials_since(record.id, 0) {
        Ok(c) => c,
        Err(tunewise_core::Error::StudyNotFound(_)) => return Err(not_found()),
        Err(e) => return Err(ApiError::storage(&e)),
    };
    let (trials, cursor) = merge(&[], changes);
    Ok(Arc::new(Snapshot::build(record, Arc::new(trials), cursor)))
}

/// The trials of `old` with the changed ones replaced or added, sorted by number.
fn merge(old: &[Arc<FrozenTrial>], changes: TrialChanges) -> (Vec<Arc<FrozenTrial>>, u64) {
    let mut trials = old.to_vec();
    let mut unsorted = false;
    for t in changes.trials {
        match trials.binary_search_by_key(&t.number, |x| x.number) {
            Ok(i) => trials[i] = t,
            Err(i) if i == trials.len() => trials.push(t),
            Err(_) => {
                trials.push(t);
                unsorted = true;
            }
        }
    }
    if unsorted {
        trials.sort_by_key(|t| t.number);
    }
    (trials, changes.cursor)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn trial(number: u64, state: TrialState) -> Arc<FrozenTrial> {
        Arc::new(FrozenTrial::new(number, number, state))
    }

    #[test]
    fn merging_replaces_changed_trials_and_keeps_number_order() {
        let old = vec![trial(0, TrialState::Complete), trial(1, TrialState::Running)];
        let changes = TrialChanges {
            trials: vec![trial(3, TrialState::Running), trial(1, TrialState::Complete)],
            cursor: 9,
        };
        let (merged, cursor) = merge(&old, changes);
        assert_eq!(cursor, 9);
        let got: Vec<(u64, TrialState)> = merged.iter().map(|t| (t.number, t.state)).collect();
        assert_eq!(
            got,
            [(0, TrialState::Complete), (1, TrialState::Complete), (3, TrialState::Running)]
        );
        let late = TrialChanges { trials: vec![trial(2, TrialState::Waiting)], cursor: 10 };
        let (merged, _) = merge(&merged, late);
        let numbers: Vec<u64> = merged.iter().map(|t| t.number).collect();
        assert_eq!(numbers, [0, 1, 2, 3]);
    }
}
