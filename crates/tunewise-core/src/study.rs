//! The study: the loop that runs trials, and everything known about them.

use std::collections::BTreeMap;
use std::fmt;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, RwLock, RwLockReadGuard};
use std::time::{Duration, Instant};

use crate::budget::{Budget, StopReason, Stopper, STOP_REASON_ATTR};
use crate::cache::TrialCache;
use crate::direction::{pareto_front, Direction};
use crate::distribution::Distribution;
use crate::error::{Error, Result};
use crate::frozen::{AttrValue, FrozenTrial, Param, TrialState};
use crate::param::{Categorical, ParamValue};
use crate::pruner::{NopPruner, Pruner};
use crate::rng::Rng;
use crate::sampler::{Sampler, StudyView};
use crate::samplers::AutoSampler;
use crate::search_space::SearchSpace;
use crate::storage::{InMemoryStorage, Lease, Storage, StudyRecord, TrialFinish};
use crate::sync::lock;
use crate::trial::{ObjectiveValues, Trial, TrialError};

/// Default lease of a running trial; a heartbeat renews it four times per lease.
pub const DEFAULT_LEASE: Duration = Duration::from_secs(60);

/// What a callback tells the study after a trial.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    /// Go on.
    Continue,
    /// Stop the study after the trials now running.
    Stop,
}

/// A function called after each trial of [`Study::optimize`].
pub type Callback = Box<dyn FnMut(&Study, &FrozenTrial) -> Flow + Send>;

/// What one call of [`Study::optimize`] did.
#[derive(Debug, Clone, PartialEq)]
pub struct OptimizeReport {
    /// Trials finished by this call.
    pub trials: usize,
    /// Trials this call ran but lost: its lease expired (the process was frozen or cut off from
    /// the storage) and another worker reclaimed them, so their results were refused.
    pub lost_trials: usize,
    /// Why it stopped.
    pub stop_reason: StopReason,
    /// Wall-clock time spent.
    pub elapsed: Duration,
}

/// A trial whose result is already known (from an earlier experiment), for [`Study::add_trial`].
#[derive(Debug, Clone, PartialEq)]
pub struct KnownTrial {
    state: TrialState,
    values: Option<Vec<f64>>,
    params: Vec<(String, Distribution, ParamValue)>,
    constraints: Vec<f64>,
    user_attrs: BTreeMap<String, AttrValue>,
    intermediate_values: BTreeMap<u64, Vec<f64>>,
}

impl KnownTrial {
    /// A complete trial with one value per objective.
    pub fn complete(values: impl ObjectiveValues) -> Self {
        KnownTrial {
            state: TrialState::Complete,
            values: Some(values.into_values()),
            params: Vec::new(),
            constraints: Vec::new(),
            user_attrs: BTreeMap::new(),
            intermediate_values: BTreeMap::new(),
        }
    }

    /// A pruned or failed trial (no values).
    pub fn unfinished(state: TrialState) -> Self {
        KnownTrial { state, values: None, ..KnownTrial::complete(Vec::new()) }
    }

    /// Adds a parameter with the distribution it was drawn from.
    pub fn param(
        mut self,
        name: &str,
        distribution: Distribution,
        value: impl Into<ParamValue>,
    ) -> Self {
        self.params.push((name.to_owned(), distribution, value.into()));
        self
    }

    /// Sets constraint values.
    pub fn constraints(mut self, constraints: Vec<f64>) -> Self {
        self.constraints = constraints;
        self
    }

    /// Adds a user attribute.
    pub fn user_attr(mut self, key: &str, value: impl Into<AttrValue>) -> Self {
        self.user_attrs.insert(key.to_owned(), value.into());
        self
    }

    /// Adds intermediate values at a step.
    pub fn intermediate(mut self, step: u64, values: impl ObjectiveValues) -> Self {
        self.intermediate_values.insert(step, values.into_values());
        self
    }
}

/// Builds a [`Study`]: every setting is checked before anything is stored.
pub struct StudyBuilder {
    name: Option<String>,
    directions: Vec<Direction>,
    sampler: Option<Box<dyn Sampler>>,
    pruner: Option<Arc<dyn Pruner>>,
    storage: Option<Arc<dyn Storage>>,
    seed: Option<u64>,
    worker_id: Option<String>,
    lease: Duration,
    stop_on_failure: bool,
    load_if_exists: bool,
}

impl fmt::Debug for StudyBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StudyBuilder")
            .field("name", &self.name)
            .field("directions", &self.directions)
            .field("seed", &self.seed)
            .finish_non_exhaustive()
    }
}

