//! Optimization history: every complete trial's value by trial number, and the best so far.

use std::borrow::Borrow;

use serde::{Deserialize, Serialize};
use tunewise_core::{Direction, FrozenTrial};

use crate::error::{Error, Result};
use crate::figure::{by_number, complete_values, direction_of, objective_label, Axis, TrialPoint};
use crate::svg::{render, Chart, Marker, Series, GREY, PALETTE};

/// Objective value by trial number, with the best value so far as a step line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HistoryFigure {
    /// Title.
    pub title: String,
    /// Trial number.
    pub x: Axis,
    /// Objective value.
    pub y: Axis,
    /// The objective's direction (which way "best" goes).
    pub direction: Direction,
    /// One point per complete trial (`x` = trial number), in number order; after
    /// [`downsample`](Self::downsample), a subset that keeps every improvement.
    pub points: Vec<TrialPoint>,
    /// The best-so-far step line: one point per improvement, and a last point at the last
    /// complete trial. Exact whatever the downsampling.
    pub best: Vec<TrialPoint>,
    /// How many complete trials there are (points before downsampling).
    pub complete_trials: usize,
}

/// The history of objective `objective` (0 for a single-objective study) over the complete
/// trials; pruned, failed and unfinished trials are left out.
pub fn history<T: Borrow<FrozenTrial>>(
    trials: &[T],
    directions: &[Direction],
    objective: usize,
) -> Result<HistoryFigure> {
    let direction = direction_of(directions, objective)?;
    let mut points: Vec<TrialPoint> = complete_values(trials, objective)
        .into_iter()
        .map(|(t, v)| TrialPoint { number: t.number, x: t.number as f64, y: v })
        .collect();
    if points.is_empty() {
        return Err(Error::NoCompleteTrials { figure: "history" });
    }
    by_number(&mut points);
    let mut best: Vec<TrialPoint> = Vec::new();
    for p in &points {
        if best.last().map_or(true, |b| direction.better(p.y, b.y)) {
            best.push(*p);
        }
    }
    if let (Some(last), Some(b)) = (points.last(), best.last().copied()) {
        if last.number != b.number {
            best.push(TrialPoint { number: last.number, x: last.x, y: b.y });
        }
    }
    Ok(HistoryFigure {
        title: "Optimization history".to_owned(),
        x: Axis::linear("trial"),
        y: Axis::linear(objective_label(directions, objective)),
        direction,
        complete_trials: points.len(),
        points,
        best,
    })
}

impl HistoryFigure {
    /// The best value after trial `number` (the best-so-far line read at `number`).
    pub fn best_at(&self, number: u64) -> Option<f64> {
        self.best.iter().take_while(|b| b.number <= number).last().map(|b| b.y)
    }

    /// Keeps at most about `max_points` points: every improvement (so the best-so-far line and
    /// the points on it stay exact), and of the other points, in consecutive buckets of trials,
    /// the lowest and the highest (so the spread of values stays visible). Deterministic.
    pub fn downsample(&mut self, max_points: usize) {
        if self.points.len() <= max_points {
            return;
        }
        let improvements: Vec<u64> = self.best.iter().map(|b| b.number).collect();
        let is_kept = |p: &TrialPoint| improvements.binary_search(&p.number).is_ok();
        let others: Vec<TrialPoint> = self.points.iter().copied().filter(|p| !is_kept(p)).collect();
        let buckets = (max_points.saturating_sub(improvements.len()) / 2).max(1);
        let size = others.len().div_ceil(buckets).max(1);
        let mut kept: Vec<TrialPoint> = self.points.iter().copied().filter(is_kept).collect();
        for chunk in others.chunks(size) {
            let lo = chunk.iter().copied().reduce(|a, b| if b.y < a.y { b } else { a });
            let hi = chunk.iter().copied().reduce(|a, b| if b.y > a.y { b } else { a });
            kept.extend(lo);
            kept.extend(hi.filter(|h| Some(h.number) != lo.map(|l| l.number)));
        }
        by_number(&mut kept);
        self.points = kept;
    }

    /// The figure as SVG.
    pub fn to_svg(&self) -> String {
        let xy = |ps: &[TrialPoint]| ps.iter().map(|p| (p.x, p.y)).collect::<Vec<_>>();
        render(&Chart {
            title: self.title.clone(),
            x: self.x.spec(),
            y: self.y.spec(),
            series: vec![
                Series::Points {
                    xy: xy(&self.points),
                    colour: GREY,
                    marker: Marker::Circle,
                    label: Some("trial".to_owned()),
                },
                Series::Line {
                    xy: xy(&self.best),
                    colour: PALETTE[3],
                    step: true,
                    label: Some("best so far".to_owned()),
                },
            ],
        })
    }
}
