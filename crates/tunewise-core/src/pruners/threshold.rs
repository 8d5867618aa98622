//! The threshold pruner: fixed bounds on the intermediate values.

use crate::error::{Error, Result};
use crate::frozen::FrozenTrial;
use crate::pruner::Pruner;
use crate::sampler::StudyView;

use super::step_rules::StepGate;

/// Lower and upper bounds of one objective.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
struct Bounds {
    lower: Option<f64>,
    upper: Option<f64>,
}

/// Prunes a trial whose latest intermediate value is NaN or outside fixed bounds.
///
/// **What it is.** At its latest reported step (after the warm-up, once per interval, as the
/// [`PercentilePruner`](crate::PercentilePruner)), a trial is pruned when a value is NaN, below
/// its objective's lower bound or above its upper bound. Bounds are strict: a value equal to a
/// bound is kept. The directions play no part: a bound says what is out of the question
/// (a diverged loss above 1e3, an accuracy below chance). Like Optuna's `ThresholdPruner`.
///
/// **Several objectives.** Each objective has its own optional bounds
/// ([`objective`](ThresholdBuilder::objective)); the trial is pruned when *any* objective is
/// NaN or outside its bounds. Objectives without bounds are only checked for NaN. Bounds given
/// for an objective the study does not have are refused when the pruner is asked.
///
/// **When to use it.** Divergence and hopeless configurations known in advance, alone or as the
/// pruner of a study whose other pruners need history (it needs none: it prunes from trial 0).
///
/// **Settings.** [`lower`](ThresholdBuilder::lower) and/or [`upper`](ThresholdBuilder::upper)
/// (objective 0), or [`objective`](ThresholdBuilder::objective) for any objective: at least one
/// bound, finite, lower < upper. `n_warmup_steps` (default 0), `interval_steps` (default 1).
///
/// **Cost.** O(objectives) per call: it reads only the trial judged.
#[derive(Debug, Clone, PartialEq)]
pub struct ThresholdPruner {
    bounds: Vec<Bounds>,
    gate: StepGate,
}

/// Builds a [`ThresholdPruner`]; every setting is checked by [`build`](Self::build).
#[derive(Debug, Clone, Default)]
pub struct ThresholdBuilder {
    bounds: Vec<Bounds>,
    gate: StepGate,
}

impl ThresholdPruner {
    /// A builder with no bound yet.
    pub fn builder() -> ThresholdBuilder {
        ThresholdBuilder::default()
    }
}

impl ThresholdBuilder {
    fn bounds_mut(&mut self, objective: usize) -> &mut Bounds {
        if self.bounds.len() <= objective {
            self.bounds.resize(objective + 1, Bounds::default());
        }
        &mut self.bounds[objective]
    }

    /// Prunes values of objective 0 below `lower`.
    pub fn lower(mut self, lower: f64) -> Self {
        self.bounds_mut(0).lower = Some(lower);
        self
    }

    /// Prunes values of objective 0 above `upper`.
    pub fn upper(mut self, upper: f64) -> Self {
        self.bounds_mut(0).upper = Some(upper);
        self
    }

    /// Sets the bounds of objective `objective` (0-based); `None` for no bound on that side.
    pub fn objective(mut self, objective: usize, lower: Option<f64>, upper: Option<f64>) -> Self {
        *self.bounds_mut(objective) = Bounds { lower, upper };
        self
    }

    /// Steps before which a trial is never pruned (default 0).
    pub fn n_warmup_steps(mut self, steps: u64) -> Self {
        self.gate.n_warmup_steps = steps;
        self
    }

    /// Judge once every this many steps after the warm-up (default 1, at least 1).
    pub fn interval_steps(mut self, steps: u64) -> Self {
        self.gate.interval_steps = steps;
        self
    }

    /// Checks the settings and builds the pruner.
    pub fn build(self) -> Result<ThresholdPruner> {
        if !self.bounds.iter().any(|b| b.lower.is_some() || b.upper.is_some()) {
            return Err(Error::InvalidConfig(
                "threshold pruner: give at least one bound (lower, upper or objective(i, ..))"
                    .into(),
            ));
        }
        for (i, b) in self.bounds.iter().enumerate() {
            for (side, v) in [("lower", b.lower), ("upper", b.upper)] {
                if let Some(v) = v.filter(|v| !v.is_finite()) {
                    return Err(Error::InvalidConfig(format!(
                        "threshold pruner: the {side} bound of objective {i} must be finite, got \
                         {v}; leave it out for no bound"
                    )));
                }
            }
            if let (Some(lo), Some(hi)) = (b.lower, b.upper) {
                if lo >= hi {
                    return Err(Error::InvalidConfig(format!(
                        "threshold pruner: objective {i} has lower bound {lo} >= upper bound \
                         {hi}; the lower bound must be smaller"
                    )));
                }
            }
        }
        self.gate.validate("threshold pruner")?;
        Ok(ThresholdPruner { bounds: self.bounds, gate: self.gate })
    }
}

impl Pruner for ThresholdPruner {
    fn prune(&self, study: &StudyView<'_>, trial: &FrozenTrial) -> Result<bool> {
        let n = study.directions().len();
        if self.bounds.len() > n {
            return Err(Error::InvalidConfig(format!(
                "threshold pruner: bounds are given for objective {}, but the study has {n} \
                 objective(s)",
                self.bounds.len() - 1
            )));
        }
        let Some(step) = self.gate.judged_step(trial) else { return Ok(false) };
        let Some(row) = trial.intermediate_values.get(&step) else { return Ok(false) };
        for (i, v) in row.iter().enumerate() {
            if v.is_nan() {
                return Ok(true);
            }
            let b = self.bounds.get(i).copied().unwrap_or_default();
            if b.lower.is_some_and(|lo| *v < lo) || b.upper.is_some_and(|hi| *v > hi) {
                return Ok(true);
            }
        }
        Ok(false)
    }
}
