//! What a run of [`Study::optimize`](crate::Study::optimize) may spend, when it is good enough
//! to stop early, and why it stopped.

use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::direction::Direction;
use crate::error::{Error, Result};
use crate::frozen::{AttrValue, FrozenTrial, TrialState};
use crate::rng::Rng;

/// The user attribute that tunewise-ml's workflow sets on each trial: an object with the
/// standard deviation of the validation scores over the folds under `"validation_std"`.
pub(crate) const CV_ATTR: &str = "tunewise_ml.cv";
/// The key of the standard deviation inside [`CV_ATTR`].
pub(crate) const CV_STD_KEY: &str = "validation_std";
/// The study's user attribute where a run writes why it stopped.
pub const STOP_REASON_ATTR: &str = "stop_reason";

/// How much [`Study::optimize`](crate::Study::optimize) may spend and when it may stop early.
///
/// A number of trials (for this run, or for the whole study) and a wall-clock limit bound the
/// run (at least one of them is required, so that a run always ends); the other limits stop it
/// earlier. All combine: whichever comes
/// first stops the run, and [`StopReason`] says which. A trial that has started is always
/// finished. Every limit is checked after each trial this run finishes; settings are checked
/// when the run starts, and a bad one is refused with [`Error::InvalidConfig`] naming it.
///
/// ```
/// use std::time::Duration;
/// use tunewise_core::{Budget, GoodEnough};
///
/// let budget = Budget::trials(500)
///     .with_time(Duration::from_secs(600))
///     .max_failed(10)
///     .patience(50)
///     .good_enough(GoodEnough::cross_validation());
/// # let _ = budget;
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Budget {
    pub(crate) trials: Option<usize>,
    pub(crate) study_trials: Option<u64>,
    pub(crate) time: Option<Duration>,
    pub(crate) max_failed: Option<usize>,
    pub(crate) target: Option<f64>,
    pub(crate) patience: Option<usize>,
    pub(crate) min_delta: f64,
    pub(crate) good_enough: Option<GoodEnough>,
}

impl Budget {
    /// At most `n` trials.
    pub fn trials(n: usize) -> Self {
        Budget { trials: Some(n), ..Budget::default() }
    }

    /// At most `n` trials in the whole study: trials of earlier runs and of every other worker
    /// sharing the study count, in any state (complete, pruned, failed, running or waiting).
    /// For many workers: each stops when the study holds `n` trials and every one of them has
    /// finished, so together they run exactly `n` (minus those already in the study).
    ///
    /// Exact however many workers share the study: the storage checks the count and claims the
    /// trial in one transaction ([`Storage::start_trial_capped`](crate::storage::Storage)),
    /// and a new trial is numbered below `n` or not created. While the study holds `n` trials
    /// but some still run elsewhere, a worker waits (it checks a few times per lease, at
    /// least once a second) rather than stop: a trial whose worker died comes back when its
    /// lease expires, and a waiting worker runs it again. So a trial from
    /// [`Study::ask`](crate::Study::ask) that is never told keeps workers waiting until the
    /// time limit, if any. Waiting trials numbered `n` or more (enqueued beyond the budget)
    /// are left waiting.
    pub fn study_trials(n: u64) -> Self {
        Budget { study_trials: Some(n), ..Budget::default() }
    }

    /// Adds a study-wide trial limit (see [`study_trials`](Self::study_trials)).
    pub fn with_study_trials(mut self, n: u64) -> Self {
        self.study_trials = Some(n);
        self
    }

    /// No new trial after `limit` has passed.
    pub fn time(limit: Duration) -> Self {
        Budget { time: Some(limit), ..Budget::default() }
    }

    /// Adds a trial limit.
    pub fn with_trials(mut self, n: usize) -> Self {
        self.trials = Some(n);
        self
    }

    /// Adds a wall-clock limit.
    pub fn with_time(mut self, limit: Duration) -> Self {
        self.time = Some(limit);
        self
    }

    /// Stops after `n` failed trials in this run (at least 1). Failures of earlier runs of the
    /// study do not count: a resumed study gets `n` new chances. (To stop at the first failure
    /// with an error instead, see [`StudyBuilder::stop_on_failure`](crate::StudyBuilder).)
    pub fn max_failed(mut self, n: usize) -> Self {
        self.max_failed = Some(n);
        self
    }

    /// Stops when the best feasible complete trial reaches `value`: at most `value` for a
    /// minimized objective, at least `value` for a maximized one. Trials of earlier runs count
    /// (checked after each trial of this run). One objective only: a study with several is
    /// refused.
    pub fn target(mut self, value: f64) -> Self {
        self.target = Some(value);
        self
    }

