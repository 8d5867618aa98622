//! The patience pruner: waits for a number of steps without improvement.

use crate::direction::Direction;
use crate::error::{Error, Result};
use crate::frozen::FrozenTrial;
use crate::pruner::Pruner;
use crate::sampler::StudyView;

/// Prunes a trial that has not improved for `patience` steps, and only if the pruner it wraps
/// agrees (or on that alone, when it wraps none).
///
/// **What it is.** Optuna's `PatientPruner`. The trial's reported steps, in order, are split
/// into the last `patience + 1` (the window) and those before. The trial has *stalled* in an
/// objective when the best value of the window does not beat the best value before it by more
/// than `min_delta`: for a minimized objective, `best_window > best_before − min_delta`, for a
/// maximized one `best_window < best_before + min_delta` (NaN ignored; a window of NaN only has
/// stalled, a history before the window of NaN only has not). A trial with at most
/// `patience + 1` reports has not stalled. When the trial has stalled, the wrapped pruner
/// decides; without one, the trial is pruned. Optuna's rule, except for NaN, where Optuna's
/// comparisons with NaN never prune.
///
/// Note that with `min_delta = 0` a flat curve (window best equal to the best before) has not
/// stalled: give a small positive `min_delta` to prune plateaus.
///
/// **Several objectives.** The trial has stalled when it has stalled in *every* objective (no
/// objective improved); the wrapped pruner then applies its own several-objectives rule.
///
/// **When to use it.** Noisy curves that plateau (validation loss over epochs): wrapped around
/// the median it stops a trial that is both behind and no longer improving, and spares a trial
/// that is behind but still improving.
///
/// **Settings.** `patience` (steps, required, 0 or more: 0 means the latest step must improve),
/// `min_delta` (default 0, finite, ≥ 0), the wrapped pruner (default none).
///
/// **Cost.** O(steps · objectives) of the trial judged, plus the wrapped pruner's cost when the
/// trial has stalled.
#[derive(Debug)]
pub struct PatiencePruner {
    patience: usize,
    min_delta: f64,
    inner: Option<Box<dyn Pruner>>,
}

/// Builds a [`PatiencePruner`]; every setting is checked by [`build`](Self::build).
#[derive(Debug)]
pub struct PatienceBuilder {
    patience: usize,
    min_delta: f64,
    inner: Option<Box<dyn Pruner>>,
}

impl PatiencePruner {
    /// A builder that waits `patience` steps without improvement.
    pub fn builder(patience: usize) -> PatienceBuilder {
        PatienceBuilder { patience, min_delta: 0.0, inner: None }
    }

    /// Wraps `inner`: prunes when the trial has not improved for `patience` steps and `inner`
    /// says prune.
    pub fn wrap(inner: impl Pruner + 'static, patience: usize) -> Self {
        PatiencePruner { patience, min_delta: 0.0, inner: Some(Box::new(inner)) }
    }
}

impl PatienceBuilder {
    /// The improvement a window must make over the best value before it (default 0, ≥ 0).
    pub fn min_delta(mut self, delta: f64) -> Self {
        self.min_delta = delta;
        self
    }

    /// The pruner that decides once the trial has stalled (default: none, prune on patience
    /// alone). A `Box<dyn Pruner>` works too.
    pub fn wrap(mut self, inner: impl Pruner + 'static) -> Self {
        self.inner = Some(Box::new(inner));
        self
    }

    /// Checks the settings and builds the pruner.
    pub fn build(self) -> Result<PatiencePruner> {
        if !(self.min_delta.is_finite() && self.min_delta >= 0.0) {
            return Err(Error::InvalidConfig(format!(
                "patience pruner: min_delta must be a finite number >= 0, got {}",
                self.min_delta
            )));
        }
        Ok(PatiencePruner { patience: self.patience, min_delta: self.min_delta, inner: self.inner })
    }
}

impl PatiencePruner {
    /// Whether the trial has improved in no objective over its last `patience + 1` steps.
    fn stalled(&self, directions: &[Direction], trial: &FrozenTrial) -> bool {
        let steps = trial.intermediate_values.len();
        if directions.is_empty() || steps <= self.patience.saturating_add(1) {
            return false;
        }
        let split = steps - self.patience - 1;
        directions.iter().enumerate().all(|(i, d)| {
            let values = trial.intermediate_values.values().map(|row| row.get(i).copied());
            let mut before: Option<f64> = None;
            let mut window: Option<f64> = None;
            for (k, v) in values.enumerate() {
                let Some(v) = v.filter(|v| !v.is_nan()) else { continue };
                let slot = if k < split { &mut before } else { &mut window };
                *slot = match *slot {
                    Some(b) if !d.better(v, b) => Some(b),
                    _ => Some(v),
                };
            }
            match (before, window) {
                (_, None) => true,
                (None, Some(_)) => false,
                (Some(b), Some(w)) => match d {
                    Direction::Minimize => w > b - self.min_delta,
                    Direction::Maximize => w < b + self.min_delta,
                },
            }
        })
    }
}

impl Pruner for PatiencePruner {
    fn prune(&self, study: &StudyView<'_>, trial: &FrozenTrial) -> Result<bool> {
        if !self.stalled(study.directions(), trial) {
            return Ok(false);
        }
        match &self.inner {
            Some(inner) => inner.prune(study, trial),
            None => Ok(true),
        }
    }
}
