//! The sampler conformance suite: [`check_sampler`].
//!
//! It runs real studies (the study's loop, not the sampler alone) and checks what a user relies
//! on whatever the algorithm: every value lies in its distribution (bounds, steps, log scales,
//! choices of every kind, single-value ranges), conditional spaces work, a history of failed,
//! NaN and pruned trials does not break the sampler, the same seed gives the same trials, four
//! threads at once get valid values, and two objectives work.
//!
//! The suite does not judge the quality of the search: a model-based sampler only has to stay
//! valid, not to spread its values in any particular way.
//!
//! Samplers that need their space up front (a grid) are built from the space each study asks
//! for: the factory receives it. Every such space is a subset of [`conformance_space`], with
//! the same distributions.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use super::ok;
use crate::sync::lock;
use crate::{
    Budget, Direction, Distribution, Error, FrozenTrial, ObjectiveValues, ParamValue, Sampler,
    SearchSpace, StopReason, Study, StudyView, Trial, TrialError, TrialState,
};

const SUITE: &str = "sampler";

/// Trials per single-threaded study.
const TRIALS: usize = 30;

/// Every parameter the suite may ask for, with its distribution.
fn table() -> Vec<(&'static str, Distribution)> {
    vec![
        ("float", Distribution::float(-5.0, 5.0)),
        ("float_log", Distribution::float_log(1e-4, 10.0)),
        // 0.0 + 3 * 0.1 rounds above 0.3: the last grid point must still be inside.
        ("float_step", Distribution::float_step(0.0, 0.3, 0.1)),
        ("int", Distribution::int(-3, 3)),
        ("int_log", Distribution::int_log(1, 16)),
        ("int_step", Distribution::int_step(0, 20, 5)),
        ("single_float", Distribution::float(2.5, 2.5)),
        ("single_float_step", Distribution::float_step(1.0, 1.0, 0.5)),
        ("single_int", Distribution::int(4, 4)),
        ("cat_bool", Distribution::categorical([true, false])),
        ("cat_int", Distribution::categorical([1_i64, 2, 4])),
        ("cat_float", Distribution::categorical([0.1, 0.5, 0.9])),
        ("cat_str", Distribution::categorical(["adam", "sgd", "rmsprop"])),
        ("single_cat", Distribution::categorical(["only"])),
        ("branch", Distribution::categorical(["linear", "tree"])),
        ("linear_alpha", Distribution::float_log(1e-3, 10.0)),
        ("linear_l1", Distribution::float(0.0, 1.0)),
        ("tree_depth", Distribution::int(1, 8)),
        ("tree_min_leaf", Distribution::int_step(1, 9, 4)),
    ]
}

/// Every kind of number: uniform, log and stepped floats and ints, and single-value ranges.
const NUMERIC: &[&str] = &[
    "float",
    "float_log",
    "float_step",
    "int",
    "int_log",
    "int_step",
    "single_float",
    "single_float_step",
    "single_int",
];

/// Choices of every kind: bools, ints, floats, strings, and a single choice.
const CATEGORICAL: &[&str] = &["cat_bool", "cat_int", "cat_float", "cat_str", "single_cat"];

/// Only single-value ranges: one point in all (a grid of them is exhausted after one trial).
const SINGLES: &[&str] = &["single_float", "single_float_step", "single_int", "single_cat"];

/// A conditional space: `branch` decides which other parameters are asked.
const CONDITIONAL: &[&str] =
    &["branch", "linear_alpha", "linear_l1", "tree_depth", "tree_min_leaf"];

/// A small mixed space for histories with failures.
const MIXED: &[&str] = &["float", "float_log", "int", "cat_str"];

/// Every parameter the suite's objectives may ask for, with its distribution: the union of the
/// spaces given to the factory of [`check_sampler`].
pub fn conformance_space() -> SearchSpace {
    let mut space = SearchSpace::new();
    for (name, distribution) in table() {
        space.insert(Arc::from(name), Arc::new(distribution));
    }
    space
}

/// The parameters `names`, in the order given (the order the objective asks them).
fn params_of(names: &[&str]) -> Vec<(&'static str, Distribution)> {
    let table = table();
    names
        .iter()
        .map(|n| match table.iter().find(|(name, _)| name == n) {
            Some(p) => p.clone(),
            None => panic!("sampler conformance: no parameter '{n}' in the table"),
        })
        .collect()
}

