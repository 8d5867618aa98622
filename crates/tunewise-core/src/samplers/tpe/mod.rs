//! The Tree-structured Parzen Estimator (TPE).

mod history;
mod mo;
mod parzen;

use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard};

use crate::distribution::Distribution;
use crate::error::{Error, Result};
use crate::frozen::FrozenTrial;
use crate::rng::{hash_str, Rng};
use crate::sampler::{Sampler, StudyView};
use crate::search_space::SearchSpace;
use crate::sync::lock;

use super::RandomSampler;
use history::History;
use parzen::{Column, DimSpec, FitSettings, KernelCache, Parzen, Pool};

/// Key of a trial's generator for its joint (relative) draws.
const TAG_RELATIVE: u64 = 0x7270_6572;
/// Key of a parameter's generator for its independent draws.
const TAG_INDEPENDENT: u64 = 0x6970_6e64;

/// How the observations of a group are weighted in their Parzen estimator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TpeWeights {
    /// Optuna's default: with `n ≥ 25` observations (in trial-number order), the oldest
    /// `n − 25` weigh from `1/n` rising linearly to 1, the newest 25 weigh 1; fewer than 25 all
    /// weigh 1. Old trials fade, which helps when the good region moves.
    #[default]
    Ramp,
    /// Every observation weighs 1 (Bergstra et al. 2011).
    Uniform,
}

#[derive(Debug, Clone, Copy)]
struct Settings {
    n_startup_trials: usize,
    n_ei_candidates: usize,
    gamma: f64,
    /// `None`: 25 with one objective, none with several (Optuna 5's defaults).
    gamma_cap: Option<usize>,
    prior_weight: f64,
    consider_endpoints: bool,
    weights: TpeWeights,
    /// `None`: multivariate for one objective, univariate for several (Optuna 5's default).
    multivariate: Option<bool>,
    group: bool,
    constant_liar: bool,
    scott_bandwidth: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            n_startup_trials: 10,
            n_ei_candidates: 24,
            gamma: 0.1,
            gamma_cap: None,
            prior_weight: 1.0,
            consider_endpoints: false,
            weights: TpeWeights::Ramp,
            multivariate: None,
            group: false,
            constant_liar: false,
            scott_bandwidth: false,
        }
    }
}