impl Default for StudyBuilder {
    fn default() -> Self {
        Self::new()
    }
}

impl StudyBuilder {
    /// A builder with the defaults: a random name, one objective to minimize, the
    /// [`AutoSampler`](crate::AutoSampler), no pruning, in-memory storage.
    pub fn new() -> Self {
        StudyBuilder {
            name: None,
            directions: Vec::new(),
            sampler: None,
            pruner: None,
            storage: None,
            seed: None,
            worker_id: None,
            lease: DEFAULT_LEASE,
            stop_on_failure: false,
            load_if_exists: false,
        }
    }

    /// The study's unique name in its storage.
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// Adds an objective with its direction (call once per objective).
    pub fn direction(mut self, direction: Direction) -> Self {
        self.directions.push(direction);
        self
    }

    /// Sets every objective's direction at once.
    pub fn directions(mut self, directions: impl IntoIterator<Item = Direction>) -> Self {
        self.directions = directions.into_iter().collect();
        self
    }

    /// One objective, minimized.
    pub fn minimize(self) -> Self {
        self.directions([Direction::Minimize])
    }

    /// One objective, maximized.
    pub fn maximize(self) -> Self {
        self.directions([Direction::Maximize])
    }

    /// The sampler (default: the [`AutoSampler`](crate::AutoSampler), which picks Gaussian-process
    /// optimization, TPE or NSGA-II from the study; give a
    /// [`RandomSampler`](crate::RandomSampler) for plain random search).
    pub fn sampler(mut self, sampler: impl Sampler + 'static) -> Self {
        self.sampler = Some(Box::new(sampler));
        self
    }

    /// The pruner (default: none).
    pub fn pruner(mut self, pruner: impl Pruner + 'static) -> Self {
        self.pruner = Some(Arc::new(pruner));
        self
    }

    /// The storage (default: a new in-memory storage).
    pub fn storage(mut self, storage: Arc<dyn Storage>) -> Self {
        self.storage = Some(storage);
        self
    }

    /// Seeds the sampler, so that the same seed gives the same trials.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = Some(seed);
        self
    }

    /// This worker's id. A worker that restarts with the same id at once recovers the trials it
    /// left running. Default: unique per process.
    pub fn worker_id(mut self, id: impl Into<String>) -> Self {
        self.worker_id = Some(id.into());
        self
    }

    /// How long a running trial's lease lasts without a heartbeat (default 60 s).
    pub fn lease_duration(mut self, lease: Duration) -> Self {
        self.lease = lease;
        self
    }

    /// Stop the study at the first failed trial instead of recording it and going on.
    pub fn stop_on_failure(mut self, stop: bool) -> Self {
        self.stop_on_failure = stop;
        self
    }

    /// With [`create`](Self::create): load the study if one of that name exists.
    pub fn load_if_exists(mut self, load: bool) -> Self {
        self.load_if_exists = load;
        self
    }

    fn check(&self) -> Result<()> {
        if let Some(name) = &self.name {
            if name.trim().is_empty() {
                return Err(Error::InvalidConfig(
                    "the study name is empty; give a name or none".into(),
                ));
            }
        }
        if self.lease < Duration::from_millis(100) {
            return Err(Error::InvalidConfig(format!(
                "lease_duration {:?} is too short; use at least 100 ms",
                self.lease
            )));
        }
        if let Some(w) = &self.worker_id {
            if w.trim().is_empty() {
                return Err(Error::InvalidConfig("the worker id is empty".into()));
            }
        }
        Ok(())
    }

    /// Creates the study (or loads it, with [`load_if_exists`](Self::load_if_exists)).
    pub fn create(self) -> Result<Study> {
        self.check()?;
        let storage = self.storage.clone().unwrap_or_else(|| Arc::new(InMemoryStorage::new()));
        let name = self.name.clone().unwrap_or_else(|| format!("study-{:016x}", Rng::os_seed()));
        let record = match storage.find_study(&name)? {
            Some(_) if !self.load_if_exists => return Err(Error::StudyExists(name)),
            Some(record) => record,
            None => {
                let directions = if self.directions.is_empty() {
                    vec![Direction::Minimize]
                } else {
                    self.directions.clone()
                };
                match storage.create_study(&name, &directions) {
                    // Another worker created it since `find_study`: load theirs.
                    Err(Error::StudyExists(_)) if self.load_if_exists => storage
                        .find_study(&name)?
                        .ok_or_else(|| Error::StudyNotFound(name.clone()))?,
                    other => other?,
                }
            }
        };
        self.finish(storage, record)
    }

    /// Loads an existing study to resume it.
    pub fn load(self) -> Result<Study> {
        self.check()?;
        let storage = self.storage.clone().unwrap_or_else(|| Arc::new(InMemoryStorage::new()));
        let Some(name) = self.name.clone() else {
            return Err(Error::InvalidConfig("loading a study needs its name".into()));
        };
        let record = storage.find_study(&name)?.ok_or(Error::StudyNotFound(name))?;
        self.finish(storage, record)
    }

    fn finish(self, storage: Arc<dyn Storage>, record: StudyRecord) -> Result<Study> {
        if !self.directions.is_empty() && self.directions != record.directions {
            return Err(Error::InvalidConfig(format!(
                "study '{}' was created with directions {:?}, not {:?}",
                record.name, record.directions, self.directions
            )));
        }
        let mut sampler = self.sampler.unwrap_or_else(|| {
            Box::new(AutoSampler::with_seed(self.seed.unwrap_or_else(Rng::os_seed)))
        });
        if let Some(seed) = self.seed {
            sampler.reseed(seed);
        }
        let explicit_worker = self.worker_id.is_some();
        let worker_id: Arc<str> = match self.worker_id {
            Some(w) => Arc::from(w),
            None => Arc::from(format!("{}-{:08x}", std::process::id(), Rng::os_seed() as u32)),
        };
        if explicit_worker {
            storage.release_worker(record.id, &worker_id)?;
        }
        let inner = StudyInner {
            record,
            storage,
            sampler: Arc::from(sampler),
            pruner: self.pruner.unwrap_or_else(|| Arc::new(NopPruner)),
            cache: RwLock::new(TrialCache::default()),
            interned: Mutex::new(BTreeMap::new()),
            worker_id,
            lease_duration: self.lease,
            stop_on_failure: self.stop_on_failure,
            callbacks: Mutex::new(Vec::new()),
            start_lock: Mutex::new(()),
        };
        let study = Study { inner: Arc::new(inner) };
        study.inner.sync()?;
        Ok(study)
    }
}

