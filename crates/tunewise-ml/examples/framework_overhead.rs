//! Measures the framework's own share of the time in the tune → refit → test workflow
//! (splitting, bookkeeping, sampling, storage: everything but fitting, predicting and scoring),
//! on the examples' models, in memory and in a fresh SQLite file, over several seeds.
//!
//! Run it with `cargo run --release -p tunewise-ml --example framework_overhead [-- SEEDS]`
//! (default 3). The figures are in docs/benchmarks.md.

use std::error::Error;
use std::sync::Arc;

use tunewise::prelude::*;
use tunewise::storage::Storage;
use tunewise_ml::{
    accuracy, datasets, mse, Dataset, Estimator, Kernel, Knn, RandomForest, Ridge, Scorer,
    Standardized, Svc, Workflow,
};

/// What a run measured: (trials, total seconds, model seconds).
type Timing = (usize, f64, f64);

/// One workflow run; returns its timing.
type Run = fn(&Dataset, Arc<dyn Storage>, u64) -> Result<Timing, tunewise_ml::Error>;

/// Runs `workflow` with the settings every case shares (seed, quiet, a study named `name` in
/// `storage`, `trials` trials) on `data` with the search space `space`.
fn measure<S, E, F>(
    workflow: Workflow<S>,
    name: &str,
    data: &Dataset,
    storage: Arc<dyn Storage>,
    seed: u64,
    trials: usize,
    space: F,
) -> Result<Timing, tunewise_ml::Error>
where
    S: Scorer,
    E: Estimator,
    F: Fn(&mut Trial) -> Result<E, TrialError> + Sync,
{
    let tuned = workflow
        .seed(seed)
        .quiet()
        .study(Study::builder().name(name).storage(storage).seed(seed))
        .budget(Budget::trials(trials))
        .run(data, space)?;
    Ok((tuned.trials.len(), tuned.total_time.as_secs_f64(), tuned.model_time.as_secs_f64()))
}

fn svm(data: &Dataset, storage: Arc<dyn Storage>, seed: u64) -> Result<Timing, tunewise_ml::Error> {
    let workflow = Workflow::classification(accuracy).maximize();
    measure(workflow, "svm", data, storage, seed, 25, |trial| {
        let c = trial.suggest_float_log("C", 1e-2, 1e3)?;
        let kernel = match trial.suggest_categorical("kernel", &["rbf", "linear"])? {
            "rbf" => Kernel::Rbf { gamma: trial.suggest_float_log("gamma", 1e-4, 1.0)? },
            _ => Kernel::Linear,
        };
        Ok(Standardized::new(Svc::new(c, kernel)))
    })
}

fn forest(
    data: &Dataset,
    storage: Arc<dyn Storage>,
    seed: u64,
) -> Result<Timing, tunewise_ml::Error> {
    let workflow = Workflow::classification(accuracy).maximize();
    measure(workflow, "forest", data, storage, seed, 20, |trial| {
        let mut forest = RandomForest::new(trial.suggest_int("n_trees", 5, 60)? as usize, 7);
        forest.max_depth = Some(trial.suggest_int("max_depth", 2, 16)? as usize);
        forest.min_samples_split = trial.suggest_int("min_samples_split", 2, 20)? as usize;
        Ok(forest)
    })
}

fn knn(data: &Dataset, storage: Arc<dyn Storage>, seed: u64) -> Result<Timing, tunewise_ml::Error> {
    let workflow = Workflow::classification(accuracy).maximize();
    measure(workflow, "knn", data, storage, seed, 40, |trial| {
        Ok(Standardized::new(Knn::new(trial.suggest_int("k", 2, 40)? as usize)))
    })
}

fn ridge(
    data: &Dataset,
    storage: Arc<dyn Storage>,
    seed: u64,
) -> Result<Timing, tunewise_ml::Error> {
    let workflow = Workflow::regression(mse).minimize();
    measure(workflow, "ridge", data, storage, seed, 40, |trial| {
        Ok(Ridge::new(trial.suggest_float_log("alpha", 1e-4, 1e3)?))
    })
}

fn main() -> Result<(), Box<dyn Error>> {
    let seeds: u64 = match std::env::args().nth(1) {
        Some(n) => n.parse().map_err(|e| format!("SEEDS must be a number, got '{n}': {e}"))?,
        None => 3,
    };
    if seeds == 0 {
        return Err("SEEDS must be at least 1".into());
    }
    let cases: [(&str, Dataset, Run); 4] = [
        ("SVM, breast cancer, 25 trials", datasets::breast_cancer()?, svm),
        ("random forest, digits, 20 trials", datasets::digits()?, forest),
        ("kNN, breast cancer, 40 trials", datasets::breast_cancer()?, knn),
        ("ridge, diabetes, 40 trials", datasets::diabetes()?, ridge),
    ];
    println!("| workflow (5-fold CV, default sampler) | storage | total s | model s | framework share (median, min–max over {seeds} seeds) | framework ms per trial |");
    println!("| --- | --- | --- | --- | --- | --- |");
    for (name, data, run) in &cases {
        for backend in ["memory", "SQLite"] {
            let mut shares = Vec::new();
            let (mut total, mut model, mut per_trial) = (0.0, 0.0, Vec::new());
            for seed in 0..seeds {
                let dir = tempfile::tempdir()?;
                let storage = match backend {
                    "memory" => tunewise::storage::open("memory")?,
                    _ => tunewise::storage::open(&format!(
                        "sqlite://{}",
                        dir.path().join("s.db").display()
                    ))?,
                };
                let (trials, t, m) = run(data, storage, seed)?;
                shares.push(100.0 * (1.0 - m / t));
                per_trial.push(1e3 * (t - m) / trials as f64);
                total += t;
                model += m;
            }
            shares.sort_by(f64::total_cmp);
            per_trial.sort_by(f64::total_cmp);
            let median = |v: &[f64]| v[v.len() / 2];
            println!(
                "| {name} | {backend} | {:.2} | {:.2} | {:.2}% ({:.2}–{:.2}%) | {:.2} |",
                total / seeds as f64,
                model / seeds as f64,
                median(&shares),
                shares[0],
                shares[shares.len() - 1],
                median(&per_trial)
            );
        }
    }
    Ok(())
}
