//! The study's history replayed as CMA-ES generations, incrementally.
//!
//! The state of CMA-ES is a function of the study's history alone, so that any worker, a resumed
//! study or a fresh sampler on an old study computes the same state:
//!
//! - the *settled prefix* is the longest run of finished trials from trial 0; only it is read, so
//!   a trial still running holds back the trials after it (they wait, they are not lost);
//! - the *space* is the intersection of the numeric parameters (ints, floats, log and stepped,
//!   more than one value) of the prefix's complete trials, sorted by name; when it shrinks (a new
//!   parameter layout), the run is rebuilt from trial 0 with the smaller space;
//! - trials numbered below `n_startup_trials` are startup trials (sampled at random, or enqueued,
//!   or left by another sampler): the run starts once they have all finished, from the centre of
//!   the box or, with warm start, from them;
//! - the complete trials from `n_startup_trials` on, in number order, taken λ at a time, are the
//!   generations; each is told as soon as its λ-th trial settles. Failed trials are skipped (the
//!   next trial takes their place), and so are pruned ones: a pruned trial's last intermediate
//!   value is not comparable with final values.
//!
//! Each trial is read once; a generation costs one `tell`. A trial's solution is read back from
//! its stored parameters (on the unit box), not from what was sampled for it: enqueued trials,
//! clipped proposals and trials proposed from an older generation (several workers) are all
//! *injected* solutions, whose steps the strategy clips (Hansen's tutorial, section on
//! injection). For an int or a stepped float, the stored value only says which cell the sample
//! fell in: the coordinate is redrawn inside that cell from the current marginal distribution
//! (a seeded draw per trial), so that the covariance sees a spread, not a point per value.

use std::sync::Arc;

use super::restart::{RunConfig, Runner};
use super::space::Dim;
use super::strategy::Strategy;
use super::warm;
use crate::direction::Direction;
use crate::frozen::{FrozenTrial, TrialState};
use crate::rng::Rng;
use crate::sampler::StudyView;

/// Key of a trial's generator for redrawing its discrete coordinates.
const TAG_IMPUTE: u64 = 0x696d_7075;

/// What the replay needs from the sampler's settings.
#[derive(Debug, Clone)]
pub(crate) struct ReplaySettings {
    pub(crate) n_startup_trials: usize,
    pub(crate) population_size: Option<usize>,
    /// `Some(gamma)` with warm start.
    pub(crate) warm_start: Option<f64>,
    pub(crate) run: RunConfig,
}

/// The replayed state, cached between trials.
#[derive(Debug, Default)]
pub(crate) struct Replay {
    /// Id of trial 0, to notice a different study.
    first_id: Option<u64>,
    /// Trials `[0, prefix)` are finished and read.
    prefix: usize,
    /// The intersection space, `None` before the first complete trial.
    space: Option<Vec<Dim>>,
    runner: Option<Runner>,
    /// The next trial (index into the study's trials) to feed to the generations.
    cursor: usize,
    /// Complete trials of the generation being filled.
    pending: Vec<Arc<FrozenTrial>>,
}

/// Whether a trial counts: complete with a single, non-NaN value.
fn usable(t: &FrozenTrial) -> bool {
    t.state == TrialState::Complete
        && t.values.as_deref().is_some_and(|v| v.len() == 1 && !v[0].is_nan())
}

/// Ranking key, smaller first: feasible trials by value, then infeasible ones by violation.
fn rank_key(t: &FrozenTrial, direction: Direction) -> (bool, f64) {
    if t.is_feasible() {
        (false, direction.to_minimize(t.value().unwrap_or(f64::INFINITY)))
    } else {
        (true, t.constraints.iter().map(|c| c.max(0.0)).sum())
    }
}

fn rank(trials: &[Arc<FrozenTrial>], direction: Direction) -> Vec<usize> {
    let keys: Vec<(bool, f64)> = trials.iter().map(|t| rank_key(t, direction)).collect();
    let mut order: Vec<usize> = (0..trials.len()).collect();
    // Stable: ties keep trial-number order.
    order.sort_by(|&a, &b| keys[a].0.cmp(&keys[b].0).then(keys[a].1.total_cmp(&keys[b].1)));
    order
}

/// Narrows the space to the parameters `t` has with the same distribution; whether it shrank.
fn intersect(space: &mut Option<Vec<Dim>>, t: &FrozenTrial) -> bool {
    match space {
        None => {
            let mut dims: Vec<Dim> = t
                .params
                .iter()
                .filter_map(|p| Dim::new(p.name.clone(), p.distribution.clone()))
                .collect();
            dims.sort_by(|a, b| a.name.cmp(&b.name));
            *space = Some(dims);
            false
        }
        Some(dims) => {
            let before = dims.len();
            dims.retain(|d| {
                t.param(&d.name).is_some_and(|p| {
                    Arc::ptr_eq(&p.distribution, &d.distribution)
                        || *p.distribution == *d.distribution
                })
            });
            dims.len() < before
        }
    }
}

/// A truncated normal draw on `[lo, hi]` by rejection, uniform when the mass there is too small.
fn truncated(rng: &mut Rng, mean: f64, sd: f64, lo: f64, hi: f64) -> f64 {
    if sd.is_finite() && sd > 0.0 {
        for _ in 0..32 {
            let v = mean + sd * rng.normal();
            if (lo..=hi).contains(&v) {
                return v;
            }
        }
    }
    rng.uniform_range(lo, hi)
}

