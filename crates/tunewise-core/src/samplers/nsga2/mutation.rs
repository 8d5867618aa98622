//! Mutation operators on one numeric dimension, in the normalized space `[0, 1]`.

use crate::rng::Rng;

/// How a child's parameter is mutated (each parameter with probability
/// [`mutation_prob`](super::NsgaIIBuilder::mutation_prob)).
///
/// Categorical parameters are always redrawn uniformly among their choices.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
#[non_exhaustive]
pub enum Mutation {
    /// Redraw the parameter from its whole distribution, as random search would (Optuna's
    /// rule; the default).
    #[default]
    Uniform,
    /// Polynomial mutation (Deb and Goyal 1996), bounded version: a small move whose size
    /// follows a polynomial distribution; a larger `eta` makes smaller moves. Deb et al. 2002
    /// pair it with SBX, `eta` 20 ([`Mutation::polynomial`]).
    Polynomial {
        /// The distribution index, at least 0.
        eta: f64,
    },
}

impl Mutation {
    /// Polynomial mutation with Deb's distribution index, 20.
    pub fn polynomial() -> Self {
        Mutation::Polynomial { eta: 20.0 }
    }
}

/// Bounded polynomial mutation of `y` in `[0, 1]` (Deb's reference implementation).
pub(super) fn polynomial(y: f64, eta: f64, rng: &mut Rng) -> f64 {
    let u = rng.uniform();
    let power = 1.0 / (eta + 1.0);
    let delta = if u < 0.5 {
        let xy = 1.0 - y;
        let val = 2.0 * u + (1.0 - 2.0 * u) * xy.powf(eta + 1.0);
        val.powf(power) - 1.0
    } else {
        let xy = y;
        let val = 2.0 * (1.0 - u) + 2.0 * (u - 0.5) * xy.powf(eta + 1.0);
        1.0 - val.powf(power)
    };
    (y + delta).clamp(0.0, 1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn polynomial_mutation_stays_in_bounds_and_moves_a_little() {
        let mut rng = Rng::new(3);
        let mut moved = 0.0;
        for i in 0..20_000 {
            let y = [0.0, 1.0, 0.5, 1e-12][i % 4];
            let m = polynomial(y, 20.0, &mut rng);
            assert!((0.0..=1.0).contains(&m), "{y} -> {m}");
            moved += (m - y).abs();
        }
        let mean = moved / 20_000.0;
        assert!(mean > 0.001 && mean < 0.1, "mean move {mean}");
        for _ in 0..1000 {
            assert!((0.0..=1.0).contains(&polynomial(0.3, 0.0, &mut rng)));
        }
    }
}
