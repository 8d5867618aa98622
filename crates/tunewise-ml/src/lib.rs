//! Tuning real models with tunewise: datasets, splitters, metrics, estimators, cross-validation
//! inside a trial, the tune → refit → test workflow, and gradient-based tuning of regularization.
//!
//! This crate is being built (issue 6); its modules land one by one.

mod error;
mod gradient;

pub use error::{Error, Result};
pub use gradient::{
    record_in_study, Evaluation, Folds, GradientSearch, GradientSearchBuilder, HyperLoss,
    HyperProblem, LogisticFit, LogisticProblem, RidgeFit, RidgeProblem, SearchOutcome, LOG_LAMBDA,
};