fn space_of(names: &[&str]) -> SearchSpace {
    let mut space = SearchSpace::new();
    for (name, distribution) in params_of(names) {
        space.insert(Arc::from(name), Arc::new(distribution));
    }
    space
}

/// Runs the sampler conformance suite; panics with a message naming the scenario and the
/// violation.
///
/// `make(seed, space)` builds the sampler for one study. `seed` is the study's seed: the same
/// seed must give the same trials. `space` is every parameter that study's objective may ask
/// for (a subset of [`conformance_space`]); samplers that need a fixed space (grids) build from
/// it, the others ignore it.
///
/// The sampler is wrapped so that its raw proposals are checked too: the study snaps any finite
/// value into its distribution, which would hide a sampler proposing far outside the range. A
/// proposal may differ from a valid value only by rounding (half a step, half an index, or float
/// noise at a bound).
///
/// A sampler may end a study early by saying it is exhausted (a finished grid): the suite
/// accepts that, but every study must run at least one trial.
///
/// Studies run: every numeric kind, categoricals of every kind, single-value ranges, a
/// conditional space, a history of failed, NaN and pruned trials, four threads, two objectives
/// (a single-objective sampler may instead refuse them at the first trial with an
/// [`Error::Sampler`] whose message says "single objective"), ask and tell; then three of them
/// twice with one seed, compared bit for bit.
///
/// ```no_run
/// use tunewise_core::conformance::sampler::check_sampler;
/// use tunewise_core::{GridSampler, RandomSampler};
///
/// check_sampler(&|seed, _space| Box::new(RandomSampler::with_seed(seed)));
/// check_sampler(&|seed, space| {
///     Box::new(GridSampler::from_space(space, 3).expect("a valid space").seed(seed))
/// });
/// ```
pub fn check_sampler(make: &dyn Fn(u64, &SearchSpace) -> Box<dyn Sampler>) {
    for (name, distribution) in table() {
        ok(SUITE, distribution.validate(name), "validating the suite's own space");
    }
    numeric(make, 1);
    all_kinds(make, 2, "categorical kinds", CATEGORICAL, Direction::Maximize);
    all_kinds(make, 9, "single values", SINGLES, Direction::Minimize);
    conditional(make, 3);
    failures(make, 4);
    parallel(make, 5);
    multi_objective(make, 6);
    ask_and_tell(make, 7);
    reproducible(make, 8);
}

/// The values an objective saw, by trial number, and any value that broke its distribution.
#[derive(Default)]
struct Recorder {
    observed: Mutex<BTreeMap<u64, Vec<(String, ParamValue)>>>,
    violations: Mutex<Vec<String>>,
    /// Raw proposals of the sampler that were outside their distribution (the study would have
    /// clamped them in silently).
    proposals: Arc<Mutex<Vec<String>>>,
}

