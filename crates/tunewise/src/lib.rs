//! tunewise: hyperparameter tuning for machine learning (facade; filled in below).
pub use tunewise_core::*;