/// What every handle on a study shares.
pub(crate) struct StudyInner {
    pub(crate) record: StudyRecord,
    pub(crate) storage: Arc<dyn Storage>,
    pub(crate) sampler: Arc<dyn Sampler>,
    pub(crate) pruner: Arc<dyn Pruner>,
    cache: RwLock<TrialCache>,
    /// Names and distributions shared by all trials, so a trial record stays small.
    interned: Mutex<BTreeMap<Arc<str>, Vec<Arc<Distribution>>>>,
    worker_id: Arc<str>,
    pub(crate) lease_duration: Duration,
    stop_on_failure: bool,
    callbacks: Mutex<Vec<Callback>>,
    /// Serializes the start of trials in this process, so that a sampler's `is_exhausted` and
    /// `before_trial` see a consistent picture (a grid never hands out one point twice).
    start_lock: Mutex<()>,
}

impl StudyInner {
    pub(crate) fn read_cache(&self) -> RwLockReadGuard<'_, TrialCache> {
        self.cache.read().unwrap_or_else(|e| e.into_inner())
    }

    /// Brings the cache up to date with one incremental read.
    pub(crate) fn sync(&self) -> Result<()> {
        let cursor = self.read_cache().cursor();
        let changes = self.storage.trials_since(self.record.id, cursor)?;
        if changes.cursor <= cursor {
            return Ok(());
        }
        let mut cache = self.cache.write().unwrap_or_else(|e| e.into_inner());
        cache.apply(changes, &self.record.directions, &*self.storage, self.record.id)
    }

    pub(crate) fn intern(
        &self,
        name: &str,
        distribution: Distribution,
    ) -> (Arc<str>, Arc<Distribution>) {
        let mut interned = lock(&self.interned);
        let key = match interned.get_key_value(name) {
            Some((key, dists)) => {
                if let Some(d) = dists.iter().find(|d| ***d == distribution) {
                    return (key.clone(), d.clone());
                }
                key.clone()
            }
            None => Arc::from(name),
        };
        let d = Arc::new(distribution);
        interned.entry(key.clone()).or_default().push(d.clone());
        (key, d)
    }

    /// The interned categorical distribution of `name` whose choices are exactly `choices`.
    pub(crate) fn interned_categorical<T: Categorical>(
        &self,
        name: &str,
        choices: &[T],
    ) -> Option<(Arc<str>, Arc<Distribution>)> {
        let interned = lock(&self.interned);
        let (key, dists) = interned.get_key_value(name)?;
        let found = dists.iter().find(|d| match &***d {
            Distribution::Categorical(c) => {
                c.choices.len() == choices.len()
                    && c.choices.iter().zip(choices).all(|(p, t)| t.is_choice(p))
            }
            _ => false,
        })?;
        Some((key.clone(), found.clone()))
    }

    pub(crate) fn after_trial(&self, trial: &FrozenTrial) -> Result<()> {
        let cache = self.read_cache();
        let view = StudyView::new(&self.record.directions, cache.trials());
        self.sampler.after_trial(&view, trial)
    }

    /// Claims or creates a trial and prepares its relative sample. `None` when the sampler is
    /// exhausted; `Some(None)` when the study already holds `cap` trials (see
    /// [`Budget::study_trials`]).
    fn start(
        self: &Arc<Self>,
        lease: Option<Duration>,
        cap: Option<u64>,
    ) -> Result<Option<Option<Trial>>> {
        let guard = lock(&self.start_lock);
        self.sync()?;
        if self
            .sampler
            .is_exhausted(&StudyView::new(&self.record.directions, self.read_cache().trials()))
        {
            return Ok(None);
        }
        let record = match cap {
            None => self.storage.start_trial(self.record.id, &self.worker_id, lease)?,
            Some(max) => {
                match self.storage.start_trial_capped(
                    self.record.id,
                    &self.worker_id,
                    lease,
                    max,
                )? {
                    Some(record) => record,
                    None => return Ok(Some(None)),
                }
            }
        };
        let mut trial = Trial {
            study: self.clone(),
            lease: Lease::of(self.record.id, &record),
            record: (*record).clone(),
            relative_space: SearchSpace::new(),
            relative: BTreeMap::new(),
            flushed: record.params.len(),
            finished: false,
        };
        // On any error from here on, dropping `trial` records it as failed: nothing is orphaned.
        {
            let cache = self.read_cache();
            let view = StudyView::new(&self.record.directions, cache.trials());
            self.sampler.before_trial(&view, &trial.record)?;
        }
        drop(guard);
        let cache = self.read_cache();
        let view = StudyView::new(&self.record.directions, cache.trials());
        let space = self.sampler.infer_relative_search_space(&view, &trial.record)?;
        if !space.is_empty() {
            trial.relative = self.sampler.sample_relative(&view, &trial.record, &space)?;
            trial.relative_space = space;
        }
        drop(cache);
        Ok(Some(Some(trial)))
    }
}

