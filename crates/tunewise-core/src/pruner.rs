//! The pruner trait: stopping unpromising trials early.
//!
//! The pruning rules (median, ASHA, Hyperband, …) arrive with their own issue; the trait and the
//! data they read (one intermediate value per objective per step) are here from the start.

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