    /// Stops when none of the last `n` trials finished by this run (complete, pruned or failed)
    /// improved the best feasible value, trials of earlier runs included, by more than the
    /// [`min_delta`](Self::min_delta) (0 by default: any strict improvement counts). One
    /// objective only.
    pub fn patience(mut self, n: usize) -> Self {
        self.patience = Some(n);
        self
    }

    /// The improvement needed to reset the [`patience`](Self::patience) count, in the
    /// objective's units (at least 0).
    pub fn min_delta(mut self, delta: f64) -> Self {
        self.min_delta = delta;
        self
    }

    /// Stops when the estimated remaining improvement is smaller than the noise of the score
    /// (see [`GoodEnough`]). One objective only.
    pub fn good_enough(mut self, rule: GoodEnough) -> Self {
        self.good_enough = Some(rule);
        self
    }

    /// Checks the settings for a study with `objectives` objectives, as `optimize` does before
    /// its first trial: call it to refuse a budget before anything is stored (the command line
    /// does, before it creates the study).
    pub fn validate(&self, objectives: usize) -> Result<()> {
        let bad = |m: String| Err(Error::InvalidConfig(m));
        if self.trials.is_none() && self.study_trials.is_none() && self.time.is_none() {
            return bad(
                "the budget has neither a number of trials nor a time limit; the study might \
                 never stop. Use Budget::trials(n), Budget::study_trials(n) or Budget::time(d), \
                 and add the other limits to it"
                    .into(),
            );
        }
        if self.max_failed == Some(0) {
            return bad("max_failed must be at least 1 (to stop at the first failure, use \
                        max_failed(1))"
                .into());
        }
        if let Some(t) = self.target {
            if !t.is_finite() {
                return bad(format!("target must be a finite number, not {t}"));
            }
        }
        if self.patience == Some(0) {
            return bad("patience must be at least 1 trial".into());
        }
        if !(self.min_delta.is_finite() && self.min_delta >= 0.0) {
            return bad(format!("min_delta must be a finite number ≥ 0, not {}", self.min_delta));
        }
        if self.min_delta > 0.0 && self.patience.is_none() {
            return bad("min_delta is set without patience; add Budget::patience(n)".into());
        }
        if let Some(g) = &self.good_enough {
            g.validate()?;
        }
        if objectives != 1 {
            for (set, name) in [
                (self.target.is_some(), "target"),
                (self.patience.is_some(), "patience"),
                (self.good_enough.is_some(), "good_enough"),
            ] {
                if set {
                    return bad(format!(
                        "{name} needs a single-objective study, and this one has {objectives} \
                         objectives; use a number of trials, a time limit or max_failed, or \
                         stop from a callback"
                    ));
                }
            }
        }
        Ok(())
    }
}

/// Where [`GoodEnough`] takes the noise of the score from.
#[derive(Debug, Clone, PartialEq)]
pub enum Noise {
    /// From each complete trial's user attribute of that name: a number (the standard deviation
    /// of the score over the cross-validation folds), or an object holding it under
    /// `"validation_std"` (as tunewise-ml's workflow writes in `"tunewise_ml.cv"`). The number of folds
    /// `k` is the number of intermediate values of the trial (one per fold); the noise is then
    /// the standard error of Nadeau & Bengio's corrected resampled t-test, as Optuna's
    /// terminator computes it: `√((1/k + 1/(k−1)) · v)` with `v = s²·(k−1)/k` the fold scores'
    /// population variance (`s` the sample standard deviation stored). With fewer than two
    /// intermediate values, `s` itself is used. The study's noise is the root mean square of
    /// the trials' noises. (Optuna's terminator takes the best trial's alone; pooled, the
    /// estimate is steadier: a standard deviation of 5 fold scores is off by 35% on average.)
    Attr(String),
    /// A fixed standard deviation, in the objective's units.
    Fixed(f64),
}