/// A study: a named optimization with its trials, in a storage.
///
/// Cheap to clone (a shared handle); `Send + Sync`.
#[derive(Clone)]
pub struct Study {
    inner: Arc<StudyInner>,
}

impl fmt::Debug for Study {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Study")
            .field("name", &self.inner.record.name)
            .field("directions", &self.inner.record.directions)
            .field("sampler", &self.inner.sampler)
            .finish_non_exhaustive()
    }
}

/// Leases of the trials this process is running, renewed by one heartbeat thread.
#[derive(Default)]
struct Heartbeat {
    leases: Mutex<BTreeMap<u64, Lease>>,
    done: Mutex<bool>,
    wake: Condvar,
}

impl Heartbeat {
    fn run(&self, storage: &dyn Storage, lease: Duration) {
        let period = lease / 4;
        let mut done = lock(&self.done);
        while !*done {
            done = self
                .wake
                .wait_timeout(done, period)
                .map(|(g, _)| g)
                .unwrap_or_else(|e| e.into_inner().0);
            if *done {
                break;
            }
            let leases: Vec<Lease> = lock(&self.leases).values().cloned().collect();
            for l in leases {
                // A lost lease is the fencing at work: the trial's own writes will report it.
                let _ = storage.renew_lease(&l, lease);
            }
        }
    }

    fn stop(&self) {
        *lock(&self.done) = true;
        self.wake.notify_all();
    }
}

impl Study {
    /// A builder.
    pub fn builder() -> StudyBuilder {
        StudyBuilder::new()
    }

    /// The study's name.
    pub fn name(&self) -> &str {
        &self.inner.record.name
    }

    /// One direction per objective.
    pub fn directions(&self) -> &[Direction] {
        &self.inner.record.directions
    }

    /// The study as stored.
    pub fn record(&self) -> &StudyRecord {
        &self.inner.record
    }

    /// The storage.
    pub fn storage(&self) -> &Arc<dyn Storage> {
        &self.inner.storage
    }

    /// This worker's id.
    pub fn worker_id(&self) -> &str {
        &self.inner.worker_id
    }

