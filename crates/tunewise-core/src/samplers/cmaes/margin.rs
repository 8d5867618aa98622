//! CMA-ES with margin (Hamano, Saito, Nomura, Shirakawa, "CMA-ES with Margin: Lower-Bounding
//! Marginal Probability for Mixed-Integer Black-Box Optimization", GECCO 2022).
//!
//! A discrete coordinate (an int or a stepped float) takes the value of the cell its sample falls
//! in. Once the distribution is narrower than a cell, every sample lands on the mean's value and
//! the search of that coordinate stops for good. After each generation, for each discrete
//! coordinate, the margin keeps the probability that a sample leaves the mean's cell at least
//! `alpha` on each side that has a neighbouring value (default `alpha = 1 / (d λ)`):
//!
//! - with `s = σ A_ii √C_ii` the coordinate's marginal deviation and `z = Φ⁻¹(1 − alpha)`,
//!   `P(x > hi) ≥ alpha` means `m ≥ hi − z s` and `P(x < lo) ≥ alpha` means `m ≤ lo + z s`;
//! - a value with one neighbour (the lowest or the highest): the mean moves towards that
//!   neighbour just enough (always possible inside the cell);
//! - a value with two: when the cell is at most `2 z s` wide the mean is clipped into
//!   `[hi − z s, lo + z s]`; when it is wider, no mean works, so `A_ii` grows to make the
//!   cell exactly `2 z s` wide and the mean goes to the cell's centre.
//!
//! This follows the paper's two steps (correct the mean, then enlarge `A` when the mean alone
//! cannot do it) with the conditions written out per side as above; the choice of the smallest
//! enlargement, with the mean at the centre, is ours.
//!
//! `A` never shrinks (as in the paper); σ and `C` keep adapting underneath it.

use super::space::Dim;
use super::strategy::Strategy;
use crate::math::special::erfc;

/// Applies the margin to every discrete coordinate of `strategy`.
pub(crate) fn apply(strategy: &mut Strategy, dims: &[Dim], alpha: f64) {
    let z = upper_quantile(alpha);
    for (i, dim) in dims.iter().enumerate() {
        let Some(cell) = dim.cell(strategy.mean()[i]) else { continue };
        let s = strategy.marginal_std(i);
        if !(s.is_finite() && s > 0.0) {
            continue;
        }
        let m = strategy.mean()[i];
        let a = strategy.a(i);
        let (lo, hi) = (cell.lo, cell.hi);
        let (mean, a) = match (cell.below, cell.above) {
            (false, true) => (m.max(hi - z * s), a),
            (true, false) => (m.min(lo + z * s), a),
            // max/min rather than clamp: rounding may cross the two bounds by an ulp.
            (true, true) if hi - lo <= 2.0 * z * s => (m.max(hi - z * s).min(lo + z * s), a),
            (true, true) => (0.5 * (lo + hi), a * (hi - lo) / (2.0 * z * s)),
            (false, false) => (m, a),
        };
        strategy.set_margin(i, mean, a);
    }
}

/// `P(Z > t)` for a standard normal `Z`, `t ≥ 0`.
fn upper_tail(t: f64) -> f64 {
    0.5 * erfc(t / std::f64::consts::SQRT_2)
}

/// `Φ⁻¹(1 − alpha)` for `alpha` in (0, 0.5], by bisection on the tail.
pub(crate) fn upper_quantile(alpha: f64) -> f64 {
    let alpha = alpha.clamp(1e-300, 0.5);
    let (mut lo, mut hi) = (0.0_f64, 40.0_f64);
    for _ in 0..100 {
        let mid = 0.5 * (lo + hi);
        if upper_tail(mid) > alpha {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    0.5 * (lo + hi)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::Distribution;

    #[test]
    fn the_quantile_matches_known_values() {
        for (alpha, z) in [(0.5, 0.0), (0.158_655_253_931_457, 1.0), (0.025, 1.959_963_984_540_054)]
        {
            assert!((upper_quantile(alpha) - z).abs() < 1e-9, "{alpha}: {}", upper_quantile(alpha));
        }
        assert!((upper_quantile(0.001_349_898_031_630_1) - 3.0).abs() < 1e-7);
        assert!((upper_tail(5.0) - 2.866_515_718_791_939e-7).abs() < 1e-17);
    }

    #[test]
    fn the_margin_keeps_neighbouring_values_reachable() {
        // One int in [0, 10]: 11 cells of width 1/11. A tiny σ at the value 5.
        let dims =
            vec![Dim::new(Arc::from("k"), Arc::new(Distribution::int(0, 10))).expect("numeric")];
        let centre = dims[0].unit_of(5.0);
        let mut s = Strategy::new(vec![centre + 0.01], 1e-4, 6, false, None);
        let alpha = 0.05;
        apply(&mut s, &dims, alpha);
        let cell = dims[0].cell(s.mean()[0]).expect("discrete");
        let sd = s.marginal_std(0);
        let m = s.mean()[0];
        let p_up = upper_tail((cell.hi - m) / sd);
        let p_down = upper_tail((m - cell.lo) / sd);
        assert!(p_up >= alpha * 0.999 && p_down >= alpha * 0.999, "{p_up} {p_down}");
        // At the lowest value only the upper side counts, and the mean moves, A does not.
        let low = dims[0].unit_of(0.0);
        let mut s = Strategy::new(vec![low], 1e-2, 6, false, None);
        apply(&mut s, &dims, alpha);
        let cell = dims[0].cell(s.mean()[0]).expect("discrete");
        assert_eq!(s.a(0), 1.0);
        let p_up = upper_tail((cell.hi - s.mean()[0]) / s.marginal_std(0));
        assert!(p_up >= alpha * 0.999, "{p_up}");
    }
}
