//! Quasi-Monte Carlo search: scrambled Sobol and Halton sequences.

mod halton;
mod sobol;

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::distribution::Distribution;
use crate::error::{Error, Result};
use crate::frozen::FrozenTrial;
use crate::rng::{derive_key, Rng};
use crate::sampler::{Sampler, StudyView};
use crate::search_space::SearchSpace;

use super::RandomSampler;

/// The low-discrepancy sequence a [`QmcSampler`] follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum QmcKind {
    /// Sobol's sequence (Joe & Kuo 2008 direction numbers), Owen-scrambled with Burley's hash.
    Sobol,
    /// Halton's sequence (a prime base per dimension), Owen-scrambled with nested affine digit
    /// permutations.
    Halton,
}

/// Quasi-Monte Carlo search: the trials follow a scrambled Sobol or Halton sequence, which
/// fills the space more evenly than independent random draws.
///
/// **What it is.** Trial `n` takes point `n + skip` of a low-discrepancy sequence in the unit
/// cube `[0, 1)^d`, one dimension per parameter, and maps each coordinate `u` onto its
/// parameter: floats linearly (`low + u (high - low)`), log-scaled floats linearly in the
/// logarithm, stepped floats, ints and categoricals onto the `k = floor(u n)`-th of their `n`
/// values (so equal shares of the cube give equal shares of the values; log-scaled ints in the
/// logarithm, rounded). The first `2^m` Sobol points fall one in each of `2^m` equal cells of
/// every coordinate, and of every `2^a × 2^(m-a)` grid of the first two; Halton's do the same
/// for powers of each dimension's prime base.
///
/// - [`QmcSampler::sobol`]: points from the `sobol_burley` crate (Joe & Kuo direction
///   numbers), Owen-scrambled by Burley's hash (an exact nested scramble drawn from a hashed
///   family rather than from independent flips at every node). 256 dimensions and 2^16 points,
///   extended past both by independently scrambled copies (Burley's padding): dimension
///   `j >= 256` is a fresh scramble of dimension `j % 256`, and points from `2^16` on a fresh
///   scramble of the whole sequence, so no point repeats.
/// - [`QmcSampler::halton`]: written here. Dimension `j` is the radical inverse in the `j`-th
///   prime base; scrambling is Owen's nested scrambling with random affine permutations
///   `d -> (a d + c) mod b` of each digit, keyed by the digits before it (they give Owen's
///   variance, Matoušek 1998), carried down to 2^-53. Unscrambled Halton in many dimensions
///   shows strong correlations between dimensions of nearby large primes: keep the scramble.
///
/// **The space.** Define-by-run objectives do not declare their space, so the sampler takes
/// it, as Optuna's `QMCSampler` does, from the first complete trial (the lowest-numbered):
/// its parameters, in name order, are the dimensions of the sequence, fixed for the rest of
/// the study so that every parameter keeps its coordinate. Single-valued parameters take no
/// dimension. Everything else is drawn by independent random sampling, by a
/// [`RandomSampler`] with the same seed: every trial started before the first completes
/// (always trial 0), and parameters the first complete trial did not ask (the other branches
/// of a conditional space, or a distribution that changed). Not the intersection of finished
/// trials: it shrinks as branches appear, and the parameters would change coordinates midway.
///
/// **The index.** A trial's point is its number plus [`skip`](Self::skip), so the sampler
/// keeps no state: a resumed study or another worker on the same study goes on along the same
/// sequence, and no point is proposed twice. Points whose trials were sampled at random (trial
/// 0, and trials started before the first finished) are skipped; with the default `skip` of 0
/// that includes point 0, the origin of the unscrambled sequences (Optuna skips it too).
///
/// **When to use it.** Space-filling exploration when the budget is known and not much larger
/// than a few hundred trials; as the startup phase of a model-based sampler; to compare
/// configurations on an even design. Budgets of a power of two (plus the random first trial)
/// give Sobol's best balance. It does not learn from results: for long studies, prefer a
/// model-based sampler.
///
/// **Cost.** Per trial and parameter: at most 16 table look-ups and one hash for Sobol; one
/// hash per digit down to 2^-53 for scrambled Halton (53 in base 2, 6 in base 541), after a
/// search for the first `d` primes. Plus a scan of the trials up to the first complete one. No
/// history is modelled and no state is kept: memory is constant.
///
/// **Defaults.** Scrambled, `skip` 0, seeded from the operating system (the study's seed
/// replaces it when the study builder has one). Scrambling needs the seed; the unscrambled
/// sequences are the same for every seed (only the random trials depend on it).
///
/// **References.** I. M. Sobol', "On the distribution of points in a cube and the approximate
/// evaluation of integrals" (1967); S. Joe and F. Y. Kuo, "Constructing Sobol sequences with
/// better two-dimensional projections" (SIAM J. Sci. Comput., 2008); J. H. Halton, "On the
/// efficiency of certain quasi-random sequences of points in evaluating multi-dimensional
/// integrals" (Numer. Math., 1960); A. B. Owen, "Randomly permuted (t,m,s)-nets and
/// (t,s)-sequences" (1995); J. Matoušek, "On the L2-discrepancy for anchored boxes" (J.
/// Complexity, 1998); B. Burley, "Practical hash-based Owen scrambling" (JCGT, 2020).
///
/// ```
/// use tunewise_core::{Budget, QmcSampler, Study, TrialError};
///
/// let study = Study::builder().sampler(QmcSampler::sobol().seed(7)).create()?;
/// study.optimize(
///     |t| -> Result<f64, TrialError> {
///         let lr = t.suggest_float_log("lr", 1e-5, 1e-1)?;
///         let layers = t.suggest_int("layers", 1, 4)?;
///         let act = t.suggest_categorical("act", &["relu", "tanh"])?;
///         Ok((lr.log10() + 3.0).powi(2) + layers as f64 + act.len() as f64)
///     },
///     Budget::trials(1 + 32),
/// )?;
/// // Trials 1..=32 take Sobol points 1..=32: each of the four layer counts close to 8 times.
/// let trials = study.trials()?;
/// let fours = trials[1..].iter().filter(|t| t.params_map()["layers"].as_i64() == Some(4));
/// assert!((7..=9).contains(&fours.count()));
/// # Ok::<(), tunewise_core::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct QmcSampler {
    kind: QmcKind,
    seed: u64,
    scramble: bool,
    skip: u64,
    independent: RandomSampler,
}