    /// Adds a callback, called after each trial of [`optimize`](Self::optimize) (one at a time);
    /// it may stop the study. It must not add callbacks itself.
    pub fn add_callback(
        &self,
        callback: impl FnMut(&Study, &FrozenTrial) -> Flow + Send + 'static,
    ) {
        lock(&self.inner.callbacks).push(Box::new(callback));
    }

    /// Runs `objective` once per trial until the budget is spent, on one thread.
    ///
    /// A failing trial is recorded as failed with its message and the study goes on, unless the
    /// builder said [`stop_on_failure`](StudyBuilder::stop_on_failure). A NaN result, a wrong
    /// number of values and a panic in the objective count as failures.
    pub fn optimize<F, V>(&self, objective: F, budget: Budget) -> Result<OptimizeReport>
    where
        F: Fn(&mut Trial) -> std::result::Result<V, TrialError> + Sync,
        V: ObjectiveValues,
    {
        self.optimize_parallel(objective, budget, 1)
    }

    /// Like [`optimize`](Self::optimize), with `threads` trials at a time.
    pub fn optimize_parallel<F, V>(
        &self,
        objective: F,
        budget: Budget,
        threads: usize,
    ) -> Result<OptimizeReport>
    where
        F: Fn(&mut Trial) -> std::result::Result<V, TrialError> + Sync,
        V: ObjectiveValues,
    {
        if threads == 0 {
            return Err(Error::InvalidConfig("threads must be at least 1".into()));
        }
        budget.validate(self.directions().len())?;
        let started = Instant::now();
        let deadline = budget.time.map(|t| started + t);
        let stopper = Stopper::new(&budget, self.directions(), &self.trials()?);
        let run = Run {
            study: self,
            objective: &objective,
            budget,
            stopper,
            deadline,
            started_count: AtomicUsize::new(0),
            finished_count: AtomicUsize::new(0),
            lost_count: AtomicUsize::new(0),
            stop: AtomicBool::new(false),
            reason: Mutex::new(None),
            error: Mutex::new(None),
            heartbeat: Heartbeat::default(),
        };
        std::thread::scope(|scope| {
            let hb =
                scope.spawn(|| run.heartbeat.run(&*self.inner.storage, self.inner.lease_duration));
            let workers: Vec<_> = (0..threads).map(|_| scope.spawn(|| run.worker())).collect();
            for w in workers {
                if w.join().is_err() {
                    run.fail(Error::Storage("a worker thread panicked".into()));
                }
            }
            run.heartbeat.stop();
            let _ = hb.join();
        });
        if let Some(e) = lock(&run.error).take() {
            return Err(e);
        }
        self.inner.sync()?;
        let stop_reason = lock(&run.reason).take().unwrap_or(StopReason::TrialBudget);
        self.set_user_attr(STOP_REASON_ATTR, stop_reason.to_attr())?;
        Ok(OptimizeReport {
            trials: run.finished_count.load(Ordering::SeqCst),
            lost_trials: run.lost_count.load(Ordering::SeqCst),
            stop_reason,
            elapsed: started.elapsed(),
        })
    }

    /// Starts a trial for an outer loop to evaluate; give its result to [`tell`](Self::tell).
    /// The trial's lease never expires (nothing renews it), so it waits as long as the loop needs.
    pub fn ask(&self) -> Result<Trial> {
        self.inner.start(None, None)?.flatten().ok_or_else(|| {
            Error::SearchSpaceExhausted("the sampler has no new point to propose".into())
        })
    }

    /// Finishes a trial from [`ask`](Self::ask) with the objective's result.
    pub fn tell<V: ObjectiveValues>(
        &self,
        mut trial: Trial,
        result: std::result::Result<V, TrialError>,
    ) -> Result<Arc<FrozenTrial>> {
        let same_storage =
            std::ptr::addr_eq(Arc::as_ptr(&trial.study.storage), Arc::as_ptr(&self.inner.storage));
        if !(same_storage && trial.study.record.id == self.inner.record.id) {
            return Err(Error::InvalidConfig(format!(
                "trial {} belongs to study '{}', not '{}'",
                trial.number(),
                trial.study.record.name,
                self.name()
            )));
        }
        let stored = trial.finish(result.map(ObjectiveValues::into_values))?;
        self.inner.sync()?;
        Ok(stored)
    }

