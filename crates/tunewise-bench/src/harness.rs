//! The benchmark harness: samplers × functions × seeds at a trial budget, one [`RunRecord`] per
//! run, written as JSON lines.
//!
//! - **Samplers** come from [`registry`]: a name and a constructor from a seed. Adding a sampler
//!   to every benchmark is one line there.
//! - **Functions** come from [`problems`]: the single-objective suite of [`functions`] and the
//!   multi-objective one of [`multi_objective`].
//! - **Seeds** label the runs; each sampler gets [`sampler_seed`] of its run's seed.
//! - **Runs** are spread over threads by (function, seed) pair; each pair runs every sampler, one
//!   study at a time, in memory. The records come back in a fixed order (function, sampler,
//!   seed) whatever the number of threads, and their regrets do not depend on it.
//!
//! What a run records:
//!
//! - `best_curve`: after each trial, the best value so far (single objective, in the function's
//!   own units; `null` before the first complete trial) or the hypervolume dominated so far
//!   (several objectives, see [`MultiObjectiveFunction`]). Monotone.
//! - `final_regret`: best value minus the optimum, or the true front's hypervolume minus the
//!   hypervolume found.
//! - `sampler_ms_per_trial`: the time spent inside the sampler's own methods (sampling, search
//!   space inference, the before/after hooks), measured by wrapping the sampler
//!   ([`TimedSampler`]), divided by the trials. The engine's bookkeeping and the objective are
//!   left out. The Optuna script measures the same way with a forwarding sampler.
//! - `trial_ms`: the wall-clock time of the whole loop per trial: engine, sampler and objective
//!   (the test functions cost well under a microsecond in Rust).

use std::collections::BTreeMap;
use std::fmt;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use serde::{Deserialize, Serialize};
use tunewise_core::{
    AutoSampler, Budget, CmaEsSampler, CoarseToFineSampler, Crossover, Direction, Distribution,
    FrozenTrial, GpSampler, Mutation, NsgaIISampler, ParamValue, QmcSampler, RandomSampler,
    Sampler, SearchSpace, Study, StudyView, TpeSampler, Trial, TrialError, TrialState,
};

use crate::functions::{self, TestFunction};
use crate::multi_objective::{self, MultiObjectiveFunction};

/// The framework name tunewise's records carry.
pub const FRAMEWORK: &str = "tunewise";

/// A sampler the harness can run: its name in the records and how to build it from a seed.
#[derive(Clone, Copy)]
pub struct SamplerEntry {
    /// The name in the records and on the command line (`"tpe"`, `"qmc-sobol"`).
    pub name: &'static str,
    /// Builds the sampler with a seed.
    pub make: fn(u64) -> tunewise_core::Result<Box<dyn Sampler>>,
    /// Whether it handles several objectives; the harness runs it on single-objective
    /// functions only when it does not (CMA-ES refuses several objectives).
    pub multi_objective: bool,
}

impl fmt::Debug for SamplerEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name)
    }
}

/// Every sampler of the benchmarks, in the order of the report's columns. One line per sampler;
/// a configuration of a sampler is one more line with its own name.
pub fn registry() -> Vec<SamplerEntry> {
    fn entry(
        name: &'static str,
        make: fn(u64) -> tunewise_core::Result<Box<dyn Sampler>>,
    ) -> SamplerEntry {
        SamplerEntry { name, make, multi_objective: true }
    }
    fn single(
        name: &'static str,
        make: fn(u64) -> tunewise_core::Result<Box<dyn Sampler>>,
    ) -> SamplerEntry {
        SamplerEntry { name, make, multi_objective: false }
    }
    vec![
        entry("random", |seed| Ok(Box::new(RandomSampler::with_seed(seed)))),
        // The default sampler (compared with Optuna's default, its TPE).
        entry("auto", |seed| Ok(Box::new(AutoSampler::with_seed(seed)))),
        entry("coarse-to-fine", |seed| Ok(Box::new(CoarseToFineSampler::with_seed(seed)))),
        // tunewise's default TPE: multivariate for one objective, univariate for several.
        entry("tpe", |seed| Ok(Box::new(TpeSampler::with_seed(seed)))),
        entry("tpe-univariate", |seed| {
            Ok(Box::new(TpeSampler::builder().multivariate(false).seed(seed).build()?))
        }),
        entry("tpe-multivariate", |seed| {
            Ok(Box::new(TpeSampler::builder().multivariate(true).seed(seed).build()?))
        }),
        entry("gp", |seed| Ok(Box::new(GpSampler::with_seed(seed)))),
        single("cmaes", |seed| Ok(Box::new(CmaEsSampler::with_seed(seed)))),
        single("cmaes-sep", |seed| {
            Ok(Box::new(CmaEsSampler::builder().separable(true).seed(seed).build()?))
        }),
        entry("qmc-sobol", |seed| Ok(Box::new(QmcSampler::sobol().seed(seed)))),
        entry("qmc-halton", |seed| Ok(Box::new(QmcSampler::halton().seed(seed)))),
        entry("nsga2", |seed| Ok(Box::new(NsgaIISampler::with_seed(seed)))),
        // Deb et al.'s real-coded operators.
        entry("nsga2-sbx", |seed| {
            Ok(Box::new(
                NsgaIISampler::builder()
                    .crossover(Crossover::sbx())
                    .mutation(Mutation::polynomial())
                    .seed(seed)
                    .build()?,
            ))
        }),
    ]
}

