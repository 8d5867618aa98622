//! Coarse-to-fine search: random exploration, then shrinking grids around the best regions.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::direction::Direction;
use crate::distribution::Distribution;
use crate::error::{Error, Result};
use crate::frozen::FrozenTrial;
use crate::rng::Rng;
use crate::sampler::{Sampler, StudyView};
use crate::search_space::SearchSpace;

use super::grid::Permutation;
use super::RandomSampler;

/// Key of the generator of a fine trial's own draws.
const TAG_FINE: u64 = 0x6669_6e65;
/// Key of the generator of a region's grid order.
const TAG_ORDER: u64 = 0x6f72_6472;
/// Largest round exponent used (the window is already below any float's resolution by then).
const MAX_ROUND: u64 = 1100;

/// Coarse-to-fine search: a coarse random phase, then rounds of small grids around the best
/// regions found so far, each round finer than the last.
///
/// **What it is.** The first [`n_coarse`](CoarseToFineBuilder::n_coarse) trials draw every
/// parameter uniformly (log-uniformly on a log scale), exactly like
/// [`RandomSampler`](crate::RandomSampler) with the same seed. Then come rounds of
/// [`trials_per_round`](CoarseToFineBuilder::trials_per_round) trials each. At the start of round
/// `r` (1, 2, …) the sampler takes the best [`top_k`](CoarseToFineBuilder::top_k) distinct
/// complete trials so far as centres, and around each centre builds a region:
///
/// - each numeric parameter gets a window of width `full width × shrink^r` centred on the
///   centre's value (in log space for a log scale), clipped to the bounds; ints and stepped
///   floats keep at least one step on either side, so a narrow window can still move;
/// - within the window, [`points_per_dim`](CoarseToFineBuilder::points_per_dim) evenly spaced
///   points (ints: distinct integers; stepped floats: snapped to the step);
/// - a categorical keeps the centre's choice, except that with probability
///   [`categorical_explore`](CoarseToFineBuilder::categorical_explore) a trial tries another
///   choice at random.
///
/// The round's trials are dealt to the centres in turn (trial `j` of the round to centre
/// `j mod k`). A centre's trials visit distinct points of its region's grid in a seeded random
/// order; if the grid has fewer points than the trials allotted, the extra trials draw uniformly
/// inside the region's windows instead.
///
/// Which round a trial belongs to, its centre and its grid point depend only on the seed, its
/// number and the trials complete when its round started, so a seeded single-threaded study is
/// reproducible. With several threads the centres of a round are the best trials complete when
/// each of its trials starts.
///
/// The fine phase works on the parameters every finished trial shares
/// ([`SearchSpace::intersection`]); conditional parameters outside it are drawn uniformly, as in
/// the coarse phase. Centres are ranked by the first objective (feasible trials first); a study
/// with several objectives is refined toward the first one. While no trial is complete (all
/// failed or pruned), the sampler keeps drawing uniformly.
///
/// **When to use it.** Smooth objectives of a few (up to ten or so) numeric parameters, with a
/// budget of a few dozen to a few hundred trials: it refines the best regions much faster than
/// random search, at no modelling cost. It is a local method: it can settle in a good local
/// optimum. Keep `n_coarse` large enough to find the right basin; for long budgets, raise
/// `trials_per_round` or `shrink` so the windows do not become tiny too soon. For rugged or
/// high-dimensional objectives prefer model-based samplers.
///
/// **Cost.** Per trial, O(n log n) in the number of trials n (ranking complete trials, and
/// the intersection space), plus O(d · points_per_dim) to build a region of d parameters. No
/// state is kept: any number of threads and processes can share one sampler or one study.
///
/// **Defaults.** `n_coarse` 20, `top_k` 3, `points_per_dim` 5, `shrink` 0.5,
/// `trials_per_round` `top_k × 10`, `categorical_explore` 0.1. These follow the classic
/// coarse-to-fine recipe of hyperparameter tuning practice (sample at random, zoom into the
/// region of the best points, sample more densely there).
///
/// ```
/// use tunewise_core::{Budget, CoarseToFineSampler, Study, TrialError};
///
/// let sampler = CoarseToFineSampler::builder().n_coarse(10).top_k(2).seed(3).build()?;
/// let study = Study::builder().sampler(sampler).create()?;
/// study.optimize(
///     |t| -> Result<f64, TrialError> {
///         let x = t.suggest_float("x", -10.0, 10.0)?;
///         let y = t.suggest_float("y", -10.0, 10.0)?;
///         Ok((x - 1.0).powi(2) + (y + 2.0).powi(2))
///     },
///     Budget::trials(60),
/// )?;
/// assert!(study.best_value()? < 1.0);
/// # Ok::<(), tunewise_core::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct CoarseToFineSampler {
    n_coarse: u64,
    top_k: usize,
    points_per_dim: usize,
    shrink: f64,
    trials_per_round: u64,
    categorical_explore: f64,
    seed: u64,
}