    /// Finishes a running trial by its number, for an outer loop whose [`ask`](Self::ask) ran in
    /// another process (which [`detach`](Trial::detach)ed the trial, leaving it running).
    ///
    /// Unlike [`tell`](Self::tell), a result that cannot be stored is refused and the trial stays
    /// running, so that the caller can tell it again: a wrong number of values is
    /// [`Error::WrongNumberOfValues`], a NaN value [`Error::InvalidConfig`]. A finished trial is
    /// [`Error::TrialFinished`], a waiting one (enqueued, never started)
    /// [`Error::InvalidConfig`], an unknown number [`Error::TrialNotFound`]. The write names the
    /// trial's current attempt, so a trial reclaimed by another worker in the meantime is refused
    /// by the storage's fencing.
    pub fn tell_number<V: ObjectiveValues>(
        &self,
        number: u64,
        result: std::result::Result<V, TrialError>,
    ) -> Result<Arc<FrozenTrial>> {
        let record = self.inner.storage.trial(self.inner.record.id, number)?;
        match record.state {
            TrialState::Running => {}
            TrialState::Waiting => {
                return Err(Error::InvalidConfig(format!(
                    "trial {number} is waiting (enqueued, not started yet); ask for it before telling its result"
                )))
            }
            _ => return Err(Error::TrialFinished(number)),
        }
        let expected = self.directions().len();
        let (state, values, fail_reason) = match result.map(ObjectiveValues::into_values) {
            Ok(v) if v.len() != expected => {
                return Err(Error::WrongNumberOfValues { expected, got: v.len() })
            }
            Ok(v) if v.iter().any(|x| x.is_nan()) => {
                return Err(Error::InvalidConfig(format!(
                    "trial {number}: a value is NaN; tell a number, or tell the trial failed"
                )))
            }
            Ok(v) => (TrialState::Complete, Some(v), None),
            Err(TrialError::Pruned) => (TrialState::Pruned, None, None),
            Err(TrialError::Failed(message)) => (TrialState::Failed, None, Some(message)),
        };
        let finish = TrialFinish {
            state,
            values,
            constraints: record.constraints.clone(),
            fail_reason,
            params: Vec::new(),
        };
        let stored =
            self.inner.storage.finish_trial(&Lease::of(self.inner.record.id, &record), &finish)?;
        self.inner.sync()?;
        self.inner.after_trial(&stored)?;
        Ok(stored)
    }

    /// Enqueues a trial whose parameters are fixed: it runs before any sampled trial. Parameters
    /// it does not fix are sampled as usual. Returns its number.
    pub fn enqueue_trial<K, V>(&self, params: impl IntoIterator<Item = (K, V)>) -> Result<u64>
    where
        K: AsRef<str>,
        V: Into<ParamValue>,
    {
        let mut record = FrozenTrial::new(0, 0, TrialState::Waiting);
        for (k, v) in params {
            let (name, value) = (k.as_ref(), v.into());
            if name.is_empty() {
                return Err(Error::InvalidConfig("an enqueued parameter has an empty name".into()));
            }
            if matches!(value, ParamValue::Float(f) if !f.is_finite()) {
                return Err(Error::ValueOutOfDistribution {
                    name: name.to_owned(),
                    value: value.to_string(),
                    distribution: "any distribution (values must be finite)".into(),
                });
            }
            if record.fixed_params.iter().any(|(n, _)| &**n == name) {
                return Err(Error::InvalidConfig(format!("parameter '{name}' is enqueued twice")));
            }
            record.fixed_params.push((Arc::from(name), value));
        }
        let stored = self.inner.storage.insert_trial(self.inner.record.id, &record)?;
        Ok(stored.number)
    }

    /// Adds a trial whose result is already known. Every distribution and value is checked.
    pub fn add_trial(&self, known: KnownTrial) -> Result<Arc<FrozenTrial>> {
        let n = self.directions().len();
        let mut record = FrozenTrial::new(0, 0, known.state);
        match (known.state, &known.values) {
            (TrialState::Complete, Some(v)) => {
                if v.len() != n {
                    return Err(Error::WrongNumberOfValues { expected: n, got: v.len() });
                }
                if v.iter().any(|x| x.is_nan()) {
                    return Err(Error::InvalidConfig(
                        "a complete trial's values cannot be NaN".into(),
                    ));
                }
            }
            (TrialState::Pruned | TrialState::Failed, _) => {}
            (TrialState::Complete, None) => {
                return Err(Error::InvalidConfig(
                    "a complete trial needs its values; use KnownTrial::complete(values)".into(),
                ))
            }
            (state, _) => {
                return Err(Error::InvalidConfig(format!(
                    "add_trial takes complete, pruned or failed trials, not {state}"
                )))
            }
        }
        for (name, distribution, value) in known.params {
            distribution.validate(&name)?;
            if record.param(&name).is_some() {
                return Err(Error::InvalidConfig(format!("parameter '{name}' is given twice")));
            }
            let internal = distribution.internal_of(&name, &value)?;
            let (name, distribution) = self.inner.intern(&name, distribution);
            record.params.push(Param { name, distribution, internal });
        }
        for (step, v) in &known.intermediate_values {
            if v.len() != n {
                return Err(Error::InvalidConfig(format!(
                    "intermediate values at step {step}: expected {n}, got {}",
                    v.len()
                )));
            }
        }
        if known.constraints.iter().any(|c| c.is_nan()) {
            return Err(Error::InvalidConfig("constraint values cannot be NaN".into()));
        }
        record.values = known.values;
        record.constraints = known.constraints;
        record.user_attrs = known.user_attrs;
        record.intermediate_values = known.intermediate_values;
        let stored = self.inner.storage.insert_trial(self.inner.record.id, &record)?;
        self.inner.sync()?;
        Ok(stored)
    }

