//! CMA-ES: the covariance matrix adaptation evolution strategy, with IPOP restarts, margin for
//! integers, a separable variant and warm start.

mod margin;
mod replay;
mod restart;
mod space;
mod strategy;
mod warm;

use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard};

use crate::distribution::Distribution;
use crate::error::{Error, Result};
use crate::frozen::FrozenTrial;
use crate::rng::{hash_str, Rng};
use crate::sampler::{Sampler, StudyView};
use crate::search_space::SearchSpace;

use super::sample_uniform;
use replay::{Replay, ReplaySettings};
pub use restart::Restart;
use restart::{RunConfig, MAX_POPULATION};

/// Key of a trial's generator for its CMA-ES draw.
const TAG_RELATIVE: u64 = 0x636d_6165;
/// Key of a parameter's generator for its independent (uniform) draw.
const TAG_INDEPENDENT: u64 = 0x6970_6e64;

#[derive(Debug, Clone, Copy)]
struct Settings {
    sigma0: f64,
    population_size: Option<usize>,
    restart: Restart,
    separable: bool,
    margin: bool,
    margin_alpha: Option<f64>,
    warm_start: bool,
    warm_start_gamma: f64,
    /// `None`: 0, or 20 with warm start.
    n_startup_trials: Option<usize>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            sigma0: 1.0 / 6.0,
            population_size: None,
            restart: Restart::None,
            separable: false,
            margin: false,
            margin_alpha: None,
            warm_start: false,
            warm_start_gamma: 0.2,
            n_startup_trials: None,
        }
    }
}

impl Settings {
    fn n_startup(&self) -> usize {
        self.n_startup_trials.unwrap_or(if self.warm_start { 20 } else { 0 })
    }
}

/// Where a [`CmaEsSampler`] stands on a study: its current run of CMA-ES.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct CmaEsStatus {
    /// Numeric parameters modelled (the dimension).
    pub dimension: usize,
    /// Generations told, over all runs.
    pub generations: usize,
    /// Restarts so far (IPOP, or after a numerical breakdown).
    pub restarts: usize,
    /// The current run's population size λ.
    pub population_size: usize,
    /// The current run's step size σ, on the unit box.
    pub sigma: f64,
    /// The current run's mean on the unit box, one coordinate per parameter in name order.
    pub mean: Vec<f64>,
    /// Complete trials waiting for their generation to fill.
    pub pending: usize,
}