/// The Tree-structured Parzen Estimator: Bayesian optimization that models where good trials
/// lie against where bad ones lie, and proposes the point most typical of the good ones.
///
/// **What it is.** After [`n_startup_trials`](TpeBuilder::n_startup_trials) random trials
/// (exactly [`RandomSampler`](crate::RandomSampler) with the same seed), each trial ranks the
/// finished trials and splits them: the best `min(⌈gamma · n⌉, gamma_cap)` are *good* (no cap by
/// default with several objectives), the rest *bad*. Two Parzen estimators are fitted, `l(x)` on the good trials and `g(x)` on the bad ones;
/// [`n_ei_candidates`](TpeBuilder::n_ei_candidates) points are drawn from `l`, and the one with
/// the largest `log l(x) − log g(x)` is proposed (this maximizes expected improvement, Bergstra
/// et al. 2011). Everything is computed in log space (log-sum-exp over kernels).
///
/// The estimators follow Optuna's documented defaults and Watanabe (2023):
///
/// - **numeric parameters**: one Gaussian kernel per observation, truncated to the range, plus a
///   *prior* kernel (centred on the range, as wide as the range, weight
///   [`prior_weight`](TpeBuilder::prior_weight)). Log scales are modelled on the logarithm.
///   Bandwidths: the larger gap to the neighbouring observations, per dimension (Optuna's
///   rule; as in Optuna 5 the prior's centre is not a neighbour), in both modes: Watanabe (2023) found it best with multivariate kernels too, and
///   Optuna 5 made that combination its default. [`scott_bandwidth`](TpeBuilder::scott_bandwidth)
///   gives multivariate kernels Scott's rule `0.2 · n^(−1/(d+4)) · range` instead. The *magic
///   clip* keeps every bandwidth within `[range / min(100, 1 + kernels), range]`.
/// - **ints and stepped floats**: discretized kernels — a value's probability is the kernel's
///   mass over its cell `[x − step/2, x + step/2]`; draws are rounded to the grid. Log-scaled
///   ints likewise on the logarithm: kernels on `ln [low − step/2, high + step/2]`, a value's
///   probability the mass over `[ln(x − step/2), ln(x + step/2)]` (Optuna 5's model).
/// - **categoricals**: each observation's kernel puts `1 + prior_weight / kernels` on its choice
///   and `prior_weight / kernels` on every choice (normalized); the prior is uniform.
/// - **weights**: [`TpeWeights::Ramp`] by default (Optuna's), or uniform.
///
/// **Modes.**
/// - Univariate: each parameter has its own pair of estimators
///   ([`Sampler::sample_independent`]). The default with several objectives.
/// - Multivariate, the default with one objective: one joint estimator (product kernels) over
///   the parameters every finished trial has with the same distribution (the intersection
///   space, [`SearchSpace::intersection`], kept incrementally); parameters outside it fall back
///   on univariate TPE. Captures interactions; usually better (Falkner et al. 2018, Watanabe
///   2023). [`multivariate`](TpeBuilder::multivariate) forces either mode.
/// - [`group(true)`](TpeBuilder::group) (with `multivariate`): the space is decomposed into
///   groups of parameters that always appear together (Optuna's group decomposition); each group
///   is modelled jointly on the trials that have it. For conditional (tree-structured) spaces.
/// - [`constant_liar(true)`](TpeBuilder::constant_liar): trials still running count as bad
///   observations, so parallel workers spread out instead of proposing the same point. The
///   study then stores each parameter as soon as it is suggested, one storage write per
///   parameter (see [`Sampler::wants_running_params`]).
///
/// **Ranking.** Complete trials by value; then pruned trials, the ones that got furthest first
/// (then by their last intermediate value); failed trials are ignored. With constraints
/// (Optuna's rule): infeasible trials rank after every feasible one, by total violation, so they
/// land in the bad group unless too few trials are feasible. With several objectives (MOTPE,
/// Ozaki et al. 2020/2022): complete feasible trials are ranked by non-domination fronts, the
/// last front that fits only partly is cut by greedy hypervolume contribution (reference point:
/// that front's worst values, 10 % further out), and the good trials weigh 1 each (Optuna 5; its
/// earlier versions weighted them by hypervolume contribution).
///
/// **When to use it.** The default choice for budgets of a few dozen to thousands of trials,
/// mixed and conditional spaces, one or several objectives. For very small budgets (below
/// about 20) random or quasi-random search does as well.
///
/// **Cost.** Per trial, O(n) to rank n finished trials (a selection) plus
/// O(n_ei_candidates · n · d) kernel evaluations. Observations are cached incrementally by trial
/// number (a mutex inside the sampler), with each parameter's values kept sorted, so neither is
/// redone each trial; kernel constants are reused while a kernel's bandwidth is unchanged, the
/// truncation masses come from a table of the normal tail, and the estimators' buffers are
/// reused between trials. Measured: about 0.26 ms per trial for 10 continuous parameters and
/// 1,000 finished trials, multivariate, and 0.53 ms at 2,000
/// (`cargo bench -p tunewise-bench --bench samplers`, see `docs/benchmarks.md`). Univariate mode
/// fits one pair of estimators per parameter (about 0.11 ms per parameter at 1,000 trials). With
/// several objectives, ranking costs O(n²) (non-domination sorting) plus hypervolume work on the
/// last front.
///
/// **Reproducible.** Each trial's draws come from generators derived from the seed, the trial
/// number and (independent draws) the parameter's name: a seeded single-threaded study gives the
/// same trials every run.
///
/// **Defaults** (Optuna's): `n_startup_trials` 10, `n_ei_candidates` 24, `gamma` 0.1 with
/// `gamma_cap` 25 with one objective and none with several, `prior_weight` 1, ramp weights, `consider_endpoints` false, neighbour
/// bandwidths, multivariate with one objective and univariate with several (as Optuna 5), no
/// groups, no constant liar.
///
/// Papers: J. Bergstra, R. Bardenet, Y. Bengio, B. Kégl, "Algorithms for Hyper-Parameter
/// Optimization", NeurIPS 2011; S. Watanabe, "Tree-Structured Parzen Estimator: Understanding
/// Its Algorithm Components and Their Roles for Better Empirical Performance", 2023;
/// Y. Ozaki et al., "Multiobjective Tree-Structured Parzen Estimator", JAIR 2022.
///
/// ```
/// use tunewise_core::{Budget, Study, TpeSampler, TrialError};
///
/// let sampler = TpeSampler::builder().multivariate(true).seed(3).build()?;
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
pub struct TpeSampler {
    settings: Settings,
    seed: u64,
    random: RandomSampler,
    history: Mutex<History>,
    /// Buffers of the estimators, reused between trials.
    pool: Mutex<Pool>,
    /// The bad kernels' constants of the joint estimator, reused between trials.
    kernels: Mutex<KernelCache>,
}

