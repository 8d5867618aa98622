//! Parameter importance: one horizontal bar per parameter, the most important on top.

use std::collections::BTreeSet;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use tunewise_core::importance::{ImportanceEvaluator, Target};
use tunewise_core::{Direction, FrozenTrial, TrialState};

use crate::error::{Error, Result};
use crate::figure::{complete_values, direction_of, list, objective_label, param_names, Axis};
use crate::svg::{render, AxisSpec, Chart, Scale, Series, PALETTE};

/// One parameter's bar.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImportanceBar {
    /// The parameter's name.
    pub param: String,
    /// Its importance: its share of the total, from 0 to 1 (the bars sum to 1, or are all 0 when
    /// the objective did not vary).
    pub importance: f64,
}

/// The importance of each parameter for one objective, as the evaluator measured it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImportanceFigure {
    /// Title: the evaluator and the objective.
    pub title: String,
    /// The evaluator, as the caller named it (for example "fANOVA, seed 0").
    pub evaluator: String,
    /// The objective's index (0 for a single objective).
    pub objective: usize,
    /// The importance axis (a share, 0 to 1).
    pub x: Axis,
    /// The parameters: their names are the categories, the most important first (drawn top to
    /// bottom).
    pub y: Axis,
    /// One bar per parameter, the most important first (ties by name).
    pub bars: Vec<ImportanceBar>,
    /// How many complete trials with a value for the objective there are.
    pub complete_trials: usize,
}

/// The importance of the parameters for objective `objective`, measured by `evaluator` (for
/// example `FanovaEvaluator::new().seed(0)` or `PedAnovaEvaluator::new()`), which the title
/// names as `evaluator_name`.
///
/// The parameters are those every complete trial has with one distribution (single-valued ones
/// left out), as the evaluator chooses them; the trials are the complete ones with a finite value
/// for the objective. Errors: an objective out of range, no complete trial, fewer than 2, no
/// parameter shared by the complete trials, or the evaluator's own error (invalid settings).
pub fn importance(
    trials: &[Arc<FrozenTrial>],
    directions: &[Direction],
    evaluator: &dyn ImportanceEvaluator,
    evaluator_name: &str,
    objective: usize,
) -> Result<ImportanceFigure> {
    const FIGURE: &str = "parameter importance";
    let direction = direction_of(directions, objective)?;
    let complete_trials = complete_values(trials, objective).len();
    match complete_trials {
        0 => return Err(Error::NoCompleteTrials { figure: FIGURE }),
        1 => return Err(Error::TooFewTrials { figure: FIGURE, needed: 2, found: 1 }),
        _ => {}
    }
    if shared_params(trials).is_empty() {
        return Err(Error::NoSharedParams { known: list(&param_names(trials)) });
    }
    let importances = evaluator
        .evaluate(trials, None, Target::objective(objective, direction))
        .map_err(|e| match e {
            tunewise_core::Error::InvalidConfig(m) => {
                Error::Importance(m.strip_prefix("importance: ").unwrap_or(&m).to_owned())
            }
            other => Error::Importance(other.to_string()),
        })?;
    let bars: Vec<ImportanceBar> = importances
        .iter()
        .map(|(param, importance)| ImportanceBar { param: param.to_owned(), importance })
        .collect();
    Ok(ImportanceFigure {
        title: format!(
            "Parameter importance ({evaluator_name}): {}",
            objective_label(directions, objective)
        ),
        evaluator: evaluator_name.to_owned(),
        objective,
        x: Axis::linear("importance (share of the total)"),
        y: Axis {
            label: "parameter".to_owned(),
            log: false,
            categories: Some(bars.iter().map(|b| b.param.clone()).collect()),
        },
        bars,
        complete_trials,
    })
}

/// The parameters every complete trial has, with one distribution and more than one value: the
/// ones an evaluator compares when none is named.
fn shared_params(trials: &[Arc<FrozenTrial>]) -> BTreeSet<&str> {
    let mut complete = trials.iter().filter(|t| t.state == TrialState::Complete);
    let Some(first) = complete.next() else { return BTreeSet::new() };
    let mut shared: BTreeSet<&str> =
        first.params.iter().filter(|p| !p.distribution.is_single()).map(|p| &*p.name).collect();
    for t in complete {
        shared.retain(|name| {
            let (Some(p), Some(q)) = (first.param(name), t.param(name)) else { return false };
            p.distribution == q.distribution
        });
    }
    shared
}

impl ImportanceFigure {
    /// The figure as SVG: the bars from the most important (top) down, each labelled with its
    /// value.
    pub fn to_svg(&self) -> String {
        // Row 0 is drawn at the bottom: the least important parameter goes there.
        let n = self.bars.len();
        let row = |i: usize| (n - 1 - i) as f64;
        let names: Vec<String> = self.bars.iter().rev().map(|b| b.param.clone()).collect();
        render(&Chart {
            title: self.title.clone(),
            x: self.x.spec(),
            y: AxisSpec { label: self.y.label.clone(), scale: Scale::Categories(names) },
            series: vec![
                Series::Bars {
                    bars: self
                        .bars
                        .iter()
                        .enumerate()
                        .map(|(i, b)| (0.0, b.importance, row(i)))
                        .collect(),
                    colour: PALETTE[0],
                    label: None,
                },
                Series::BarLabels {
                    labels: self
                        .bars
                        .iter()
                        .enumerate()
                        .map(|(i, b)| (b.importance, row(i), format!("{:.3}", b.importance)))
                        .collect(),
                },
            ],
        })
    }
}
