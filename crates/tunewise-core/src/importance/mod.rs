//! Parameter importance: which parameters the objective depends on, from the trials of a study.
//!
//! - [`FanovaEvaluator`] (Hutter, Hoos and Leyton-Brown 2014, "An Efficient Approach for
//!   Assessing Hyperparameter Importance"): fits our own [`RandomForestRegressor`] to the trials
//!   and splits the variance of each tree's prediction over the search space into each
//!   parameter's share, exactly, from the boxes of the tree's leaves. Global: how much of the
//!   objective's variation over the whole space each parameter explains. Cost: the forest (about
//!   `n_trees · d · n log² n`), then linear in the leaves.
//! - [`PedAnovaEvaluator`] (Watanabe, Bansal and Hutter 2023, "PED-ANOVA: Efficiently
//!   Quantifying Hyperparameter Importance in Arbitrary Subspaces"): how differently each
//!   parameter is distributed among the best trials than among all (or the better part of the)
//!   trials, as a Pearson divergence of one-dimensional Parzen densities. Local: which parameters
//!   matter to reach the top quantile. Cost: linear in the trials, no model; milliseconds for
//!   thousands of trials.
//!
//! Both implement [`ImportanceEvaluator`]. The trials used are the complete ones that have every
//! evaluated parameter (with one distribution per parameter); with no parameters named, the
//! evaluated parameters are those every complete trial has (the search space's intersection, as
//! Optuna does), single-valued ones left out. Numeric parameters are scaled to `[0, 1]` (on a log
//! scale when their distribution is); the `k`-th of `n` choices of a categorical (or values of a
//! linear int or stepped float) becomes the cell `[k/n, (k+1)/n)`, so every value has the same
//! share of the space (see each evaluator for how it treats categoricals). Trials whose target is not a finite number are left out.
//!
//! Importances are normalised to sum to 1 and sorted from the most important; when the target
//! does not vary at all, every importance is 0.
//!
//! ```
//! use std::sync::Arc;
//! use tunewise_core::importance::{FanovaEvaluator, ImportanceEvaluator, Target};
//! use tunewise_core::{Budget, RandomSampler, Study, TrialError};
//!
//! let study = Study::builder().minimize().sampler(RandomSampler::with_seed(1)).create()?;
//! study.optimize(
//!     |t| -> Result<f64, TrialError> {
//!         let x = t.suggest_float("x", -1.0, 1.0)?;
//!         let y = t.suggest_float("y", -1.0, 1.0)?;
//!         Ok(10.0 * x * x + 0.1 * y)
//!     },
//!     Budget::trials(60),
//! )?;
//! let importances = FanovaEvaluator::new().seed(0).n_trees(16).evaluate(
//!     &study.trials()?,
//!     None,
//!     Target::for_study(&study, 0)?,
//! )?;
//! assert_eq!(importances.entries()[0].0, "x");
//! # Ok::<(), tunewise_core::Error>(())
//! ```

mod fanova;
mod forest;
mod ped_anova;

use std::fmt;
use std::sync::Arc;

use crate::direction::Direction;
use crate::distribution::Distribution;
use crate::error::{Error, Result};
use crate::frozen::{FrozenTrial, TrialState};
use crate::study::Study;

pub use fanova::FanovaEvaluator;
pub use forest::{ForestSettings, RandomForestRegressor, RegressionTree};
pub use ped_anova::PedAnovaEvaluator;

/// Computes parameter importances from trials.
pub trait ImportanceEvaluator {
    /// The importance of each parameter in `params` (all those shared by the complete trials
    /// when `None`) for `target`, normalised to sum to 1 and sorted from the most important.
    ///
    /// Errors when no parameter is left to evaluate, a named parameter is unknown or has
    /// different distributions in different trials, the objective index is out of range, fewer
    /// than 2 usable trials remain, or the evaluator's settings are invalid.
    fn evaluate(
        &self,
        trials: &[Arc<FrozenTrial>],
        params: Option<&[&str]>,
        target: Target,
    ) -> Result<Importances>;
}

/// A user function of a trial, as a [`Target`].
pub type TargetFn = Arc<dyn Fn(&FrozenTrial) -> f64 + Send + Sync>;

/// What the importances explain: one objective, or any number computed from a trial.
///
/// The direction matters to [`PedAnovaEvaluator`] (which trials are the best);
/// [`FanovaEvaluator`] explains the variance and ignores it.
#[derive(Clone)]
pub enum Target {
    /// Objective `index` (0 for a single objective) of the trials' values.
    Objective {
        /// Which objective.
        index: usize,
        /// Whether smaller or larger is better.
        direction: Direction,
    },
    /// A function of the trial (for example a weighted sum of objectives, or the duration).
    Custom {
        /// The function.
        f: TargetFn,
        /// Whether smaller or larger is better.
        direction: Direction,
    },
}