/// CMA-ES, the covariance matrix adaptation evolution strategy: a population-based search that
/// samples each trial from a multivariate normal distribution and moves, stretches and rotates
/// that distribution towards the better trials, generation after generation.
///
/// **What it is.** The (μ/μ_w, λ)-CMA-ES of Hansen's tutorial ("The CMA Evolution Strategy: A
/// Tutorial", 2016): weighted recombination of the best half, cumulative step-size adaptation
/// (path `p_σ`), rank-one (path `p_c`) and rank-μ covariance updates, and an eigendecomposition
/// (nalgebra's `SymmetricEigen`) only every `max(1, ⌊1 / (10 d (c₁ + c_μ))⌋)` generations, as the
/// tutorial suggests. Options:
///
/// - [`separable(true)`](CmaEsBuilder::separable): sep-CMA-ES (Ros & Hansen, "A Simple
///   Modification in CMA-ES Achieving Linear Time and Space Complexity", PPSN 2008): a diagonal
///   covariance learnt `(d + 2) / 3` times faster; for many parameters (tens to hundreds) that
///   interact little.
/// - [`with_margin(true)`](CmaEsBuilder::with_margin): CMA-ES with margin (Hamano et al., GECCO
///   2022): ints and stepped floats keep a probability of at least `alpha` (default
///   `1 / (d λ)`) of moving to each neighbouring value, so they keep being explored after the
///   distribution has narrowed below one step.
/// - [`restart(Restart::ipop())`](CmaEsBuilder::restart): IPOP-CMA-ES (Auger & Hansen, CEC 2005):
///   when a run stalls (tolfun, tolx, condition number above 1e14, or stagnating best values),
///   start again from a random mean with twice the population; for multimodal problems.
/// - [`warm_start(true)`](CmaEsBuilder::warm_start): the first run's mean, step size and
///   covariance are fitted to the best `warm_start_gamma` fraction of the startup trials (a
///   simplified WS-CMA-ES, Nomura et al., AAAI 2021: moments of a mixture of normals of width
///   0.1 around them) instead of the centre of the box.
///
/// **The space.** CMA-ES models the numeric parameters (floats and ints, log and stepped) that
/// every complete trial has with the same distribution, in a unit box: each parameter's range
/// maps to `[0, 1]`, on the logarithm for log scales; an int or a stepped float owns a cell of
/// the box per value (the range widened by half a step at each end). Categorical parameters and
/// parameters outside that space are drawn uniformly at random (per trial and name, from the
/// seed); so is every parameter of the trials that start before the first trial completes
/// (there is no space yet). A proposal that falls outside the box is drawn again, up to ten
/// times in all; then it is clipped to the box (clipping, not reflection, keeps the
/// distribution's mass near a bound that the optimum presses against).
///
/// **Generations across trials.** Each trial is one individual. The state is a deterministic
/// function of the study's history, so that resumed studies, fresh samplers and any number of
/// workers agree: the complete trials numbered from `n_startup_trials` on, in number order,
/// taken λ at a time, are the generations; a generation is told once all trials up to its last
/// have finished. Failed trials are skipped (the next trial takes their place); pruned trials
/// are ignored (their last intermediate value is not comparable with final values).
/// Constraints rank infeasible trials after every feasible one, by total violation. The state
/// is cached and updated incrementally: each trial reads only the trials that finished since
/// the last one; a fresh sampler on an old study replays its history once (O(n) in trials).
/// With several workers, a trial may be drawn from a generation older than the one it is told
/// in: its step is then treated as an injected solution (clipped in Mahalanobis length, as the
/// tutorial advises). A trial still running does not hold the other workers back: new trials
/// are drawn from the run carried on with the trials finished after it (skipping it), and once
/// it finishes, the generations from its own on are told again with it in its place, so the
/// state is again the function of the history above.
///
/// **When to use it.** Continuous (or mostly numeric) spaces of a few to a few hundred
/// parameters, with budgets of hundreds to thousands of trials, where it is among the strongest
/// optimizers (it is invariant to rotations and rescalings of the space, and learns
/// correlations). With fewer than about 100 trials TPE or a Gaussian process usually do
/// better; for mostly categorical spaces use [`TpeSampler`](crate::TpeSampler).
///
/// **Single objective only.** With several objectives the first trial fails with an error that
/// says so; use [`TpeSampler`](crate::TpeSampler) (MOTPE) or NSGA-II instead.
///
/// **Cost.** Per trial, O(d²) to draw a point; per generation, O(λ d²) for the update and, every
/// few generations, O(d³) for the eigendecomposition (O(λ d) and no decomposition when
/// separable). It does not grow with the number of trials. Measured with 10 parameters and
/// 1,000 finished trials, engine included (`cargo bench -p tunewise-bench --bench cmaes`, see
/// `docs/benchmarks.md`): about 14 µs per trial (11 µs separable); a fresh sampler's first
/// trial on that study replays the history once, about 2.5 ms.
///
/// **Defaults.** Population `λ = 4 + ⌊3 ln d⌋`, μ = ⌊λ/2⌋ with the tutorial's logarithmic
/// weights; initial step size `sigma0 = 1/6` of the unit box; mean at the box's centre; no
/// startup trials (20 with warm start, gamma 0.2); full covariance; no margin (alpha
/// `1 / (d λ)` when on); no restarts.
///
/// **Reproducible.** A trial's draw comes from a generator derived from the seed and its
/// number, and the state from the history: a seeded single-threaded study gives the same trials
/// every run, and a study resumed with a fresh sampler continues exactly as an uninterrupted
/// one.
///
/// ```
/// use tunewise_core::{Budget, CmaEsSampler, Study, TrialError};
///
/// let study = Study::builder().sampler(CmaEsSampler::with_seed(3)).create()?;
/// study.optimize(
///     |t| -> Result<f64, TrialError> {
///         let x = t.suggest_float("x", -10.0, 10.0)?;
///         let y = t.suggest_float("y", -10.0, 10.0)?;
///         Ok((x - 1.0).powi(2) + (y + 2.0).powi(2) + x * y)
///     },
///     Budget::trials(200),
/// )?;
/// assert!(study.best_value()? < -4.3); // the optimum is −13/3
/// # Ok::<(), tunewise_core::Error>(())
/// ```
pub struct CmaEsSampler {
    settings: Settings,
    seed: u64,
    replay: Mutex<Replay>,
}

impl fmt::Debug for CmaEsSampler {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CmaEsSampler")
            .field("settings", &self.settings)
            .field("seed", &self.seed)
            .finish_non_exhaustive()
    }
}

/// Settings of a [`CmaEsSampler`], checked by [`build`](Self::build).
#[derive(Debug, Clone, Default)]
pub struct CmaEsBuilder {
    settings: Settings,
    seed: Option<u64>,
}

