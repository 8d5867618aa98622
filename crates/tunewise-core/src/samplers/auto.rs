//! The automatic sampler: picks an algorithm from the search space, the objectives and the budget.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::sync::{Arc, Mutex};

use crate::distribution::Distribution;
use crate::error::Result;
use crate::frozen::FrozenTrial;
use crate::rng::Rng;
use crate::sampler::{Sampler, StudyView};
use crate::search_space::SearchSpace;
use crate::sync::lock;

use super::{GpSampler, NsgaIISampler, TpeSampler};

/// Finished trials up to which a one-objective numeric study stays with the Gaussian process
/// (its cost per trial grows with the cube of the trials it models).
const GP_MAX_TRIALS: usize = 200;
/// Choices kept for trials between `before_trial` and `after_trial`, at most.
const MAX_PENDING: usize = 1024;
/// Finished trials from which a study with several objectives goes to NSGA-II.
const NSGA2_FROM_TRIALS: usize = 500;

/// The algorithm the [`AutoSampler`] gives a trial to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum AutoChoice {
    /// [`GpSampler`](crate::GpSampler).
    Gp,
    /// [`TpeSampler`](crate::TpeSampler): multivariate and grouped with one objective, MOTPE
    /// with several.
    Tpe,
    /// [`NsgaIISampler`](crate::NsgaIISampler).
    NsgaII,
}

/// What the complete trials say of the search space.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
struct SpaceShape {
    /// More than half of some trial's parameters are categorical.
    mostly_categorical: bool,
    /// Not every complete trial has the same parameters.
    conditional: bool,
}

impl SpaceShape {
    fn of(study: &StudyView<'_>) -> Self {
        let mut first: Option<BTreeSet<&str>> = None;
        let mut shape = SpaceShape::default();
        for t in study.completed() {
            let categorical = t
                .params
                .iter()
                .filter(|p| matches!(*p.distribution, Distribution::Categorical(_)))
                .count();
            shape.mostly_categorical |= 2 * categorical > t.params.len();
            let names: BTreeSet<&str> = t.params.iter().map(|p| &*p.name).collect();
            match &first {
                None => first = Some(names),
                Some(f) => shape.conditional |= *f != names,
            }
            if shape.mostly_categorical && shape.conditional {
                break;
            }
        }
        shape
    }
}

/// The rule (documented on [`AutoSampler`]).
fn choose(n_objectives: usize, shape: SpaceShape, finished: usize) -> AutoChoice {
    let gp_fits = !shape.conditional && !shape.mostly_categorical;
    if gp_fits && finished < GP_MAX_TRIALS {
        AutoChoice::Gp
    } else if n_objectives > 1 && finished >= NSGA2_FROM_TRIALS {
        AutoChoice::NsgaII
    } else {
        AutoChoice::Tpe
    }
}

/// The default sampler: chooses, trial by trial, the algorithm that suits the study.
///
/// **The rule.** From the finished trials (their number, parameters and distributions) and the
/// number of objectives:
///
/// | study | sampler |
/// | --- | --- |
/// | the same parameters in every complete trial, at most half of them categorical, fewer than 200 finished trials (one objective or several) | [`GpSampler`](crate::GpSampler) (ParEGO scalarizations with several objectives) |
/// | one objective otherwise: conditional or mostly categorical parameters, or 200 finished trials or more | [`TpeSampler`](crate::TpeSampler), multivariate with group decomposition |
/// | several objectives otherwise, fewer than 500 finished trials | [`TpeSampler`](crate::TpeSampler) (MOTPE, univariate) |
/// | several objectives, 500 finished trials or more (and not given to the GP) | [`NsgaIISampler`](crate::NsgaIISampler) |
///
/// Why (figures in `docs/benchmarks.md`, "The automatic sampler"): at 100 trials the Gaussian
/// process has the smallest median regret of tunewise's samplers on 7 of the 11
/// single-objective test functions (sphere, Branin, Ackley, Levy, Hartmann 3 and 6, and the
/// mixed int/log-int/categorical one), by orders of magnitude on most, and is within a factor
/// of 1.3 of the best on Rosenbrock, Rastrigin and Styblinski-Tang; it has the best hypervolume on
/// all 7 multi-objective ones (ZDT1–3 in 30 dimensions, DTLZ1–2), often 3 to 10 times closer to
/// the true front than MOTPE. But it models conditional spaces poorly (where grouped TPE is far
/// ahead) and its cost per trial grows with the cube of the trials it models (about 30 ms per
/// trial at 300). TPE handles every space at a small, slowly growing cost; with several
/// objectives MOTPE's cost grows with the front (about 30 ms per trial around 500 trials) while
/// NSGA-II's stays near 15 µs and its evolution pays off over many generations. The budget
/// enters as the trials spent so far: a study crosses from one algorithm to the next as it
/// grows, as Optuna's AutoSampler does.
///
/// Every algorithm starts with the same random trials (each is
/// [`RandomSampler`](crate::RandomSampler) with the same seed for its startup trials), and each
/// is a function of the study's history, so a study moves from one to the next between two
/// trials (the GP's trials become the TPE's first observations). The choice for a trial is made
/// once, in [`before_trial`](Sampler::before_trial), from the history then: the same seed and
/// history give the same choices and the same trials.
///
/// **Cost**: the chosen sampler's, plus one pass over the complete trials per trial to read the
/// space's shape (well under a microsecond per trial).
///
/// **Parallel workers**: threads of one process never get the same Gaussian-process proposal
/// (the GP remembers what it proposed); across processes the GP phase may propose close points
/// for trials that run at the same time, because the automatic sampler does not ask the study
/// to store running trials' parameters (that would cost a storage write per parameter on every
/// trial; use [`GpSampler`](crate::GpSampler) directly when that matters).
pub struct AutoSampler {
    gp: GpSampler,
    tpe: TpeSampler,
    nsga2: NsgaIISampler,
    /// The choice for each trial between `before_trial` and `after_trial`.
    choices: Mutex<BTreeMap<u64, AutoChoice>>,
}

