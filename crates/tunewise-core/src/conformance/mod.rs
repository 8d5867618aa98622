//! Shared conformance suites, one per trait: every sampler, pruner and storage backend passes
//! them (feature `conformance`).
//!
//! They are test code: each check panics with a message naming the scenario and the violation.
//!
//! ```no_run
//! use std::sync::Arc;
//! use tunewise_core::conformance::pruner::check_pruner;
//! use tunewise_core::conformance::{sampler::check_sampler, storage::check_storage};
//! use tunewise_core::{InMemoryStorage, NopPruner, RandomSampler};
//!
//! // In a sampler's tests: build the sampler from the study's seed (and, for a grid, its space).
//! check_sampler(&|seed, _space| Box::new(RandomSampler::with_seed(seed)));
//! // In a storage backend's tests: hand out the storage to test.
//! check_storage(&|| Arc::new(InMemoryStorage::new()));
//! // In a pruner's tests: build the pruner with the settings to test.
//! check_pruner(|| Box::new(NopPruner));
//! ```

pub mod guarantees;
pub mod pruner;
pub mod sampler;
pub mod storage;

/// Unwraps a result in a suite, panicking with what was being done.
#[track_caller]
fn ok<T, E: std::fmt::Display>(suite: &str, result: Result<T, E>, what: &str) -> T {
    match result {
        Ok(v) => v,
        Err(e) => panic!("{suite} conformance: {what} failed: {e}"),
    }
}
