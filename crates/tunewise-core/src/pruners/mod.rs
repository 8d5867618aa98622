//! The pruning rules: each decides from intermediate values whether a running trial should stop.
//!
//! Every pruner is a deterministic function of the study's trials and the trial judged; caches
//! only make it faster. "None" is [`NopPruner`](crate::NopPruner). A trial that has reported
//! nothing is never pruned; a pruned trial is stored as pruned with its intermediate values up to
//! its last step. `docs/pruning.md` compares the rules.
//!
//! ```
//! use tunewise_core::{Budget, PercentilePruner, RandomSampler, Study, TrialError, TrialState};
//!
//! let study = Study::builder()
//!     .minimize()
//!     .sampler(RandomSampler::with_seed(7))
//!     .pruner(PercentilePruner::median())
//!     .create()?;
//! study.optimize(
//!     |trial| -> Result<f64, TrialError> {
//!         let lr = trial.suggest_float_log("lr", 1e-4, 1e-1)?;
//!         let mut loss = 1.0;
//!         for epoch in 0..20 {
//!             loss *= 1.0 - lr; // one epoch of training
//!             trial.report(epoch, loss)?;
//!             if trial.should_prune()? {
//!                 return Err(TrialError::Pruned);
//!             }
//!         }
//!         Ok(loss)
//!     },
//!     Budget::trials(50),
//! )?;
//! let pruned = study.trials()?.iter().filter(|t| t.state == TrialState::Pruned).count();
//! assert!(pruned > 0);
//! # Ok::<(), tunewise_core::Error>(())
//! ```

mod hyperband;
mod patience;
mod percentile;
mod step_rules;
mod successive_halving;
mod threshold;
mod wilcoxon;

pub use hyperband::{HyperbandBuilder, HyperbandPruner};
pub use patience::{PatienceBuilder, PatiencePruner};
pub use percentile::{PercentileBuilder, PercentilePruner};
pub use successive_halving::{SuccessiveHalvingBuilder, SuccessiveHalvingPruner};
pub use threshold::{ThresholdBuilder, ThresholdPruner};
pub use wilcoxon::{
    wilcoxon_signed_rank, SignedRankAlternative, SignedRankMethod, SignedRankTest, WilcoxonBuilder,
    WilcoxonPruner, EXACT_MAX_PAIRS,
};
