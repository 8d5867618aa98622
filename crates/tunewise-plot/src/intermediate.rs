//! Intermediate values: one line per trial over its reported steps, pruned trials marked.

use std::borrow::Borrow;

use serde::{Deserialize, Serialize};
use tunewise_core::{Direction, FrozenTrial, TrialState};

use crate::error::{Error, Result};
use crate::figure::{direction_of, objective_label, Axis};
use crate::svg::{render, Chart, Marker, Series, GREY, PALETTE};

/// One trial's intermediate values.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrialLine {
    /// The trial's number.
    pub number: u64,
    /// Its state.
    pub state: TrialState,
    /// Whether a pruner stopped it (its last point is marked).
    pub pruned: bool,
    /// `[step, value]`, steps ascending.
    pub points: Vec<[f64; 2]>,
}

/// Intermediate values by step, one line per trial that reported any.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IntermediateFigure {
    /// Title.
    pub title: String,
    /// Step.
    pub x: Axis,
    /// Intermediate value.
    pub y: Axis,
    /// One line per trial, in number order.
    pub lines: Vec<TrialLine>,
}

/// The intermediate values of objective `objective` of every trial that reported some.
pub fn intermediate<T: Borrow<FrozenTrial>>(
    trials: &[T],
    directions: &[Direction],
    objective: usize,
) -> Result<IntermediateFigure> {
    direction_of(directions, objective)?;
    let mut lines: Vec<TrialLine> = trials
        .iter()
        .map(Borrow::borrow)
        .filter_map(|t| {
            let points: Vec<[f64; 2]> = t
                .intermediate_values
                .iter()
                .filter_map(|(s, v)| Some([*s as f64, *v.get(objective)?]))
                .filter(|p| p[1].is_finite())
                .collect();
            (!points.is_empty()).then(|| TrialLine {
                number: t.number,
                state: t.state,
                pruned: t.state == TrialState::Pruned,
                points,
            })
        })
        .collect();
    if lines.is_empty() {
        return Err(Error::NoIntermediateValues);
    }
    lines.sort_by_key(|l| l.number);
    Ok(IntermediateFigure {
        title: "Intermediate values".to_owned(),
        x: Axis::linear("step"),
        y: Axis::linear(format!("intermediate {}", objective_label(directions, objective))),
        lines,
    })
}

impl IntermediateFigure {
    /// The figure as SVG: complete trials in blue, pruned ones in red with a cross where they
    /// stopped, others in grey.
    pub fn to_svg(&self) -> String {
        let colour = |l: &TrialLine| match l.state {
            TrialState::Complete => PALETTE[0],
            TrialState::Pruned => PALETTE[3],
            _ => GREY,
        };
        let mut series: Vec<Series> = self
            .lines
            .iter()
            .map(|l| Series::Line {
                xy: l.points.iter().map(|p| (p[0], p[1])).collect(),
                colour: colour(l),
                step: false,
                label: None,
            })
            .collect();
        let stops: Vec<(f64, f64)> = self
            .lines
            .iter()
            .filter(|l| l.pruned)
            .filter_map(|l| l.points.last().map(|p| (p[0], p[1])))
            .collect();
        series.push(Series::Points {
            xy: stops,
            colour: PALETTE[3],
            marker: Marker::Cross,
            label: Some("pruned here".to_owned()),
        });
        // Legend entries for the line colours (no data of their own).
        series.push(Series::Line {
            xy: Vec::new(),
            colour: PALETTE[0],
            step: false,
            label: Some("complete".to_owned()),
        });
        series.push(Series::Line {
            xy: Vec::new(),
            colour: PALETTE[3],
            step: false,
            label: Some("pruned".to_owned()),
        });
        if self.lines.iter().any(|l| !matches!(l.state, TrialState::Complete | TrialState::Pruned))
        {
            series.push(Series::Line {
                xy: Vec::new(),
                colour: GREY,
                step: false,
                label: Some("other".to_owned()),
            });
        }
        render(&Chart { title: self.title.clone(), x: self.x.spec(), y: self.y.spec(), series })
    }
}
