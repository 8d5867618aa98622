//! Warm start, simplified from WS-CMA-ES (Nomura, Watanabe, Akimoto, Ozaki, Onishi, "Warm
//! Starting CMA-ES for Hyperparameter Optimization", AAAI 2021).
//!
//! WS-CMA-ES fits the initial distribution to the promising region of a *source* task. Here the
//! source is the study's own startup trials (random, enqueued, or left by another sampler):
//!
//! 1. take the best `k = max(2, ⌈gamma · n⌉)` of the `n` startup trials (feasible first, then by
//!    value), as points `x_i` of the unit box;
//! 2. fit the mixture `(1/k) Σ N(x_i, alpha² I)` by its moments (the paper's prior with
//!    `alpha = 0.1`): mean `m = (1/k) Σ x_i`, covariance
//!    `Σ = alpha² I + (1/k) Σ (x_i − m)(x_i − m)ᵀ`;
//! 3. start CMA-ES with mean `m`, step size `σ = det(Σ)^(1/(2d))` and covariance `C = Σ / σ²`
//!    (the diagonal of it for sep-CMA-ES).
//!
//! Unlike the paper, there is no separate source study and no transfer across tasks.

use nalgebra::{DMatrix, SymmetricEigen};

/// The mixture's bandwidth (the paper's alpha).
const ALPHA: f64 = 0.1;

/// The initial mean, step size and covariance from `points` ranked best first (unit box);
/// `None` with fewer than two points or a degenerate fit.
pub(crate) fn initial(points: &[Vec<f64>], gamma: f64) -> Option<(Vec<f64>, f64, DMatrix<f64>)> {
    let n = points.len();
    if n < 2 {
        return None;
    }
    let d = points[0].len();
    let k = ((gamma * n as f64).ceil() as usize).clamp(2, n);
    let top = &points[..k];
    let mean: Vec<f64> = (0..d).map(|i| top.iter().map(|x| x[i]).sum::<f64>() / k as f64).collect();
    let mut cov = DMatrix::<f64>::identity(d, d) * (ALPHA * ALPHA);
    for x in top {
        for i in 0..d {
            for j in 0..d {
                cov[(i, j)] += (x[i] - mean[i]) * (x[j] - mean[j]) / k as f64;
            }
        }
    }
    let eig = SymmetricEigen::try_new(cov.clone(), 1e-15, 10_000)?;
    let log_det: f64 = eig.eigenvalues.iter().map(|v| v.max(1e-300).ln()).sum();
    let sigma = (log_det / (2.0 * d as f64)).exp();
    if !(sigma.is_finite() && sigma > 0.0) || mean.iter().any(|m| !m.is_finite()) {
        return None;
    }
    let c = cov / (sigma * sigma);
    Some((mean, sigma, c))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fit_centres_on_the_best_points_with_unit_determinant() {
        let mut points = vec![vec![0.2, 0.7], vec![0.22, 0.69], vec![0.18, 0.72], vec![0.21, 0.7]];
        points.extend((0..16).map(|i| vec![0.9 - 0.01 * i as f64, 0.1]));
        let (m, sigma, c) = initial(&points, 0.2).expect("a fit");
        assert!((m[0] - 0.2025).abs() < 1e-12 && (m[1] - 0.7025).abs() < 1e-12, "{m:?}");
        assert!(sigma > ALPHA * 0.99 && sigma < 0.2, "{sigma}");
        let det = c[(0, 0)] * c[(1, 1)] - c[(0, 1)] * c[(1, 0)];
        assert!((det - 1.0).abs() < 1e-9, "{det}");
        assert!(initial(&points[..1], 0.2).is_none());
    }
}
