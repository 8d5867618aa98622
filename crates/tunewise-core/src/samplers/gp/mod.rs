//! Gaussian-process Bayesian optimization.

mod acquisition;
mod kernel;
mod model;
mod optimize;
mod regret;

use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard};

use crate::distribution::Distribution;
use crate::error::{Error, Result};
use crate::frozen::{FrozenTrial, TrialState};
use crate::rng::Rng;
use crate::sampler::{Sampler, StudyView};
use crate::search_space::SearchSpace;

use super::RandomSampler;
use acquisition::{Acquisition, Term};
use model::{Data, Gp};
use optimize::Dim;
pub(crate) use regret::regret_bound;

/// Key of a trial's generator for its joint (relative) proposal.
const TAG_RELATIVE: u64 = 0x6770_7265;
/// ParEGO's augmentation weight `ρ` (Knowles 2006).
const PAREGO_RHO: f64 = 0.05;

#[derive(Debug, Clone, Copy)]
struct Settings {
    n_startup_trials: usize,
    deterministic: bool,
    /// `None`: sized to the number of observations (see the type's documentation).
    n_candidates: Option<usize>,
    /// `None`: sized to the number of observations (see `local_starts`).
    n_local_starts: Option<usize>,
    max_fit_iterations: usize,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            n_startup_trials: 10,
            deterministic: false,
            n_candidates: None,
            n_local_starts: None,
            max_fit_iterations: 30,
        }
    }
}