/// A trial's point in the unit box, discrete coordinates redrawn inside their cells.
fn unit_point(t: &FrozenTrial, dims: &[Dim], strategy: &Strategy, seed: u64) -> Vec<f64> {
    let mut rng = Rng::derive(seed, &[t.number, TAG_IMPUTE]);
    dims.iter()
        .enumerate()
        .map(|(i, d)| {
            let u = t.param(&d.name).map_or(0.5, |p| d.unit_of(p.internal));
            match d.cell(u) {
                Some(c) => truncated(
                    &mut rng,
                    strategy.mean()[i],
                    strategy.marginal_std(i),
                    c.lo.max(0.0),
                    c.hi.min(1.0),
                ),
                None => u.clamp(0.0, 1.0),
            }
        })
        .collect()
}

impl Replay {
    /// Reads the trials settled since the last call and tells every generation they complete.
    pub(crate) fn update(&mut self, view: &StudyView<'_>, settings: &ReplaySettings) {
        let trials = view.trials();
        let direction = view.directions().first().copied().unwrap_or(Direction::Minimize);
        let first = trials.first().map(|t| t.id);
        if trials.len() < self.prefix || (self.first_id.is_some() && first != self.first_id) {
            *self = Replay::default();
        }
        self.first_id = first;
        let mut shrunk = false;
        while self.prefix < trials.len() && trials[self.prefix].state.is_finished() {
            let t = &trials[self.prefix];
            if usable(t) {
                shrunk |= intersect(&mut self.space, t);
            }
            self.prefix += 1;
        }
        if shrunk {
            self.runner = None;
            self.cursor = 0;
            self.pending.clear();
        }
        let Some(dims) = self.space.as_ref().filter(|d| !d.is_empty()) else { return };
        let n_startup = settings.n_startup_trials;
        if self.runner.is_none() {
            // Trial numbers are dense: the prefix holds every startup trial once it is this long.
            if self.prefix < n_startup {
                return;
            }
            self.runner = Some(start(dims, &trials[..self.prefix], settings, direction));
            self.cursor = 0;
            self.pending.clear();
        }
        let Some(runner) = self.runner.as_mut() else { return };
        for t in &trials[self.cursor..self.prefix] {
            if t.number < n_startup as u64 || !usable(t) {
                continue;
            }
            self.pending.push(t.clone());
            if self.pending.len() >= runner.strategy.population_size() {
                let order = rank(&self.pending, direction);
                let seed = runner.config.seed;
                let xs: Vec<Vec<f64>> = order
                    .iter()
                    .map(|&k| unit_point(&self.pending[k], dims, &runner.strategy, seed))
                    .collect();
                let values: Vec<f64> = order
                    .iter()
                    .map(|&k| rank_key(&self.pending[k], direction))
                    .map(|(infeasible, v)| if infeasible { f64::INFINITY } else { v })
                    .collect();
                runner.tell(&xs, &values, dims);
                self.pending.clear();
            }
        }
        self.cursor = self.prefix;
    }

    /// The parameters (names and internal values) proposed for trial `number`, or `None` before
    /// the run starts.
    pub(crate) fn propose(&self, seed: u64, number: u64, tag: u64) -> Option<Vec<(&Dim, f64)>> {
        let runner = self.runner.as_ref()?;
        let dims = self.space.as_ref()?;
        let mut rng = Rng::derive(seed, &[number, tag]);
        let mut x = vec![0.0; dims.len()];
        runner.ask(&mut rng, &mut x);
        Some(dims.iter().zip(x).map(|(d, u)| (d, d.value_at(u))).collect())
    }

    /// The dimensions of the run, once it has started.
    pub(crate) fn dims(&self) -> Option<&[Dim]> {
        self.runner.as_ref()?;
        self.space.as_deref()
    }

    /// The run, once it has started.
    pub(crate) fn runner(&self) -> Option<&Runner> {
        self.runner.as_ref()
    }

    /// Complete trials waiting for their generation to fill.
    pub(crate) fn pending(&self) -> usize {
        self.pending.len()
    }
}

/// The first run: from the centre of the box, or fitted to the startup trials (warm start).
fn start(
    dims: &[Dim],
    settled: &[Arc<FrozenTrial>],
    settings: &ReplaySettings,
    direction: Direction,
) -> Runner {
    let d = dims.len();
    let lambda = settings.population_size.unwrap_or(4 + (3.0 * (d as f64).ln()).floor() as usize);
    let sigma0 = settings.run.sigma0;
    let separable = settings.run.separable;
    let warm = settings.warm_start.and_then(|gamma| {
        let startup: Vec<Arc<FrozenTrial>> = settled
            .iter()
            .filter(|t| t.number < settings.n_startup_trials as u64 && usable(t))
            .cloned()
            .collect();
        let points: Vec<Vec<f64>> = rank(&startup, direction)
            .into_iter()
            .map(|k| {
                dims.iter()
                    .map(|dim| startup[k].param(&dim.name).map_or(0.5, |p| dim.unit_of(p.internal)))
                    .map(|u| u.clamp(0.0, 1.0))
                    .collect()
            })
            .collect();
        warm::initial(&points, gamma)
    });
    let strategy = match warm {
        Some((mean, sigma, c)) => Strategy::new(mean, sigma, lambda, separable, Some(c)),
        None => Strategy::new(vec![0.5; d], sigma0, lambda, separable, None),
    };
    Runner::new(strategy, settings.run.clone())
}
