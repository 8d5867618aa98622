//! The model's coordinates, and the search for the acquisition's maximum in them.
//!
//! **Coordinates.** Every numeric parameter is mapped to `[0, 1]`: floats linearly, log scales
//! on the logarithm. Ints and stepped floats are continuous in that space, over their range
//! widened by half a step at each end so that every grid value owns a cell of the same width
//! (log-scaled ints: the cells of `[low − ½, high + ½]` on the logarithm); a coordinate is
//! decoded by rounding to the grid. A categorical keeps its choice index (the kernel compares
//! choices for equality).
//!
//! **Search** (multi-start, sized for speed):
//! 1. Candidates: uniform random points, and Gaussian perturbations of the best trials (so that
//!    refinement near the incumbent is never left to chance); each snapped to its grid and
//!    choices; all evaluated in one batch.
//! 2. From the best few candidates: L-BFGS-B on the numeric coordinates (ints and stepped floats
//!    relaxed to continuous, categoricals held), the result rounded to the grids and kept if the
//!    rounded point raises the acquisition; then one coordinate at a time over the discrete
//!    ones: each int or stepped float tries its two neighbouring grid values, each categorical
//!    every other choice; a move is kept when it raises the acquisition. The two alternate
//!    while a discrete move changes the point (three rounds at most).
//! 3. The best point seen is proposed.

use std::sync::Arc;

use super::acquisition::Acquisition;
use crate::distribution::Distribution;
use crate::math::lbfgsb;
use crate::rng::Rng;

/// What kind of coordinate a parameter is.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    Continuous,
    /// An int or stepped float: continuous coordinate, decoded by rounding; `step` is the
    /// internal step between neighbours.
    Grid {
        step: f64,
    },
    Categorical {
        n: usize,
    },
}

/// One parameter's coordinate.
#[derive(Debug, Clone)]
pub(crate) struct Dim {
    distribution: Arc<Distribution>,
    kind: Kind,
    /// Bounds of the (possibly logarithmic) internal value mapped to 0 and 1.
    lo: f64,
    hi: f64,
    log: bool,
}

impl Dim {
    pub(crate) fn new(distribution: Arc<Distribution>) -> Dim {
        let (low, high) = distribution.internal_bounds();
        let (kind, lo, hi, log) = match &*distribution {
            Distribution::Float(d) => match d.step {
                Some(step) if !d.log => {
                    (Kind::Grid { step }, low - step / 2.0, high + step / 2.0, false)
                }
                _ if d.log => (Kind::Continuous, low.ln(), high.ln(), true),
                _ => (Kind::Continuous, low, high, false),
            },
            Distribution::Int(d) => {
                let step = d.step as f64;
                if d.log {
                    (Kind::Grid { step }, (low - 0.5).ln(), (high + 0.5).ln(), true)
                } else {
                    (Kind::Grid { step }, low - step / 2.0, high + step / 2.0, false)
                }
            }
            Distribution::Categorical(d) => {
                (Kind::Categorical { n: d.choices.len() }, 0.0, 0.0, false)
            }
        };
        Dim { distribution, kind, lo, hi, log }
    }

    pub(crate) fn is_categorical(&self) -> bool {
        matches!(self.kind, Kind::Categorical { .. })
    }

    fn is_continuous(&self) -> bool {
        self.kind == Kind::Continuous
    }

    /// The coordinate of an internal value.
    pub(crate) fn encode(&self, internal: f64) -> f64 {
        if self.is_categorical() {
            return internal;
        }
        let v = if self.log { internal.max(f64::MIN_POSITIVE).ln() } else { internal };
        if self.hi > self.lo {
            ((v - self.lo) / (self.hi - self.lo)).clamp(0.0, 1.0)
        } else {
            0.5
        }
    }

    /// The internal value of a coordinate, snapped into the distribution.
    pub(crate) fn decode(&self, u: f64) -> f64 {
        if self.is_categorical() {
            return self.distribution.snap_internal(u);
        }
        let u = if u.is_finite() { u.clamp(0.0, 1.0) } else { 0.5 };
        let v = self.lo + u * (self.hi - self.lo);
        self.distribution.snap_internal(if self.log { v.exp() } else { v })
    }