impl Recorder {
    /// Asks every parameter of `params` through the typed `suggest_*` methods, as a user would,
    /// recording the values and checking each against its distribution.
    fn ask(
        &self,
        trial: &mut Trial,
        params: &[(&'static str, Distribution)],
    ) -> Result<Vec<(String, ParamValue)>, TrialError> {
        let mut values = Vec::with_capacity(params.len());
        for (name, distribution) in params {
            let value = suggest(trial, name, distribution)?;
            if let Some(v) = violation(distribution, &value) {
                lock(&self.violations).push(format!("trial {}: '{name}': {v}", trial.number()));
            }
            lock(&self.observed)
                .entry(trial.number())
                .or_default()
                .push(((*name).to_owned(), value.clone()));
            values.push(((*name).to_owned(), value));
        }
        Ok(values)
    }

    /// Checks the stored trials of a study against what the objective saw.
    fn verify(&self, label: &str, space: &SearchSpace, trials: &[Arc<FrozenTrial>]) {
        let proposals = lock(&self.proposals);
        assert!(
            proposals.is_empty(),
            "sampler conformance [{label}]: the sampler proposed {} value(s) outside their \
             distribution, first: {:?}",
            proposals.len(),
            &proposals[..proposals.len().min(5)]
        );
        let violations = lock(&self.violations);
        assert!(
            violations.is_empty(),
            "sampler conformance [{label}]: {} value(s) outside their distribution, first: {:?}",
            violations.len(),
            &violations[..violations.len().min(5)]
        );
        assert!(!trials.is_empty(), "sampler conformance [{label}]: the study ran no trial");
        let observed = lock(&self.observed);
        for (i, t) in trials.iter().enumerate() {
            assert_eq!(
                t.number, i as u64,
                "sampler conformance [{label}]: trial numbers are not dense"
            );
            assert!(
                t.state.is_finished(),
                "sampler conformance [{label}]: trial {} is left {}",
                t.number,
                t.state
            );
            for (k, p) in t.params.iter().enumerate() {
                let Some(expected) = space.get(&p.name) else {
                    panic!(
                        "sampler conformance [{label}]: trial {} has parameter '{}', which the \
                         objective never asked",
                        t.number, p.name
                    );
                };
                assert_eq!(
                    *p.distribution, **expected,
                    "sampler conformance [{label}]: trial {} stored '{}' with another distribution",
                    t.number, p.name
                );
                assert!(
                    p.distribution.contains_internal(p.internal),
                    "sampler conformance [{label}]: trial {} stored '{}' = {} outside {}",
                    t.number,
                    p.name,
                    p.internal,
                    p.distribution
                );
                assert!(
                    !t.params[..k].iter().any(|q| q.name == p.name),
                    "sampler conformance [{label}]: trial {} stored '{}' twice",
                    t.number,
                    p.name
                );
            }
            if let Some(seen) = observed.get(&t.number) {
                let stored: Vec<(String, ParamValue)> =
                    t.params.iter().map(|p| (p.name.to_string(), p.value())).collect();
                let same = stored.len() == seen.len()
                    && stored.iter().zip(seen).all(|(a, b)| a.0 == b.0 && same_value(&a.1, &b.1));
                assert!(
                    same,
                    "sampler conformance [{label}]: trial {} stored {stored:?}, the objective \
                     saw {seen:?}",
                    t.number
                );
            }
        }
    }
}

/// Asks one parameter with the typed method a user would call for its distribution.
fn suggest(
    trial: &mut Trial,
    name: &str,
    distribution: &Distribution,
) -> Result<ParamValue, TrialError> {
    Ok(match distribution {
        Distribution::Float(d) => ParamValue::Float(match (d.log, d.step) {
            (true, _) => trial.suggest_float_log(name, d.low, d.high)?,
            (false, Some(step)) => trial.suggest_float_step(name, d.low, d.high, step)?,
            (false, None) => trial.suggest_float(name, d.low, d.high)?,
        }),
        Distribution::Int(d) => ParamValue::Int(match (d.log, d.step) {
            (true, _) => trial.suggest_int_log(name, d.low, d.high)?,
            (false, 1) => trial.suggest_int(name, d.low, d.high)?,
            (false, step) => trial.suggest_int_step(name, d.low, d.high, step)?,
        }),
        Distribution::Categorical(d) => {
            let c = &d.choices;
            if let Some(bools) = c.iter().map(ParamValue::as_bool).collect::<Option<Vec<_>>>() {
                ParamValue::Bool(trial.suggest_categorical(name, &bools)?)
            } else if let Some(ints) = c
                .iter()
                .map(|v| matches!(v, ParamValue::Int(_)).then(|| v.as_i64()).flatten())
                .collect::<Option<Vec<i64>>>()
            {
                ParamValue::Int(trial.suggest_categorical(name, &ints)?)
            } else if let Some(floats) = c
                .iter()
                .map(|v| match v {
                    ParamValue::Float(x) => Some(*x),
                    _ => None,
                })
                .collect::<Option<Vec<f64>>>()
            {
                ParamValue::Float(trial.suggest_categorical(name, &floats)?)
            } else if let Some(strs) =
                c.iter().map(|v| v.as_str().map(str::to_owned)).collect::<Option<Vec<String>>>()
            {
                ParamValue::from(trial.suggest_categorical(name, &strs)?)
            } else {
                trial.suggest_categorical(name, c)?
            }
        }
    })
}

/// What is wrong with `value` as a value of `distribution`, if anything.
fn violation(distribution: &Distribution, value: &ParamValue) -> Option<String> {
    if distribution.to_internal(value).is_none() {
        return Some(format!("{value} is not in {distribution}"));
    }
    match (distribution, value) {
        (Distribution::Float(d), ParamValue::Float(x)) => {
            if !(x.is_finite() && *x >= d.low && *x <= d.high) {
                return Some(format!("{x} is outside [{}, {}]", d.low, d.high));
            }
            if d.log && *x <= 0.0 {
                return Some(format!("{x} is not positive on a log scale"));
            }
        }
        (Distribution::Int(d), ParamValue::Int(x)) => {
            if *x < d.low || *x > d.high || (x - d.low) % d.step != 0 {
                return Some(format!("{x} is not in [{}, {}] step {}", d.low, d.high, d.step));
            }
        }
        (Distribution::Categorical(_), _) => {}
        _ => return Some(format!("{value} has the wrong kind for {distribution}")),
    }
    if distribution.is_single() {
        let only = distribution.to_external(distribution.internal_bounds().0);
        if !same_value(&only, value) {
            return Some(format!("{value} is not the single value {only}"));
        }
    }
    None
}

/// Equality of values, floats by bits.
fn same_value(a: &ParamValue, b: &ParamValue) -> bool {
    match (a, b) {
        (ParamValue::Float(x), ParamValue::Float(y)) => x.to_bits() == y.to_bits(),
        _ => a == b,
    }
}

/// A finite score that depends only on the values, so that runs are reproducible.
fn score(values: &[(String, ParamValue)]) -> f64 {
    values
        .iter()
        .map(|(_, v)| {
            let x = match v {
                ParamValue::Float(x) => *x,
                ParamValue::Int(i) => *i as f64,
                ParamValue::Bool(b) => f64::from(u8::from(*b)),
                ParamValue::Str(s) => s.len() as f64 / 10.0,
            };
            (x - 0.5).powi(2)
        })
        .sum()
}

fn new_study(
    make: &dyn Fn(u64, &SearchSpace) -> Box<dyn Sampler>,
    seed: u64,
    space: &SearchSpace,
    directions: &[Direction],
    rec: &Recorder,
) -> Study {
    let sampler = Checked { inner: make(seed, space), proposals: rec.proposals.clone() };
    let study = Study::builder().directions(directions.iter().copied()).sampler(sampler).create();
    ok(SUITE, study, "creating a study")
}

/// The sampler under test, with every raw proposal checked before the study snaps it.
#[derive(Debug)]
struct Checked {
    inner: Box<dyn Sampler>,
    proposals: Arc<Mutex<Vec<String>>>,
}

impl Checked {
    fn check(&self, trial: &FrozenTrial, name: &str, distribution: &Distribution, x: f64) {
        if !proposal_fits(distribution, x) {
            lock(&self.proposals)
                .push(format!("trial {}: '{name}' = {x} for {distribution}", trial.number));
        }
    }
}

/// Whether a raw internal value is in the distribution up to rounding: within float noise of a
/// float's bounds, or rounding to a valid step, int or choice index.
fn proposal_fits(distribution: &Distribution, x: f64) -> bool {
    let (low, high) = distribution.internal_bounds();
    let slack = match distribution {
        Distribution::Float(d) => match d.step {
            Some(step) => step / 2.0,
            None => 1e-9 * (high - low).max(high.abs()).max(low.abs()),
        },
        Distribution::Int(d) => d.step as f64 / 2.0,
        Distribution::Categorical(_) => 0.5,
    };
    x.is_finite() && x > low - slack - f64::EPSILON && x < high + slack + f64::EPSILON
}

impl Sampler for Checked {
    fn sample_independent(
        &self,
        study: &StudyView<'_>,
        trial: &FrozenTrial,
        name: &str,
        distribution: &Distribution,
    ) -> crate::Result<f64> {
        let x = self.inner.sample_independent(study, trial, name, distribution)?;
        self.check(trial, name, distribution, x);
        Ok(x)
    }

    fn infer_relative_search_space(
        &self,
        study: &StudyView<'_>,
        trial: &FrozenTrial,
    ) -> crate::Result<SearchSpace> {
        self.inner.infer_relative_search_space(study, trial)
    }

    fn sample_relative(
        &self,
        study: &StudyView<'_>,
        trial: &FrozenTrial,
        space: &SearchSpace,
    ) -> crate::Result<BTreeMap<Arc<str>, f64>> {
        let values = self.inner.sample_relative(study, trial, space)?;
        for (name, x) in &values {
            match space.get(name) {
                Some(d) => self.check(trial, name, d, *x),
                None => lock(&self.proposals).push(format!(
                    "trial {}: sample_relative gave '{name}', which is not in its space",
                    trial.number
                )),
            }
        }
        Ok(values)
    }

    fn before_trial(&self, study: &StudyView<'_>, trial: &FrozenTrial) -> crate::Result<()> {
        self.inner.before_trial(study, trial)
    }

    fn after_trial(&self, study: &StudyView<'_>, trial: &FrozenTrial) -> crate::Result<()> {
        self.inner.after_trial(study, trial)
    }

    fn reseed(&mut self, seed: u64) {
        self.inner.reseed(seed);
    }

    fn is_exhausted(&self, study: &StudyView<'_>) -> bool {
        self.inner.is_exhausted(study)
    }

    fn wants_running_params(&self) -> bool {
        self.inner.wants_running_params()
    }
}

/// Runs up to `n` trials and returns those this call finished. A sampler may stop early by
/// being exhausted; nothing else may stop the study.
fn run<F, V>(
    label: &str,
    study: &Study,
    objective: F,
    n: usize,
    threads: usize,
) -> Vec<Arc<FrozenTrial>>
where
    F: Fn(&mut Trial) -> Result<V, TrialError> + Sync,
    V: ObjectiveValues,
{
    let before = ok(SUITE, study.trials(), "reading trials").len();
    let report = match study.optimize_parallel(objective, Budget::trials(n), threads) {
        Ok(r) => r,
        Err(e) => panic!("sampler conformance [{label}]: optimize failed: {e}"),
    };
    match report.stop_reason {
        StopReason::TrialBudget => assert_eq!(
            report.trials, n,
            "sampler conformance [{label}]: the budget stopped the study early"
        ),
        StopReason::SearchSpaceExhausted => assert!(report.trials <= n),
        other => panic!("sampler conformance [{label}]: the study stopped because {other}"),
    }
    let trials = ok(SUITE, study.trials(), "reading trials");
    assert_eq!(
        trials.len(),
        before + report.trials,
        "sampler conformance [{label}]: the study holds a different number of trials than it ran"
    );
    trials[before..].to_vec()
}

/// Panics unless `trial` ended in `state`, showing why it failed if it did.
#[track_caller]
fn expect_state(label: &str, trial: &FrozenTrial, state: TrialState) {
    assert_eq!(
        trial.state, state,
        "sampler conformance [{label}]: trial {} ended {} instead of {state} (reason: {:?})",
        trial.number, trial.state, trial.fail_reason
    );
}

type Make<'a> = &'a dyn Fn(u64, &SearchSpace) -> Box<dyn Sampler>;

/// Runs an objective asking every parameter of `names`, single-threaded, and checks that every
/// trial completed with every parameter inside its distribution; returns the trials.
fn all_kinds(
    make: Make<'_>,
    seed: u64,
    label: &str,
    names: &[&str],
    direction: Direction,
) -> Vec<Arc<FrozenTrial>> {
    let params = params_of(names);
    let space = space_of(names);
    let rec = Recorder::default();
    let study = new_study(make, seed, &space, &[direction], &rec);
    run(
        label,
        &study,
        |t: &mut Trial| Ok::<_, TrialError>(score(&rec.ask(t, &params)?)),
        TRIALS,
        1,
    );
    let trials = ok(SUITE, study.trials(), "reading trials");
    rec.verify(label, &space, &trials);
    for t in &trials {
        expect_state(label, t, TrialState::Complete);
        assert_eq!(t.params.len(), names.len(), "sampler conformance [{label}]: lost params");
    }
    trials
}

/// Every kind of number; returns the trials for the reproducibility check.
fn numeric(make: Make<'_>, seed: u64) -> Vec<Arc<FrozenTrial>> {
    all_kinds(make, seed, "numeric kinds", NUMERIC, Direction::Minimize)
}

/// The conditional objective: `branch` decides the rest; `linear_l1` only on even trials.
fn conditional_objective(
    rec: &Recorder,
    t: &mut Trial,
) -> Result<Vec<(String, ParamValue)>, TrialError> {
    let params = params_of(CONDITIONAL);
    let mut values = rec.ask(t, &params[..1])?;
    let asked: &[usize] = match values[0].1.as_str() {
        Some("linear") if t.number() % 2 == 0 => &[1, 2],
        Some("linear") => &[1],
        _ => &[3, 4],
    };
    let chosen: Vec<_> = asked.iter().map(|i| params[*i].clone()).collect();
    values.extend(rec.ask(t, &chosen)?);
    Ok(values)
}

fn conditional_names(trial: &FrozenTrial) -> Vec<&'static str> {
    match trial.param_value("branch").as_ref().and_then(ParamValue::as_str) {
        Some("linear") if trial.number % 2 == 0 => vec!["branch", "linear_alpha", "linear_l1"],
        Some("linear") => vec!["branch", "linear_alpha"],
        _ => vec!["branch", "tree_depth", "tree_min_leaf"],
    }
}

/// A conditional space; returns the trials for the reproducibility check.
fn conditional(make: Make<'_>, seed: u64) -> Vec<Arc<FrozenTrial>> {
    let label = "conditional space";
    let space = space_of(CONDITIONAL);
    let rec = Recorder::default();
    let study = new_study(make, seed, &space, &[Direction::Minimize], &rec);
    run(
        label,
        &study,
        |t: &mut Trial| Ok::<_, TrialError>(score(&conditional_objective(&rec, t)?)),
        TRIALS,
        1,
    );
    let trials = ok(SUITE, study.trials(), "reading trials");
    rec.verify(label, &space, &trials);
    for t in &trials {
        expect_state(label, t, TrialState::Complete);
        let names: Vec<&str> = t.params.iter().map(|p| &*p.name).collect();
        assert_eq!(
            names,
            conditional_names(t),
            "sampler conformance [{label}]: trial {} has the parameters of another branch",
            t.number
        );
    }
    trials
}

const DELIBERATE: &str = "conformance: a deliberate failure";

/// An all-failed history, then NaN results, pruned trials, and normal trials after them;
/// returns the trials for the reproducibility check.
fn failures(make: Make<'_>, seed: u64) -> Vec<Arc<FrozenTrial>> {
    let label = "failed, NaN and pruned history";
    let params = params_of(MIXED);
    let space = space_of(MIXED);
    let rec = Recorder::default();
    let study = new_study(make, seed, &space, &[Direction::Minimize], &rec);

    let failed = run(
        label,
        &study,
        |t: &mut Trial| -> Result<f64, TrialError> {
            rec.ask(t, &params)?;
            Err(TrialError::failed(DELIBERATE))
        },
        8,
        1,
    );
    for t in &failed {
        expect_state(label, t, TrialState::Failed);
        assert_eq!(
            t.fail_reason.as_deref(),
            Some(DELIBERATE),
            "sampler conformance [{label}]: trial {} failed for another reason",
            t.number
        );
    }
    let nan = run(
        label,
        &study,
        |t: &mut Trial| -> Result<f64, TrialError> {
            rec.ask(t, &params)?;
            Ok(f64::NAN)
        },
        4,
        1,
    );
    for t in &nan {
        expect_state(label, t, TrialState::Failed);
        assert!(
            t.fail_reason.as_deref().is_some_and(|r| r.contains("NaN")),
            "sampler conformance [{label}]: trial {} failed for another reason: {:?}",
            t.number,
            t.fail_reason
        );
    }
    let pruned = run(
        label,
        &study,
        |t: &mut Trial| -> Result<f64, TrialError> {
            let values = rec.ask(t, &params)?;
            t.report(0, score(&values))?;
            Err(TrialError::Pruned)
        },
        4,
        1,
    );
    for t in &pruned {
        expect_state(label, t, TrialState::Pruned);
    }
    let complete = run(
        label,
        &study,
        |t: &mut Trial| Ok::<_, TrialError>(score(&rec.ask(t, &params)?)),
        12,
        1,
    );
    for t in &complete {
        expect_state(label, t, TrialState::Complete);
    }
    let trials = ok(SUITE, study.trials(), "reading trials");
    rec.verify(label, &space, &trials);
    trials
}

/// Four threads at once.
fn parallel(make: Make<'_>, seed: u64) {
    let label = "four threads";
    let params = params_of(NUMERIC);
    let space = space_of(NUMERIC);
    let rec = Recorder::default();
    let study = new_study(make, seed, &space, &[Direction::Minimize], &rec);
    run(label, &study, |t: &mut Trial| Ok::<_, TrialError>(score(&rec.ask(t, &params)?)), 40, 4);
    let trials = ok(SUITE, study.trials(), "reading trials");
    rec.verify(label, &space, &trials);
    for t in &trials {
        expect_state(label, t, TrialState::Complete);
    }
}

/// Two objectives (minimize, maximize); every fourth trial returns a NaN in one of them.
fn multi_objective(make: Make<'_>, seed: u64) {
    let label = "two objectives";
    let params = params_of(MIXED);
    let space = space_of(MIXED);
    let rec = Recorder::default();
    let study = new_study(make, seed, &space, &[Direction::Minimize, Direction::Maximize], &rec);
    let objective = |t: &mut Trial| -> Result<Vec<f64>, TrialError> {
        let values = rec.ask(t, &params)?;
        let s = score(&values);
        if t.number() % 4 == 3 {
            return Ok(vec![f64::NAN, s]);
        }
        t.report_values(0, &[s, -s])?;
        Ok(vec![s, (s + 1.0).sqrt()])
    };
    // The first trial by hand: a single-objective sampler (CMA-ES) may refuse it, with an error
    // that says so.
    match study.ask() {
        Err(Error::Sampler(m)) if m.contains("single objective") => return,
        Err(e) => panic!("sampler conformance [{label}]: ask failed: {e}"),
        Ok(mut trial) => {
            let result = objective(&mut trial);
            ok(SUITE, study.tell(trial, result), "telling a result");
        }
    }
    run(label, &study, objective, TRIALS - 1, 1);
    let trials = ok(SUITE, study.trials(), "reading trials");
    rec.verify(label, &space, &trials);
    for t in &trials {
        if t.number % 4 == 3 {
            expect_state(label, t, TrialState::Failed);
        } else {
            expect_state(label, t, TrialState::Complete);
            assert_eq!(
                t.values.as_ref().map(Vec::len),
                Some(2),
                "sampler conformance [{label}]: trial {} lost a value",
                t.number
            );
        }
    }
}

/// The ask/tell path: one trial at a time, driven from outside.
fn ask_and_tell(make: Make<'_>, seed: u64) {
    let label = "ask and tell";
    let params = params_of(NUMERIC);
    let space = space_of(NUMERIC);
    let rec = Recorder::default();
    let study = new_study(make, seed, &space, &[Direction::Minimize], &rec);
    for i in 0..12 {
        let mut trial = match study.ask() {
            Ok(t) => t,
            Err(Error::SearchSpaceExhausted(_)) if i > 0 => break,
            Err(e) => panic!("sampler conformance [{label}]: ask failed: {e}"),
        };
        let result = rec.ask(&mut trial, &params).map(|v| score(&v));
        let result = if i % 3 == 2 { result.and(Err(TrialError::Pruned)) } else { result };
        let stored = ok(SUITE, study.tell(trial, result), "telling a result");
        let state = if i % 3 == 2 { TrialState::Pruned } else { TrialState::Complete };
        expect_state(label, &stored, state);
    }
    let trials = ok(SUITE, study.trials(), "reading trials");
    rec.verify(label, &space, &trials);
}

/// Parameters, state and internal values (by bits) of each trial.
type Fingerprint = Vec<(u64, TrialState, Vec<(String, u64)>)>;

fn fingerprint(trials: &[Arc<FrozenTrial>]) -> Fingerprint {
    trials
        .iter()
        .map(|t| {
            let params = t.params.iter().map(|p| (p.name.to_string(), p.internal.to_bits()));
            (t.number, t.state, params.collect())
        })
        .collect()
}

/// A scenario that returns its study's trials.
type Scenario = fn(Make<'_>, u64) -> Vec<Arc<FrozenTrial>>;

/// The same seed gives the same trials, single-threaded, for every scenario with a history.
fn reproducible(make: Make<'_>, seed: u64) {
    let scenarios: [(&str, Scenario); 3] = [
        ("numeric kinds", numeric),
        ("conditional space", conditional),
        ("failed, NaN and pruned history", failures),
    ];
    for (label, scenario) in scenarios {
        let first = fingerprint(&scenario(make, seed));
        let second = fingerprint(&scenario(make, seed));
        if let Some(i) =
            (0..first.len().max(second.len())).find(|i| first.get(*i) != second.get(*i))
        {
            panic!(
                "sampler conformance [{label}]: the same seed ({seed}) gave different trials; \
                 first difference at trial {i}: {:?} then {:?}",
                first.get(i),
                second.get(i)
            );
        }
    }
}