impl CmaEsBuilder {
    /// The seed (default: from the operating system; the study's seed replaces it when the study
    /// builder is given one).
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = Some(seed);
        self
    }

    /// Initial step size as a fraction of each parameter's range (of its logarithm for log
    /// scales), in (0, 1] (default 1/6).
    pub fn sigma0(mut self, sigma0: f64) -> Self {
        self.settings.sigma0 = sigma0;
        self
    }

    /// Population size λ of the first run, from 2 to 2^20 (default `4 + ⌊3 ln d⌋` for `d`
    /// numeric parameters).
    pub fn population_size(mut self, lambda: usize) -> Self {
        self.settings.population_size = Some(lambda);
        self
    }

    /// What to do when a run stalls (default [`Restart::None`]).
    pub fn restart(mut self, restart: Restart) -> Self {
        self.settings.restart = restart;
        self
    }

    /// Diagonal covariance (sep-CMA-ES) with faster learning rates (default false).
    pub fn separable(mut self, yes: bool) -> Self {
        self.settings.separable = yes;
        self
    }

    /// Keep ints and stepped floats exploring their neighbouring values (default false).
    pub fn with_margin(mut self, yes: bool) -> Self {
        self.settings.margin = yes;
        self
    }

    /// With margin: the least probability of moving to each neighbouring value, in (0, 0.5)
    /// (default `1 / (d λ)`).
    pub fn margin_alpha(mut self, alpha: f64) -> Self {
        self.settings.margin_alpha = Some(alpha);
        self
    }

    /// Fit the first run to the best startup trials instead of the centre of the box (default
    /// false). The startup trials are those numbered below
    /// [`n_startup_trials`](Self::n_startup_trials) (20 by default with warm start): sampled at
    /// random by this sampler, enqueued, or left by another sampler on the same study.
    pub fn warm_start(mut self, yes: bool) -> Self {
        self.settings.warm_start = yes;
        self
    }

    /// With warm start: the fraction of the startup trials to fit, in (0, 1] (default 0.2; at
    /// least two trials are used).
    pub fn warm_start_gamma(mut self, gamma: f64) -> Self {
        self.settings.warm_start_gamma = gamma;
        self
    }

    /// Trials numbered below this are sampled at random and are not part of any generation
    /// (default 0, or 20 with warm start, which learns from them).
    pub fn n_startup_trials(mut self, n: usize) -> Self {
        self.settings.n_startup_trials = Some(n);
        self
    }

    /// Checks the settings and makes the sampler; an error names the setting to fix.
    pub fn build(self) -> Result<CmaEsSampler> {
        let s = &self.settings;
        let bad = |field: &str, why: String| {
            Err(Error::InvalidConfig(format!("CmaEsSampler {field}: {why}")))
        };
        if !(s.sigma0.is_finite() && s.sigma0 > 0.0 && s.sigma0 <= 1.0) {
            return bad(
                "sigma0",
                format!(
                    "is the initial step size as a fraction of each range, in (0, 1] \
                     (default 1/6), got {}",
                    s.sigma0
                ),
            );
        }
        if let Some(lambda) = s.population_size {
            if !(2..=MAX_POPULATION).contains(&lambda) {
                return bad(
                    "population_size",
                    format!(
                        "must be between 2 and {MAX_POPULATION} (default 4 + 3 ln d), got {lambda}"
                    ),
                );
            }
        }
        if let Restart::Ipop { factor, .. } = s.restart {
            if factor < 2 {
                return bad(
                    "restart",
                    format!("IPOP's factor must be at least 2 (the paper's 2), got {factor}"),
                );
            }
        }
        if let Some(alpha) = s.margin_alpha {
            if !(alpha > 0.0 && alpha < 0.5) {
                return bad(
                    "margin_alpha",
                    format!("is a probability in (0, 0.5) (default 1/(d λ)), got {alpha}"),
                );
            }
            if !s.margin {
                return bad("margin_alpha", "needs with_margin(true)".into());
            }
        }
        if !(s.warm_start_gamma > 0.0 && s.warm_start_gamma <= 1.0) {
            return bad(
                "warm_start_gamma",
                format!("is a fraction in (0, 1] (default 0.2), got {}", s.warm_start_gamma),
            );
        }
        if s.warm_start && s.n_startup() < 2 {
            return bad(
                "n_startup_trials",
                format!(
                    "warm_start learns from the startup trials and needs at least 2 \
                     (default 20 with warm start), got {}",
                    s.n_startup()
                ),
            );
        }
        Ok(CmaEsSampler::from_settings(*s, self.seed.unwrap_or_else(Rng::os_seed)))
    }
}

impl Default for CmaEsSampler {
    fn default() -> Self {
        Self::new()
    }
}

