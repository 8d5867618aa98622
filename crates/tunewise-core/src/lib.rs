//! The tunewise engine: hyperparameter tuning by define-by-run trials.
//!
//! # Concept map
//!
//! - A [`Study`] is one optimization: a name, one or more objective [`Direction`]s, a
//!   [`Sampler`], a [`Pruner`] and a [`Storage`]. [`Study::optimize`] owns the loop;
//!   [`Study::ask`] / [`Study::tell`] let any outer loop drive it instead.
//! - A [`Trial`] is one evaluation. The objective asks it for values as it runs
//!   (`trial.suggest_float("lr", 1e-5, 1e-1)`), so spaces can be conditional. A finished trial
//!   is stored as a [`FrozenTrial`].
//! - A [`Distribution`] is a parameter's range: float, int (uniform, log, step) or categorical.
//!   Samplers work in one internal `f64` per parameter.
//! - Samplers: [`RandomSampler`], [`GridSampler`], [`CoarseToFineSampler`], [`QmcSampler`]
//!   (scrambled Sobol and Halton sequences), [`TpeSampler`] (Bayesian: Tree-structured Parzen
//!   Estimator), [`GpSampler`] (Bayesian: Gaussian process and log expected improvement),
//!   [`NsgaIISampler`] (evolutionary, for several objectives), [`CmaEsSampler`] (evolution
//!   strategy for numeric spaces).
//! - Pruners stop unpromising trials early from their intermediate values
//!   ([`Trial::report`], [`Trial::should_prune`]): [`PercentilePruner`] (and its median),
//!   [`ThresholdPruner`], [`PatiencePruner`], [`SuccessiveHalvingPruner`] (ASHA),
//!   [`HyperbandPruner`], [`WilcoxonPruner`] (for cross-validation folds); [`NopPruner`] never
//!   prunes. Every rule is defined for several objectives too (see `docs/pruning.md`).
//! - [`Storage`] persists studies for one process ([`InMemoryStorage`]) or many.
//! - A [`Budget`] bounds a run (trials, time) and may stop it early: failed trials, a target,
//!   no improvement over `n` trials, or [`GoodEnough`] (the remaining improvement estimated by a
//!   Gaussian process falls below the score's noise). [`StopReason`] says which.
//! - [`importance`] says which parameters matter, from a study's trials: [`FanovaEvaluator`]
//!   (functional ANOVA on our own random forest) and [`PedAnovaEvaluator`] (Pearson divergence
//!   of the best trials' densities), both [`ImportanceEvaluator`]s (see `docs/importance.md`).
//!
//! # Quick start
//!
//! ```
//! use tunewise_core::{Budget, RandomSampler, Study, TrialError};
//!
//! let study = Study::builder().minimize().sampler(RandomSampler::with_seed(7)).create()?;
//! study.optimize(
//!     |trial| -> Result<f64, TrialError> {
//!         let x = trial.suggest_float("x", -10.0, 10.0)?;
//!         let n = trial.suggest_int("n", 1, 5)?;
//!         Ok((x - 2.0).powi(2) + n as f64)
//!     },
//!     Budget::trials(50),
//! )?;
//! assert!(study.best_value()? < 10.0);
//! # Ok::<(), tunewise_core::Error>(())
//! ```
#![deny(missing_docs)]
#![cfg_attr(not(test), warn(clippy::unwrap_used, clippy::expect_used))]

mod budget;
mod cache;
mod direction;
mod distribution;
mod error;
mod export;
mod frozen;
pub mod importance;
mod math;
mod multi_objective;
mod param;
mod pruner;
pub mod pruners;
pub mod rng;
mod sampler;
pub mod samplers;
mod search_space;
pub mod storage;
mod study;
mod sync;
mod trial;

#[cfg(feature = "conformance")]
pub mod conformance;

pub use budget::{Budget, GoodEnough, Noise, StopReason, STOP_REASON_ATTR};
pub use direction::{dominates, pareto_front, Direction};
pub use distribution::{CategoricalDistribution, Distribution, FloatDistribution, IntDistribution};
pub use error::{Error, Result};
pub use frozen::{AttrValue, FrozenTrial, Param, TrialState};
pub use importance::{
    FanovaEvaluator, ImportanceEvaluator, Importances, PedAnovaEvaluator,
    Target as ImportanceTarget,
};
pub use param::{Categorical, ParamValue};
pub use pruner::{NopPruner, Pruner};
pub use pruners::{
    wilcoxon_signed_rank, HyperbandBuilder, HyperbandPruner, PatienceBuilder, PatiencePruner,
    PercentileBuilder, PercentilePruner, SignedRankAlternative, SignedRankMethod, SignedRankTest,
    SuccessiveHalvingBuilder, SuccessiveHalvingPruner, ThresholdBuilder, ThresholdPruner,
    WilcoxonBuilder, WilcoxonPruner, EXACT_MAX_PAIRS,
};
pub use sampler::{Sampler, StudyView};
pub use samplers::{
    AutoChoice, AutoSampler, CmaEsBuilder, CmaEsSampler, CmaEsStatus, CoarseToFineBuilder,
    CoarseToFineSampler, Crossover, GpBuilder, GpSampler, GridSampler, Mutation, NsgaIIBuilder,
    NsgaIISampler, QmcKind, QmcSampler, RandomSampler, Restart, TpeBuilder, TpeSampler, TpeWeights,
};
pub use search_space::SearchSpace;
pub use storage::{InMemoryStorage, Storage};
pub use study::{Callback, Flow, KnownTrial, OptimizeReport, Study, StudyBuilder, DEFAULT_LEASE};
pub use trial::{ObjectiveValues, Trial, TrialError};

/// The names most programs need.
pub mod prelude {
    pub use crate::{
        AutoSampler, Budget, CmaEsSampler, CoarseToFineSampler, Direction, Distribution, Flow,
        GoodEnough, GpSampler, GridSampler, HyperbandPruner, KnownTrial, NopPruner, NsgaIISampler,
        ParamValue, PatiencePruner, PercentilePruner, QmcSampler, RandomSampler, SearchSpace,
        StopReason, Study, StudyBuilder, SuccessiveHalvingPruner, ThresholdPruner, TpeSampler,
        Trial, TrialError, TrialState, WilcoxonPruner,
    };
}