    /// Sets a user attribute of the study.
    pub fn set_user_attr(&self, key: &str, value: impl Into<AttrValue>) -> Result<()> {
        self.inner.storage.set_study_user_attr(self.inner.record.id, key, value.into())
    }

    /// Every trial, in number order (read incrementally from storage first).
    pub fn trials(&self) -> Result<Vec<Arc<FrozenTrial>>> {
        self.inner.sync()?;
        Ok(self.inner.read_cache().trials().to_vec())
    }

    /// One trial by number.
    pub fn trial(&self, number: u64) -> Result<Arc<FrozenTrial>> {
        self.inner.sync()?;
        self.inner
            .read_cache()
            .trials()
            .get(number as usize)
            .cloned()
            .ok_or_else(|| Error::TrialNotFound(number.to_string()))
    }

    /// The best feasible complete trial of a single-objective study (the earliest on ties).
    pub fn best_trial(&self) -> Result<Arc<FrozenTrial>> {
        let n = self.directions().len();
        if n != 1 {
            return Err(Error::MultiObjective(n));
        }
        self.inner.sync()?;
        let cache = self.inner.read_cache();
        if let Some(best) = cache.best() {
            return Ok(best.clone());
        }
        if cache.trials().iter().any(|t| t.state == TrialState::Complete) {
            Err(Error::NoFeasibleTrial)
        } else {
            Err(Error::NoCompletedTrials)
        }
    }

    /// The best value of a single-objective study.
    pub fn best_value(&self) -> Result<f64> {
        self.best_trial()?.value().ok_or(Error::NoCompletedTrials)
    }

    /// The parameters of the best trial of a single-objective study.
    pub fn best_params(&self) -> Result<BTreeMap<String, ParamValue>> {
        Ok(self.best_trial()?.params_map())
    }

    /// The Pareto-optimal feasible complete trials (for one objective: the best trials).
    pub fn best_trials(&self) -> Result<Vec<Arc<FrozenTrial>>> {
        self.inner.sync()?;
        let cache = self.inner.read_cache();
        let front = pareto_front(self.directions(), cache.trials().iter().map(|t| &**t));
        let numbers: Vec<u64> = front.iter().map(|t| t.number).collect();
        Ok(numbers.into_iter().filter_map(|n| cache.trials().get(n as usize).cloned()).collect())
    }

    /// Writes the trials table as CSV (one row per trial, one column per parameter).
    pub fn export_csv(&self, out: impl std::io::Write) -> Result<()> {
        crate::export::write_csv(self.directions(), &self.trials()?, out)
    }

    /// Writes the trials as a JSON array.
    pub fn export_json(&self, out: impl std::io::Write) -> Result<()> {
        crate::export::write_json(self.directions(), &self.trials()?, out)
    }
}

/// How one trial of an `optimize` call ended.
enum Outcome {
    /// Stored as finished.
    Done(Arc<FrozenTrial>),
    /// Reclaimed by another worker after this one's lease expired; the result was refused.
    Lost,
    /// The sampler had nothing left to propose; no trial was started.
    Exhausted,
    /// The study holds its [`Budget::study_trials`]; no trial was started.
    Full,
}

/// The shared state of one `optimize` call.
struct Run<'a, F> {
    study: &'a Study,
    objective: &'a F,
    budget: Budget,
    stopper: Stopper,
    deadline: Option<Instant>,
    started_count: AtomicUsize,
    finished_count: AtomicUsize,
    lost_count: AtomicUsize,
    stop: AtomicBool,
    reason: Mutex<Option<StopReason>>,
    error: Mutex<Option<Error>>,
    heartbeat: Heartbeat,
}