impl fmt::Debug for TpeSampler {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TpeSampler")
            .field("settings", &self.settings)
            .field("seed", &self.seed)
            .finish_non_exhaustive()
    }
}

/// Settings of a [`TpeSampler`], checked by [`build`](Self::build).
#[derive(Debug, Clone, Default)]
pub struct TpeBuilder {
    settings: Settings,
    seed: Option<u64>,
}

impl TpeBuilder {
    /// Random trials before the model starts (default 10). Complete and pruned trials count.
    pub fn n_startup_trials(mut self, n: usize) -> Self {
        self.settings.n_startup_trials = n;
        self
    }

    /// Candidates drawn from the good estimator per proposal (default 24, at least 1).
    pub fn n_ei_candidates(mut self, n: usize) -> Self {
        self.settings.n_ei_candidates = n;
        self
    }

    /// Fraction of the finished trials that are good, in (0, 1] (default 0.1).
    pub fn gamma(mut self, fraction: f64) -> Self {
        self.settings.gamma = fraction;
        self
    }

    /// At most this many good trials (at least 1). Default: 25 with one objective, no cap with
    /// several (Optuna 5's MOTPE).
    pub fn gamma_cap(mut self, n: usize) -> Self {
        self.settings.gamma_cap = Some(n);
        self
    }

    /// Weight of the prior kernel against an observation's 1 (default 1, positive).
    pub fn prior_weight(mut self, weight: f64) -> Self {
        self.settings.prior_weight = weight;
        self
    }

    /// Let the outermost kernels of the univariate rule span to the range's ends (default false).
    pub fn consider_endpoints(mut self, yes: bool) -> Self {
        self.settings.consider_endpoints = yes;
        self
    }

    /// How observations are weighted (default [`TpeWeights::Ramp`]).
    pub fn weights(mut self, weights: TpeWeights) -> Self {
        self.settings.weights = weights;
        self
    }

    /// Model the parameters shared by all finished trials jointly (`true`) or each parameter on
    /// its own (`false`). Default: jointly with one objective, on its own with several (Optuna
    /// 5's default, chosen on its benchmarks).
    pub fn multivariate(mut self, yes: bool) -> Self {
        self.settings.multivariate = Some(yes);
        self
    }

    /// With `multivariate`, model each group of parameters that always appear together jointly,
    /// for conditional spaces (default false).
    pub fn group(mut self, yes: bool) -> Self {
        self.settings.group = yes;
        self
    }

    /// With `multivariate`, give every kernel of a dimension the bandwidth of Scott's rule,
    /// `0.2 · n^(−1/(d+4)) · range` (Optuna before version 5), instead of the neighbour rule
    /// (default false). Cheaper per trial, but it searches worse: on a 5-dimensional sphere at
    /// 100 trials its median regret was about four times the neighbour rule's.
    pub fn scott_bandwidth(mut self, yes: bool) -> Self {
        self.settings.scott_bandwidth = yes;
        self
    }

    /// Count running trials as bad observations, for parallel workers (default false).
    pub fn constant_liar(mut self, yes: bool) -> Self {
        self.settings.constant_liar = yes;
        self
    }

