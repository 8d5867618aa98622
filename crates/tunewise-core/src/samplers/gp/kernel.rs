//! The Matérn 5/2 kernel with one length scale per dimension (ARD).
//!
//! `k(x, x') = σ² · m(s)`, with `s = Σ_j λ_j · δ_j(x, x')²` and
//! `m(s) = (1 + √(5s) + 5s/3) · exp(−√(5s))` (Rasmussen & Williams 2006, eq. 4.17).
//! `λ_j` is the inverse squared length scale of dimension `j`. On a numeric dimension (in
//! `[0, 1]` after normalization) `δ_j` is the difference; on a categorical one it is 0 for the
//! same choice and 1 for different ones (a Hamming-type term inside the same Matérn profile, as
//! Optuna's GP sampler does), so one length scale per categorical says how much its choice
//! matters.

/// The Matérn 5/2 profile at `s = r²` and its derivative in `s` (finite at `s = 0`).
pub(crate) fn matern52(s: f64) -> (f64, f64) {
    let s = s.max(0.0);
    let r5 = (5.0 * s).sqrt();
    let e = (-r5).exp();
    ((1.0 + r5 + 5.0 / 3.0 * s) * e, -5.0 / 6.0 * (1.0 + r5) * e)
}

/// The kernel's hyperparameters.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct KernelParams {
    /// Inverse squared length scale per dimension.
    pub inv_sq_ls: Vec<f64>,
    /// Signal variance `σ²`.
    pub signal: f64,
    /// Observation noise variance.
    pub noise: f64,
}

/// One dimension's `δ²` between two values.
#[inline]
pub(crate) fn delta2(a: f64, b: f64, categorical: bool) -> f64 {
    if categorical {
        if a == b {
            0.0
        } else {
            1.0
        }
    } else {
        (a - b) * (a - b)
    }
}

/// `s(x, x')`: the scaled squared distance.
#[inline]
pub(crate) fn scaled_dist(x: &[f64], y: &[f64], inv_sq_ls: &[f64], cat: &[bool]) -> f64 {
    let mut s = 0.0;
    for j in 0..x.len() {
        s += inv_sq_ls[j] * delta2(x[j], y[j], cat[j]);
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_profile_derivative_matches_finite_differences() {
        for s in [0.0, 1e-6, 0.01, 0.3, 1.0, 4.0, 25.0] {
            let h = 1e-7;
            let (lo, hi) = (matern52(s + h).0, matern52(s + 2.0 * h).0);
            let (m0, d0) = matern52(s);
            // One-sided at s = 0 (the profile is defined for s >= 0 only).
            let fd = (-3.0 * m0 + 4.0 * lo - hi) / (2.0 * h);
            assert!((fd - d0).abs() < 1e-5 * (1.0 + d0.abs()), "s {s}: {fd} vs {d0}");
        }
        assert_eq!(matern52(0.0).0, 1.0);
        assert!(matern52(1e6).0 < 1e-100);
    }
}
