//! Test functions and the benchmark harness of tunewise.
//!
//! - [`functions`]: test functions with known optima ([`TestFunction`]), written define-by-run
//!   so they run in a [`Study`](tunewise_core::Study) like any objective.
//! - [`multi_objective`]: ZDT and DTLZ, several objectives with known Pareto fronts
//!   ([`MultiObjectiveFunction`]), scored by [`hypervolume()`].
//! - [`harness`]: samplers × functions × seeds at a budget, one JSON line per run;
//!   [`report`]: the markdown table of one or more such files. The binary
//!   `src/bin/tunewise-bench.rs` drives both, and `scripts/optuna_compare.sh` runs Optuna's
//!   samplers on the same functions beside them.
//! - [`workload`]: the ten-parameter objective the engine benchmarks run.
//! - `benches/engine.rs`: the engine's own cost per trial (criterion), and
//!   `src/bin/memory_per_trial.rs`: the memory a completed trial keeps. Figures and how to rerun
//!   them: `docs/benchmarks.md`.
#![deny(missing_docs)]

pub mod functions;
pub mod harness;
pub mod hypervolume;
pub mod multi_objective;
pub mod report;
pub mod workload;

pub use functions::{Conditional, Continuous, MixedInteger, TestFunction};
pub use harness::{HarnessConfig, HarnessError, Problem, RunRecord, SamplerEntry};
pub use hypervolume::hypervolume;
pub use multi_objective::{MultiContinuous, MultiObjectiveFunction};
