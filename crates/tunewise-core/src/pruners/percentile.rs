//! The percentile pruner, and the median pruner (its 50th percentile).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use crate::direction::Direction;
use crate::error::{Error, Result};
use crate::frozen::{FrozenTrial, TrialState};
use crate::multi_objective::dominates;
use crate::pruner::Pruner;
use crate::sampler::StudyView;
use crate::sync::lock;

use super::step_rules::{best_so_far, StepGate};

#[derive(Debug, Clone, Copy, PartialEq)]
struct Settings {
    percentile: f64,
    n_startup_trials: usize,
    gate: StepGate,
    n_min_trials: usize,
}

impl Settings {
    fn with_percentile(percentile: f64) -> Self {
        Settings { percentile, n_startup_trials: 5, gate: StepGate::default(), n_min_trials: 1 }
    }
}

/// Prunes a trial whose intermediate value is worse than a percentile of the complete trials'
/// values at the same step; [`median`](PercentilePruner::median) is Optuna's `MedianPruner`.
///
/// **What it is.** A trial is judged at its latest reported step `s` (see the settings for when
/// it is judged at all). Its value is its *best* intermediate value over its steps up to `s`
/// (NaN ignored), as in Optuna. The reference is the values that the *complete* trials reported
/// at exactly step `s` (NaN ignored); pruned, failed and running trials are left out, since
/// pruned trials are the bad ones and would drag the bar down. The trial is pruned when its value
/// is strictly worse than the `percentile`-th percentile of that reference (for a maximized
/// objective, the `(100 − percentile)`-th, so that a smaller percentile always prunes more).
/// Percentiles interpolate linearly between sorted values (numpy's default). A trial with no
/// number at all so far (only NaN) is pruned once it is judged.
///
/// **Several objectives.** The trial's point is its best value so far in each objective (NaN
/// ignored; an objective with no number prunes it). The comparable trials are the `m` complete
/// trials that reported a number in every objective at step `s`. The trial is pruned when more
/// than `percentile / 100 · (m − 1)` of them Pareto-dominate its point (directions from the
/// study). For the median: dominated by more than half of the others. With one objective the
/// single-objective rule above applies; it agrees with this count up to interpolation.
///
/// **When to use it.** Learning curves that rank early what they rank at the end (epochs of a
/// neural network, boosting rounds), with a few complete trials first. Use the median for a
/// balanced default, a lower percentile (25) to prune harder, a higher one (75) to prune less.
///
/// **Settings** (builder, checked at [`build`](PercentileBuilder::build)):
/// `n_startup_trials` (default 5: no pruning until that many trials are complete),
/// `n_warmup_steps` (default 0: no pruning before the trial reports that step),
/// `interval_steps` (default 1: judge every step; `k` judges once every `k` steps, as Optuna),
/// `n_min_trials` (default 1: no pruning at a step fewer complete trials reported).
///
/// **Cost.** The reference is cached: per step, the complete trials' sorted values (one
/// objective) or their points (several), grown incrementally when trials complete. The cache
/// holds the trial records of its last call and compares them by pointer (an unchanged record);
/// a complete trial that is gone or differs rebuilds it, so it never answers for another
/// history. A call costs O(n) pointer comparisons, the trial's own steps and one percentile:
/// about 1 µs with 1,000 complete trials of 100 steps; with two objectives a dominance count,
/// about 5 µs; building the reference from scratch about 10 ms, once (`docs/benchmarks.md`).
#[derive(Debug)]
pub struct PercentilePruner {
    settings: Settings,
    cache: Mutex<Reference>,
}

impl Clone for PercentilePruner {
    fn clone(&self) -> Self {
        PercentilePruner { settings: self.settings, cache: Mutex::new(Reference::default()) }
    }
}

/// Builds a [`PercentilePruner`]; every setting is checked by [`build`](Self::build).
#[derive(Debug, Clone)]
pub struct PercentileBuilder {
    settings: Settings,
}

impl PercentilePruner {
    /// A builder for the `percentile`-th percentile, in (0, 100).
    pub fn builder(percentile: f64) -> PercentileBuilder {
        PercentileBuilder { settings: Settings::with_percentile(percentile) }
    }