impl CmaEsSampler {
    /// A CMA-ES sampler with the defaults, seeded from the operating system.
    pub fn new() -> Self {
        Self::with_seed(Rng::os_seed())
    }

    /// A CMA-ES sampler with the defaults and a seed.
    pub fn with_seed(seed: u64) -> Self {
        Self::from_settings(Settings::default(), seed)
    }

    /// A builder, to change the defaults.
    pub fn builder() -> CmaEsBuilder {
        CmaEsBuilder::default()
    }

    fn from_settings(settings: Settings, seed: u64) -> Self {
        CmaEsSampler { settings, seed, replay: Mutex::new(Replay::default()) }
    }

    /// Its seed.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// The current run as of the last trial this sampler prepared (the one its trials are drawn
    /// from, which may count generations past a trial still running); `None` before the run
    /// starts (no complete trial yet, or startup trials still running).
    pub fn status(&self) -> Option<CmaEsStatus> {
        let replay = self.replay();
        let (runner, _) = replay.current()?;
        let s = &runner.strategy;
        Some(CmaEsStatus {
            dimension: s.dim(),
            generations: runner.generations,
            restarts: runner.restarts,
            population_size: s.population_size(),
            sigma: s.sigma(),
            mean: s.mean().to_vec(),
            pending: replay.pending(),
        })
    }

    fn replay(&self) -> MutexGuard<'_, Replay> {
        // Every update leaves the replay consistent before anything can panic.
        self.replay.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn replay_settings(&self) -> ReplaySettings {
        let s = &self.settings;
        ReplaySettings {
            n_startup_trials: s.n_startup(),
            population_size: s.population_size,
            warm_start: s.warm_start.then_some(s.warm_start_gamma),
            run: RunConfig {
                seed: self.seed,
                sigma0: s.sigma0,
                separable: s.separable,
                restart: s.restart,
                margin: s.margin.then_some(s.margin_alpha),
            },
        }
    }

    /// The state brought up to date with the study.
    fn updated(&self, study: &StudyView<'_>) -> MutexGuard<'_, Replay> {
        let mut replay = self.replay();
        replay.update(study, &self.replay_settings());
        replay
    }
}

/// Refuses studies of several objectives.
fn single_objective(study: &StudyView<'_>) -> Result<()> {
    match study.directions().len() {
        1 => Ok(()),
        n => Err(Error::Sampler(format!(
            "CmaEsSampler optimizes a single objective, but this study has {n}; \
             use NsgaIISampler or TpeSampler (MOTPE) for several objectives"
        ))),
    }
}

impl Sampler for CmaEsSampler {
    fn sample_independent(
        &self,
        study: &StudyView<'_>,
        trial: &FrozenTrial,
        name: &str,
        distribution: &Distribution,
    ) -> Result<f64> {
        single_objective(study)?;
        let mut rng = Rng::derive(self.seed, &[trial.number, TAG_INDEPENDENT, hash_str(name)]);
        Ok(sample_uniform(&mut rng, distribution))
    }

    fn before_trial(&self, study: &StudyView<'_>, _trial: &FrozenTrial) -> Result<()> {
        single_objective(study)
    }

    fn infer_relative_search_space(
        &self,
        study: &StudyView<'_>,
        _trial: &FrozenTrial,
    ) -> Result<SearchSpace> {
        single_objective(study)?;
        let replay = self.updated(study);
        let mut space = SearchSpace::new();
        for d in replay.dims().unwrap_or_default() {
            space.insert(d.name.clone(), d.distribution.clone());
        }
        Ok(space)
    }

    fn sample_relative(
        &self,
        study: &StudyView<'_>,
        trial: &FrozenTrial,
        space: &SearchSpace,
    ) -> Result<BTreeMap<Arc<str>, f64>> {
        let mut out = BTreeMap::new();
        if space.is_empty() {
            return Ok(out);
        }
        let replay = self.updated(study);
        let Some(point) = replay.propose(self.seed, trial.number, TAG_RELATIVE) else {
            return Ok(out);
        };
        for (dim, v) in point {
            // Another worker may have changed the space between the two calls: only what the
            // study asked for.
            if space.get(&dim.name).is_some_and(|d| **d == *dim.distribution) {
                out.insert(dim.name.clone(), v);
            }
        }
        Ok(out)
    }

    fn reseed(&mut self, seed: u64) {
        self.seed = seed;
        // The replay depends on the seed (restarts, redrawn discrete coordinates).
        *self.replay() = Replay::default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sampler_is_send_and_sync() {
        fn check<T: Send + Sync>() {}
        check::<CmaEsSampler>();
        check::<CmaEsBuilder>();
        check::<CmaEsStatus>();
        check::<Restart>();
    }
}
