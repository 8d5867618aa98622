//! The integration tests of tunewise-core, in one binary (one link on small machines).

#[path = "it/study.rs"]
mod study;
