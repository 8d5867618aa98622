//! Objective directions and Pareto dominance.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::frozen::{FrozenTrial, TrialState};

/// Whether an objective is to be minimized or maximized.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    /// Smaller is better.
    Minimize,
    /// Larger is better.
    Maximize,
}

impl Direction {
    /// Whether `a` is strictly better than `b`.
    pub fn better(self, a: f64, b: f64) -> bool {
        match self {
            Direction::Minimize => a < b,
            Direction::Maximize => a > b,
        }
    }

    /// The value to minimize: `v` or `-v`.
    pub fn to_minimize(self, v: f64) -> f64 {
        match self {
            Direction::Minimize => v,
            Direction::Maximize => -v,
        }
    }
}

impl fmt::Display for Direction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Direction::Minimize => "minimize",
            Direction::Maximize => "maximize",
        })
    }
}

/// Whether `a` Pareto-dominates `b`: no worse in every objective and better in at least one.
pub fn dominates(directions: &[Direction], a: &[f64], b: &[f64]) -> bool {
    let mut strictly = false;
    for ((d, x), y) in directions.iter().zip(a).zip(b) {
        if d.better(*y, *x) {
            return false;
        }
        if d.better(*x, *y) {
            strictly = true;
        }
    }
    strictly
}

/// The Pareto-optimal trials among complete, feasible trials, in number order.
///
/// Sorts by the first objective, then sweeps: O(n log n + n·f) for a front of size f.
pub fn pareto_front<'a>(
    directions: &[Direction],
    trials: impl IntoIterator<Item = &'a FrozenTrial>,
) -> Vec<&'a FrozenTrial> {
    let mut candidates: Vec<&FrozenTrial> = trials
        .into_iter()
        .filter(|t| t.state == TrialState::Complete && t.is_feasible())
        .filter(|t| t.values.as_ref().is_some_and(|v| v.len() == directions.len()))
        .collect();
    let key = |t: &FrozenTrial| -> Vec<f64> {
        let v = t.values.as_deref().unwrap_or(&[]);
        directions.iter().zip(v).map(|(d, x)| d.to_minimize(*x)).collect()
    };
    candidates.sort_by(|a, b| key(a).partial_cmp(&key(b)).unwrap_or(std::cmp::Ordering::Equal));
    let mut front: Vec<&FrozenTrial> = Vec::new();
    for t in candidates {
        let tv = t.values.as_deref().unwrap_or(&[]);
        let dominated = front.iter().any(|f| {
            let fv = f.values.as_deref().unwrap_or(&[]);
            dominates(directions, fv, tv)
        });
        if !dominated {
            front.push(t);
        }
    }
    front.sort_by_key(|t| t.number);
    front
}