/// "Good enough" stopping: stop when the estimated remaining improvement is smaller than the
/// noise of the score, since what is left to find could not be told apart from luck.
///
/// **The rule** (Makarova et al. 2022, "Automatic termination for hyperparameter
/// optimization"; the rule of Optuna's `Terminator`). After each trial, once there are
/// [`min_trials`](Self::min_trials) complete trials (20 by default):
///
/// 1. a Gaussian process (the [`GpSampler`](crate::GpSampler)'s model: Matérn 5/2 kernel, one
///    length scale per parameter, fitted noise) is fitted to the best half of the complete
///    trials (at least `min_trials`, at most 200), over the parameters they all share;
/// 2. the regret of the best trial is bounded by `min UCB − min LCB`: the smallest upper
///    confidence bound `μ + √β·σ` over the modelled trials minus the smallest lower bound
///    `μ − √β·σ` over the whole space (approximated by 512 random points, perturbations of
///    the trials and 5 bounded L-BFGS searches), with
///    `β = 2·ln(d·n²·π²/(6·0.1)) / 5` (GP-UCB's schedule, scaled down by 5 as in the paper);
/// 3. the run stops when that bound is smaller than the noise ([`Noise`]): by default the
///    cross-validation standard error of the best trial.
///
/// **Limits.** The bound is only as good as the model: a GP with too few trials, or an objective
/// that the Matérn kernel fits badly (steps, many categorical choices) may stop too early or
/// never; the minimum of the lower bound is approximate (a larger value, so a smaller bound).
/// When the best trial has no noise attribute, the rule cannot decide and the run goes on.
/// Parameters that not every complete trial has are left out of the model; when no parameter
/// is shared, the rule cannot decide. The check costs a GP fit per complete trial: measured
/// (release build, 3 parameters) 6–8 ms with 20 to 50 trials in the model, 80 ms with 200.
#[derive(Debug, Clone, PartialEq)]
pub struct GoodEnough {
    pub(crate) noise: Noise,
    pub(crate) min_trials: usize,
    pub(crate) seed: u64,
}

impl GoodEnough {
    /// The noise from tunewise-ml's cross-validation attribute, `"tunewise_ml.cv"` (see
    /// [`Noise::Attr`]).
    pub fn cross_validation() -> Self {
        Self::with_noise(Noise::Attr(CV_ATTR.into()))
    }

    /// A fixed noise: the standard deviation of the score, in the objective's units (> 0).
    pub fn fixed_noise(sd: f64) -> Self {
        Self::with_noise(Noise::Fixed(sd))
    }

    /// The noise from somewhere else (see [`Noise`]).
    pub fn with_noise(noise: Noise) -> Self {
        GoodEnough { noise, min_trials: 20, seed: 0 }
    }

    /// Complete trials needed before the rule may stop the run (default 20, at least 5).
    pub fn min_trials(mut self, n: usize) -> Self {
        self.min_trials = n;
        self
    }

    /// The seed of the random points the lower bound is minimized over (default 0).
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    fn validate(&self) -> Result<()> {
        if self.min_trials < 5 {
            return Err(Error::InvalidConfig(format!(
                "good_enough: min_trials must be at least 5 (the model needs trials to be \
                 trusted), not {}",
                self.min_trials
            )));
        }
        match &self.noise {
            Noise::Fixed(sd) if !(sd.is_finite() && *sd > 0.0) => Err(Error::InvalidConfig(
                format!("good_enough: the fixed noise must be a finite number > 0, not {sd}"),
            )),
            Noise::Attr(name) if name.is_empty() => {
                Err(Error::InvalidConfig("good_enough: the noise attribute's name is empty".into()))
            }
            _ => Ok(()),
        }
    }

    /// The noise of one trial's score: the corrected standard error of its cross-validation
    /// (see [`Noise::Attr`]), or the fixed value; `None` when it cannot be read.
    fn noise_of(&self, trial: &FrozenTrial) -> Option<f64> {
        let name = match &self.noise {
            Noise::Fixed(sd) => return Some(*sd),
            Noise::Attr(name) => name,
        };
        let s = match trial.user_attrs.get(name)? {
            AttrValue::Number(n) => n.as_f64()?,
            AttrValue::Object(o) => o.get(CV_STD_KEY)?.as_f64()?,
            _ => return None,
        };
        if !(s.is_finite() && s >= 0.0) {
            return None;
        }
        let k = trial.intermediate_values.len() as f64;
        if k < 2.0 {
            return Some(s);
        }
        Some((s * s * (k - 1.0) / k * (1.0 / k + 1.0 / (k - 1.0))).sqrt())
    }

    /// The noise of the study's scores: the fixed value, or the root mean square of the complete
    /// trials' noises (`None` if none of them has one).
    fn noise(&self, trials: &[Arc<FrozenTrial>]) -> Option<f64> {
        if let Noise::Fixed(sd) = self.noise {
            return Some(sd);
        }
        let (sum, n) = trials
            .iter()
            .filter(|t| t.state == TrialState::Complete)
            .filter_map(|t| self.noise_of(t))
            .fold((0.0, 0usize), |(s, n), v| (s + v * v, n + 1));
        (n > 0).then(|| (sum / n as f64).sqrt())
    }
}