/// Gaussian-process Bayesian optimization: a probabilistic model of the objective, and each
/// trial at the point of largest expected improvement over the best trial so far.
///
/// **What it is.** After [`n_startup_trials`](GpBuilder::n_startup_trials) random trials
/// (exactly [`RandomSampler`](crate::RandomSampler) with the same seed), each trial:
///
/// 1. takes the parameters every complete trial has with the same distribution (the
///    intersection space, [`SearchSpace::intersection`]), maps them to `[0, 1]` (log scales on
///    the logarithm, ints and stepped floats as continuous coordinates rounded to their grid,
///    categoricals as choices compared for equality) and standardizes the values (mean 0,
///    standard deviation 1; maximized objectives are negated, so the model always minimizes);
/// 2. fits a Gaussian process (Rasmussen & Williams 2006) with a Matérn 5/2 kernel, one length
///    scale per parameter (ARD), a signal variance and an observation noise. The kernel's
///    hyperparameters maximize the marginal likelihood times a prior (Optuna's GP sampler's
///    kind: Gamma-type priors on the inverse squared length scales, the signal and the noise),
///    with analytic gradients, by a bounded L-BFGS (L-BFGS-B) in log space, started from the
///    previous trial's fit (when it is at least as good as the default start) — a warm start
///    that needs only a few iterations;
/// 3. maximizes the logarithm of expected improvement (log-EI, Ament et al. 2023: EI in log
///    space stays informative where plain EI underflows to zero; Snoek et al. 2012 for EI with
///    GPs in hyperparameter tuning): a few hundred to two thousand random candidates and
///    perturbations of the best trials, evaluated in one batch, then from the best few L-BFGS-B
///    on the numeric coordinates (ints and stepped floats relaxed, then rounded to their grid)
///    and a local search over neighbouring grid values and other choices for ints, stepped
///    floats and categoricals.
///
/// Parameters outside the intersection space are drawn uniformly at random, as by
/// [`RandomSampler`](crate::RandomSampler).
///
/// **Parallel workers** (kriging believer): trials still running count as observations at the
/// model's own prediction there, believed exactly (no noise), and count for the incumbent too.
/// Their points then have no expected improvement left, so parallel workers spread out instead
/// of proposing the same point. The study stores each parameter as soon as it is suggested (see
/// [`Sampler::wants_running_params`]); within one process the sampler also remembers its own
/// proposals until their trials finish, and computes proposals one at a time, so that a trial
/// sees the points of those started just before it even before they are stored.
///
/// **Constraints** (a trial is feasible when all its constraint values are ≤ 0): one Gaussian
/// process per constraint; the acquisition is `log EI + Σ log P(cᵢ ≤ 0)`, with the best
/// *feasible* value as the incumbent. While no trial is feasible, the probability of
/// feasibility alone is maximized.
///
/// **Several objectives** (ParEGO, Knowles 2006): each trial draws a weight vector uniformly
/// from the simplex (from its own seeded generator), scales every objective to `[0, 1]` over
/// the complete trials, and models the augmented Chebyshev scalarization
/// `max_i wᵢ·fᵢ + 0.05·Σ wᵢ·fᵢ` with one Gaussian process. Successive trials so aim at different
/// parts of the Pareto front.
///
/// **Pruned and failed trials.** A pruned trial enters the model with its last intermediate
/// value, floored at the median value of the complete trials (objective by objective; it
/// counts as infeasible when there are constraints): its pruner judged it no better than its
/// peers, so it never looks better than a typical complete trial, and its own report says how
/// bad it was. Leaving it out would let the model propose the same region again. Failed
/// trials, and complete trials with a non-finite value, are left out. Pruned trials do not
/// count toward `n_startup_trials`.
///
/// **When to use it.** Expensive trials with small budgets (up to about 300 trials), mostly
/// continuous parameters, one objective or a few. It usually needs fewer trials than
/// [`TpeSampler`](crate::TpeSampler) on smooth problems. For thousands of trials, many
/// categorical or conditional parameters, or cheap objectives, use TPE.
///
/// **Cost.** Per trial, O(n³) in the number n of complete trials: each step of the
/// hyperparameter fit factorizes and inverts the n × n kernel matrix. A warm-started fit is held
/// to a work budget that shrinks as n³ grows (about 30 steps at n = 100, 2 from n ≈ 250 on; the
/// fit is amortized over trials, each continuing from the previous one); a cold fit (the first
/// model-driven trial) may take [`max_fit_iterations`](GpBuilder::max_fit_iterations). Each
/// constraint adds its own fit. The acquisition search costs O(candidates · n²); the number of
/// candidates shrinks as n grows (2,048 up to n ≈ 100, then `2·10⁷ / n²`, at least 256).
/// Measured on 10 continuous parameters: 27–38 ms per trial at 100 finished trials and 33–39 ms
/// at 300, on a loaded 2-core machine (`cargo bench -p tunewise-bench --bench gp`, see
/// `docs/benchmarks.md`); the first trial of a sampler meeting 300 trials cold takes about 0.4 s.
///
/// **Reproducible.** The proposal of a trial depends only on the seed, the trial number and
/// the history (and, through the warm start, on the previous fits): a seeded single-threaded
/// study gives the same trials every run.
///
/// **Defaults**: `n_startup_trials` 10, noise fitted (`deterministic_objective` false),
/// candidates and local searches sized automatically (about 2,000 candidates and 10 searches up to
/// 100 trials, fewer beyond), at most 30 L-BFGS-B iterations per
/// hyperparameter fit.
///
/// Papers: C. E. Rasmussen, C. K. I. Williams, "Gaussian Processes for Machine Learning", MIT
/// Press 2006; J. Snoek, H. Larochelle, R. P. Adams, "Practical Bayesian Optimization of Machine
/// Learning Algorithms", NeurIPS 2012; S. Ament, S. Daulton, D. Eriksson, M. Balandat, E.
/// Bakshy, "Unexpected Improvements to Expected Improvement for Bayesian Optimization", NeurIPS
/// 2023; J. Knowles, "ParEGO: A Hybrid Algorithm With On-Line Landscape Approximation for
/// Expensive Multiobjective Optimization Problems", IEEE TEC 2006.
///
/// ```
/// use tunewise_core::{Budget, GpSampler, Study, TrialError};
///
/// let sampler = GpSampler::builder().seed(3).build()?;
/// let study = Study::builder().sampler(sampler).create()?;
/// study.optimize(
///     |t| -> Result<f64, TrialError> {
///         let x = t.suggest_float("x", -10.0, 10.0)?;
///         let y = t.suggest_float("y", -10.0, 10.0)?;
///         Ok((x - 1.0).powi(2) + (y + 2.0).powi(2))
///     },
///     Budget::trials(25),
/// )?;
/// assert!(study.best_value()? < 1.0);
/// # Ok::<(), tunewise_core::Error>(())
/// ```
pub struct GpSampler {
    settings: Settings,
    seed: u64,
    random: RandomSampler,
    /// The last fitted hyperparameters of each model (0: objective, 1…: constraints), to warm
    /// start the next fit.
    warm: Mutex<BTreeMap<usize, Vec<f64>>>,
    /// This sampler's proposals for trials not known to be finished, by trial number. Held
    /// while a proposal is computed, so that proposals in one process are made one at a time
    /// and each sees the others' points, even before their trials have stored them.
    inflight: Mutex<BTreeMap<u64, BTreeMap<Arc<str>, f64>>>,
}