    /// The `percentile`-th percentile pruner with the default settings.
    pub fn new(percentile: f64) -> Result<Self> {
        Self::builder(percentile).build()
    }

    /// A builder for the median (the 50th percentile): Optuna's `MedianPruner`.
    pub fn median_builder() -> PercentileBuilder {
        Self::builder(50.0)
    }

    /// The median pruner with the default settings.
    pub fn median() -> Self {
        PercentilePruner {
            settings: Settings::with_percentile(50.0),
            cache: Mutex::new(Reference::default()),
        }
    }

    /// The percentile, in (0, 100).
    pub fn percentile(&self) -> f64 {
        self.settings.percentile
    }
}

impl PercentileBuilder {
    /// Complete trials needed before any pruning (default 5).
    pub fn n_startup_trials(mut self, n: usize) -> Self {
        self.settings.n_startup_trials = n;
        self
    }

    /// Steps before which a trial is never pruned (default 0).
    pub fn n_warmup_steps(mut self, steps: u64) -> Self {
        self.settings.gate.n_warmup_steps = steps;
        self
    }

    /// Judge once every this many steps after the warm-up (default 1, at least 1).
    pub fn interval_steps(mut self, steps: u64) -> Self {
        self.settings.gate.interval_steps = steps;
        self
    }

    /// Complete trials that must have reported the step for a trial to be judged there
    /// (default 1, at least 1).
    pub fn n_min_trials(mut self, n: usize) -> Self {
        self.settings.n_min_trials = n;
        self
    }

    /// Checks the settings and builds the pruner.
    pub fn build(self) -> Result<PercentilePruner> {
        let s = self.settings;
        if !(s.percentile > 0.0 && s.percentile < 100.0) {
            return Err(Error::InvalidConfig(format!(
                "percentile pruner: percentile must be in (0, 100), got {}; use 50 for the median",
                s.percentile
            )));
        }
        if s.n_min_trials == 0 {
            return Err(Error::InvalidConfig(
                "percentile pruner: n_min_trials must be at least 1".into(),
            ));
        }
        s.gate.validate("percentile pruner")?;
        Ok(PercentilePruner { settings: s, cache: Mutex::new(Reference::default()) })
    }
}

impl Pruner for PercentilePruner {
    fn prune(&self, study: &StudyView<'_>, trial: &FrozenTrial) -> Result<bool> {
        let s = &self.settings;
        let Some(step) = s.gate.judged_step(trial) else { return Ok(false) };
        let directions = study.directions();
        let mut reference = lock(&self.cache);
        reference.update(directions, study.trials());
        if reference.complete < s.n_startup_trials.max(1) {
            return Ok(false);
        }
        let mut point = Vec::with_capacity(directions.len());
        for (i, d) in directions.iter().enumerate() {
            match best_so_far(trial, *d, i, step) {
                Some(v) => point.push(v),
                None => return Ok(true),
            }
        }
        match directions {
            [] => Ok(false),
            [direction] => {
                let Some(values) = reference.steps.get(&step) else { return Ok(false) };
                if values.len() < s.n_min_trials {
                    return Ok(false);
                }
                let q = match direction {
                    Direction::Minimize => s.percentile,
                    Direction::Maximize => 100.0 - s.percentile,
                };
                let bar = percentile_of_sorted(values, q);
                // A NaN bar (infinities of both signs) prunes nothing.
                Ok(direction.better(bar, point[0]))
            }
            _ => {
                let n = directions.len();
                let Some(rows) = reference.steps.get(&step) else { return Ok(false) };
                let m = rows.len() / n;
                if m < s.n_min_trials {
                    return Ok(false);
                }
                let point: Vec<f64> =
                    directions.iter().zip(&point).map(|(d, v)| d.to_minimize(*v)).collect();
                let dominating = rows.chunks_exact(n).filter(|row| dominates(row, &point)).count();
                Ok(dominating as f64 > s.percentile / 100.0 * (m - 1) as f64)
            }
        }
    }
}

