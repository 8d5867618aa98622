//! Gradient-based tuning of ridge regression's penalty λ on the diabetes dataset (442
//! patients, 10 features, disease progression after a year).
//!
//! A 20% test set is held out; on the rest, 5-fold cross-validation gives the validation MSE
//! as a function of λ **with its exact derivative in ln λ** (implicit differentiation of the
//! ridge solution). A coarse grid of 8 values of ln λ, then a quasi-Newton descent on that
//! hypergradient, finds the best λ; a 2,000-point grid of ln λ checks it with 10,000 model
//! fits. Every evaluation of the search is recorded as a trial of a study (in SQLite by
//! default), and the best λ is refitted on the whole training set and scored once on the
//! test set.
//!
//! Run it with `cargo run --release -p tunewise-ml --example ridge_gradient_diabetes [--
//! STORAGE_URL]` (default `sqlite://tunewise-ridge.db`; the study is replaced on each run).

use std::error::Error;
use std::time::Instant;

use tunewise::prelude::*;
use tunewise_ml::{
    datasets, record_in_study, train_test_split, GradientSearch, HyperProblem, KFold, RidgeProblem,
    Splitter,
};

const SEED: u64 = 42;
const LOW: f64 = -12.0; // ln λ ≈ 6e-6
const HIGH: f64 = 6.0; // ln λ ≈ 403

fn main() -> Result<(), Box<dyn Error>> {
    let url = std::env::args().nth(1).unwrap_or_else(|| "sqlite://tunewise-ridge.db".into());
    let storage = tunewise::storage::open(&url)?;
    let data = datasets::diabetes()?;
    let split = train_test_split(&data, 0.2, SEED, false)?;
    let (train, test) = (data.select(&split.train)?, data.select(&split.test)?);
    let p = data.n_features();
    println!(
        "Ridge on diabetes: {} training records ({p} features), {} held-out test records\n",
        train.n_rows(),
        test.n_rows()
    );

    // 5-fold cross-validation of λ on the training set, with its hypergradient.
    let folds: Vec<(Vec<usize>, Vec<usize>)> =
        KFold::shuffled(5, SEED).splits(&train)?.into_iter().map(|s| (s.train, s.test)).collect();
    let cv = RidgeProblem::cross_validated(train.features(), train.target(), p, &folds)?;

    let started = Instant::now();
    let search = GradientSearch::builder(LOW, HIGH).build()?;
    let found = search.run(&cv)?;
    let search_time = started.elapsed();
    println!(
        "Gradient search: λ = {:.5} (ln λ = {:.4}), CV MSE {:.3}, hypergradient {:.2e}, \
         {} evaluations = {} model fits, {:.1} ms",
        found.best_lambda,
        found.best_log_lambda,
        found.best_loss,
        found.best_gradient,
        found.evaluations.len(),
        found.fits,
        search_time.as_secs_f64() * 1e3
    );

    // The check: a very fine grid of ln λ.
    let started = Instant::now();
    let points = 2_000;
    let mut best_grid = (f64::INFINITY, 0.0);
    let mut grid_fits = 0;
    for i in 0..points {
        let log_lambda = LOW + (HIGH - LOW) * i as f64 / (points - 1) as f64;
        let loss = cv.hyper_loss(log_lambda.exp())?;
        grid_fits += loss.fits;
        if loss.value < best_grid.0 {
            best_grid = (loss.value, log_lambda);
        }
    }
    println!(
        "Fine grid:       λ = {:.5} (ln λ = {:.4}), CV MSE {:.3}, {points} evaluations = \
         {grid_fits} model fits, {:.1} ms",
        best_grid.1.exp(),
        best_grid.1,
        best_grid.0,
        started.elapsed().as_secs_f64() * 1e3
    );
    println!(
        "The search's CV MSE is {} the grid's ({:+.2e}) with {:.0}× fewer fits\n",
        if found.best_loss <= best_grid.0 { "at or below" } else { "above" },
        found.best_loss - best_grid.0,
        grid_fits as f64 / found.fits as f64
    );

    // Every evaluation as a trial of a study, beside anything else tuned there.
    if storage.list_studies()?.iter().any(|s| s.name == "ridge-diabetes") {
        tunewise::storage::delete_study_by_name(&*storage, "ridge-diabetes")?;
    }
    let study = Study::builder().name("ridge-diabetes").storage(storage).minimize().create()?;
    record_in_study(&study, &search, &found)?;
    println!(
        "Recorded {} evaluations as trials of study 'ridge-diabetes' in {url}; its best trial \
         is #{}",
        study.trials()?.len(),
        study.best_trial()?.number
    );

    // Refit on the whole training set; score once on the test set.
    let holdout =
        RidgeProblem::new(train.features(), train.target(), test.features(), test.target(), p)?;
    let test_mse = holdout.hyper_loss(found.best_lambda)?.value;
    let baseline = {
        let mean = train.target().iter().sum::<f64>() / train.n_rows() as f64;
        test.target().iter().map(|y| (y - mean).powi(2)).sum::<f64>() / test.n_rows() as f64
    };
    println!(
        "Test MSE at λ = {:.5}, refitted on all {} training records: {test_mse:.3} (predicting \
         the training mean: {baseline:.3})",
        found.best_lambda,
        train.n_rows()
    );
    Ok(())
}