/// A benchmark problem: a function of one objective or of several.
#[derive(Debug)]
pub enum Problem {
    /// One objective with a known optimum.
    Single(Box<dyn TestFunction>),
    /// Several objectives with a known Pareto front.
    Multi(Box<dyn MultiObjectiveFunction>),
}

/// A run's best-so-far curve and final regret.
#[derive(Debug, Clone, PartialEq)]
pub struct Score {
    /// After each trial: the best value so far, or the hypervolume so far.
    pub best_curve: Vec<Option<f64>>,
    /// The regret at the end (`None` when no trial completed).
    pub final_regret: Option<f64>,
}

impl Problem {
    /// The function's name.
    pub fn name(&self) -> String {
        match self {
            Problem::Single(f) => f.name(),
            Problem::Multi(f) => f.name(),
        }
    }

    /// One direction per objective.
    pub fn directions(&self) -> Vec<Direction> {
        match self {
            Problem::Single(f) => vec![f.direction()],
            Problem::Multi(f) => f.directions(),
        }
    }

    /// Suggests the parameters on `trial` and returns the objective values.
    pub fn evaluate(&self, trial: &mut Trial) -> Result<Vec<f64>, TrialError> {
        match self {
            Problem::Single(f) => f.evaluate(trial).map(|v| vec![v]),
            Problem::Multi(f) => f.evaluate(trial),
        }
    }

    /// The curve and regret of a run from its trials' values in trial order (`None` for a trial
    /// that did not complete).
    pub fn score(&self, values: &[Option<Vec<f64>>]) -> Score {
        match self {
            Problem::Single(f) => {
                let direction = f.direction();
                let mut best: Option<f64> = None;
                let best_curve = values
                    .iter()
                    .map(|v| {
                        if let Some(&[x]) = v.as_deref() {
                            if !x.is_nan() && best.map_or(true, |b| direction.better(x, b)) {
                                best = Some(x);
                            }
                        }
                        best
                    })
                    .collect();
                Score { best_curve, final_regret: best.map(|b| f.regret(b)) }
            }
            Problem::Multi(f) => {
                let reference = f.reference_point();
                let mut front: Vec<Vec<f64>> = Vec::new();
                let mut volume = 0.0;
                let best_curve = values
                    .iter()
                    .map(|v| {
                        if let Some(p) = v.as_ref().filter(|p| p.len() == reference.len()) {
                            front.push(p.clone());
                            volume = crate::hypervolume::hypervolume(&front, &reference);
                        }
                        Some(volume)
                    })
                    .collect();
                Score { best_curve, final_regret: Some(f.front_hypervolume() - volume) }
            }
        }
    }
}

/// Every benchmark function: the single-objective suite, then the multi-objective one.
pub fn problems() -> Vec<Problem> {
    functions::suite()
        .into_iter()
        .map(Problem::Single)
        .chain(multi_objective::suite().into_iter().map(Problem::Multi))
        .collect()
}