impl fmt::Debug for AutoSampler {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AutoSampler").field("pending", &lock(&self.choices).len()).finish()
    }
}

impl Default for AutoSampler {
    fn default() -> Self {
        Self::new()
    }
}

impl AutoSampler {
    /// An automatic sampler with a random seed.
    pub fn new() -> Self {
        Self::with_seed(Rng::os_seed())
    }

    /// An automatic sampler whose every algorithm uses `seed`.
    pub fn with_seed(seed: u64) -> Self {
        AutoSampler {
            gp: GpSampler::with_seed(seed),
            tpe: grouped_tpe(seed),
            nsga2: NsgaIISampler::with_seed(seed),
            choices: Mutex::new(BTreeMap::new()),
        }
    }

    /// The algorithm the next trial of `study` is given (what
    /// [`before_trial`](Sampler::before_trial) decides).
    pub fn choice(&self, study: &StudyView<'_>) -> AutoChoice {
        let finished = study.trials().iter().filter(|t| t.state.is_finished()).count();
        choose(study.directions().len(), SpaceShape::of(study), finished)
    }

    fn sampler(&self, choice: AutoChoice) -> &dyn Sampler {
        match choice {
            AutoChoice::Gp => &self.gp,
            AutoChoice::Tpe => &self.tpe,
            AutoChoice::NsgaII => &self.nsga2,
        }
    }

    /// The choice made for `trial` in `before_trial` (made now if the study skipped it).
    fn for_trial(&self, study: &StudyView<'_>, trial: &FrozenTrial) -> AutoChoice {
        let known = lock(&self.choices).get(&trial.number).copied();
        known.unwrap_or_else(|| {
            let c = self.choice(study);
            self.remember(trial.number, c);
            c
        })
    }

    /// Keeps a trial's choice until `after_trial`. A trial that never gets there (its lease was
    /// lost, or it was detached to be told elsewhere) would stay forever, so the map keeps at most
    /// `MAX_PENDING` entries, dropping the oldest: far more than the trials one process runs at
    /// once.
    fn remember(&self, number: u64, choice: AutoChoice) {
        let mut choices = lock(&self.choices);
        choices.insert(number, choice);
        while choices.len() > MAX_PENDING {
            choices.pop_first();
        }
    }
}

/// The TPE: multivariate with group decomposition (for conditional spaces) with one objective,
/// univariate MOTPE with several (the TPE's own default there).
fn grouped_tpe(seed: u64) -> TpeSampler {
    // These settings are valid; the fallback only guards against a future validation rule.
    TpeSampler::builder()
        .seed(seed)
        .group(true)
        .build()
        .unwrap_or_else(|_| TpeSampler::with_seed(seed))
}

impl Sampler for AutoSampler {
    fn sample_independent(
        &self,
        study: &StudyView<'_>,
        trial: &FrozenTrial,
        name: &str,
        distribution: &Distribution,
    ) -> Result<f64> {
        self.sampler(self.for_trial(study, trial)).sample_independent(
            study,
            trial,
            name,
            distribution,
        )
    }

    fn infer_relative_search_space(
        &self,
        study: &StudyView<'_>,
        trial: &FrozenTrial,
    ) -> Result<SearchSpace> {
        self.sampler(self.for_trial(study, trial)).infer_relative_search_space(study, trial)
    }

    fn sample_relative(
        &self,
        study: &StudyView<'_>,
        trial: &FrozenTrial,
        space: &SearchSpace,
    ) -> Result<BTreeMap<Arc<str>, f64>> {
        self.sampler(self.for_trial(study, trial)).sample_relative(study, trial, space)
    }

    fn before_trial(&self, study: &StudyView<'_>, trial: &FrozenTrial) -> Result<()> {
        let c = self.choice(study);
        self.remember(trial.number, c);
        self.sampler(c).before_trial(study, trial)
    }

    fn after_trial(&self, study: &StudyView<'_>, trial: &FrozenTrial) -> Result<()> {
        let c = lock(&self.choices).remove(&trial.number);
        match c {
            Some(c) => self.sampler(c).after_trial(study, trial),
            None => Ok(()),
        }
    }

    fn reseed(&mut self, seed: u64) {
        self.gp.reseed(seed);
        self.tpe.reseed(seed);
        self.nsga2.reseed(seed);
    }
}