impl Target {
    /// The single objective, minimized.
    pub fn minimize() -> Self {
        Target::Objective { index: 0, direction: Direction::Minimize }
    }

    /// The single objective, maximized.
    pub fn maximize() -> Self {
        Target::Objective { index: 0, direction: Direction::Maximize }
    }

    /// Objective `index` with its direction.
    pub fn objective(index: usize, direction: Direction) -> Self {
        Target::Objective { index, direction }
    }

    /// A function of the trial, with its direction.
    pub fn custom(
        direction: Direction,
        f: impl Fn(&FrozenTrial) -> f64 + Send + Sync + 'static,
    ) -> Self {
        Target::Custom { f: Arc::new(f), direction }
    }

    /// Objective `index` of `study`, in the study's direction for it.
    pub fn for_study(study: &Study, index: usize) -> Result<Self> {
        let directions = study.directions();
        let direction = directions.get(index).copied().ok_or_else(|| {
            Error::InvalidConfig(format!(
                "importance: objective index {index} is out of range; the study has {} \
                 objective(s), numbered from 0",
                directions.len()
            ))
        })?;
        Ok(Target::Objective { index, direction })
    }

    /// Whether smaller is better.
    pub fn direction(&self) -> Direction {
        match self {
            Target::Objective { direction, .. } | Target::Custom { direction, .. } => *direction,
        }
    }
}

impl fmt::Debug for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::Objective { index, direction } => f
                .debug_struct("Objective")
                .field("index", index)
                .field("direction", direction)
                .finish(),
            Target::Custom { direction, .. } => {
                f.debug_struct("Custom").field("direction", direction).finish_non_exhaustive()
            }
        }
    }
}

/// Parameter importances: `(name, importance)` from the most important, summing to 1 (or all 0
/// when the target does not vary).
#[derive(Debug, Clone, PartialEq)]
pub struct Importances {
    entries: Vec<(String, f64)>,
}

impl Importances {
    /// Normalises raw scores (negative ones count as 0) and sorts them, ties by name.
    pub(crate) fn from_scores(names: &[Arc<str>], scores: &[f64]) -> Self {
        let clean: Vec<f64> =
            scores.iter().map(|s| if s.is_finite() && *s > 0.0 { *s } else { 0.0 }).collect();
        let total: f64 = clean.iter().sum();
        let mut entries: Vec<(String, f64)> = names
            .iter()
            .zip(&clean)
            .map(|(n, s)| (n.to_string(), if total > 0.0 { s / total } else { 0.0 }))
            .collect();
        entries.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        Importances { entries }
    }

    /// `(name, importance)`, from the most important.
    pub fn entries(&self) -> &[(String, f64)] {
        &self.entries
    }

    /// One parameter's importance.
    pub fn get(&self, name: &str) -> Option<f64> {
        self.entries.iter().find(|(n, _)| n == name).map(|(_, v)| *v)
    }

    /// The number of parameters.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// `(name, importance)`, from the most important.
    pub fn iter(&self) -> impl Iterator<Item = (&str, f64)> {
        self.entries.iter().map(|(n, v)| (n.as_str(), *v))
    }
}

/// The trials prepared for an evaluator: one row per usable trial.
pub(crate) struct Dataset {
    /// Parameter names, in name order.
    pub names: Vec<Arc<str>>,
    /// Their distributions.
    pub distributions: Vec<Arc<Distribution>>,
    /// Each row's parameters scaled to `[0, 1]` (see [`unit`]).
    pub x: Vec<Vec<f64>>,
    /// Each row's target value (finite).
    pub y: Vec<f64>,
}

/// A parameter's internal value scaled to `[0, 1]`: the middle of its cell for a categorical, a
/// linear int or a stepped float (`n` values, `n` equal cells, so the end values weigh as much
/// as the others); linear or logarithmic for the other numbers.
pub(crate) fn unit(distribution: &Distribution, internal: f64) -> f64 {
    let (low, high) = distribution.internal_bounds();
    match (distribution, distribution.cardinality()) {
        (Distribution::Categorical(_), Some(n)) => {
            return ((internal + 0.5) / n.max(1) as f64).clamp(0.0, 1.0);
        }
        (_, Some(n)) if n > 1 && !distribution.is_log() => {
            let k = ((internal - low) / (high - low) * (n - 1) as f64).round();
            return ((k + 0.5) / n as f64).clamp(0.0, 1.0);
        }
        _ => {}
    }
    let (low, high, v) = if distribution.is_log() && low > 0.0 && internal > 0.0 {
        (low.ln(), high.ln(), internal.ln())
    } else {
        (low, high, internal)
    };
    if high > low {
        ((v - low) / (high - low)).clamp(0.0, 1.0)
    } else {
        0.5
    }
}

fn importance_error(message: String) -> Error {
    Error::InvalidConfig(format!("importance: {message}"))
}