/// Settings of a [`CoarseToFineSampler`], checked by [`build`](Self::build).
#[derive(Debug, Clone)]
pub struct CoarseToFineBuilder {
    n_coarse: usize,
    top_k: usize,
    points_per_dim: usize,
    shrink: f64,
    trials_per_round: Option<usize>,
    categorical_explore: f64,
    seed: Option<u64>,
}

impl Default for CoarseToFineBuilder {
    fn default() -> Self {
        CoarseToFineBuilder {
            n_coarse: 20,
            top_k: 3,
            points_per_dim: 5,
            shrink: 0.5,
            trials_per_round: None,
            categorical_explore: 0.1,
            seed: None,
        }
    }
}

impl CoarseToFineBuilder {
    /// Trials of the coarse random phase (default 20; 0 starts refining as soon as a trial is
    /// complete).
    pub fn n_coarse(mut self, n: usize) -> Self {
        self.n_coarse = n;
        self
    }

    /// Centres per round: the best `k` distinct complete trials (default 3, at least 1).
    pub fn top_k(mut self, k: usize) -> Self {
        self.top_k = k;
        self
    }

    /// Grid points per numeric parameter within a region (default 5, at least 2).
    pub fn points_per_dim(mut self, n: usize) -> Self {
        self.points_per_dim = n;
        self
    }

    /// Factor by which the windows shrink each round, in (0, 1) (default 0.5).
    pub fn shrink(mut self, factor: f64) -> Self {
        self.shrink = factor;
        self
    }

    /// Trials per round (default `top_k × 10`, at least 1).
    pub fn trials_per_round(mut self, n: usize) -> Self {
        self.trials_per_round = Some(n);
        self
    }

    /// Probability, per trial and categorical parameter, of trying a choice other than the
    /// centre's (default 0.1, in [0, 1]).
    pub fn categorical_explore(mut self, probability: f64) -> Self {
        self.categorical_explore = probability;
        self
    }

    /// The seed (default: from the operating system; the study's seed replaces it when the study
    /// builder is given one).
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = Some(seed);
        self
    }

    /// Checks the settings and makes the sampler; an error names the setting to fix.
    pub fn build(self) -> Result<CoarseToFineSampler> {
        let bad = |field: &str, why: String| {
            Err(Error::InvalidConfig(format!("CoarseToFineSampler {field}: {why}")))
        };
        if self.top_k == 0 {
            return bad("top_k", "must be at least 1".into());
        }
        if self.points_per_dim < 2 {
            return bad(
                "points_per_dim",
                format!("must be at least 2 to make a grid, got {}", self.points_per_dim),
            );
        }
        if !(self.shrink > 0.0 && self.shrink < 1.0) {
            return bad(
                "shrink",
                format!("must lie strictly between 0 and 1 (e.g. 0.5), got {}", self.shrink),
            );
        }
        if !(0.0..=1.0).contains(&self.categorical_explore) {
            return bad(
                "categorical_explore",
                format!("is a probability in [0, 1], got {}", self.categorical_explore),
            );
        }
        let trials_per_round = match self.trials_per_round {
            Some(0) => return bad("trials_per_round", "must be at least 1".into()),
            Some(n) => n,
            None => self.top_k.saturating_mul(10),
        };
        Ok(CoarseToFineSampler {
            n_coarse: self.n_coarse as u64,
            top_k: self.top_k,
            points_per_dim: self.points_per_dim,
            shrink: self.shrink,
            trials_per_round: trials_per_round as u64,
            categorical_explore: self.categorical_explore,
            seed: self.seed.unwrap_or_else(Rng::os_seed),
        })
    }
}

/// A best trial of the history, around which a round refines.
struct Center {
    /// Internal values, in the order of the search space.
    values: Vec<f64>,
}

/// One numeric parameter of a region: its window (in the scale samplers work in) and its grid.
struct Axis<'a> {
    distribution: &'a Distribution,
    log: bool,
    /// Window bounds, in log space for a log scale.
    low: f64,
    high: f64,
    /// Distinct internal grid values, ascending.
    points: Vec<f64>,
}

