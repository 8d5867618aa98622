//! Tuning real models with tunewise: datasets, splitters, metrics, estimators, cross-validation
//! inside a trial, the tune → refit → test workflow, and gradient-based tuning of regularization.
//!
//! This crate is being built (issue 6); its modules land one by one.
#![deny(missing_docs)]

mod data;
mod error;

pub use data::{datasets, Dataset};
pub use error::{Error, Result};