impl fmt::Debug for GpSampler {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GpSampler")
            .field("settings", &self.settings)
            .field("seed", &self.seed)
            .finish_non_exhaustive()
    }
}

/// Settings of a [`GpSampler`], checked by [`build`](Self::build).
#[derive(Debug, Clone, Default)]
pub struct GpBuilder {
    settings: Settings,
    seed: Option<u64>,
}

impl GpBuilder {
    /// Random trials before the model starts (default 10). Complete trials count.
    pub fn n_startup_trials(mut self, n: usize) -> Self {
        self.settings.n_startup_trials = n;
        self
    }

    /// The objective gives the same value for the same parameters: fix the model's noise to a
    /// tiny value instead of fitting it (default false).
    pub fn deterministic_objective(mut self, yes: bool) -> Self {
        self.settings.deterministic = yes;
        self
    }

    /// Candidates evaluated before the local searches (at least 1; default: sized to the
    /// history, 2,048 falling to 256 as trials accumulate).
    pub fn n_candidates(mut self, n: usize) -> Self {
        self.settings.n_candidates = Some(n);
        self
    }

    /// Local searches from the best candidates (0 keeps the best candidate; default: sized to
    /// the history, 10 up to 100 observations falling to 3 at 300 and beyond).
    pub fn n_local_starts(mut self, n: usize) -> Self {
        self.settings.n_local_starts = Some(n);
        self
    }

    /// L-BFGS-B iterations at most per hyperparameter fit (at least 1, default 30).
    pub fn max_fit_iterations(mut self, n: usize) -> Self {
        self.settings.max_fit_iterations = n;
        self
    }

    /// The seed (default: from the operating system; the study's seed replaces it when the study
    /// builder is given one).
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = Some(seed);
        self
    }

    /// Checks the settings and makes the sampler; an error names the setting to fix.
    pub fn build(self) -> Result<GpSampler> {
        let s = &self.settings;
        let bad =
            |field: &str, why: &str| Err(Error::InvalidConfig(format!("GpSampler {field}: {why}")));
        if s.n_candidates == Some(0) {
            return bad("n_candidates", "must be at least 1 (default: sized automatically), got 0");
        }
        if let (Some(n), Some(starts)) = (s.n_candidates, s.n_local_starts) {
            if starts > n {
                return bad(
                    "n_local_starts",
                    &format!(
                        "cannot exceed n_candidates ({n}), got {starts}; lower it or raise n_candidates",
                    ),
                );
            }
        }
        if s.max_fit_iterations == 0 {
            return bad("max_fit_iterations", "must be at least 1 (default 30), got 0");
        }
        let seed = self.seed.unwrap_or_else(Rng::os_seed);
        Ok(GpSampler::from_settings(*s, seed))
    }
}

impl Default for GpSampler {
    fn default() -> Self {
        Self::new()
    }
}

impl GpSampler {
    /// A GP sampler with the defaults, seeded from the operating system.
    pub fn new() -> Self {
        Self::with_seed(Rng::os_seed())
    }

    /// A GP sampler with the defaults and a seed.
    pub fn with_seed(seed: u64) -> Self {
        Self::from_settings(Settings::default(), seed)
    }

    /// A builder, to change the defaults.
    pub fn builder() -> GpBuilder {
        GpBuilder::default()
    }

