//! What the percentile, threshold and patience pruners share: the step a trial is judged at,
//! warm-up, pruning intervals, and a trial's best value so far.

use crate::direction::Direction;
use crate::error::{Error, Result};
use crate::frozen::FrozenTrial;

/// When a trial is judged: after its warm-up, once per interval of steps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct StepGate {
    pub(crate) n_warmup_steps: u64,
    pub(crate) interval_steps: u64,
}

impl Default for StepGate {
    fn default() -> Self {
        StepGate { n_warmup_steps: 0, interval_steps: 1 }
    }
}

impl StepGate {
    /// Refuses an interval of zero steps.
    pub(crate) fn validate(&self, pruner: &str) -> Result<()> {
        if self.interval_steps == 0 {
            return Err(Error::InvalidConfig(format!(
                "{pruner}: interval_steps must be at least 1 (1 judges every step)"
            )));
        }
        Ok(())
    }

    /// The step `trial` is judged at now, if it is judged at all: its latest reported step,
    /// when that step is past the warm-up and is the first reported step of its interval.
    ///
    /// Intervals follow Optuna: the pruning steps are `n_warmup_steps + k · interval_steps`; a
    /// report is judged when no earlier report lies at or after the pruning step just below it,
    /// so a trial that skips the exact pruning steps is still judged once per interval.
    pub(crate) fn judged_step(&self, trial: &FrozenTrial) -> Option<u64> {
        let (&step, _) = trial.intermediate_values.last_key_value()?;
        if step < self.n_warmup_steps {
            return None;
        }
        let interval = self.interval_steps.max(1);
        let since = step - self.n_warmup_steps;
        let pruning_step = self.n_warmup_steps + since / interval * interval;
        match trial.intermediate_values.range(..step).next_back() {
            Some((&previous, _)) if previous >= pruning_step => None,
            _ => Some(step),
        }
    }
}

/// The trial's best value of objective `objective` over its steps up to `step`, ignoring NaN;
/// `None` when it has no number there.
pub(crate) fn best_so_far(
    trial: &FrozenTrial,
    direction: Direction,
    objective: usize,
    step: u64,
) -> Option<f64> {
    let mut best: Option<f64> = None;
    for row in trial.intermediate_values.range(..=step).map(|(_, row)| row) {
        let Some(&v) = row.get(objective) else { continue };
        if v.is_nan() {
            continue;
        }
        best = match best {
            Some(b) if !direction.better(v, b) => Some(b),
            _ => Some(v),
        };
    }
    best
}