/// Why [`Study::optimize`](crate::Study::optimize) stopped. Its `Display` explains it; each run
/// also writes it to the study's user attribute [`STOP_REASON_ATTR`] (this value as JSON, with
/// the explanation under `"message"`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum StopReason {
    /// The number of trials of the budget was reached.
    TrialBudget,
    /// The study holds the trials of [`Budget::study_trials`], all finished.
    StudyTrialBudget {
        /// The study-wide number of trials.
        trials: u64,
    },
    /// The wall-clock limit of the budget was reached.
    TimeLimit,
    /// A callback asked to stop.
    Callback,
    /// The sampler has nothing left to propose (for example a finished grid).
    SearchSpaceExhausted,
    /// [`Budget::max_failed`] trials of this run failed.
    FailedTrials {
        /// Failed trials in this run.
        failed: usize,
        /// The last of them.
        last_trial: u64,
    },
    /// The best value reached [`Budget::target`].
    TargetReached {
        /// The target.
        target: f64,
        /// The best value.
        best: f64,
        /// Its trial.
        best_trial: u64,
    },
    /// [`Budget::patience`] trials in a row did not improve the best value.
    NoImprovement {
        /// The patience: trials without improvement.
        trials: usize,
        /// The best value.
        best: f64,
        /// Its trial.
        best_trial: u64,
    },
    /// The estimated remaining improvement fell below the noise ([`Budget::good_enough`]).
    GoodEnough {
        /// The bound on the remaining improvement, in the objective's units.
        remaining: f64,
        /// The noise it was compared with.
        noise: f64,
        /// Whether the noise came from the trials' cross-validation (else it was given).
        cross_validation: bool,
        /// Complete trials when it stopped.
        complete_trials: usize,
    },
}

impl fmt::Display for StopReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StopReason::TrialBudget => f.write_str("the trial budget was used"),
            StopReason::StudyTrialBudget { trials } => {
                write!(
                    f,
                    "the trial budget was used: the study holds its {trials} trials, all finished"
                )
            }
            StopReason::TimeLimit => f.write_str("the time limit was reached"),
            StopReason::Callback => f.write_str("a callback stopped the study"),
            StopReason::SearchSpaceExhausted => f.write_str("the search space is exhausted"),
            StopReason::FailedTrials { failed, last_trial } => write!(
                f,
                "{failed} trials failed in this run, the most allowed (the last: trial \
                 {last_trial})"
            ),
            StopReason::TargetReached { target, best, best_trial } => {
                write!(f, "the target {target} was reached (best {best} at trial {best_trial})")
            }
            StopReason::NoImprovement { trials, best, best_trial } => write!(
                f,
                "no improvement in the last {trials} trials (best {best} at trial {best_trial})"
            ),
            StopReason::GoodEnough { remaining, noise, cross_validation, complete_trials } => {
                let source = if *cross_validation { "cross-validation noise" } else { "noise" };
                write!(
                    f,
                    "estimated remaining improvement {} < {source} {} (after {complete_trials} \
                     complete trials)",
                    significant(*remaining),
                    significant(*noise)
                )
            }
        }
    }
}

/// `x` to 3 significant digits, without trailing zeros; in scientific notation outside
/// `[1e-4, 1e6)`.
fn significant(x: f64) -> String {
    let a = x.abs();
    if x == 0.0 || !x.is_finite() {
        return x.to_string();
    }
    if !(1e-4..1e6).contains(&a) {
        return format!("{x:.2e}");
    }
    let decimals = (2 - a.log10().floor() as i32).max(0) as usize;
    let s = format!("{x:.decimals$}");
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_owned()
    } else {
        s
    }
}

impl StopReason {
    /// The value written to the study's [`STOP_REASON_ATTR`].
    pub(crate) fn to_attr(&self) -> AttrValue {
        let mut v = serde_json::to_value(self).unwrap_or(AttrValue::Null);
        if let AttrValue::Object(o) = &mut v {
            o.insert("message".into(), AttrValue::String(self.to_string()));
        }
        v
    }
}

/// The early-stopping state of one run: updated after each trial it finishes.
#[derive(Debug)]
pub(crate) struct Stopper {
    budget: Budget,
    direction: Option<Direction>,
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    failed: usize,
    /// The best feasible complete trial (value, number), earlier runs included.
    best: Option<(f64, u64)>,
    /// The value an improvement must beat by more than `min_delta`.
    reference: Option<f64>,
    since_improvement: usize,
}