    /// The coordinate of the value a coordinate decodes to (grids and choices only move).
    pub(super) fn snap(&self, u: f64) -> f64 {
        match self.kind {
            Kind::Continuous => {
                if u.is_finite() {
                    u.clamp(0.0, 1.0)
                } else {
                    0.5
                }
            }
            _ => self.encode(self.decode(u)),
        }
    }

    /// A uniform random coordinate.
    pub(super) fn random(&self, rng: &mut Rng) -> f64 {
        match self.kind {
            Kind::Categorical { n } => rng.below(n as u64) as f64,
            _ => self.snap(rng.uniform()),
        }
    }

    /// The coordinates of the values next to `u`: neighbouring grid values, or every other
    /// choice.
    fn moves(&self, u: f64, out: &mut Vec<f64>) {
        out.clear();
        match self.kind {
            Kind::Continuous => {}
            Kind::Grid { step } => {
                let v = self.decode(u);
                for w in [v - step, v + step] {
                    let s = self.distribution.snap_internal(w);
                    if s != v {
                        out.push(self.encode(s));
                    }
                }
            }
            Kind::Categorical { n } => out.extend((0..n).map(|c| c as f64).filter(|&c| c != u)),
        }
    }
}

/// Settings of the search.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Budget {
    /// Candidates evaluated in the first stage.
    pub candidates: usize,
    /// Local searches from the best candidates.
    pub local_starts: usize,
}

/// The point (in coordinates) maximizing the acquisition; `anchors` are the coordinates of the
/// best trials, perturbed to make candidates.
pub(crate) fn maximize(
    acq: &Acquisition,
    dims: &[Dim],
    anchors: &[Vec<f64>],
    budget: Budget,
    rng: &mut Rng,
) -> Vec<f64> {
    let d = dims.len();
    let m = budget.candidates.max(1);
    let perturbed = if anchors.is_empty() { 0 } else { m / 4 };
    let mut xs = Vec::with_capacity(m * d);
    for c in 0..m {
        if c < perturbed {
            let anchor = &anchors[rng.below(anchors.len() as u64) as usize];
            let sd = if c % 2 == 0 { 0.02 } else { 0.1 };
            for (j, dim) in dims.iter().enumerate() {
                let u = match dim.kind {
                    Kind::Categorical { .. } if rng.uniform() * (d as f64) < 1.0 => dim.random(rng),
                    Kind::Categorical { .. } => anchor[j],
                    _ => dim.snap(anchor[j] + sd * rng.normal()),
                };
                xs.push(u);
            }
        } else {
            for dim in dims {
                xs.push(dim.random(rng));
            }
        }
    }
    let values = acq.values(&xs);
    let mut order: Vec<usize> = (0..m).collect();
    order.sort_by(|&a, &b| values[b].total_cmp(&values[a]).then(a.cmp(&b)));
    let mut best = xs[order[0] * d..(order[0] + 1) * d].to_vec();
    let mut best_value = values[order[0]];
    let mut starts: Vec<usize> = Vec::new();
    for &i in &order {
        if starts.len() >= budget.local_starts {
            break;
        }
        let row = &xs[i * d..(i + 1) * d];
        if values[i].is_finite() && !starts.iter().any(|&s| &xs[s * d..(s + 1) * d] == row) {
            starts.push(i);
        }
    }
    // The gradient search runs on every numeric coordinate, grids relaxed to continuous.
    let continuous: Vec<usize> = (0..d).filter(|&j| !dims[j].is_categorical()).collect();
    for s in starts {
        let mut x = xs[s * d..(s + 1) * d].to_vec();
        let v = local_search(acq, dims, &continuous, &mut x, values[s]);
        if v > best_value {
            best_value = v;
            best = x;
        }
    }
    best
}

