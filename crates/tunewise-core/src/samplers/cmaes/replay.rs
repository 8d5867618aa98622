//! The study's history replayed as CMA-ES generations, incrementally.
//!
//! The state of CMA-ES is a function of the study's history alone, so that any worker, a resumed
//! study or a fresh sampler on an old study computes the same state:
//!
//! - the *settled prefix* is the longest run of finished trials from trial 0; only it makes the
//!   record, so a trial still running holds back the trials after it (they wait, they are not
//!   lost; proposals meanwhile come from the state *ahead*, below);
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
//! That settled state is the record, but proposals do not wait on it: a trial can run far
//! longer than the others (a slow configuration, or a worker the operating system holds back
//! while the others run dozens of fast trials), and drawing every trial started meanwhile from
//! the generation before it would turn CMA-ES into random search around a stale mean. So
//! proposals come from a second state, *ahead*: the settled one carried on with the complete
//! trials finished past the prefix, the ones still running among them skipped (the *holes*).
//! When a hole completes, or the prefix moves, the ahead state is rebuilt from the settled one,
//! which counts the late trial in its place in number order. A single worker never has a hole:
//! its proposals, and the settled state of any history, are what they would be without it.
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
    /// The generations already complete past a trial still running, which proposals use.
    ahead: Option<Ahead>,
}

/// The run carried past the settled prefix with the trials finished beyond it, skipping those
/// still running (the *holes*). Proposals are drawn from it, so that one long trial does not
/// hold every other worker on the generation before it. It is a guess, never the record: once
/// a hole completes, it is rebuilt from the settled state, which counts that trial in its place.
#[derive(Debug, Clone)]
struct Ahead {
    /// The settled prefix it continues from.
    base: usize,
    runner: Runner,
    /// The run's space: the settled one, or the first complete trial's when none has settled.
    dims: Vec<Dim>,
    pending: Vec<Arc<FrozenTrial>>,
    /// Trials `[base, cursor)` are read.
    cursor: usize,
    /// Trials below `cursor` that were running when read.
    holes: Vec<usize>,
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
    /// Reads the trials settled since the last call and tells every generation they complete,
    /// then carries the run on past the prefix for the proposals.
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
            self.ahead = None;
            self.runner = None;
            self.cursor = 0;
            self.pending.clear();
        }
        let n_startup = settings.n_startup_trials;
        // Trial numbers are dense: the prefix holds every startup trial once it is this long.
        if self.prefix < n_startup {
            self.ahead = None;
            return;
        }
        if let Some(dims) = self.space.as_ref().filter(|d| !d.is_empty()) {
            let runner = self.runner.get_or_insert_with(|| {
                self.cursor = 0;
                self.pending.clear();
                start(dims, &trials[..self.prefix], settings, direction)
            });
            for t in &trials[self.cursor..self.prefix] {
                if t.number >= n_startup as u64 && usable(t) {
                    feed(runner, &mut self.pending, t, dims, direction);
                }
            }
            self.cursor = self.prefix;
        }
        let base = match (&self.runner, &self.space) {
            (Some(runner), Some(dims)) => {
                Base::Settled { runner, dims, pending: &self.pending, prefix: self.prefix }
            }
            // No complete trial settled yet: the run can start from those finished past it.
            (None, None) => Base::Unstarted { prefix: self.prefix },
            // No parameter in common: no run.
            _ => Base::None,
        };
        update_ahead(&mut self.ahead, base, trials, settings, direction);
    }

    /// The parameters (names and internal values) proposed for trial `number`, or `None` before
    /// the run starts.
    pub(crate) fn propose(&self, seed: u64, number: u64, tag: u64) -> Option<Vec<(&Dim, f64)>> {
        let (runner, dims) = self.current()?;
        let mut rng = Rng::derive(seed, &[number, tag]);
        let mut x = vec![0.0; dims.len()];
        runner.ask(&mut rng, &mut x);
        Some(dims.iter().zip(x).map(|(d, u)| (d, d.value_at(u))).collect())
    }

    /// The dimensions of the run, once it has started.
    pub(crate) fn dims(&self) -> Option<&[Dim]> {
        self.current().map(|(_, dims)| dims)
    }

    /// The run proposals are drawn from and its dimensions, once it has started: ahead of the
    /// settled prefix when trials past a running one have finished.
    pub(crate) fn current(&self) -> Option<(&Runner, &[Dim])> {
        match &self.ahead {
            Some(ahead) => Some((&ahead.runner, &ahead.dims)),
            None => Some((self.runner.as_ref()?, self.space.as_deref()?)),
        }
    }

    /// Complete trials waiting for the current run's generation to fill.
    pub(crate) fn pending(&self) -> usize {
        self.ahead.as_ref().map_or(self.pending.len(), |a| a.pending.len())
    }
}