/// Chooses the parameters and the usable trials, and reads their values.
pub(crate) fn prepare(
    trials: &[Arc<FrozenTrial>],
    params: Option<&[&str]>,
    target: &Target,
) -> Result<Dataset> {
    let complete: Vec<&FrozenTrial> =
        trials.iter().map(|t| &**t).filter(|t| t.state == TrialState::Complete).collect();
    if complete.is_empty() {
        return Err(importance_error(format!(
            "none of the {} trial(s) is complete; importances need at least 2 complete trials",
            trials.len()
        )));
    }
    if let Target::Objective { index, .. } = target {
        if let Some(t) = complete.iter().find(|t| t.values.as_ref().map_or(0, Vec::len) <= *index) {
            return Err(importance_error(format!(
                "objective index {index} is out of range: trial {} has {} objective value(s), \
                 numbered from 0",
                t.number,
                t.values.as_ref().map_or(0, Vec::len)
            )));
        }
    }

    let names: Vec<Arc<str>> = match params {
        Some([]) => {
            return Err(importance_error(
                "the list of parameters to evaluate is empty; name at least one, or pass None \
                 for all"
                    .into(),
            ))
        }
        Some(list) => {
            let mut names: Vec<Arc<str>> = Vec::new();
            for name in list {
                let Some(p) = complete.iter().find_map(|t| t.param(name)) else {
                    let mut known: Vec<&str> =
                        complete.iter().flat_map(|t| t.params.iter().map(|p| &*p.name)).collect();
                    known.sort_unstable();
                    known.dedup();
                    return Err(importance_error(format!(
                        "unknown parameter '{name}': no complete trial has it; the complete \
                         trials' parameters are {}",
                        known.join(", ")
                    )));
                };
                if !names.iter().any(|n| **n == **name) {
                    names.push(p.name.clone());
                }
            }
            names.sort();
            names
        }
        None => {
            let first = complete[0];
            let mut names: Vec<Arc<str>> = first
                .params
                .iter()
                .filter(|p| !p.distribution.is_single())
                .filter(|p| {
                    complete.iter().all(|t| {
                        t.param(&p.name).is_some_and(|q| {
                            Arc::ptr_eq(&q.distribution, &p.distribution)
                                || q.distribution == p.distribution
                        })
                    })
                })
                .map(|p| p.name.clone())
                .collect();
            names.sort();
            if names.is_empty() {
                return Err(importance_error(
                    "no parameter is shared, with one distribution, by every complete trial; \
                     name the parameters to evaluate"
                        .into(),
                ));
            }
            names
        }
    };

    let mut distributions: Vec<Arc<Distribution>> = Vec::with_capacity(names.len());
    let mut x = Vec::new();
    let mut y = Vec::new();
    'trials: for t in &complete {
        let mut row = Vec::with_capacity(names.len());
        for (i, name) in names.iter().enumerate() {
            let Some(p) = t.param(name) else { continue 'trials };
            match distributions.get(i) {
                None => distributions.push(p.distribution.clone()),
                Some(d) if Arc::ptr_eq(d, &p.distribution) || **d == *p.distribution => {}
                Some(d) => {
                    return Err(importance_error(format!(
                        "parameter '{name}' has different distributions in different trials \
                         ({d} and {}); evaluate trials of one search space",
                        p.distribution
                    )))
                }
            }
            row.push(unit(&p.distribution, p.internal));
        }
        let value = match target {
            Target::Objective { index, .. } => {
                t.values.as_ref().and_then(|v| v.get(*index)).copied().unwrap_or(f64::NAN)
            }
            Target::Custom { f, .. } => f(t),
        };
        if value.is_finite() {
            x.push(row);
            y.push(value);
        }
    }
    if y.len() < 2 {
        return Err(importance_error(format!(
            "{} usable trial(s) (complete, with every parameter of {} and a finite target); \
             at least 2 are needed: run more trials or evaluate fewer parameters",
            y.len(),
            names.iter().map(|n| format!("'{n}'")).collect::<Vec<_>>().join(", ")
        )));
    }
    Ok(Dataset { names, distributions, x, y })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_scaled_to_the_unit_interval() {
        let close = |a: f64, b: f64| (a - b).abs() < 1e-12;
        assert!(close(unit(&Distribution::float(-1.0, 3.0), 0.0), 0.25));
        assert!(close(unit(&Distribution::float_log(1e-4, 1.0), 1e-2), 0.5));
        // 4 ints, 4 equal cells: middles 1/8, 3/8, 5/8, 7/8.
        assert!(close(unit(&Distribution::int(1, 4), 1.0), 0.125));
        assert!(close(unit(&Distribution::int(1, 4), 4.0), 0.875));
        assert!(close(unit(&Distribution::float_step(0.0, 1.0, 0.5), 0.5), 0.5));
        assert!(close(unit(&Distribution::categorical(["a", "b"]), 1.0), 0.75));
        assert!(close(unit(&Distribution::int_log(1, 100), 10.0), 0.5));
    }
}