impl Default for QmcSampler {
    /// A scrambled Sobol sampler.
    fn default() -> Self {
        Self::sobol()
    }
}

impl QmcSampler {
    /// A sampler following `kind`, scrambled, seeded from the operating system.
    pub fn new(kind: QmcKind) -> Self {
        let seed = Rng::os_seed();
        QmcSampler {
            kind,
            seed,
            scramble: true,
            skip: 0,
            independent: RandomSampler::with_seed(seed),
        }
    }

    /// Scrambled Sobol points.
    pub fn sobol() -> Self {
        Self::new(QmcKind::Sobol)
    }

    /// Scrambled Halton points.
    pub fn halton() -> Self {
        Self::new(QmcKind::Halton)
    }

    /// Sets the seed of the scramble and of the parameters drawn at random.
    pub fn seed(mut self, seed: u64) -> Self {
        self.reseed_inner(seed);
        self
    }

    /// Scrambles the sequence (default `true`). Unscrambled points are the textbook sequence,
    /// the same for every seed, and lie on a grid of dyadic (Sobol) or `b`-adic (Halton)
    /// fractions.
    pub fn scramble(mut self, scramble: bool) -> Self {
        self.scramble = scramble;
        self
    }

    /// Trial `n` takes point `n + skip` (default 0).
    pub fn skip(mut self, skip: u64) -> Self {
        self.skip = skip;
        self
    }

    /// The sequence followed.
    pub fn kind(&self) -> QmcKind {
        self.kind
    }

    /// Whether the sequence is scrambled.
    pub fn is_scrambled(&self) -> bool {
        self.scramble
    }

    /// The point with `index` in the sequence (trial `index - skip` takes it): `dimensions`
    /// coordinates in `[0, 1)`, one per parameter of the sampled space in name order.
    pub fn point(&self, index: u64, dimensions: usize) -> Vec<f64> {
        let mut out = Vec::with_capacity(dimensions);
        match self.kind {
            QmcKind::Sobol => sobol::point(index, dimensions, self.seed, self.scramble, &mut out),
            QmcKind::Halton => halton::point(index, dimensions, self.seed, self.scramble, &mut out),
        }
        out
    }

    fn reseed_inner(&mut self, seed: u64) {
        self.seed = seed;
        self.independent = RandomSampler::with_seed(seed);
    }
}

/// A key derived from a seed and indices (like [`Rng::derive`], without a generator).
fn key(seed: u64, keys: &[u64]) -> u64 {
    derive_key(seed, keys)
}

/// The internal value of the point `u` in `[0, 1)` of a distribution: linear for floats,
/// linear in the logarithm for log scales, the `floor(u n)`-th of the `n` values of stepped
/// floats, ints and categoricals (log-scaled ints: in the logarithm, rounded).
pub(crate) fn from_unit(distribution: &Distribution, u: f64) -> f64 {
    let u = u.clamp(0.0, 1.0);
    let lerp = |low: f64, high: f64| (low * (1.0 - u) + high * u).clamp(low, high);
    // The `floor(u n)`-th of `n` values, at most the last. Unscrambled Halton points lie on
    // the edges of these cells up to rounding (1/3 is stored a little below one third): a few
    // ulps' nudge puts an edge in the cell it starts.
    let nth = |n: u64| {
        let x = u * n as f64;
        ((x + x * (4.0 * f64::EPSILON)) as u64).min(n.saturating_sub(1))
    };
    match distribution {
        Distribution::Float(d) => match d.step {
            Some(step) => {
                let n = distribution.cardinality().unwrap_or(1);
                distribution.snap_internal(d.low + nth(n) as f64 * step)
            }
            // exp(ln(low)) can miss `low` in the last bit: the origin maps onto the bound.
            None if d.log && u == 0.0 => d.low,
            None if d.log => lerp(d.low.ln(), d.high.ln()).exp().clamp(d.low, d.high),
            None => lerp(d.low, d.high),
        },
        Distribution::Int(d) if d.log => {
            let x = lerp((d.low as f64 - 0.5).ln(), (d.high as f64 + 0.5).ln()).exp();
            distribution.snap_internal(x)
        }
        Distribution::Int(d) => {
            let n = distribution.cardinality().unwrap_or(1);
            (d.low + nth(n) as i64 * d.step) as f64
        }
        Distribution::Categorical(d) => nth(d.choices.len() as u64) as f64,
    }
}

