//! Test functions and the benchmark harness of tunewise.
//!
//! - [`functions`]: test functions with known optima ([`TestFunction`]), written define-by-run
//!   so they run in a [`Study`](tunewise_core::Study) like any objective.
//! - [`workload`]: the ten-parameter objective the engine benchmarks run.
//! - `benches/engine.rs`: the engine's own cost per trial (criterion), and
//!   `src/bin/memory_per_trial.rs`: the memory a completed trial keeps. Figures and how to rerun
//!   them: `docs/benchmarks.md`.
#![deny(missing_docs)]

pub mod functions;
pub mod workload;

pub use functions::{Conditional, Continuous, MixedInteger, TestFunction};