/// Improves `x` (of acquisition `value`) in place; returns its new value.
fn local_search(
    acq: &Acquisition,
    dims: &[Dim],
    continuous: &[usize],
    x: &mut [f64],
    mut value: f64,
) -> f64 {
    let d = dims.len();
    let mut moves = Vec::new();
    let mut batch = Vec::new();
    for _round in 0..3 {
        if !continuous.is_empty() {
            let start: Vec<f64> = continuous.iter().map(|&j| x[j]).collect();
            let base = x.to_vec();
            let mut point = base.clone();
            let mut grad = vec![0.0; continuous.len()];
            let opts = lbfgsb::Options {
                max_iters: 20,
                max_evals: 40,
                pgtol: 1e-5,
                ftol: 1e-9,
                ..lbfgsb::Options::default()
            };
            let lower = vec![0.0; continuous.len()];
            let upper = vec![1.0; continuous.len()];
            let found = lbfgsb::minimize(
                |u, g| {
                    for (k, &j) in continuous.iter().enumerate() {
                        point[j] = u[k];
                    }
                    let v = acq.value_grad(&point, continuous, &mut grad);
                    for (gk, dk) in g.iter_mut().zip(&grad) {
                        *gk = -dk;
                    }
                    -v
                },
                &start,
                &lower,
                &upper,
                &opts,
            );
            // Ints and stepped floats were relaxed: round them to their grid, and judge the
            // point actually proposed.
            let mut moved = x.to_vec();
            let mut rounded = false;
            for (k, &j) in continuous.iter().enumerate() {
                moved[j] = dims[j].snap(found.x[k]);
                rounded |= !dims[j].is_continuous();
            }
            let v = if rounded { acq.values(&moved)[0] } else { -found.f };
            if v > value {
                value = v;
                x.copy_from_slice(&moved);
            }
        }
        // Another round only if a discrete move changed the point the continuous search started
        // from.
        let mut changed = false;
        for j in 0..d {
            dims[j].moves(x[j], &mut moves);
            if moves.is_empty() {
                continue;
            }
            batch.clear();
            for &u in &moves {
                let at = batch.len();
                batch.extend_from_slice(x);
                batch[at + j] = u;
            }
            let vals = acq.values(&batch);
            if let Some((k, &v)) =
                vals.iter().enumerate().max_by(|a, b| a.1.total_cmp(b.1).then(b.0.cmp(&a.0)))
            {
                if v > value {
                    value = v;
                    x[j] = moves[k];
                    changed = true;
                }
            }
        }
        if !changed {
            break;
        }
    }
    value
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn coordinates_round_trip_and_grids_own_equal_cells() {
        let cases = [
            Distribution::float(-5.0, 5.0),
            Distribution::float_log(1e-4, 10.0),
            Distribution::float_step(0.0, 0.3, 0.1),
            Distribution::int(-3, 3),
            Distribution::int_log(1, 16),
            Distribution::int_step(0, 20, 5),
            Distribution::categorical(["a", "b", "c"]),
        ];
        let mut rng = Rng::new(3);
        for dist in cases {
            let dim = Dim::new(Arc::new(dist.clone()));
            for _ in 0..200 {
                let v = crate::samplers::sample_uniform(&mut rng, &dist);
                let u = dim.encode(v);
                assert!((0.0..=2.0).contains(&u), "{dist}: {v} -> {u}");
                let back = dim.decode(u);
                assert!(
                    (back - v).abs() <= 1e-9 * v.abs().max(1.0),
                    "{dist}: {v} -> {u} -> {back}"
                );
                assert!(dist.contains_internal(back));
            }
        }
        // Uniform coordinates decode to every value of an int range about equally often.
        let dim = Dim::new(Arc::new(Distribution::int(0, 3)));
        let mut counts = [0usize; 4];
        for i in 0..4000 {
            counts[dim.decode((i as f64 + 0.5) / 4000.0) as usize] += 1;
        }
        assert!(counts.iter().all(|&c| c == 1000), "{counts:?}");
    }
}
