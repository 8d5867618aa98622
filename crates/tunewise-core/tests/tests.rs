//! The integration tests of tunewise-core, in one binary (one link on small machines).

#[path = "it/common.rs"]
mod common;

#[path = "it/study.rs"]
mod study;

#[path = "it/grid.rs"]
mod grid;

#[path = "it/coarse_to_fine.rs"]
mod coarse_to_fine;

#[path = "it/qmc.rs"]
mod qmc;

#[path = "it/tpe.rs"]
mod tpe;

#[path = "it/nsga2.rs"]
mod nsga2;

#[path = "it/cmaes.rs"]
mod cmaes;

#[path = "it/gp.rs"]
mod gp;

#[path = "it/auto.rs"]
mod auto;

#[path = "it/bad_input.rs"]
mod bad_input;
#[path = "it/conformance.rs"]
mod conformance;
#[path = "it/determinism.rs"]
mod determinism;
#[path = "it/properties.rs"]
mod properties;

#[path = "it/guarantees.rs"]
mod guarantees;

#[path = "it/pruner_conformance.rs"]
mod pruner_conformance;
#[path = "it/pruners.rs"]
mod pruners;

#[path = "it/budgets.rs"]
mod budgets;

#[path = "it/hyperband.rs"]
mod hyperband;
#[path = "it/successive_halving.rs"]
mod successive_halving;
#[path = "it/wilcoxon.rs"]
mod wilcoxon;

#[path = "it/importance.rs"]
mod importance;
