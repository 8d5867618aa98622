//! An upper bound on the improvement still to be found, for "good enough" stopping.
//!
//! The rule of Makarova et al. (2022, "Automatic termination for hyperparameter optimization",
//! AutoML Conf.), as in Optuna's `Terminator`: a Gaussian process is fitted to the best complete
//! trials; with high probability the true objective lies between its lower and upper confidence
//! bounds `μ ∓ √β·σ` everywhere, so the simple regret of the best observed point is at most
//!
//! `min over observed points of UCB − min over the whole space of LCB`.
//!
//! `β = 2·ln(d·n²·π²/(6δ)) / 5` with `δ = 0.1` (the GP-UCB schedule of Srinivas et al. 2010,
//! scaled down by 5 as in their experiments, as Makarova et al. and Optuna do), `d` the number
//! of parameters and `n` the number of trials in the model.
//!
//! The minimum of the lower bound over the space is approximated: random points, perturbations
//! of the modelled trials and the trials themselves, evaluated in one batch; then a bounded
//! L-BFGS from the best few on the numeric coordinates. An approximate minimum is larger than
//! the true one, so the bound can be somewhat optimistic (too small) in large spaces.

use std::sync::Arc;

use super::model::{fit_theta_noise_floor, Data, Gp};
use super::optimize::Dim;
use super::standardize;
use crate::direction::Direction;
use crate::frozen::FrozenTrial;
use crate::math::lbfgsb;
use crate::rng::Rng;
use crate::search_space::SearchSpace;

/// The share of the complete trials the model is fitted to (the best ones), as in Optuna.
const TOP_TRIALS_RATIO: f64 = 0.5;
/// At most this many trials in the model (the fit is cubic in their number).
const MAX_MODELLED: usize = 200;
/// Random candidates for the lower bound's minimum.
const RANDOM_CANDIDATES: usize = 512;
/// Perturbations per modelled trial.
const PERTURBATIONS: usize = 4;
/// Local searches from the best candidates.
const LOCAL_STARTS: usize = 5;
/// `δ` of the confidence bounds.
const DELTA: f64 = 0.1;

/// The regret bound of a single-objective study's complete trials, in the objective's units; `None`
/// when there are fewer than `min_trials` usable trials or nothing to model (no parameter
/// shared by all of them). `noise` is the standard deviation of an observation, a floor of the
/// model's noise.
pub(crate) fn regret_bound(
    direction: Direction,
    trials: &[Arc<FrozenTrial>],
    min_trials: usize,
    noise: f64,
    rng: &mut Rng,
) -> Option<f64> {
    let usable: Vec<&FrozenTrial> = trials
        .iter()
        .map(|t| &**t)
        .filter(|t| {
            t.state == crate::frozen::TrialState::Complete
                && t.value().is_some_and(|v| v.is_finite())
        })
        .collect();
    if usable.len() < min_trials.max(2) {
        return None;
    }
    let space = SearchSpace::intersection(usable.iter().copied());
    if space.is_empty() {
        return None;
    }
    let names: Vec<&Arc<str>> = space.iter().map(|(n, _)| n).collect();
    let dims: Vec<Dim> = space.iter().map(|(_, d)| Dim::new(d.clone())).collect();
    let cat: Vec<bool> = dims.iter().map(Dim::is_categorical).collect();
    let d = dims.len();

    // The best trials (minimized values), ties by number.
    let mut rows: Vec<(f64, Vec<f64>)> = usable
        .iter()
        .filter_map(|t| {
            let row = names
                .iter()
                .zip(&dims)
                .map(|(n, dim)| t.param(n).map(|p| dim.encode(p.internal)))
                .collect::<Option<Vec<f64>>>()?;
            Some((direction.to_minimize(t.value()?), row))
        })
        .collect();
    rows.sort_by(|a, b| a.0.total_cmp(&b.0));
    let n = ((rows.len() as f64 * TOP_TRIALS_RATIO) as usize)
        .max(min_trials)
        .min(MAX_MODELLED)
        .min(rows.len());
    rows.truncate(n);
    if n < 2 {
        return None;
    }
    let mut y: Vec<f64> = rows.iter().map(|r| r.0).collect();
    if y.iter().all(|v| *v == y[0]) {
        // Every modelled trial scored the same: nothing suggests anything better.
        return Some(0.0);
    }
    let (_, scale) = standardize(&mut y);
    let x: Vec<f64> = rows.iter().flat_map(|r| r.1.iter().copied()).collect();
    let data = Data { x: &x, y: &y, cat: &cat, exact_from: usize::MAX };
    let (theta, solved) = fit_theta_noise_floor(&data, (noise / scale).powi(2), 50);
    let gp = match solved {
        Some(s) => Gp::from_solved(&data, &theta, s),
        None => Gp::new(&data, &theta)?,
    };
    let sqrt_beta = beta(d, n).sqrt();

    let (mean, var) = gp.predict(&x);
    let ucb_min =
        mean.iter().zip(&var).map(|(m, v)| m + sqrt_beta * v.sqrt()).fold(f64::INFINITY, f64::min);
    let lcb_min = min_lcb(&gp, &dims, &x, sqrt_beta, rng);
    let bound = ((ucb_min - lcb_min) * scale).max(0.0);
    bound.is_finite().then_some(bound)
}