    /// Its seed.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    fn from_settings(settings: Settings, seed: u64) -> Self {
        GpSampler {
            settings,
            seed,
            random: RandomSampler::with_seed(seed),
            warm: Mutex::new(BTreeMap::new()),
            inflight: Mutex::new(BTreeMap::new()),
        }
    }

    fn warm(&self) -> MutexGuard<'_, BTreeMap<usize, Vec<f64>>> {
        // Only starting points: any state it is left in is valid.
        self.warm.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Fits one model's hyperparameters (warm-started) and conditions it on `data`.
    fn fit(&self, key: usize, data: &Data<'_>) -> Option<(Gp, Vec<f64>)> {
        let warm = self.warm().get(&key).cloned();
        let (theta, solved) = model::fit_theta(
            data,
            warm.as_deref(),
            self.settings.deterministic,
            self.settings.max_fit_iterations,
        );
        self.warm().insert(key, theta.clone());
        let gp = match solved {
            Some(solved) => Some(Gp::from_solved(data, &theta, solved)),
            None => Gp::new(data, &theta),
        };
        gp.map(|gp| (gp, theta))
    }

    fn candidates(&self, n: usize) -> usize {
        self.settings.n_candidates.unwrap_or_else(|| {
            let sized = 2e7 / ((n * n) as f64).max(1.0);
            sized.clamp(256.0, 2048.0) as usize
        })
    }

    /// Local searches for a model of `n` observations: 10 (as many as Optuna's GP sampler runs)
    /// while each is cheap, then fewer so that the cost per trial stays within budget at 300
    /// trials (measured at 100 trials over 10 seeds: 10 searches instead of 3 lowered the median
    /// regret on 9 of 11 test functions, e.g. Levy-5d 0.446 → 0.308, sphere-5d 4.9e-4 → 2.7e-4).
    fn local_starts(&self, n: usize) -> usize {
        self.settings.n_local_starts.unwrap_or_else(|| (1000 / n.max(1)).clamp(3, 10))
    }

    /// Complete trials the model can use: finite values, one per objective.
    fn usable<'a>(study: &StudyView<'a>) -> impl Iterator<Item = &'a FrozenTrial> + 'a {
        let k = study.directions().len();
        study.completed().filter(move |t| {
            t.values.as_ref().is_some_and(|v| v.len() == k && v.iter().all(|x| x.is_finite()))
        })
    }
}

/// Mean and standard deviation (1 when there is no spread).
fn standardize(v: &mut [f64]) -> (f64, f64) {
    let n = v.len().max(1) as f64;
    let mean = v.iter().sum::<f64>() / n;
    let sd = (v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n).sqrt();
    if !mean.is_finite() || !sd.is_finite() {
        // Values so large their spread overflows: model their ranks instead.
        let mut order: Vec<usize> = (0..v.len()).collect();
        order.sort_by(|&a, &b| v[a].total_cmp(&v[b]));
        for (rank, &i) in order.iter().enumerate() {
            v[i] = rank as f64;
        }
        return standardize(v);
    }
    let sd = if sd > 1e-12 * mean.abs().max(1e-300) { sd } else { 1.0 };
    for x in v.iter_mut() {
        *x = (*x - mean) / sd;
    }
    (mean, sd)
}

/// ParEGO's scalarization of the (minimized) objective values, one row per trial.
fn parego(values: &[Vec<f64>], rng: &mut Rng) -> Vec<f64> {
    let k = values.first().map_or(0, Vec::len);
    let mut w: Vec<f64> = (0..k).map(|_| -(1.0 - rng.uniform()).ln()).collect();
    let total: f64 = w.iter().sum();
    w.iter_mut().for_each(|x| *x /= total.max(1e-300));
    let lo: Vec<f64> =
        (0..k).map(|i| values.iter().map(|v| v[i]).fold(f64::INFINITY, f64::min)).collect();
    let hi: Vec<f64> =
        (0..k).map(|i| values.iter().map(|v| v[i]).fold(f64::NEG_INFINITY, f64::max)).collect();
    values
        .iter()
        .map(|v| {
            let (mut max, mut sum) = (f64::NEG_INFINITY, 0.0);
            for i in 0..k {
                let range = hi[i] - lo[i];
                let f = if range > 0.0 && range.is_finite() { (v[i] - lo[i]) / range } else { 0.0 };
                max = max.max(w[i] * f);
                sum += w[i] * f;
            }
            max + PAREGO_RHO * sum
        })
        .collect()
}

impl Sampler for GpSampler {
    fn sample_independent(
        &self,
        study: &StudyView<'_>,
        trial: &FrozenTrial,
        name: &str,
        distribution: &Distribution,
    ) -> Result<f64> {
        self.random.sample_independent(study, trial, name, distribution)
    }