impl<'a> Axis<'a> {
    fn new(distribution: &'a Distribution, center: f64, factor: f64, n: usize) -> Self {
        let (lo, hi) = distribution.internal_bounds();
        let log = distribution.is_log() && lo > 0.0;
        let fwd = |x: f64| if log { x.ln() } else { x };
        let inv = |y: f64| if log { y.exp() } else { y };
        let c = if center.is_finite() { center.clamp(lo, hi) } else { (lo + hi) / 2.0 };
        let half = (fwd(hi) - fwd(lo)) * factor / 2.0;
        let (mut a, mut b) = (inv(fwd(c) - half).max(lo), inv(fwd(c) + half).min(hi));
        let step = match distribution {
            Distribution::Int(d) => Some(d.step as f64),
            Distribution::Float(d) => d.step,
            Distribution::Categorical(_) => None,
        };
        if let Some(step) = step {
            a = a.min(c - step).max(lo);
            b = b.max(c + step).min(hi);
        }
        // A NaN bound (a degenerate range) collapses the window onto the centre.
        if a.is_nan() || b.is_nan() || a > b {
            (a, b) = (c, c);
        }
        let mut points: Vec<f64> = match step {
            // Few enough values in the window: all of them.
            Some(step) if ((b - a) / step).floor() < n as f64 => {
                let first = distribution.snap_internal(a);
                let count = ((b - first) / step + 1e-9).floor().max(0.0) as usize + 1;
                (0..count).map(|k| distribution.snap_internal(first + k as f64 * step)).collect()
            }
            _ if a == b => vec![distribution.snap_internal(c)],
            _ => (0..n)
                .map(|i| {
                    let t = i as f64 / (n - 1) as f64;
                    distribution.snap_internal(inv(fwd(a) + t * (fwd(b) - fwd(a))))
                })
                .collect(),
        };
        points.sort_by(f64::total_cmp);
        points.dedup();
        Axis { distribution, log, low: fwd(a), high: fwd(b), points }
    }

    /// A uniform draw inside the window, snapped into the distribution.
    fn draw(&self, rng: &mut Rng) -> f64 {
        let y = rng.uniform_range(self.low, self.high);
        self.distribution.snap_internal(if self.log { y.exp() } else { y })
    }
}

impl CoarseToFineSampler {
    /// A sampler with the default settings, seeded from the operating system.
    pub fn new() -> Self {
        Self::with_seed(Rng::os_seed())
    }

    /// A sampler with the default settings and a seed.
    pub fn with_seed(seed: u64) -> Self {
        let d = CoarseToFineBuilder::default();
        CoarseToFineSampler {
            n_coarse: d.n_coarse as u64,
            top_k: d.top_k,
            points_per_dim: d.points_per_dim,
            shrink: d.shrink,
            trials_per_round: d.top_k as u64 * 10,
            categorical_explore: d.categorical_explore,
            seed,
        }
    }

    /// A builder, to change the defaults.
    pub fn builder() -> CoarseToFineBuilder {
        CoarseToFineBuilder::default()
    }

    /// Its seed.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// The fine round (from 1) of a trial and its position in the round; `None` in the coarse
    /// phase.
    fn round_of(&self, number: u64) -> Option<(u64, u64)> {
        let j = number.checked_sub(self.n_coarse)?;
        Some((j / self.trials_per_round + 1, j % self.trials_per_round))
    }

