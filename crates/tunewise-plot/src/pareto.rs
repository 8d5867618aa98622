//! Pareto front of two objectives.

use std::borrow::Borrow;

use serde::{Deserialize, Serialize};
use tunewise_core::{Direction, FrozenTrial, TrialState};

use crate::error::{Error, Result};
use crate::figure::{objective_label, Axis};
use crate::svg::{render, Chart, Marker, Series, GREY, PALETTE};

/// One complete trial in objective space.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ParetoPoint {
    /// The trial's number.
    pub number: u64,
    /// Objective 0.
    pub x: f64,
    /// Objective 1.
    pub y: f64,
    /// Whether no other feasible trial dominates it in these two objectives.
    pub on_front: bool,
    /// Whether its constraints hold (infeasible trials are never on the front).
    pub feasible: bool,
}

/// The complete trials in the plane of the first two objectives, the Pareto front highlighted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ParetoFigure {
    /// Title.
    pub title: String,
    /// Objective 0.
    pub x: Axis,
    /// Objective 1.
    pub y: Axis,
    /// The two objectives' directions.
    pub directions: [Direction; 2],
    /// One point per complete trial with finite values, in number order.
    pub points: Vec<ParetoPoint>,
}

/// The Pareto front plot of the first two objectives (a study with more shows the front of
/// those two).
pub fn pareto<T: Borrow<FrozenTrial>>(
    trials: &[T],
    directions: &[Direction],
) -> Result<ParetoFigure> {
    let [d0, d1] = match directions {
        [a, b, ..] => [*a, *b],
        _ => return Err(Error::NeedTwoObjectives { count: directions.len() }),
    };
    let mut points: Vec<ParetoPoint> = trials
        .iter()
        .map(Borrow::borrow)
        .filter(|t| t.state == TrialState::Complete)
        .filter_map(|t| {
            let v = t.values.as_ref()?;
            let (x, y) = (*v.first()?, *v.get(1)?);
            (x.is_finite() && y.is_finite()).then(|| ParetoPoint {
                number: t.number,
                x,
                y,
                on_front: false,
                feasible: t.is_feasible(),
            })
        })
        .collect();
    if points.is_empty() {
        return Err(Error::NoCompleteTrials { figure: "Pareto front" });
    }
    // Sort and sweep in minimization terms: by the first objective, then the second, a point is
    // on the front when its second objective beats every point before it (or repeats the last
    // front point exactly). O(n log n), so 50,000 trials are quick.
    let key = |p: &ParetoPoint| (d0.to_minimize(p.x), d1.to_minimize(p.y));
    let mut order: Vec<usize> = (0..points.len()).filter(|i| points[*i].feasible).collect();
    order.sort_by(|a, b| {
        let (ka, kb) = (key(&points[*a]), key(&points[*b]));
        ka.0.total_cmp(&kb.0).then(ka.1.total_cmp(&kb.1)).then(a.cmp(b))
    });
    let mut last: Option<(f64, f64)> = None;
    for i in order {
        let k = key(&points[i]);
        let on = match last {
            None => true,
            Some(l) => k.1 < l.1 || k == l,
        };
        if on {
            points[i].on_front = true;
            last = Some(k);
        }
    }
    points.sort_by_key(|p| p.number);
    Ok(ParetoFigure {
        title: "Pareto front".to_owned(),
        x: Axis::linear(objective_label(directions, 0)),
        y: Axis::linear(objective_label(directions, 1)),
        directions: [d0, d1],
        points,
    })
}

impl ParetoFigure {
    /// The figure as SVG: dominated trials grey, the front in colour and joined by a line.
    pub fn to_svg(&self) -> String {
        let mut front: Vec<(f64, f64)> =
            self.points.iter().filter(|p| p.on_front).map(|p| (p.x, p.y)).collect();
        front.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.total_cmp(&b.1)));
        let others: Vec<(f64, f64)> =
            self.points.iter().filter(|p| !p.on_front && p.feasible).map(|p| (p.x, p.y)).collect();
        let infeasible: Vec<(f64, f64)> =
            self.points.iter().filter(|p| !p.feasible).map(|p| (p.x, p.y)).collect();
        let mut series = vec![
            Series::Points {
                xy: others,
                colour: GREY,
                marker: Marker::Circle,
                label: Some("dominated".to_owned()),
            },
            Series::Line { xy: front.clone(), colour: PALETTE[3], step: false, label: None },
            Series::Points {
                xy: front,
                colour: PALETTE[3],
                marker: Marker::Circle,
                label: Some("Pareto front".to_owned()),
            },
        ];
        if !infeasible.is_empty() {
            series.push(Series::Points {
                xy: infeasible,
                colour: GREY,
                marker: Marker::Cross,
                label: Some("infeasible".to_owned()),
            });
        }
        render(&Chart { title: self.title.clone(), x: self.x.spec(), y: self.y.spec(), series })
    }
}