/// What [`Ahead`] carries on from.
enum Base<'a> {
    /// The settled run.
    Settled { runner: &'a Runner, dims: &'a [Dim], pending: &'a [Arc<FrozenTrial>], prefix: usize },
    /// No run yet, because no complete trial has settled.
    Unstarted { prefix: usize },
    /// No run: the settled trials have no numeric parameter in common.
    None,
}

impl Ahead {
    /// A fresh one on `base`; `None` when there is no run to carry on.
    fn new(
        base: Base<'_>,
        trials: &[Arc<FrozenTrial>],
        end: usize,
        settings: &ReplaySettings,
        direction: Direction,
    ) -> Option<Ahead> {
        let (runner, dims, pending, prefix) = match base {
            Base::Settled { runner, dims, pending, prefix } => {
                (runner.clone(), dims.to_vec(), pending.to_vec(), prefix)
            }
            Base::Unstarted { prefix } => {
                // The space of the first complete trial past the prefix, as the settled replay
                // will start from the first complete trial it reads.
                let first = trials[prefix..end].iter().find(|t| usable(t))?;
                let mut space = None;
                intersect(&mut space, first);
                let dims = space.filter(|d| !d.is_empty())?;
                let runner = start(&dims, &trials[..prefix], settings, direction);
                (runner, dims, Vec::new(), prefix)
            }
            Base::None => return None,
        };
        Some(Ahead { base: prefix, runner, dims, pending, cursor: prefix, holes: Vec::new() })
    }
}

/// Brings [`Ahead`] up to date: kept while the settled prefix stays and no hole has completed,
/// rebuilt from the settled state otherwise.
fn update_ahead(
    ahead: &mut Option<Ahead>,
    base: Base<'_>,
    trials: &[Arc<FrozenTrial>],
    settings: &ReplaySettings,
    direction: Direction,
) {
    let prefix = match base {
        Base::Settled { prefix, .. } | Base::Unstarted { prefix } => prefix,
        Base::None => {
            *ahead = None;
            return;
        }
    };
    // The finished trials past the prefix end at the last one: the running trials after it are
    // the ones just started, not holes.
    let end = trials.iter().rposition(|t| t.state.is_finished()).map_or(0, |i| i + 1);
    if end <= prefix {
        *ahead = None;
        return;
    }
    let fresh = |a: &Ahead| {
        a.base == prefix
            && a.cursor <= trials.len()
            && a.holes.iter().all(|&h| trials.get(h).is_some_and(|t| !usable(t)))
    };
    let kept = ahead.take().filter(fresh);
    *ahead = kept.or_else(|| Ahead::new(base, trials, end, settings, direction));
    let Some(a) = ahead.as_mut() else { return };
    for (i, t) in trials.iter().enumerate().take(end).skip(a.cursor) {
        if !t.state.is_finished() {
            a.holes.push(i);
        } else if usable(t) && has_dims(t, &a.dims) {
            feed(&mut a.runner, &mut a.pending, t, &a.dims, direction);
        }
    }
    a.cursor = a.cursor.max(end);
}

/// Whether a trial has every parameter of the space, with the same distribution.
fn has_dims(t: &FrozenTrial, dims: &[Dim]) -> bool {
    dims.iter().all(|d| t.param(&d.name).is_some_and(|p| *p.distribution == *d.distribution))
}

