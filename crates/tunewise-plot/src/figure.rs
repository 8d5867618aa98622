//! What every figure shares: axes, trial points, the [`Figure`] enum and the helpers that read
//! trials.

use std::borrow::Borrow;
use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};
use tunewise_core::{Direction, Distribution, FrozenTrial, Param, TrialState};

use crate::contour::ContourFigure;
use crate::edf::EdfFigure;
use crate::error::{Error, Result};
use crate::history::HistoryFigure;
use crate::importance::ImportanceFigure;
use crate::intermediate::IntermediateFigure;
use crate::parallel::ParallelFigure;
use crate::pareto::ParetoFigure;
use crate::slice::SliceFigure;
use crate::svg::{AxisSpec, Scale};
use crate::timeline::TimelineFigure;

/// One axis of a figure: its label and scale.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Axis {
    /// The label under (or beside) the axis.
    pub label: String,
    /// Logarithmic scale (a log-scale parameter's distribution asks for it).
    pub log: bool,
    /// For a categorical axis, the names of the positions 0, 1, 2, …
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub categories: Option<Vec<String>>,
}

impl Axis {
    /// A linear axis.
    pub fn linear(label: impl Into<String>) -> Axis {
        Axis { label: label.into(), log: false, categories: None }
    }

    pub(crate) fn spec(&self) -> AxisSpec {
        let scale = match (&self.categories, self.log) {
            (Some(c), _) => Scale::Categories(c.clone()),
            (None, true) => Scale::Log,
            (None, false) => Scale::Linear,
        };
        AxisSpec { label: self.label.clone(), scale }
    }
}

/// One trial as a point of a figure.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct TrialPoint {
    /// The trial's number.
    pub number: u64,
    /// Horizontal coordinate (for a categorical axis, the choice's index).
    pub x: f64,
    /// Vertical coordinate.
    pub y: f64,
}

/// Any figure: what the CLI writes as SVG and the dashboard will serve as JSON
/// (`{"kind": "history", …}`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Figure {
    /// Objective value by trial, with the best so far.
    History(HistoryFigure),
    /// Objective value against one parameter.
    Slice(SliceFigure),
    /// Intermediate values by step, one line per trial.
    Intermediate(IntermediateFigure),
    /// Two objectives, the Pareto front highlighted.
    Pareto(ParetoFigure),
    /// The empirical distribution of the objective's values.
    Edf(EdfFigure),
    /// Trials as bars from start to end.
    Timeline(TimelineFigure),
    /// One axis per parameter and one for the objective, one line per trial.
    ParallelCoordinates(ParallelFigure),
    /// The objective over two parameters, interpolated on a grid.
    Contour(ContourFigure),
    /// One bar per parameter: how much the objective depends on it.
    Importance(ImportanceFigure),
}

impl Figure {
    /// The figure's title.
    pub fn title(&self) -> &str {
        match self {
            Figure::History(f) => &f.title,
            Figure::Slice(f) => &f.title,
            Figure::Intermediate(f) => &f.title,
            Figure::Pareto(f) => &f.title,
            Figure::Edf(f) => &f.title,
            Figure::Timeline(f) => &f.title,
            Figure::ParallelCoordinates(f) => &f.title,
            Figure::Contour(f) => &f.title,
            Figure::Importance(f) => &f.title,
        }
    }

    /// The figure as a standalone SVG document (deterministic: the same figure gives the same
    /// bytes).
    pub fn to_svg(&self) -> String {
        match self {
            Figure::History(f) => f.to_svg(),
            Figure::Slice(f) => f.to_svg(),
            Figure::Intermediate(f) => f.to_svg(),
            Figure::Pareto(f) => f.to_svg(),
            Figure::Edf(f) => f.to_svg(),
            Figure::Timeline(f) => f.to_svg(),
            Figure::ParallelCoordinates(f) => f.to_svg(),
            Figure::Contour(f) => f.to_svg(),
            Figure::Importance(f) => f.to_svg(),
        }
    }

    /// Keeps at most about `max_points` points (see each figure's `downsample`); figures whose
    /// size does not grow with points per trial are left as they are.
    pub fn downsample(&mut self, max_points: usize) {
        match self {
            Figure::History(f) => f.downsample(max_points),
            Figure::Edf(f) => f.downsample(max_points),
            Figure::ParallelCoordinates(f) => f.downsample(max_points),
            // One bar per parameter, however many trials.
            Figure::Importance(_) => {}
            _ => {}
        }
    }
}

/// The figure as a standalone SVG document.
pub fn to_svg(figure: &Figure) -> String {
    figure.to_svg()
}

/// Checks `objective` against the study's directions and returns its direction.
pub(crate) fn direction_of(directions: &[Direction], objective: usize) -> Result<Direction> {
    directions
        .get(objective)
        .copied()
        .ok_or(Error::UnknownObjective { index: objective, count: directions.len() })
}

/// The label of an objective's axis: "value" for a single objective, "objective I" otherwise.
pub(crate) fn objective_label(directions: &[Direction], objective: usize) -> String {
    let d = directions.get(objective).map_or(String::new(), |d| format!(" ({d})"));
    if directions.len() == 1 {
        format!("value{d}")
    } else {
        format!("objective {objective}{d}")
    }
}

/// The complete trials with a finite value for `objective`, as (trial, value).
pub(crate) fn complete_values<T: Borrow<FrozenTrial>>(
    trials: &[T],
    objective: usize,
) -> Vec<(&FrozenTrial, f64)> {
    trials
        .iter()
        .map(Borrow::borrow)
        .filter(|t| t.state == TrialState::Complete)
        .filter_map(|t| {
            let v = t.values.as_ref()?.get(objective).copied()?;
            v.is_finite().then_some((t, v))
        })
        .collect()
}

/// Every parameter name of the trials, sorted.
pub(crate) fn param_names<T: Borrow<FrozenTrial>>(trials: &[T]) -> BTreeSet<&str> {
    trials.iter().flat_map(|t| t.borrow().params.iter().map(|p| &*p.name)).collect()
}

/// The names, comma-separated (or "none"), for error messages.
pub(crate) fn list(names: &BTreeSet<&str>) -> String {
    if names.is_empty() {
        "none (no trial has parameters)".to_owned()
    } else {
        names.iter().copied().collect::<Vec<_>>().join(", ")
    }
}

/// The axis of a parameter, from the first trial that has it: log when its distribution is,
/// categories for a categorical. `None` when no trial has it.
pub(crate) fn param_axis<T: Borrow<FrozenTrial>>(trials: &[T], name: &str) -> Option<Axis> {
    let param = trials.iter().find_map(|t| t.borrow().param(name))?;
    Some(match &*param.distribution {
        Distribution::Categorical(c) => Axis {
            label: name.to_owned(),
            log: false,
            categories: Some(c.choices.iter().map(ToString::to_string).collect()),
        },
        d => Axis { label: name.to_owned(), log: d.is_log(), categories: None },
    })
}

/// A parameter's coordinate: its value for numbers, its choice's index for a categorical (the
/// internal representation is exactly that).
pub(crate) fn param_coordinate(p: &Param) -> f64 {
    p.internal
}

/// Sorts by number: figures list trials in number order whatever order they came in.
pub(crate) fn by_number(points: &mut [TrialPoint]) {
    points.sort_by_key(|p| p.number);
}
