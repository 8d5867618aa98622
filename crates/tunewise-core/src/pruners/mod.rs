//! The pruning rules, one file each. [`NopPruner`](crate::NopPruner) ("none") stays with the
//! trait in `pruner.rs`.

mod hyperband;
mod successive_halving;
mod wilcoxon;

pub use hyperband::{HyperbandBuilder, HyperbandPruner};
pub use successive_halving::{SuccessiveHalvingBuilder, SuccessiveHalvingPruner};
pub use wilcoxon::{
    wilcoxon_signed_rank, SignedRankAlternative, SignedRankMethod, SignedRankTest, WilcoxonBuilder,
    WilcoxonPruner, EXACT_MAX_PAIRS,
};