/// One run: a sampler on a function with a seed. One JSON line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunRecord {
    /// `"tunewise"` or `"optuna"`.
    pub framework: String,
    /// The sampler's name in its framework's registry.
    pub sampler: String,
    /// The function's name.
    pub function: String,
    /// The seed of the sampler.
    pub seed: u64,
    /// Trials asked for.
    pub budget: usize,
    /// Best value (or hypervolume) so far after each trial.
    #[serde(default)]
    pub best_curve: Vec<Option<f64>>,
    /// Best minus optimum, or true minus found hypervolume (`null` when no trial completed).
    #[serde(default)]
    pub final_regret: Option<f64>,
    /// Time inside the sampler's methods per trial, in milliseconds.
    pub sampler_ms_per_trial: f64,
    /// Wall-clock time of the loop per trial, objective included, in milliseconds.
    #[serde(default)]
    pub trial_ms: f64,
    /// Trials that did not complete.
    #[serde(default)]
    pub failed_trials: usize,
    /// The objective values of each trial, for records scored afterwards ([`score_record`]):
    /// the Optuna script writes these and leaves the curve and regret to the harness, so both
    /// frameworks are scored by the same code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trial_values: Option<Vec<Option<Vec<f64>>>>,
    /// Why the run stopped early, if it did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// What went wrong in the harness; each message says which flag or input fixes it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HarnessError {
    /// A sampler name not in the registry.
    #[error("unknown sampler '{0}' (--samplers); known: {1}")]
    UnknownSampler(String, String),
    /// A function name not among the problems.
    #[error("unknown function '{0}' (--functions); known: {1}")]
    UnknownFunction(String, String),
    /// A setting out of range.
    #[error("{0}")]
    InvalidConfig(String),
    /// The engine refused to create a sampler or a study.
    #[error("running {function}: {source}")]
    Engine {
        /// The function being run.
        function: String,
        /// The engine's error.
        source: tunewise_core::Error,
    },
}

/// What to run.
#[derive(Debug, Clone)]
pub struct HarnessConfig {
    /// Sampler names (empty: every sampler of the registry).
    pub samplers: Vec<String>,
    /// Function names (empty: every problem).
    pub functions: Vec<String>,
    /// Seeds; each (function, seed) pair runs every sampler.
    pub seeds: Vec<u64>,
    /// Trials per run.
    pub budget: usize,
    /// Worker threads over (function, seed) pairs.
    pub threads: usize,
}

impl Default for HarnessConfig {
    /// Every sampler and function, seeds 0–9, 100 trials, 2 threads.
    fn default() -> Self {
        HarnessConfig {
            samplers: Vec::new(),
            functions: Vec::new(),
            seeds: (0..10).collect(),
            budget: 100,
            threads: 2,
        }
    }
}

/// Looks up names, keeping the registry's order.
fn select<T>(
    all: Vec<T>,
    wanted: &[String],
    name: impl Fn(&T) -> String,
    unknown: impl Fn(String, String) -> HarnessError,
) -> Result<Vec<T>, HarnessError> {
    let known: Vec<String> = all.iter().map(&name).collect();
    for w in wanted {
        if !known.contains(w) {
            return Err(unknown(w.clone(), known.join(", ")));
        }
    }
    Ok(all.into_iter().filter(|t| wanted.is_empty() || wanted.contains(&name(t))).collect())
}

/// Runs every selected sampler on every selected function with every seed, calling `sink` with
/// each record as it finishes (in completion order), and returns them all in a fixed order.
pub fn run(
    config: &HarnessConfig,
    mut sink: impl FnMut(&RunRecord) + Send,
) -> Result<Vec<RunRecord>, HarnessError> {
    if config.budget == 0 {
        return Err(HarnessError::InvalidConfig("--budget must be at least 1".into()));
    }
    if config.seeds.is_empty() {
        return Err(HarnessError::InvalidConfig("--seeds must name at least one seed".into()));
    }
    if config.threads == 0 {
        return Err(HarnessError::InvalidConfig("--threads must be at least 1".into()));
    }
    let samplers =
        select(registry(), &config.samplers, |s| s.name.to_owned(), HarnessError::UnknownSampler)?;
    let problems = select(problems(), &config.functions, Problem::name, |w, k| {
        HarnessError::UnknownFunction(w, k)
    })?;
    let jobs: Vec<(usize, u64)> =
        (0..problems.len()).flat_map(|p| config.seeds.iter().map(move |s| (p, *s))).collect();
    let next = AtomicUsize::new(0);
    let done: Mutex<Vec<(usize, usize, u64, RunRecord)>> = Mutex::new(Vec::new());
    let first_error: Mutex<Option<HarnessError>> = Mutex::new(None);
    let sink = Mutex::new(&mut sink);
    std::thread::scope(|scope| {
        for _ in 0..config.threads.min(jobs.len()) {
            scope.spawn(|| {
                while let Some(&(p, seed)) = jobs.get(next.fetch_add(1, Ordering::Relaxed)) {
                    for (s, entry) in samplers.iter().enumerate() {
                        if !entry.multi_objective && matches!(problems[p], Problem::Multi(_)) {
                            continue;
                        }
                        match run_one(&problems[p], entry, seed, config.budget) {
                            Ok(record) => {
                                (sink.lock().unwrap_or_else(|e| e.into_inner()))(&record);
                                done.lock()
                                    .unwrap_or_else(|e| e.into_inner())
                                    .push((p, s, seed, record));
                            }
                            Err(e) => {
                                first_error
                                    .lock()
                                    .unwrap_or_else(|e| e.into_inner())
                                    .get_or_insert(e);
                                return;
                            }
                        }
                    }
                }
            });
        }
    });
    if let Some(e) = first_error.into_inner().unwrap_or_else(|e| e.into_inner()) {
        return Err(e);
    }
    let mut done = done.into_inner().unwrap_or_else(|e| e.into_inner());
    done.sort_by_key(|(p, s, seed, _)| (*p, *s, *seed));
    Ok(done.into_iter().map(|(.., r)| r).collect())
}

