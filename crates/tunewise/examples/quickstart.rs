//! Quick start: tune one multi-parameter function with random, grid and coarse-to-fine search,
//! and print the best trial of each.
//!
//! The function stands in for a model's validation loss: a learning rate on a log scale, a number
//! of layers, a dropout rate and an activation, with its best value (0.0) at
//! lr = 3e-3, layers = 3, dropout = 0.2, activation = "gelu".
//!
//! Run it with `cargo run --release -p tunewise --example quickstart [-- STORAGE_URL]`.
//!
//! The studies are kept in `tunewise-quickstart.db` (SQLite) unless another storage URL is
//! given (`memory`, `sqlite://FILE`, `postgres://…`). Run it again and every study resumes
//! where it stopped: each run adds its budget of trials, and the grid goes on with the points
//! it has not tried.

use std::sync::Arc;
use std::time::Instant;

use tunewise::prelude::*;
use tunewise::storage::Storage;

const BUDGET: usize = 80;
const SEED: u64 = 2024;

/// The objective: define-by-run, so every sampler sees the same code.
fn validation_loss(trial: &mut Trial) -> Result<f64, TrialError> {
    let lr = trial.suggest_float_log("lr", 1e-5, 1e-1)?;
    let layers = trial.suggest_int("layers", 1, 6)?;
    let dropout = trial.suggest_float("dropout", 0.0, 0.6)?;
    let activation = trial.suggest_categorical("activation", &["relu", "tanh", "gelu"])?;
    let act_penalty = match activation {
        "gelu" => 0.0,
        "relu" => 0.05,
        _ => 0.2,
    };
    let lr_term = (lr.log10() - 3e-3f64.log10()).powi(2);
    let layer_term = 0.1 * (layers as f64 - 3.0).powi(2);
    let dropout_term = 4.0 * (dropout - 0.2).powi(2);
    Ok(lr_term + layer_term + dropout_term + act_penalty)
}

fn report(label: &str, study: &Study, seconds: f64) -> Result<(), tunewise::Error> {
    let best = study.best_trial()?;
    let params: Vec<String> = best
        .params_map()
        .iter()
        .map(|(k, v)| match v {
            ParamValue::Float(x) if x.abs() < 0.01 => format!("{k}={x:.3e}"),
            ParamValue::Float(x) => format!("{k}={x:.3}"),
            other => format!("{k}={other}"),
        })
        .collect();
    println!(
        "{label:<16} trials={:<3} best={:<9.5} (trial {:>2}: {})  in {:.1} ms",
        study.trials()?.len(),
        best.value().unwrap_or(f64::NAN),
        best.number,
        params.join(", "),
        seconds * 1e3,
    );
    Ok(())
}

/// A study that is created on the first run and resumed on the next ones.
fn study(storage: &Arc<dyn Storage>, name: &str) -> StudyBuilder {
    Study::builder().name(name).storage(storage.clone()).load_if_exists(true)
}

fn main() -> Result<(), tunewise::Error> {
    let url = std::env::args().nth(1).unwrap_or_else(|| "sqlite://tunewise-quickstart.db".into());
    let storage = tunewise::storage::open(&url)?;
    let mut before = 0;
    for s in storage.list_studies()? {
        before += storage.trials_since(s.id, 0)?.trials.len();
    }
    println!("Storage: {url} ({before} trials already there)");
    println!(
        "Tuning a 4-parameter validation loss (best 0.0), {BUDGET} more trials each, seed {SEED}\n"
    );

    // Random search: every parameter drawn from its distribution.
    let started = Instant::now();
    let random = study(&storage, "random").sampler(RandomSampler::with_seed(SEED)).create()?;
    random.optimize(validation_loss, Budget::trials(BUDGET))?;
    report("random", &random, started.elapsed().as_secs_f64())?;

    // Grid search: explicit values for some parameters, automatic discretization for others.
    // 4 learning rates × 3 layer counts × 3 dropouts × 3 activations = 108 points; the budget
    // covers 80 of them in a seeded shuffled order.
    let started = Instant::now();
    let grid = GridSampler::new()
        .auto_points("lr", Distribution::float_log(1e-5, 1e-1), 4)?
        .values("layers", [1, 3, 5])?
        .auto_points("dropout", Distribution::float(0.0, 0.6), 3)?
        .values("activation", ["relu", "tanh", "gelu"])?;
    let grid_study = study(&storage, "grid").sampler(grid).seed(SEED).create()?;
    grid_study.optimize(validation_loss, Budget::trials(BUDGET))?;
    report("grid", &grid_study, started.elapsed().as_secs_f64())?;

    // Coarse-to-fine: 20 random trials, then shrinking grids around the 3 best regions.
    let started = Instant::now();
    let c2f = CoarseToFineSampler::builder().n_coarse(20).top_k(3).seed(SEED).build()?;
    let c2f_study = study(&storage, "coarse-to-fine").sampler(c2f).create()?;
    c2f_study.optimize(validation_loss, Budget::trials(BUDGET))?;
    report("coarse-to-fine", &c2f_study, started.elapsed().as_secs_f64())?;

    // A grid small enough to finish: the study stops by itself when every point was tried.
    let small = GridSampler::new()
        .values("lr", [1e-3, 3e-3, 1e-2])?
        .values("layers", [2, 3])?
        .values("dropout", [0.2])?
        .values("activation", ["gelu", "relu"])?;
    let small_study = study(&storage, "small-grid").sampler(small).create()?;
    let run = small_study.optimize(validation_loss, Budget::trials(1_000))?;
    println!(
        "\nA 12-point grid with a budget of 1000 trials ran {} trials ({} in the study) and stopped because {}.",
        run.trials,
        small_study.trials()?.len(),
        run.stop_reason
    );
    Ok(())
}