/// The `q`-th percentile (0 ≤ q ≤ 100) of sorted, non-empty `values`, interpolated linearly.
fn percentile_of_sorted(values: &[f64], q: f64) -> f64 {
    let Some(last) = values.len().checked_sub(1) else { return f64::NAN };
    let position = q / 100.0 * last as f64;
    let lo = (position.floor() as usize).min(last);
    let hi = (lo + 1).min(last);
    let fraction = position - lo as f64;
    if fraction == 0.0 || values[lo] == values[hi] {
        return values[lo];
    }
    values[lo] + (values[hi] - values[lo]) * fraction
}

/// The complete trials' values by step, and the trials they come from.
///
/// Complete trials never change, so the table grows by the trials that completed since the last
/// call. It is rebuilt from scratch when a trial it holds is no longer there, complete and equal
/// (another study, a reloaded storage), or when the directions change.
#[derive(Debug, Default)]
struct Reference {
    directions: Vec<Direction>,
    /// Every trial of the last call, by position. Holding the `Arc`s keeps their addresses, so
    /// pointer equality means the same, unchanged record: a call on an unchanged history only
    /// compares pointers.
    seen: Vec<Arc<FrozenTrial>>,
    /// How many of `seen` are complete.
    complete: usize,
    /// One objective: the sorted numbers reported at each step. Several: the rows reported at
    /// each step (one value per objective, turned into values to minimize, no NaN), back to back.
    steps: BTreeMap<u64, Vec<f64>>,
}

impl Reference {
    fn update(&mut self, directions: &[Direction], trials: &[Arc<FrozenTrial>]) {
        if self.directions != directions {
            *self = Reference { directions: directions.to_vec(), ..Reference::default() };
        }
        let unchanged = |i: usize| self.seen.get(i).is_some_and(|s| Arc::ptr_eq(s, &trials[i]));
        if trials.len() == self.seen.len() && (0..trials.len()).all(unchanged) {
            return;
        }
        let mut added: Vec<usize> = Vec::new();
        let mut valid = trials.len() >= self.seen.len();
        for (i, t) in trials.iter().enumerate() {
            match self.seen.get_mut(i) {
                Some(old) if Arc::ptr_eq(old, t) => {}
                Some(old) => {
                    if old.state == TrialState::Complete {
                        // A complete trial never changes: an unequal record is another history.
                        valid &= t.state == TrialState::Complete && **old == **t;
                    } else if t.state == TrialState::Complete {
                        added.push(i);
                    }
                    *old = t.clone();
                }
                None => {
                    if t.state == TrialState::Complete {
                        added.push(i);
                    }
                    self.seen.push(t.clone());
                }
            }
        }
        if !valid {
            self.seen = trials.to_vec();
            self.complete = 0;
            self.steps.clear();
            added =
                (0..trials.len()).filter(|i| trials[*i].state == TrialState::Complete).collect();
        }
        let mut touched = Vec::new();
        for i in added {
            self.insert(&trials[i], &mut touched);
        }
        if self.directions.len() == 1 {
            touched.sort_unstable();
            touched.dedup();
            for step in touched {
                if let Some(values) = self.steps.get_mut(&step) {
                    // A sorted run and a few new values: the stable sort merges them in O(n).
                    values.sort_by(f64::total_cmp);
                }
            }
        }
    }

    fn insert(&mut self, trial: &FrozenTrial, touched: &mut Vec<u64>) {
        self.complete += 1;
        let n = self.directions.len();
        for (&step, row) in &trial.intermediate_values {
            if row.len() != n || row.iter().any(|v| v.is_nan()) {
                continue;
            }
            let values = self.steps.entry(step).or_default();
            values.extend(self.directions.iter().zip(row).map(|(d, v)| {
                if n == 1 {
                    *v
                } else {
                    d.to_minimize(*v)
                }
            }));
            touched.push(step);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::percentile_of_sorted;

    #[test]
    fn percentiles_interpolate_like_numpy() {
        let v = [1.0, 2.0, 3.0, 4.0];
        assert_eq!(percentile_of_sorted(&v, 50.0), 2.5);
        assert_eq!(percentile_of_sorted(&v, 0.0), 1.0);
        assert_eq!(percentile_of_sorted(&v, 100.0), 4.0);
        assert_eq!(percentile_of_sorted(&v, 25.0), 1.75);
        assert_eq!(percentile_of_sorted(&[7.0], 30.0), 7.0);
        assert!(percentile_of_sorted(&[], 30.0).is_nan());
    }
}
