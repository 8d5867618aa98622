//! The integration tests of tunewise-sqlite, in one binary (one link on small machines).

#[path = "it/common.rs"]
mod common;

#[path = "it/conformance.rs"]
mod conformance;

#[path = "it/study.rs"]
mod study;

#[path = "it/schema.rs"]
mod schema;

#[path = "it/bad_input.rs"]
mod bad_input;

#[path = "it/processes.rs"]
mod processes;

#[path = "it/read_only.rs"]
mod read_only;