/// `β` of the confidence bounds for `d` parameters and `n` trials.
fn beta(d: usize, n: usize) -> f64 {
    let (d, n) = (d.max(1) as f64, n.max(1) as f64);
    2.0 * (d * n * n * std::f64::consts::PI.powi(2) / (6.0 * DELTA)).ln() / 5.0
}

/// The (approximate) minimum over the space of `μ − √β·σ`.
fn min_lcb(gp: &Gp, dims: &[Dim], observed: &[f64], sqrt_beta: f64, rng: &mut Rng) -> f64 {
    let d = dims.len();
    let mut xs: Vec<f64> = observed.to_vec();
    for row in observed.chunks(d) {
        for k in 0..PERTURBATIONS {
            let sd = if k % 2 == 0 { 0.02 } else { 0.1 };
            for (j, dim) in dims.iter().enumerate() {
                xs.push(if dim.is_categorical() {
                    row[j]
                } else {
                    dim.snap(row[j] + sd * rng.normal())
                });
            }
        }
    }
    for _ in 0..RANDOM_CANDIDATES {
        for dim in dims {
            xs.push(dim.random(rng));
        }
    }
    let lcb = |m: f64, v: f64| m - sqrt_beta * v.max(0.0).sqrt();
    let (mean, var) = gp.predict(&xs);
    let values: Vec<f64> = mean.iter().zip(&var).map(|(m, v)| lcb(*m, *v)).collect();
    let mut order: Vec<usize> = (0..values.len()).collect();
    order.sort_by(|&a, &b| values[a].total_cmp(&values[b]).then(a.cmp(&b)));
    let mut best = values.iter().copied().fold(f64::INFINITY, f64::min);
    // Local searches move the numeric coordinates continuously: the bound holds for the
    // model's relaxation, which is at most as large as its minimum over the grids.
    let numeric: Vec<usize> = (0..d).filter(|&j| !dims[j].is_categorical()).collect();
    if numeric.is_empty() {
        return best;
    }
    let (mut dm, mut dv) = (vec![0.0; numeric.len()], vec![0.0; numeric.len()]);
    let opts =
        lbfgsb::Options { max_iters: 30, max_evals: 60, pgtol: 1e-6, ..lbfgsb::Options::default() };
    let lower = vec![0.0; numeric.len()];
    let upper = vec![1.0; numeric.len()];
    for &i in order.iter().take(LOCAL_STARTS) {
        let mut point = xs[i * d..(i + 1) * d].to_vec();
        let start: Vec<f64> = numeric.iter().map(|&j| point[j]).collect();
        let found = lbfgsb::minimize(
            |u, g| {
                for (k, &j) in numeric.iter().enumerate() {
                    point[j] = u[k];
                }
                let (m, v) = gp.predict_grad(&point, &numeric, &mut dm, &mut dv);
                let sd = v.max(1e-20).sqrt();
                for k in 0..g.len() {
                    g[k] = dm[k] - sqrt_beta * dv[k] / (2.0 * sd);
                }
                let f = lcb(m, v);
                if f.is_finite() && g.iter().all(|x| x.is_finite()) {
                    f
                } else {
                    f64::INFINITY
                }
            },
            &start,
            &lower,
            &upper,
            &opts,
        );
        if found.f.is_finite() {
            best = best.min(found.f);
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn beta_grows_with_the_trials_and_the_dimension() {
        assert!(beta(1, 20) < beta(1, 40));
        assert!(beta(1, 20) < beta(3, 20));
        // d = 2, n = 20: 2·ln(2·400·π²/0.6)/5.
        let want = 2.0 * (800.0 * std::f64::consts::PI.powi(2) / 0.6f64).ln() / 5.0;
        assert!((beta(2, 20) - want).abs() < 1e-12);
    }
}
