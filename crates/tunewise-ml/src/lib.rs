//! Tuning real models with tunewise: datasets, splitters, metrics, estimators, cross-validation
//! inside a trial, the tune → refit → test workflow, and gradient-based tuning of regularization.
//!
//! This crate is being built (issue 6); its modules land one by one.

mod error;

pub use error::{Error, Result};