    /// The seed (default: from the operating system; the study's seed replaces it when the study
    /// builder is given one).
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = Some(seed);
        self
    }

    /// Checks the settings and makes the sampler; an error names the setting to fix.
    pub fn build(self) -> Result<TpeSampler> {
        let s = &self.settings;
        let bad = |field: &str, why: String| {
            Err(Error::InvalidConfig(format!("TpeSampler {field}: {why}")))
        };
        if s.n_ei_candidates == 0 {
            return bad("n_ei_candidates", "must be at least 1 (default 24), got 0".into());
        }
        if !(s.gamma > 0.0 && s.gamma <= 1.0) {
            return bad(
                "gamma",
                format!("is the fraction of good trials, in (0, 1] (default 0.1), got {}", s.gamma),
            );
        }
        if s.gamma_cap == Some(0) {
            return bad("gamma_cap", "must be at least 1 (default 25), got 0".into());
        }
        if !(s.prior_weight.is_finite() && s.prior_weight > 0.0) {
            return bad(
                "prior_weight",
                format!("must be a positive number (default 1), got {}", s.prior_weight),
            );
        }
        if s.group && s.multivariate == Some(false) {
            return bad("group", "needs multivariate; do not set multivariate(false)".into());
        }
        let seed = self.seed.unwrap_or_else(Rng::os_seed);
        Ok(TpeSampler {
            settings: *s,
            seed,
            random: RandomSampler::with_seed(seed),
            history: Mutex::new(History::default()),
            pool: Mutex::new(Pool::default()),
            kernels: Mutex::new(KernelCache::default()),
        })
    }
}

impl Default for TpeSampler {
    fn default() -> Self {
        Self::new()
    }
}

impl TpeSampler {
    /// A TPE sampler with the defaults, seeded from the operating system.
    pub fn new() -> Self {
        Self::with_seed(Rng::os_seed())
    }

    /// A TPE sampler with the defaults and a seed.
    pub fn with_seed(seed: u64) -> Self {
        TpeSampler {
            settings: Settings::default(),
            seed,
            random: RandomSampler::with_seed(seed),
            history: Mutex::new(History::default()),
            pool: Mutex::new(Pool::default()),
            kernels: Mutex::new(KernelCache::default()),
        }
    }

    /// A builder, to change the defaults.
    pub fn builder() -> TpeBuilder {
        TpeBuilder::default()
    }

    /// Its seed.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    fn history(&self) -> MutexGuard<'_, History> {
        // Every update of the history leaves it consistent before anything can panic.
        self.history.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn fit_settings(&self, multivariate: bool) -> FitSettings {
        FitSettings {
            scott: multivariate && self.settings.scott_bandwidth,
            prior_weight: self.settings.prior_weight,
            consider_endpoints: self.settings.consider_endpoints,
        }
    }

    /// Draws the candidates from `l`, returns the one maximizing `log l − log g` (model space).
    #[allow(clippy::too_many_arguments)]
    fn propose(
        &self,
        specs: &[DimSpec],
        good: &[f64],
        good_w: &[f64],
        bad: &[f64],
        bad_w: &[f64],
        bad_orders: Option<&[Vec<usize>]>,
        cache: Option<(&mut KernelCache, &[u64])>,
        multivariate: bool,
        rng: &mut Rng,
    ) -> Vec<f64> {
        let settings = self.fit_settings(multivariate);
        // Taken out of the sampler so parallel workers do not wait on one another; a worker that
        // finds it empty just allocates.
        let mut pool = std::mem::take(&mut *self.pool.lock().unwrap_or_else(|e| e.into_inner()));
        let l = Parzen::fit(specs, good, good_w, &settings, &mut pool, None, None);
        let g = Parzen::fit(specs, bad, bad_w, &settings, &mut pool, bad_orders, cache);
        let d = specs.len();
        let m = self.settings.n_ei_candidates;
        let mut xs = vec![0.0; m * d];
        for x in xs.chunks_exact_mut(d) {
            l.sample(rng, specs, x);
        }
        let mut ll = vec![0.0; m];
        let mut lg = vec![0.0; m];
        let mut scratch = Vec::new();
        l.log_pdf(&xs, &mut ll, &mut scratch);
        g.log_pdf(&xs, &mut lg, &mut scratch);
        l.recycle(&mut pool);
        g.recycle(&mut pool);
        let mut shared = self.pool.lock().unwrap_or_else(|e| e.into_inner());
        if shared.len() < pool.len() {
            *shared = pool;
        }
        drop(shared);
        let mut best = 0;
        let mut best_score = f64::NEG_INFINITY;
        for i in 0..m {
            let s = ll[i] - lg[i];
            if s > best_score {
                best_score = s;
                best = i;
            }
        }
        xs[best * d..(best + 1) * d].to_vec()
    }
}

