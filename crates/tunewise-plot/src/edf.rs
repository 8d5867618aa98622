//! Empirical distribution function of the objective's values.

use std::borrow::Borrow;

use serde::{Deserialize, Serialize};
use tunewise_core::{Direction, FrozenTrial};

use crate::error::{Error, Result};
use crate::figure::{complete_values, direction_of, objective_label, Axis};
use crate::svg::{render, Chart, Series, PALETTE};

/// The empirical CDF: the fraction of complete trials whose value is at most x.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EdfFigure {
    /// Title.
    pub title: String,
    /// Objective value.
    pub x: Axis,
    /// Cumulative fraction of trials, 0 to 1.
    pub y: Axis,
    /// `[value, fraction]`, values ascending, fractions non-decreasing up to 1.
    pub points: Vec<[f64; 2]>,
    /// How many complete trials there are (points before downsampling).
    pub complete_trials: usize,
}

/// The empirical distribution of objective `objective` over the complete trials.
pub fn edf<T: Borrow<FrozenTrial>>(
    trials: &[T],
    directions: &[Direction],
    objective: usize,
) -> Result<EdfFigure> {
    direction_of(directions, objective)?;
    let mut values: Vec<f64> =
        complete_values(trials, objective).into_iter().map(|p| p.1).collect();
    if values.is_empty() {
        return Err(Error::NoCompleteTrials { figure: "empirical distribution" });
    }
    values.sort_by(f64::total_cmp);
    let n = values.len() as f64;
    let points = values.iter().enumerate().map(|(i, v)| [*v, (i + 1) as f64 / n]).collect();
    Ok(EdfFigure {
        title: "Empirical distribution of values".to_owned(),
        x: Axis::linear(objective_label(directions, objective)),
        y: Axis::linear("fraction of trials ≤ value"),
        points,
        complete_trials: values.len(),
    })
}

impl EdfFigure {
    /// Keeps at most `max_points` points, evenly spaced in rank, always the first and the last
    /// (the curve stays a correct CDF at every kept point).
    pub fn downsample(&mut self, max_points: usize) {
        let n = self.points.len();
        if n <= max_points || max_points < 2 {
            return;
        }
        let k = max_points - 1;
        self.points = (0..=k).map(|i| self.points[i * (n - 1) / k]).collect();
    }

    /// The figure as SVG.
    pub fn to_svg(&self) -> String {
        let mut xy: Vec<(f64, f64)> = Vec::with_capacity(self.points.len() + 1);
        if let Some(first) = self.points.first() {
            xy.push((first[0], 0.0));
        }
        xy.extend(self.points.iter().map(|p| (p[0], p[1])));
        render(&Chart {
            title: self.title.clone(),
            x: self.x.spec(),
            y: self.y.spec(),
            series: vec![Series::Line { xy, colour: PALETTE[0], step: true, label: None }],
        })
    }
}
