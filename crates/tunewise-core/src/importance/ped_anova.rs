//! PED-ANOVA (Watanabe, Bansal and Hutter 2023).

use std::sync::Arc;

use super::{prepare, ImportanceEvaluator, Importances, Target};
use crate::direction::Direction;
use crate::distribution::Distribution;
use crate::error::{Error, Result};
use crate::frozen::FrozenTrial;

/// PED-ANOVA: how much more concentrated each parameter is among the best trials than among
/// the trials of a region, as a Pearson divergence of one-dimensional densities.
///
/// **What it measures.** The paper shows that the variance of the marginal of the indicator
/// "the trial is in the top γ' quantile", taken over the region of the top γ quantile
/// (γ' < γ), equals, up to the constant factor `(γ'/γ)²`, the Pearson divergence
/// `Σ q(x) (p(x)/q(x) − 1)²` between the parameter's density among the top-γ' trials (`p`) and
/// among the top-γ trials (`q`). So no model is fitted: per parameter, two one-dimensional
/// Parzen estimators on a grid of `[0, 1]` (the parameter scaled as in
/// [`super`]), and a sum over the grid. The constant vanishes in the normalisation.
///
/// - `target_quantile` (γ', default 0.1): the top trials whose parameters are compared.
/// - `region_quantile` (γ, default 1.0): the region the importance is measured in (1.0: all
///   usable trials); must exceed `target_quantile`.
/// - `evaluate_on_local` (default true): compare with the region's trials (what mattered during
///   this optimization, where the sampler actually went); with `false`, compare with the uniform
///   density over the search space (what matters in the whole space, independent of where the
///   sampler spent its trials).
/// - `min_n_top_trials` (default 2): the top set holds at least this many trials (more than
///   `target_quantile` when there are few trials); fewer usable trials is an error.
/// - `n_steps` (default 50): grid points for a continuous parameter (ints and stepped floats
///   with fewer values use each value; categoricals use each choice).
///
/// Trials tied with the last top trial are included in the top set. The Parzen estimators put
/// a Gaussian kernel on each grid point, weighted by the trials closest to it, with Scott's
/// bandwidth (at least half a grid step), plus a prior of weight 1 (a wide Gaussian around the
/// middle); a categorical's density is its choices' counts plus a prior of weight 1 shared
/// equally by the choices.
///
/// **When to use it**: to find what mattered to reach the best trials, especially with many
/// trials (the dashboard's choice): no model, deterministic without a seed.
/// [`super::FanovaEvaluator`] answers the global question "what explains the objective's
/// variance over the whole space".
///
/// **Cost**: sorting the trials, then `O(n + n_steps²)` per parameter: about a millisecond for
/// 1,000 trials × 5 parameters (see `docs/benchmarks.md`).
#[derive(Debug, Clone, PartialEq)]
pub struct PedAnovaEvaluator {
    target_quantile: f64,
    region_quantile: f64,
    evaluate_on_local: bool,
    min_n_top_trials: usize,
    n_steps: usize,
}

impl Default for PedAnovaEvaluator {
    fn default() -> Self {
        PedAnovaEvaluator {
            target_quantile: 0.1,
            region_quantile: 1.0,
            evaluate_on_local: true,
            min_n_top_trials: 2,
            n_steps: 50,
        }
    }
}

/// Weight of the prior in each Parzen estimator (as if one more trial).
const PRIOR_WEIGHT: f64 = 1.0;

impl PedAnovaEvaluator {
    /// The defaults (see the type's documentation).
    pub fn new() -> Self {
        Self::default()
    }

    /// γ': the top quantile whose parameters are compared (default 0.1), in `(0, 1)`.
    pub fn target_quantile(mut self, q: f64) -> Self {
        self.target_quantile = q;
        self
    }

    /// γ: the region the importance is measured in (default 1.0, all trials), in
    /// `(target_quantile, 1]`.
    pub fn region_quantile(mut self, q: f64) -> Self {
        self.region_quantile = q;
        self
    }

    /// Compare with the region's trials (true, the default) or with the uniform density over
    /// the search space (false).
    pub fn evaluate_on_local(mut self, local: bool) -> Self {
        self.evaluate_on_local = local;
        self
    }

    /// Fewest trials in the top set (default 2, at least 1).
    pub fn min_n_top_trials(mut self, n: usize) -> Self {
        self.min_n_top_trials = n;
        self
    }