/// The seed handed to the sampler for a run's seed: spread by SplitMix64, because the engine's
/// per-trial generators mix the sampler's seed and the trial number symmetrically (seed s,
/// trial n draws what seed n, trial s draws), so the plain seeds 0, 1, 2, … would give runs that
/// replay each other's trials shifted by one. Spread seeds never meet a trial number.
pub fn sampler_seed(seed: u64) -> u64 {
    tunewise_core::rng::mix64(seed ^ 0x7475_6e65_7769_7365)
}

/// One sampler on one function with one seed, in a new in-memory study.
pub fn run_one(
    problem: &Problem,
    entry: &SamplerEntry,
    seed: u64,
    budget: usize,
) -> Result<RunRecord, HarnessError> {
    let engine = |source| HarnessError::Engine { function: problem.name(), source };
    let spent = Arc::new(AtomicU64::new(0));
    let sampler =
        TimedSampler::new((entry.make)(sampler_seed(seed)).map_err(engine)?, spent.clone());
    let study = Study::builder()
        .directions(problem.directions())
        .sampler(sampler)
        .create()
        .map_err(engine)?;
    let start = Instant::now();
    let outcome = study.optimize(|t: &mut Trial| problem.evaluate(t), Budget::trials(budget));
    let elapsed = start.elapsed();
    let trials = study.trials().map_err(engine)?;
    let values: Vec<Option<Vec<f64>>> = trials
        .iter()
        .map(|t| if t.state == TrialState::Complete { t.values.clone() } else { None })
        .collect();
    let n = trials.len().max(1) as f64;
    let score = problem.score(&values);
    Ok(RunRecord {
        framework: FRAMEWORK.into(),
        sampler: entry.name.into(),
        function: problem.name(),
        seed,
        budget,
        best_curve: score.best_curve,
        final_regret: score.final_regret,
        sampler_ms_per_trial: spent.load(Ordering::Relaxed) as f64 / 1e6 / n,
        trial_ms: elapsed.as_secs_f64() * 1e3 / n,
        failed_trials: values.iter().filter(|v| v.is_none()).count(),
        trial_values: None,
        error: outcome.err().map(|e| e.to_string()),
    })
}

/// Fills a record's curve and regret from its `trial_values` with the harness's own functions
/// (the Optuna script's records come this way), and drops the values.
pub fn score_record(record: &mut RunRecord, problems: &[Problem]) -> Result<(), HarnessError> {
    let Some(values) = record.trial_values.take() else {
        return Ok(());
    };
    let problem = problems.iter().find(|p| p.name() == record.function).ok_or_else(|| {
        HarnessError::UnknownFunction(
            record.function.clone(),
            problems.iter().map(Problem::name).collect::<Vec<_>>().join(", "),
        )
    })?;
    let score = problem.score(&values);
    record.failed_trials = values.iter().filter(|v| v.is_none()).count();
    record.best_curve = score.best_curve;
    record.final_regret = score.final_regret;
    Ok(())
}