    /// The best `top_k` distinct complete trials numbered below `before`, by the first
    /// objective (feasible ones first, earlier ones on ties).
    fn centers(&self, study: &StudyView<'_>, space: &SearchSpace, before: u64) -> Vec<Center> {
        let direction = study.directions().first().copied().unwrap_or(Direction::Minimize);
        let mut ranked: Vec<(bool, f64, u64, Vec<f64>)> = study
            .completed()
            .filter(|t| t.number < before)
            .filter_map(|t| {
                let v = *t.values.as_ref()?.first()?;
                if v.is_nan() {
                    return None;
                }
                let values = space
                    .iter()
                    .map(|(name, dist)| {
                        let p = t.param(name)?;
                        (*p.distribution == **dist && p.internal.is_finite()).then_some(p.internal)
                    })
                    .collect::<Option<Vec<f64>>>()?;
                Some((!t.is_feasible(), direction.to_minimize(v), t.number, values))
            })
            .collect();
        ranked.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.total_cmp(&b.1)).then(a.2.cmp(&b.2)));
        let mut centers: Vec<Center> = Vec::with_capacity(self.top_k);
        for (_, _, _, values) in ranked {
            if centers.len() >= self.top_k {
                break;
            }
            let seen = centers
                .iter()
                .any(|c| c.values.iter().zip(&values).all(|(a, b)| a.to_bits() == b.to_bits()));
            if !seen {
                centers.push(Center { values });
            }
        }
        centers
    }

    /// A categorical's value: the centre's choice, or another one with a small probability.
    fn categorical(&self, center: f64, choices: usize, rng: &mut Rng) -> f64 {
        let center =
            if center.is_finite() { center.round().clamp(0.0, choices as f64 - 1.0) } else { 0.0 };
        if choices > 1 && rng.uniform() < self.categorical_explore {
            let other = rng.below(choices as u64 - 1) as f64;
            if other >= center {
                other + 1.0
            } else {
                other
            }
        } else {
            center
        }
    }
}

impl Default for CoarseToFineSampler {
    fn default() -> Self {
        Self::new()
    }
}

impl Sampler for CoarseToFineSampler {
    /// The coarse phase and conditional parameters: exactly random search with the same seed.
    fn sample_independent(
        &self,
        study: &StudyView<'_>,
        trial: &FrozenTrial,
        name: &str,
        distribution: &Distribution,
    ) -> Result<f64> {
        RandomSampler::with_seed(self.seed).sample_independent(study, trial, name, distribution)
    }

    fn infer_relative_search_space(
        &self,
        study: &StudyView<'_>,
        trial: &FrozenTrial,
    ) -> Result<SearchSpace> {
        if self.round_of(trial.number).is_none() || study.completed().next().is_none() {
            return Ok(SearchSpace::new());
        }
        Ok(SearchSpace::intersection(study.trials().iter().map(|t| &**t)))
    }

    fn sample_relative(
        &self,
        study: &StudyView<'_>,
        trial: &FrozenTrial,
        space: &SearchSpace,
    ) -> Result<BTreeMap<Arc<str>, f64>> {
        let mut out = BTreeMap::new();
        let Some((round, j)) = self.round_of(trial.number) else {
            return Ok(out);
        };
        let round_start = self.n_coarse + (round - 1) * self.trials_per_round;
        let centers = self.centers(study, space, round_start);
        if centers.is_empty() {
            // Nothing complete yet: keep exploring at random (`sample_independent`).
            return Ok(out);
        }
        let k = centers.len() as u64;
        let (c, slot) = ((j % k) as usize, j / k);
        let center = &centers[c];
        let factor = self.shrink.powi(round.min(MAX_ROUND) as i32);
        let mut rng = Rng::derive(self.seed, &[trial.number, TAG_FINE]);

        let mut axes: Vec<(&Arc<str>, Axis<'_>)> = Vec::new();
        for ((name, dist), &value) in space.iter().zip(&center.values) {
            match &**dist {
                Distribution::Categorical(d) => {
                    out.insert(name.clone(), self.categorical(value, d.choices.len(), &mut rng));
                }
                numeric => {
                    axes.push((name, Axis::new(numeric, value, factor, self.points_per_dim)));
                }
            }
        }
        let size = axes.iter().try_fold(1u64, |acc, (_, a)| acc.checked_mul(a.points.len() as u64));
        match size {
            Some(size) if slot < size => {
                // A distinct point of the region's grid per slot, in a seeded order.
                let order_seed = Rng::derive(self.seed, &[round, c as u64, TAG_ORDER]).next_u64();
                let mut index = Permutation::new(size, order_seed).apply(slot);
                for (name, axis) in axes.iter().rev() {
                    let len = axis.points.len() as u64;
                    out.insert((*name).clone(), axis.points[(index % len) as usize]);
                    index /= len;
                }
            }
            Some(_) => {
                // More trials than grid points: draw inside the region.
                for (name, axis) in &axes {
                    out.insert((*name).clone(), axis.draw(&mut rng));
                }
            }
            None => {
                // A grid too large to index: pick each coordinate's grid value at random
                // (repeats are then vanishingly unlikely).
                for (name, axis) in &axes {
                    let i = rng.below(axis.points.len() as u64) as usize;
                    out.insert((*name).clone(), axis.points[i]);
                }
            }
        }
        Ok(out)
    }

    fn reseed(&mut self, seed: u64) {
        self.seed = seed;
    }
}