impl<F, V> Run<'_, F>
where
    F: Fn(&mut Trial) -> std::result::Result<V, TrialError> + Sync,
    V: ObjectiveValues,
{
    fn halt(&self, reason: StopReason) {
        lock(&self.reason).get_or_insert(reason);
        self.stop.store(true, Ordering::SeqCst);
    }

    fn fail(&self, e: Error) {
        lock(&self.error).get_or_insert(e);
        self.stop.store(true, Ordering::SeqCst);
    }

    fn worker(&self) {
        loop {
            if self.stop.load(Ordering::SeqCst) {
                return;
            }
            if self.deadline.is_some_and(|d| Instant::now() >= d) {
                return self.halt(StopReason::TimeLimit);
            }
            if let Some(n) = self.budget.trials {
                if self.started_count.fetch_add(1, Ordering::SeqCst) >= n {
                    return self.halt(StopReason::TrialBudget);
                }
            }
            match self.one_trial() {
                Ok(Outcome::Full) => {
                    if self.budget.trials.is_some() {
                        self.started_count.fetch_sub(1, Ordering::SeqCst);
                    }
                    match self.study_budget_done() {
                        Ok(true) => {
                            let trials = self.budget.study_trials.unwrap_or_default();
                            return self.halt(StopReason::StudyTrialBudget { trials });
                        }
                        // Trials of the budget still run (here or elsewhere): wait, to take
                        // over any whose worker dies.
                        Ok(false) => std::thread::sleep(self.poll_period()),
                        Err(e) => return self.fail(e),
                    }
                }
                Ok(Outcome::Lost) => {
                    self.lost_count.fetch_add(1, Ordering::SeqCst);
                }
                Ok(Outcome::Done(trial)) => {
                    self.finished_count.fetch_add(1, Ordering::SeqCst);
                    if trial.state == TrialState::Failed && self.study.inner.stop_on_failure {
                        return self.fail(Error::ObjectiveFailed {
                            number: trial.number,
                            message: trial.fail_reason.clone().unwrap_or_default(),
                        });
                    }
                    {
                        let mut callbacks = lock(&self.study.inner.callbacks);
                        for cb in callbacks.iter_mut() {
                            if cb(self.study, &trial) == Flow::Stop {
                                self.halt(StopReason::Callback);
                            }
                        }
                    }
                    match self.stopper.after_trial(&trial, || self.study.trials()) {
                        Ok(Some(reason)) => self.halt(reason),
                        Ok(None) => {}
                        Err(e) => return self.fail(e),
                    }
                }
                Ok(Outcome::Exhausted) => return self.halt(StopReason::SearchSpaceExhausted),
                Err(e) => return self.fail(e),
            }
        }
    }

    /// Whether every trial of the study-wide budget has finished.
    fn study_budget_done(&self) -> Result<bool> {
        let cap = self.budget.study_trials.unwrap_or_default();
        let trials = self.study.trials()?;
        Ok(trials.len() as u64 >= cap
            && trials.iter().take(cap as usize).all(|t| t.state.is_finished()))
    }

    /// How long a worker waits before looking again for a trial of a full study.
    fn poll_period(&self) -> Duration {
        (self.study.inner.lease_duration / 4).min(Duration::from_secs(1))
    }

    fn one_trial(&self) -> Result<Outcome> {
        let inner = &self.study.inner;
        let Some(started) = inner.start(Some(inner.lease_duration), self.budget.study_trials)?
        else {
            return Ok(Outcome::Exhausted);
        };
        let Some(mut trial) = started else {
            return Ok(Outcome::Full);
        };
        let lease = trial.lease.clone();
        lock(&self.heartbeat.leases).insert(lease.trial_id, lease.clone());
        let result = match catch_unwind(AssertUnwindSafe(|| (self.objective)(&mut trial))) {
            Ok(r) => r.map(ObjectiveValues::into_values),
            Err(panic) => {
                let msg = panic
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| panic.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "unknown panic".into());
                Err(TrialError::Failed(format!("the objective panicked: {msg}")))
            }
        };
        let stored = trial.finish(result);
        lock(&self.heartbeat.leases).remove(&lease.trial_id);
        match stored {
            Ok(t) => Ok(Outcome::Done(t)),
            // Fencing at work: this worker lost its lease (it was frozen or cut off longer than
            // the lease) and another worker reclaimed the trial. Its result is refused; the
            // study goes on.
            Err(Error::StaleAttempt { .. }) => Ok(Outcome::Lost),
            Err(e) => Err(e),
        }
    }
}
