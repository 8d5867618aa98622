//! The facade's integration tests, in one binary.

#[path = "it/storages.rs"]
mod storages;