    fn infer_relative_search_space(
        &self,
        study: &StudyView<'_>,
        _trial: &FrozenTrial,
    ) -> Result<SearchSpace> {
        if Self::usable(study).count() < self.settings.n_startup_trials.max(1) {
            return Ok(SearchSpace::new());
        }
        Ok(SearchSpace::intersection(Self::usable(study)))
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
        // Proposals are computed one at a time (see `inflight`); a finished trial's entry goes.
        let mut inflight = self.inflight.lock().unwrap_or_else(|e| e.into_inner());
        let trials = study.trials();
        let finished = |number: u64| {
            trials
                .binary_search_by_key(&number, |t| t.number)
                .is_ok_and(|i| trials[i].state.is_finished())
        };
        inflight.retain(|n, _| !finished(*n));
        // A trial abandoned without an end would stay forever: keep only the newest.
        while inflight.len() > 256 {
            inflight.pop_first();
        }
        let names: Vec<&Arc<str>> = space.iter().map(|(n, _)| n).collect();
        let dims: Vec<Dim> = space.iter().map(|(_, d)| Dim::new(d.clone())).collect();
        let cat: Vec<bool> = dims.iter().map(Dim::is_categorical).collect();
        let d = dims.len();
        let encode = |t: &FrozenTrial| -> Option<Vec<f64>> {
            names
                .iter()
                .zip(&dims)
                .map(|(n, dim)| t.param(n).map(|p| dim.encode(p.internal)))
                .collect::<Option<Vec<f64>>>()
                .filter(|row| row.iter().all(|v| v.is_finite()))
        };
        let mut x = Vec::new();
        let mut raw: Vec<Vec<f64>> = Vec::new();
        let mut constraints: Vec<&[f64]> = Vec::new();
        for t in Self::usable(study) {
            let (Some(row), Some(values)) = (encode(t), t.values.as_ref()) else { continue };
            x.extend(row);
            let signed = values
                .iter()
                .zip(study.directions())
                .map(|(v, dir)| if *dir == crate::Direction::Maximize { -v } else { *v })
                .collect();
            raw.push(signed);
            constraints.push(&t.constraints);
        }
        if raw.len() < self.settings.n_startup_trials.max(1) {
            return Ok(out);
        }
        // Pruned trials: their last reported value, but no better than a typical complete trial,
        // objective by objective (see the type's docs), so that the model steers away from where
        // they were stopped.
        let typical: Vec<f64> = (0..study.directions().len())
            .map(|i| {
                let mut column: Vec<f64> = raw.iter().map(|v| v[i]).collect();
                column.sort_by(f64::total_cmp);
                column[column.len() / 2]
            })
            .collect();
        for t in study.trials_in(TrialState::Pruned) {
            if let Some(row) = encode(t) {
                let last = t.intermediate_values.values().next_back();
                let value = typical
                    .iter()
                    .zip(study.directions())
                    .enumerate()
                    .map(|(i, (floor, dir))| {
                        let reported =
                            last.and_then(|v| v.get(i)).copied().filter(|v| v.is_finite());
                        let signed =
                            reported
                                .map(|v| if *dir == crate::Direction::Maximize { -v } else { v });
                        signed.map_or(*floor, |v| v.max(*floor))
                    })
                    .collect();
                x.extend(row);
                raw.push(value);
                constraints.push(&[]);
            }
        }
        let n = raw.len();
        let mut rng = Rng::derive(self.seed, &[trial.number, TAG_RELATIVE]);
        let mut y: Vec<f64> = if study.directions().len() == 1 {
            raw.iter().map(|v| v[0]).collect()
        } else {
            parego(&raw, &mut rng)
        };
        standardize(&mut y);

        // Constraints: the number of them is the longest list seen; a trial with another
        // number of them is left out of the constraint models and counts as infeasible.
        let n_constraints = constraints.iter().map(|c| c.len()).max().unwrap_or(0);
        let feasible: Vec<bool> = constraints
            .iter()
            .map(|c| c.len() == n_constraints && c.iter().all(|v| *v <= 0.0))
            .collect();

        let data = Data { x: &x, y: &y, cat: &cat, exact_from: usize::MAX };
        let Some((gp, theta)) = self.fit(0, &data) else { return Ok(out) };
        // Running trials: fantasized at the posterior mean (kriging believer).
        // Their points: as stored, or as proposed by this sampler if not stored yet.
        let proposed = |number: u64| -> Option<Vec<f64>> {
            let values = inflight.get(&number)?;
            names
                .iter()
                .zip(&dims)
                .map(|(n, dim)| values.get(*n).map(|v| dim.encode(*v)))
                .collect::<Option<Vec<f64>>>()
        };
        let mut running = Vec::new();
        for t in trials {
            if t.state == TrialState::Running && t.number != trial.number {
                if let Some(row) = encode(t).or_else(|| proposed(t.number)) {
                    running.extend(row);
                }
            }
        }
        for &number in inflight.keys() {
            let known = trials.binary_search_by_key(&number, |t| t.number).is_ok();
            if !known && number != trial.number {
                if let Some(row) = proposed(number) {
                    running.extend(row);
                }
            }
        }
        let mut terms = Vec::new();
        for c in 0..n_constraints {
            let rows: Vec<usize> = (0..n)
                .filter(|&i| constraints[i].len() == n_constraints && constraints[i][c].is_finite())
                .collect();
            if rows.is_empty() {
                continue;
            }
            let xc: Vec<f64> =
                rows.iter().flat_map(|&i| x[i * d..(i + 1) * d].iter().copied()).collect();
            let mut yc: Vec<f64> = rows.iter().map(|&i| constraints[i][c]).collect();
            let (mean, sd) = standardize(&mut yc);
            let data = Data { x: &xc, y: &yc, cat: &cat, exact_from: usize::MAX };
            if let Some((gp, _)) = self.fit(1 + c, &data) {
                terms.push(Term { gp, level: (0.0 - mean) / sd });
            }
        }
        let mut incumbent = y
            .iter()
            .zip(&feasible)
            .filter(|(_, f)| **f)
            .map(|(v, _)| *v)
            .fold(f64::INFINITY, f64::min);
        let gp = if running.is_empty() {
            gp
        } else {
            // The believer treats a fantasy as an observation, exactly known: it counts for the
            // incumbent too (when the constraint models expect it feasible), so its point has no
            // expected improvement left.
            let fantasy = gp.mean(&running);
            let mut believed_feasible = vec![true; fantasy.len()];
            for t in &terms {
                for (ok, m) in believed_feasible.iter_mut().zip(t.gp.mean(&running)) {
                    *ok &= m <= t.level;
                }
            }
            for (v, ok) in fantasy.iter().zip(&believed_feasible) {
                if *ok && v.is_finite() {
                    incumbent = incumbent.min(*v);
                }
            }
            let mut xa = x.clone();
            xa.extend_from_slice(&running);
            let mut ya = y.clone();
            ya.extend(fantasy);
            match Gp::new(&Data { x: &xa, y: &ya, cat: &cat, exact_from: n }, &theta) {
                Some(g) => g,
                None => gp,
            }
        };
        let objective = incumbent.is_finite().then_some(Term { gp, level: incumbent });
        if objective.is_none() && terms.is_empty() {
            return Ok(out);
        }
        let acq = Acquisition { objective, constraints: terms };

        // Anchors for perturbed candidates: the best trials, feasible ones first.
        let mut order: Vec<usize> = (0..n).collect();
        order.sort_by(|&a, &b| {
            feasible[b].cmp(&feasible[a]).then(y[a].total_cmp(&y[b])).then(a.cmp(&b))
        });
        let anchors: Vec<Vec<f64>> =
            order.iter().take(5).map(|&i| x[i * d..(i + 1) * d].to_vec()).collect();
        let budget =
            optimize::Budget { candidates: self.candidates(n), local_starts: self.local_starts(n) };
        let best = optimize::maximize(&acq, &dims, &anchors, budget, &mut rng);
        for ((name, dim), u) in names.iter().zip(&dims).zip(best) {
            out.insert((*name).clone(), dim.decode(u));
        }
        inflight.insert(trial.number, out.clone());
        Ok(out)
    }

    fn reseed(&mut self, seed: u64) {
        self.seed = seed;
        self.random = RandomSampler::with_seed(seed);
    }

    fn wants_running_params(&self) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sampler_is_send_and_sync() {
        fn check<T: Send + Sync>() {}
        check::<GpSampler>();
        check::<GpBuilder>();
    }

    #[test]
    fn parego_weights_lie_on_the_simplex_and_scalarize_the_extremes() {
        let values = vec![vec![0.0, 10.0], vec![1.0, 0.0], vec![0.5, 5.0]];
        let mut rng = Rng::new(1);
        let s = parego(&values, &mut rng);
        // The middle point is dominated by neither extreme in both objectives, but each extreme
        // scores 0 in one objective: all three are finite and within [0, 1 + ρ].
        assert!(s.iter().all(|v| (0.0..=1.0 + PAREGO_RHO).contains(v)), "{s:?}");
    }
}
