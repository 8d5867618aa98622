//! The pruning rules: each decides from intermediate values whether a running trial should stop.
//!
//! Every pruner is a deterministic function of the study's trials and the trial judged; caches
//! only make it faster. "None" is [`NopPruner`](crate::NopPruner).

mod patience;
mod percentile;
mod step_rules;
mod threshold;

pub use patience::{PatienceBuilder, PatiencePruner};
pub use percentile::{PercentileBuilder, PercentilePruner};
pub use threshold::{ThresholdBuilder, ThresholdPruner};
