//! The pruner trait: stopping unpromising trials early.
//!
//! The trait and the pruner that never prunes ("none"); the pruning rules live in
//! [`crate::pruners`]. Pruners read one intermediate value per objective per step.

use std::fmt;

use crate::error::Result;
use crate::frozen::FrozenTrial;
use crate::sampler::StudyView;

/// Decides from intermediate values whether a running trial should stop early.
pub trait Pruner: Send + Sync + fmt::Debug {
    /// Whether `trial` (running, with the intermediate values reported so far) should be pruned.
    fn prune(&self, study: &StudyView<'_>, trial: &FrozenTrial) -> Result<bool>;
}

/// A pruner that never prunes.
#[derive(Debug, Clone, Copy, Default)]
pub struct NopPruner;

impl Pruner for NopPruner {
    fn prune(&self, _study: &StudyView<'_>, _trial: &FrozenTrial) -> Result<bool> {
        Ok(false)
    }
}

/// A boxed pruner is a pruner, so a factory returning `Box<dyn Pruner>` (as the conformance suite
/// takes) can hand its result to [`StudyBuilder::pruner`](crate::StudyBuilder::pruner) or wrap it
/// in a [`PatiencePruner`](crate::PatiencePruner).
impl<P: Pruner + ?Sized> Pruner for Box<P> {
    fn prune(&self, study: &StudyView<'_>, trial: &FrozenTrial) -> Result<bool> {
        (**self).prune(study, trial)
    }
}
