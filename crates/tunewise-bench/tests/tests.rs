//! The integration tests of tunewise-bench, in one binary (one link on small machines).

#[path = "it/cli.rs"]
mod cli;
#[path = "it/harness.rs"]
mod harness;
#[path = "it/hypervolume.rs"]
mod hypervolume;
#[path = "it/report.rs"]
mod report;