    /// Grid points for a continuous parameter (default 50, at least 2).
    pub fn n_steps(mut self, n: usize) -> Self {
        self.n_steps = n;
        self
    }

    fn validate(&self) -> Result<()> {
        let bad = |msg: String| Err(Error::InvalidConfig(format!("PED-ANOVA: {msg}")));
        if !(self.target_quantile > 0.0 && self.target_quantile < 1.0) {
            return bad(format!(
                "target_quantile must lie in (0, 1), got {}",
                self.target_quantile
            ));
        }
        if !(self.region_quantile > self.target_quantile && self.region_quantile <= 1.0) {
            return bad(format!(
                "region_quantile must lie in (target_quantile, 1] = ({}, 1], got {}",
                self.target_quantile, self.region_quantile
            ));
        }
        if self.min_n_top_trials == 0 {
            return bad("min_n_top_trials must be at least 1".into());
        }
        if self.n_steps < 2 {
            return bad(format!("n_steps must be at least 2, got {}", self.n_steps));
        }
        Ok(())
    }
}

impl ImportanceEvaluator for PedAnovaEvaluator {
    fn evaluate(
        &self,
        trials: &[Arc<FrozenTrial>],
        params: Option<&[&str]>,
        target: Target,
    ) -> Result<Importances> {
        self.validate()?;
        let data = prepare(trials, params, &target)?;
        let n = data.y.len();
        if n < self.min_n_top_trials {
            return Err(Error::InvalidConfig(format!(
                "PED-ANOVA: {n} usable trial(s), fewer than min_n_top_trials ({}); run more \
                 trials or lower min_n_top_trials",
                self.min_n_top_trials
            )));
        }
        // Rows from the best, ties in trial order.
        let sign = if target.direction() == Direction::Maximize { -1.0 } else { 1.0 };
        let mut order: Vec<usize> = (0..n).collect();
        order.sort_by(|&a, &b| (sign * data.y[a]).total_cmp(&(sign * data.y[b])));
        let top_count = |q: f64| -> usize {
            let k = ((n as f64 * q).ceil() as usize).clamp(self.min_n_top_trials, n);
            // Trials tied with the k-th best belong with it.
            let cut = sign * data.y[order[k - 1]];
            k + order[k..].iter().take_while(|&&i| sign * data.y[i] <= cut).count()
        };
        let top = &order[..top_count(self.target_quantile)];
        let region = &order[..top_count(self.region_quantile)];

        let scores: Vec<f64> = data
            .distributions
            .iter()
            .enumerate()
            .map(|(j, dist)| {
                let column =
                    |rows: &[usize]| rows.iter().map(|&i| data.x[i][j]).collect::<Vec<_>>();
                let grid = Grid::of(dist, self.n_steps);
                let p = grid.density(&column(top));
                let q = if self.evaluate_on_local {
                    grid.density(&column(region))
                } else {
                    vec![1.0 / grid.len() as f64; grid.len()]
                };
                pearson_divergence(&p, &q)
            })
            .collect();
        Ok(Importances::from_scores(&data.names, &scores))
    }
}

/// `Σ q (p/q − 1)²` over the grid (both densities positive, each summing to 1).
fn pearson_divergence(p: &[f64], q: &[f64]) -> f64 {
    p.iter().zip(q).filter(|(_, q)| **q > 0.0).map(|(p, q)| q * (p / q - 1.0).powi(2)).sum()
}

/// Where a parameter's densities are evaluated, in `[0, 1]`.
enum Grid {
    /// Choices of a categorical: one cell each.
    Categorical(usize),
    /// Points of a numeric parameter, evenly spaced or its values.
    Numeric(Vec<f64>),
}

impl Grid {
    fn of(dist: &Distribution, n_steps: usize) -> Self {
        match dist {
            Distribution::Categorical(c) => Grid::Categorical(c.choices.len().max(1)),
            _ => {
                let points: Vec<f64> = match dist.cardinality() {
                    Some(card) if (card as usize) <= n_steps => {
                        let mut v: Vec<f64> = dist
                            .grid_points(card as usize)
                            .into_iter()
                            .map(|x| super::unit(dist, x))
                            .collect();
                        v.dedup();
                        v
                    }
                    _ => (0..n_steps).map(|k| k as f64 / (n_steps - 1) as f64).collect(),
                };
                Grid::Numeric(points)
            }
        }
    }

    fn len(&self) -> usize {
        match self {
            Grid::Categorical(n) => *n,
            Grid::Numeric(p) => p.len(),
        }
    }