impl Sampler for QmcSampler {
    fn sample_independent(
        &self,
        study: &StudyView<'_>,
        trial: &FrozenTrial,
        name: &str,
        distribution: &Distribution,
    ) -> Result<f64> {
        self.independent.sample_independent(study, trial, name, distribution)
    }

    /// The parameters of the first complete trial, single values left out.
    fn infer_relative_search_space(
        &self,
        study: &StudyView<'_>,
        _trial: &FrozenTrial,
    ) -> Result<SearchSpace> {
        let mut space = SearchSpace::new();
        if let Some(first) = study.completed().next() {
            for p in first.params.iter().filter(|p| !p.distribution.is_single()) {
                space.insert(p.name.clone(), p.distribution.clone());
            }
        }
        Ok(space)
    }

    fn sample_relative(
        &self,
        _study: &StudyView<'_>,
        trial: &FrozenTrial,
        space: &SearchSpace,
    ) -> Result<BTreeMap<Arc<str>, f64>> {
        let index = trial.number.checked_add(self.skip).ok_or_else(|| {
            Error::Sampler(format!(
                "QmcSampler: trial {} plus skip {} is past the end of the sequence; use a \
                 smaller skip",
                trial.number, self.skip
            ))
        })?;
        let point = self.point(index, space.len());
        Ok(space.iter().zip(point).map(|((name, d), u)| (name.clone(), from_unit(d, u))).collect())
    }

    fn reseed(&mut self, seed: u64) {
        self.reseed_inner(seed);
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn distributions() -> Vec<Distribution> {
        vec![
            Distribution::float(-5.0, 5.0),
            Distribution::float(-1e308, 1e308),
            Distribution::float(2.5, 2.5),
            Distribution::float_log(1e-8, 10.0),
            Distribution::float_step(0.0, 0.3, 0.1),
            Distribution::float_step(8.05, 8.27, 0.11),
            Distribution::int(-3, 3),
            Distribution::int(-(1 << 53), 1 << 53),
            Distribution::int_log(1, 1000),
            Distribution::int_step(1, 9, 4),
            Distribution::categorical(["a", "b", "c"]),
            Distribution::categorical([true]),
        ]
    }

    proptest! {
        #[test]
        fn every_point_of_the_cube_maps_inside_its_distribution(u in 0.0..1.0f64) {
            for d in distributions() {
                let x = from_unit(&d, u);
                prop_assert!(d.contains_internal(x), "{d}: u = {u} gave {x}");
            }
        }

        #[test]
        fn the_mapping_is_monotone(a in 0.0..1.0f64, b in 0.0..1.0f64) {
            let (a, b) = if a <= b { (a, b) } else { (b, a) };
            for d in distributions() {
                prop_assert!(from_unit(&d, a) <= from_unit(&d, b), "{d}: {a} {b}");
            }
        }
    }

    #[test]
    fn equal_cells_of_the_cube_give_each_value_once() {
        for d in [
            Distribution::float_step(0.0, 0.3, 0.1),
            Distribution::int_step(0, 20, 5),
            Distribution::int(-3, 3),
            Distribution::categorical([1_i64, 2, 4]),
        ] {
            let n = d.cardinality().unwrap();
            let values: Vec<f64> =
                (0..n).map(|k| from_unit(&d, (k as f64 + 0.5) / n as f64)).collect();
            let mut expected = d.grid_points(n as usize);
            expected.sort_by(f64::total_cmp);
            assert_eq!(values, expected, "{d}");
        }
    }

    #[test]
    fn the_ends_of_the_cube_are_the_bounds() {
        let below_one = 1.0 - f64::EPSILON / 2.0;
        for d in [
            Distribution::float(-5.0, 5.0),
            Distribution::float_log(1e-4, 10.0),
            Distribution::float_step(0.0, 0.3, 0.1),
            Distribution::int_log(1, 16),
            Distribution::int_step(0, 20, 5),
        ] {
            let (low, high) = d.internal_bounds();
            assert_eq!(from_unit(&d, 0.0), low, "{d}");
            assert!((from_unit(&d, below_one) - high).abs() <= 1e-12 * high.abs(), "{d}");
        }
    }
}