impl Sampler for TpeSampler {
    fn sample_independent(
        &self,
        study: &StudyView<'_>,
        trial: &FrozenTrial,
        name: &str,
        distribution: &Distribution,
    ) -> Result<f64> {
        let mut history = self.history();
        history.update(study);
        if history.len() < self.settings.n_startup_trials.max(1) {
            drop(history);
            return self.random.sample_independent(study, trial, name, distribution);
        }
        let column = Column::new(Arc::from(name), Arc::new(distribution.clone()));
        let running = self.running(study, trial);
        let data = history.univariate(study.directions(), &column, &running, self.settings);
        drop(history);
        if data.good_w.is_empty() && data.bad_w.is_empty() {
            return self.random.sample_independent(study, trial, name, distribution);
        }
        let mut rng = Rng::derive(self.seed, &[trial.number, TAG_INDEPENDENT, hash_str(name)]);
        let specs = [column.spec];
        let y = self.propose(
            &specs,
            &data.good,
            &data.good_w,
            &data.bad,
            &data.bad_w,
            None,
            None,
            false,
            &mut rng,
        );
        Ok(DimSpec::from_model(distribution, y[0]))
    }

    fn infer_relative_search_space(
        &self,
        study: &StudyView<'_>,
        _trial: &FrozenTrial,
    ) -> Result<SearchSpace> {
        if !self.settings.multivariate.unwrap_or(study.directions().len() == 1) {
            return Ok(SearchSpace::new());
        }
        let mut history = self.history();
        history.update(study);
        if history.len() < self.settings.n_startup_trials.max(1) {
            return Ok(SearchSpace::new());
        }
        let mut space = SearchSpace::new();
        for c in history.relative_columns(self.settings.group) {
            space.insert(c.name, c.distribution);
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
        let mut history = self.history();
        history.update(study);
        if history.len() < self.settings.n_startup_trials.max(1) {
            return Ok(out);
        }
        let columns: Vec<Column> =
            space.iter().map(|(n, d)| Column::new(n.clone(), d.clone())).collect();
        let running = self.running(study, trial);
        let groups = history.joint(study.directions(), &columns, &running, self.settings);
        drop(history);
        // One joint group (multivariate without groups): reuse its bad kernels' constants.
        // Taken out of the sampler, like the buffers, so that workers do not wait on each other.
        // (Scott's bandwidths change every trial: nothing to reuse.)
        let mut kernels = (groups.len() == 1 && !self.settings.scott_bandwidth).then(|| {
            let mut k = std::mem::take(&mut *lock(&self.kernels));
            let group: Vec<Column> =
                groups[0].columns.iter().map(|&c| columns[c].clone()).collect();
            k.for_columns(&group);
            k
        });
        for (gi, data) in groups.iter().enumerate() {
            if data.good_w.is_empty() && data.bad_w.is_empty() {
                continue;
            }
            let specs: Vec<DimSpec> = data.columns.iter().map(|&c| columns[c].spec).collect();
            let mut rng = Rng::derive(self.seed, &[trial.number, TAG_RELATIVE, gi as u64]);
            let y = self.propose(
                &specs,
                &data.good,
                &data.good_w,
                &data.bad,
                &data.bad_w,
                data.bad_orders.as_deref(),
                kernels.as_mut().map(|k| (k, data.bad_numbers.as_slice())),
                true,
                &mut rng,
            );
            for (&c, v) in data.columns.iter().zip(y) {
                let col = &columns[c];
                out.insert(col.name.clone(), DimSpec::from_model(&col.distribution, v));
            }
        }
        if let Some(k) = kernels {
            *lock(&self.kernels) = k;
        }
        Ok(out)
    }

    fn reseed(&mut self, seed: u64) {
        self.seed = seed;
        self.random = RandomSampler::with_seed(seed);
    }

    fn wants_running_params(&self) -> bool {
        self.settings.constant_liar
    }
}

impl TpeSampler {
    /// Other trials still running (constant liar only).
    fn running(&self, study: &StudyView<'_>, trial: &FrozenTrial) -> Vec<Arc<FrozenTrial>> {
        if !self.settings.constant_liar {
            return Vec::new();
        }
        study
            .trials()
            .iter()
            .filter(|t| t.state == crate::TrialState::Running && t.number != trial.number)
            .cloned()
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sampler_is_send_and_sync() {
        fn check<T: Send + Sync>() {}
        check::<TpeSampler>();
        check::<TpeBuilder>();
    }
}