impl Stopper {
    /// A stopper for a run of a study with these directions whose trials so far are `trials`.
    pub(crate) fn new(
        budget: &Budget,
        directions: &[Direction],
        trials: &[Arc<FrozenTrial>],
    ) -> Self {
        let direction = match directions {
            [d] => Some(*d),
            _ => None,
        };
        let mut state = State::default();
        if let Some(dir) = direction {
            for t in trials {
                state.offer(dir, t);
            }
            state.reference = state.best.map(|b| b.0);
        }
        Stopper { budget: budget.clone(), direction, state: Mutex::new(state) }
    }

    /// Whether the run stops after `trial`; `all` reads the study's trials (for the
    /// good-enough rule only, which needs them all).
    pub(crate) fn after_trial(
        &self,
        trial: &FrozenTrial,
        all: impl FnOnce() -> Result<Vec<Arc<FrozenTrial>>>,
    ) -> Result<Option<StopReason>> {
        let mut st = self.state.lock().unwrap_or_else(|e| e.into_inner());
        if trial.state == TrialState::Failed {
            st.failed += 1;
        }
        if let Some(n) = self.budget.max_failed {
            if st.failed >= n {
                return Ok(Some(StopReason::FailedTrials {
                    failed: st.failed,
                    last_trial: trial.number,
                }));
            }
        }
        let Some(dir) = self.direction else { return Ok(None) };
        let improved = st.offer(dir, trial) && {
            let best = st.best.map_or(f64::NAN, |b| b.0);
            match st.reference {
                None => true,
                Some(r) => dir.to_minimize(r) - dir.to_minimize(best) > self.budget.min_delta,
            }
        };
        if improved {
            st.reference = st.best.map(|b| b.0);
            st.since_improvement = 0;
        } else {
            st.since_improvement += 1;
        }
        if let (Some(target), Some((best, best_trial))) = (self.budget.target, st.best) {
            if !dir.better(target, best) {
                return Ok(Some(StopReason::TargetReached { target, best, best_trial }));
            }
        }
        if let (Some(n), Some((best, best_trial))) = (self.budget.patience, st.best) {
            if st.since_improvement >= n {
                return Ok(Some(StopReason::NoImprovement { trials: n, best, best_trial }));
            }
        }
        if let Some(rule) = &self.budget.good_enough {
            if trial.state == TrialState::Complete {
                drop(st);
                return self.good_enough(rule, dir, &all()?);
            }
        }
        Ok(None)
    }

    fn good_enough(
        &self,
        rule: &GoodEnough,
        dir: Direction,
        trials: &[Arc<FrozenTrial>],
    ) -> Result<Option<StopReason>> {
        let complete = trials.iter().filter(|t| t.state == TrialState::Complete).count();
        if complete < rule.min_trials {
            return Ok(None);
        }
        let Some(noise) = rule.noise(trials) else { return Ok(None) };
        let mut rng = Rng::derive(rule.seed, &[complete as u64]);
        let Some(remaining) =
            crate::samplers::regret_bound(dir, trials, rule.min_trials, noise, &mut rng)
        else {
            return Ok(None);
        };
        Ok((remaining < noise).then_some(StopReason::GoodEnough {
            remaining,
            noise,
            cross_validation: matches!(rule.noise, Noise::Attr(_)),
            complete_trials: complete,
        }))
    }
}

impl State {
    /// Takes `t` into the best; whether it is a new best.
    fn offer(&mut self, dir: Direction, t: &FrozenTrial) -> bool {
        if t.state != TrialState::Complete || !t.is_feasible() {
            return false;
        }
        let Some(v) = t.value().filter(|v| !v.is_nan()) else { return false };
        match self.best {
            Some((b, _)) if !dir.better(v, b) => false,
            _ => {
                self.best = Some((v, t.number));
                true
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::significant;

    #[test]
    fn figures_are_shown_to_three_significant_digits() {
        let cases = [
            (0.0012, "0.0012"),
            (0.004, "0.004"),
            (0.0123456, "0.0123"),
            (1.0, "1"),
            (123.456, "123"),
            (99999.0, "99999"),
            (2e-6, "2.00e-6"),
            (-0.5, "-0.5"),
            (0.0, "0"),
        ];
        for (x, want) in cases {
            assert_eq!(significant(x), want, "{x}");
        }
    }
}
