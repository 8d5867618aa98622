//! Crossover operators on one numeric dimension, in the normalized space `[0, 1]`.

use crate::rng::Rng;

/// How two parents' numeric parameters are combined into a child's.
///
/// Every operator works one parameter at a time, on the parameter mapped to `[0, 1]` (on the
/// logarithm for log scales, with half a step of margin at each end for ints and stepped floats,
/// whose children are snapped back to the grid). Categorical parameters always take one parent's
/// choice (the second parent's with probability
/// [`swapping_prob`](super::NsgaIIBuilder::swapping_prob)).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
#[non_exhaustive]
pub enum Crossover {
    /// Each parameter is copied from one parent, the second with probability
    /// [`swapping_prob`](super::NsgaIIBuilder::swapping_prob) (Optuna's default).
    #[default]
    Uniform,
    /// Simulated binary crossover (Deb and Agrawal 1995), bounded version: two children spread
    /// around the parents like those of a one-point crossover of bit strings; a larger `eta`
    /// keeps them closer to the parents. The child takes the one near the first parent, or the
    /// other with probability `swapping_prob`. [`Crossover::sbx`] gives Deb's `eta` of 20.
    Sbx {
        /// The distribution index, at least 0 (Deb et al. 2002 use 20).
        eta: f64,
    },
    /// Blend crossover BLX-α (Eshelman and Schaffer 1993): uniform on the parents' interval
    /// widened by `alpha` times its length on each side, clipped to the range.
    /// [`Crossover::blx`] gives the usual `alpha` of 0.5.
    Blx {
        /// The widening, at least 0.
        alpha: f64,
    },
}

impl Crossover {
    /// SBX with Deb's distribution index, 20.
    pub fn sbx() -> Self {
        Crossover::Sbx { eta: 20.0 }
    }

    /// BLX-α with `alpha` 0.5.
    pub fn blx() -> Self {
        Crossover::Blx { alpha: 0.5 }
    }

    /// The child's value in `[0, 1]` from the parents' `a` (first) and `b`.
    pub(super) fn child(self, a: f64, b: f64, swapping_prob: f64, rng: &mut Rng) -> f64 {
        match self {
            Crossover::Uniform => {
                if rng.uniform() < swapping_prob {
                    b
                } else {
                    a
                }
            }
            Crossover::Sbx { eta } => {
                let (near_a, near_b) = sbx(a, b, eta, rng);
                if rng.uniform() < swapping_prob {
                    near_b
                } else {
                    near_a
                }
            }
            Crossover::Blx { alpha } => blx(a, b, alpha, rng),
        }
    }
}

/// Bounded SBX on `[0, 1]` (Deb's reference implementation of NSGA-II): the two children, the
/// first on `a`'s side, the second on `b`'s. Equal parents give themselves.
pub(super) fn sbx(a: f64, b: f64, eta: f64, rng: &mut Rng) -> (f64, f64) {
    let (y1, y2) = if a <= b { (a, b) } else { (b, a) };
    let gap = y2 - y1;
    if gap < 1e-14 {
        return (a, b);
    }
    let u = rng.uniform();
    let power = 1.0 / (eta + 1.0);
    // The spread factor for one side, its distribution cut so that the child stays in bounds
    // (`room` is the distance from the nearer parent to that side's bound).
    let betaq = |room: f64| {
        let beta = 1.0 + 2.0 * room / gap;
        let alpha = 2.0 - beta.powf(-(eta + 1.0));
        if u <= 1.0 / alpha {
            (u * alpha).powf(power)
        } else {
            (1.0 / (2.0 - u * alpha)).powf(power)
        }
    };
    let low = (0.5 * ((y1 + y2) - betaq(y1) * gap)).clamp(0.0, 1.0);
    let high = (0.5 * ((y1 + y2) + betaq(1.0 - y2) * gap)).clamp(0.0, 1.0);
    if a <= b {
        (low, high)
    } else {
        (high, low)
    }
}

/// BLX-α on `[0, 1]`.
pub(super) fn blx(a: f64, b: f64, alpha: f64, rng: &mut Rng) -> f64 {
    let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
    let widen = alpha * (hi - lo);
    rng.uniform_range(lo - widen, hi + widen).clamp(0.0, 1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sbx_keeps_children_in_bounds_and_near_their_parents() {
        let mut rng = Rng::new(1);
        let mut spread = 0.0;
        let n = 20_000;
        for i in 0..n {
            let a = rng.uniform();
            let b = if i % 7 == 0 { 1.0 } else { rng.uniform() };
            let (ca, cb) = sbx(a, b, 20.0, &mut rng);
            assert!((0.0..=1.0).contains(&ca) && (0.0..=1.0).contains(&cb), "{a} {b}: {ca} {cb}");
            // Each child lies on its parent's side of the parents' midpoint.
            let mid = 0.5 * (a + b);
            assert!((ca - mid) * (a - mid) >= -1e-12, "{a} {b}: {ca}");
            spread += (ca - a).abs() / (a - b).abs().max(1e-9);
        }
        // eta 20: the children stay close to their parents (mean shift a small part of the gap).
        assert!(spread / f64::from(n) < 0.1, "mean relative shift {}", spread / f64::from(n));
        // Extreme parents and eta 0 stay in bounds too.
        for _ in 0..1000 {
            let (x, y) = sbx(0.0, 1e-9, 0.0, &mut rng);
            assert!((0.0..=1.0).contains(&x) && (0.0..=1.0).contains(&y));
        }
        assert_eq!(sbx(0.3, 0.3, 20.0, &mut rng), (0.3, 0.3));
    }

    #[test]
    fn blx_keeps_children_in_bounds_and_covers_the_widened_interval() {
        let mut rng = Rng::new(2);
        let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
        for _ in 0..10_000 {
            let c = blx(0.4, 0.6, 0.5, &mut rng);
            assert!((0.3..=0.7).contains(&c), "{c}");
            lo = lo.min(c);
            hi = hi.max(c);
        }
        assert!(lo < 0.31 && hi > 0.69, "[{lo}, {hi}]");
        for _ in 0..10_000 {
            let c = blx(0.0, 0.9, 1.0, &mut rng);
            assert!((0.0..=1.0).contains(&c), "{c}");
        }
    }
}