/// Adds a complete trial to the generation being filled, and tells the generation once it has
/// λ trials.
fn feed(
    runner: &mut Runner,
    pending: &mut Vec<Arc<FrozenTrial>>,
    t: &Arc<FrozenTrial>,
    dims: &[Dim],
    direction: Direction,
) {
    pending.push(t.clone());
    if pending.len() < runner.strategy.population_size() {
        return;
    }
    let order = rank(pending, direction);
    let seed = runner.config.seed;
    let xs: Vec<Vec<f64>> =
        order.iter().map(|&k| unit_point(&pending[k], dims, &runner.strategy, seed)).collect();
    let values: Vec<f64> = order
        .iter()
        .map(|&k| rank_key(&pending[k], direction))
        .map(|(infeasible, v)| if infeasible { f64::INFINITY } else { v })
        .collect();
    runner.tell(&xs, &values, dims);
    pending.clear();
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::distribution::Distribution;
    use crate::frozen::Param;
    use crate::samplers::cmaes::restart::Restart;

    fn settings() -> ReplaySettings {
        ReplaySettings {
            n_startup_trials: 0,
            population_size: None,
            warm_start: None,
            run: RunConfig {
                seed: 7,
                sigma0: 0.2,
                separable: false,
                restart: Restart::None,
                margin: None,
            },
        }
    }

    /// `n` trials of a 2-d sphere on the unit box (λ = 6), `state` for trial `odd` and complete
    /// for the others.
    fn history(n: u64, odd: u64, state: TrialState) -> Vec<Arc<FrozenTrial>> {
        let dist = Arc::new(Distribution::float(0.0, 1.0));
        let mut rng = Rng::new(3);
        (0..n)
            .map(|number| {
                let s = if number == odd { state } else { TrialState::Complete };
                let mut t = FrozenTrial::new(100 + number, number, s);
                let x: Vec<f64> = (0..2).map(|_| rng.uniform()).collect();
                for (i, v) in x.iter().enumerate() {
                    let name: Arc<str> = Arc::from(format!("x{i}"));
                    t.params.push(Param { name, distribution: dist.clone(), internal: *v });
                }
                if s == TrialState::Complete {
                    t.values = Some(vec![x.iter().map(|v| (v - 0.3).powi(2)).sum()]);
                }
                Arc::new(t)
            })
            .collect()
    }

    /// Generations, mean and step size of the run proposals are drawn from.
    fn state(replay: &Replay) -> Option<(usize, Vec<f64>, f64)> {
        let (r, _) = replay.current()?;
        Some((r.generations, r.strategy.mean().to_vec(), r.strategy.sigma()))
    }

    #[test]
    fn a_running_trial_holds_back_the_record_but_not_the_proposals() {
        let directions = [Direction::Minimize];
        let mut replay = Replay::default();
        // Trial 3 runs while 0..=2 and 4..=20 are complete: 20 trials, 3 generations of 6.
        let running = history(21, 3, TrialState::Running);
        replay.update(&StudyView::new(&directions, &running), &settings());
        assert_eq!(replay.prefix, 3);
        assert_eq!(replay.runner.as_ref().map(|r| r.generations), Some(0));
        assert_eq!(state(&replay).map(|s| s.0), Some(3));
        assert_eq!(replay.pending(), 2);

        // Trial 3 completes: the generations are told again with it in its place, exactly as a
        // fresh replay of the finished history tells them.
        let done = history(21, 3, TrialState::Complete);
        replay.update(&StudyView::new(&directions, &done), &settings());
        let mut fresh = Replay::default();
        fresh.update(&StudyView::new(&directions, &done), &settings());
        assert!(replay.ahead.is_none());
        let (warm, cold) = (state(&replay), state(&fresh));
        assert_eq!(warm, cold);
        assert_eq!(warm.map(|s| s.0), Some(3));

        // A trial that fails instead takes no place: the proposals' state stays the same.
        let mut replay = Replay::default();
        replay.update(&StudyView::new(&directions, &running), &settings());
        let before = state(&replay);
        let failed = history(21, 3, TrialState::Failed);
        replay.update(&StudyView::new(&directions, &failed), &settings());
        assert_eq!(state(&replay), before);
    }

    #[test]
    fn the_run_starts_past_a_first_trial_still_running() {
        let directions = [Direction::Minimize];
        let mut replay = Replay::default();
        let running = history(21, 0, TrialState::Running);
        replay.update(&StudyView::new(&directions, &running), &settings());
        assert!(replay.runner.is_none() && replay.space.is_none());
        assert_eq!(state(&replay).map(|s| s.0), Some(3));
        assert_eq!(replay.dims().map(|d| d.len()), Some(2));

        let done = history(21, 0, TrialState::Complete);
        replay.update(&StudyView::new(&directions, &done), &settings());
        let mut fresh = Replay::default();
        fresh.update(&StudyView::new(&directions, &done), &settings());
        assert_eq!(state(&replay), state(&fresh));
    }
}