    /// The Parzen density of `samples` (scaled values) at the grid, summing to 1.
    fn density(&self, samples: &[f64]) -> Vec<f64> {
        match self {
            Grid::Categorical(k) => {
                let mut weights = vec![PRIOR_WEIGHT / *k as f64; *k];
                for s in samples {
                    let i = ((s * *k as f64).floor() as usize).min(k - 1);
                    weights[i] += 1.0;
                }
                normalise(weights)
            }
            Grid::Numeric(points) => {
                let g = points.len();
                if g == 1 {
                    return vec![1.0];
                }
                // Samples counted at their nearest grid point.
                let mut counts = vec![0.0; g];
                for s in samples {
                    let i = points.partition_point(|p| p < s);
                    let nearest = if i == 0 {
                        0
                    } else if i == g || s - points[i - 1] <= points[i] - s {
                        i - 1
                    } else {
                        i
                    };
                    counts[nearest] += 1.0;
                }
                let min_step = points.windows(2).map(|w| w[1] - w[0]).fold(f64::INFINITY, f64::min);
                let bandwidth = scott_bandwidth(samples).max(0.5 * min_step);
                // Each kernel is truncated to the grid (normalised over it), then weighted.
                let kernel = |centre: f64, sigma: f64| -> Vec<f64> {
                    normalise(
                        points
                            .iter()
                            .map(|x| (-0.5 * ((x - centre) / sigma).powi(2)).exp())
                            .collect(),
                    )
                };
                let mut density: Vec<f64> =
                    kernel(0.5, 1.0).into_iter().map(|v| v * PRIOR_WEIGHT).collect();
                for (c, &count) in points.iter().zip(&counts) {
                    if count > 0.0 {
                        for (d, k) in density.iter_mut().zip(kernel(*c, bandwidth)) {
                            *d += count * k;
                        }
                    }
                }
                normalise(density)
            }
        }
    }
}

/// Scott's rule: `1.059 · min(σ, IQR / 1.34) · n^(−1/5)` (σ alone when the IQR is 0).
fn scott_bandwidth(samples: &[f64]) -> f64 {
    let n = samples.len();
    if n < 2 {
        return 0.0;
    }
    let mean = samples.iter().sum::<f64>() / n as f64;
    let sd = (samples.iter().map(|s| (s - mean).powi(2)).sum::<f64>() / (n - 1) as f64).sqrt();
    let mut sorted = samples.to_vec();
    sorted.sort_by(f64::total_cmp);
    let quantile = |q: f64| {
        let pos = q * (n - 1) as f64;
        let (i, frac) = (pos.floor() as usize, pos.fract());
        sorted[i] + frac * (sorted[(i + 1).min(n - 1)] - sorted[i])
    };
    let iqr = quantile(0.75) - quantile(0.25);
    let spread = if iqr > 0.0 { sd.min(iqr / 1.34) } else { sd };
    1.059 * spread * (n as f64).powf(-0.2)
}

fn normalise(mut v: Vec<f64>) -> Vec<f64> {
    let total: f64 = v.iter().sum();
    if total > 0.0 {
        v.iter_mut().for_each(|x| *x /= total);
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_densities_diverge_by_zero_and_different_ones_more() {
        let q = [0.25; 4];
        assert_eq!(pearson_divergence(&q, &q), 0.0);
        let p = [0.7, 0.1, 0.1, 0.1];
        assert!((pearson_divergence(&p, &q) - 0.25 * (1.8f64.powi(2) + 3.0 * 0.36)).abs() < 1e-12);
    }

    #[test]
    fn densities_sum_to_one_and_follow_the_samples() {
        let grid = Grid::of(&Distribution::float(0.0, 1.0), 50);
        let d = grid.density(&[0.1, 0.12, 0.09, 0.11]);
        assert!((d.iter().sum::<f64>() - 1.0).abs() < 1e-12);
        let peak = d.iter().enumerate().max_by(|a, b| a.1.total_cmp(b.1)).unwrap().0;
        assert!((4..=7).contains(&peak), "peak at {peak}");
        let grid = Grid::of(&Distribution::categorical(["a", "b", "c"]), 50);
        let d = grid.density(&[0.5, 0.5, 0.5]);
        assert!(d[1] > 0.8 && (d.iter().sum::<f64>() - 1.0).abs() < 1e-12, "{d:?}");
        let grid = Grid::of(&Distribution::int(1, 4), 50);
        assert_eq!(grid.len(), 4);
    }
}