/// Evaluates the harness's functions at points given as JSON lines
/// `{"function": …, "params": {name: value}, "values": […]}` (the Optuna script's
/// `--dump-points`) and returns one message per point whose values differ by more than 1e-9
/// (relative): a check that another framework's definitions mirror ours. Returns the number of
/// points checked and the mismatches.
pub fn check_points(text: &str, problems: &[Problem]) -> Result<(usize, Vec<String>), String> {
    let mut mismatches = Vec::new();
    let mut checked = 0;
    for (i, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        let at = |e: &dyn fmt::Display| format!("line {}: {e}", i + 1);
        let point: serde_json::Value = serde_json::from_str(line).map_err(|e| at(&e))?;
        let function = point["function"].as_str().ok_or_else(|| at(&"no function"))?;
        let problem = problems
            .iter()
            .find(|p| p.name() == function)
            .ok_or_else(|| at(&"unknown function"))?;
        let expected: Vec<f64> =
            serde_json::from_value(point["values"].clone()).map_err(|e| at(&e))?;
        let params = point["params"].as_object().ok_or_else(|| at(&"no params"))?;
        let mut fixed = Vec::new();
        for (name, v) in params {
            let value = match v {
                serde_json::Value::String(s) => ParamValue::from(s.as_str()),
                serde_json::Value::Bool(b) => ParamValue::Bool(*b),
                n if n.is_i64() => ParamValue::Int(n.as_i64().unwrap_or_default()),
                n => {
                    ParamValue::Float(n.as_f64().ok_or_else(|| at(&"a parameter is not a value"))?)
                }
            };
            fixed.push((name.clone(), value));
        }
        let study =
            Study::builder().directions(problem.directions()).create().map_err(|e| at(&e))?;
        study.enqueue_trial(fixed).map_err(|e| at(&e))?;
        study
            .optimize(|t: &mut Trial| problem.evaluate(t), Budget::trials(1))
            .map_err(|e| at(&e))?;
        let trial = study.trial(0).map_err(|e| at(&e))?;
        let got = trial.values.clone().unwrap_or_default();
        let close = got.len() == expected.len()
            && got.iter().zip(&expected).all(|(a, b)| (a - b).abs() <= 1e-9 * (1.0 + b.abs()));
        if !close {
            mismatches.push(format!(
                "{function} at {}: ours {got:?}, theirs {expected:?}",
                point["params"]
            ));
        }
        checked += 1;
    }
    Ok((checked, mismatches))
}

/// A sampler that forwards every call to another and adds the time spent in it to a counter (in
/// nanoseconds): the sampler's own time, apart from the engine's and the objective's.
#[derive(Debug)]
pub struct TimedSampler {
    inner: Box<dyn Sampler>,
    spent: Arc<AtomicU64>,
}

impl TimedSampler {
    /// Wraps `inner`; its time goes to `spent`.
    pub fn new(inner: Box<dyn Sampler>, spent: Arc<AtomicU64>) -> Self {
        TimedSampler { inner, spent }
    }

    fn timed<T>(&self, f: impl FnOnce() -> T) -> T {
        let start = Instant::now();
        let out = f();
        self.spent.fetch_add(start.elapsed().as_nanos() as u64, Ordering::Relaxed);
        out
    }
}

impl Sampler for TimedSampler {
    fn sample_independent(
        &self,
        study: &StudyView<'_>,
        trial: &FrozenTrial,
        name: &str,
        distribution: &Distribution,
    ) -> tunewise_core::Result<f64> {
        self.timed(|| self.inner.sample_independent(study, trial, name, distribution))
    }

    fn infer_relative_search_space(
        &self,
        study: &StudyView<'_>,
        trial: &FrozenTrial,
    ) -> tunewise_core::Result<SearchSpace> {
        self.timed(|| self.inner.infer_relative_search_space(study, trial))
    }

    fn sample_relative(
        &self,
        study: &StudyView<'_>,
        trial: &FrozenTrial,
        space: &SearchSpace,
    ) -> tunewise_core::Result<BTreeMap<Arc<str>, f64>> {
        self.timed(|| self.inner.sample_relative(study, trial, space))
    }

    fn before_trial(
        &self,
        study: &StudyView<'_>,
        trial: &FrozenTrial,
    ) -> tunewise_core::Result<()> {
        self.timed(|| self.inner.before_trial(study, trial))
    }

    fn after_trial(&self, study: &StudyView<'_>, trial: &FrozenTrial) -> tunewise_core::Result<()> {
        self.timed(|| self.inner.after_trial(study, trial))
    }

    fn reseed(&mut self, seed: u64) {
        self.inner.reseed(seed);
    }

    fn is_exhausted(&self, study: &StudyView<'_>) -> bool {
        self.timed(|| self.inner.is_exhausted(study))
    }

    fn wants_running_params(&self) -> bool {
        self.inner.wants_running_params()
    }
}

/// Reads JSON lines (blank lines skipped), naming the line of any error.
pub fn read_jsonl(text: &str) -> Result<Vec<RunRecord>, String> {
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| serde_json::from_str(l).map_err(|e| format!("line {}: {e}", i + 1)))
        .collect()
}

/// One record as one JSON line (without the newline).
pub fn to_json_line(record: &RunRecord) -> String {
    // A record holds only strings, numbers and options: serializing it cannot fail.
    serde_json::to_string(record).unwrap_or_default()
}
