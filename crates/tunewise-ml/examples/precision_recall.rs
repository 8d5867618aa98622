//! The precision–recall tradeoff as two objectives: tune a classifier that flags malignant
//! tumours (breast cancer dataset) for precision (few false alarms) **and** recall (few missed
//! tumours) at once, and print the Pareto front — every configuration that no other beats on
//! both.
//!
//! The model is a standardized logistic regression whose decision threshold is a
//! hyperparameter beside its regularization; each trial is scored by stratified 5-fold
//! cross-validation on a training set (both metrics reported per fold), and the study's
//! default sampler handles the two objectives. Finally one point of the front, the most
//! precise with a cross-validated recall of at least 0.95, is refitted and scored once on the
//! held-out test set.
//!
//! Run it with `cargo run --release -p tunewise-ml --example precision_recall [-- TRIALS]`
//! (default 40).

mod shared;

use std::error::Error;

use tunewise::prelude::*;
use tunewise_ml::{
    cross_validate_many, precision, recall, train_test_split, Average, Estimator,
    LogisticRegression, Standardized, StratifiedKFold, Thresholded,
};

const SEED: u64 = 7;
const MALIGNANT: Average = Average::Binary { positive: 1.0 };

fn model(alpha: f64, threshold: f64) -> Thresholded<Standardized<LogisticRegression>> {
    Thresholded::new(Standardized::new(LogisticRegression::new(alpha)), threshold)
}

fn main() -> Result<(), Box<dyn Error>> {
    let trials: usize = match std::env::args().nth(1) {
        Some(n) => n.parse().map_err(|e| format!("TRIALS must be a number, got '{n}': {e}"))?,
        None => 40,
    };
    let data = shared::malignant_positive()?;
    let split = train_test_split(&data, 0.2, SEED, true)?;
    let (train, test) = (data.select(&split.train)?, data.select(&split.test)?);
    let folds = StratifiedKFold::shuffled(5, SEED);
    let p = |t: &[f64], y: &[f64]| precision(t, y, MALIGNANT);
    let r = |t: &[f64], y: &[f64]| recall(t, y, MALIGNANT);

    let study = Study::builder().directions([Direction::Maximize; 2]).seed(SEED).create()?;
    study.optimize(
        |trial| -> Result<[f64; 2], TrialError> {
            let alpha = trial.suggest_float_log("alpha", 1e-3, 1e2)?;
            let threshold = trial.suggest_float("threshold", 0.02, 0.98)?;
            let make = || model(alpha, threshold);
            let scores = cross_validate_many(trial, &train, &folds, make, &[&p, &r], 1)?;
            Ok([scores[0].mean(), scores[1].mean()])
        },
        Budget::trials(trials),
    )?;

    let mut front = study.best_trials()?;
    front.sort_by(|a, b| {
        a.values
            .as_ref()
            .map(|v| v[1])
            .partial_cmp(&b.values.as_ref().map(|v| v[1]))
            .unwrap_or(std::cmp::Ordering::Equal)
    });
    println!(
        "Pareto front of cross-validated precision and recall for malignant tumours ({} of {} \
         trials, {} training records):\n",
        front.len(),
        study.trials()?.len(),
        train.n_rows()
    );
    println!("  trial  precision  recall   alpha      threshold");
    for t in &front {
        let v = t.values.as_deref().unwrap_or(&[f64::NAN, f64::NAN]);
        let params = t.params_map();
        println!(
            "  #{:<5} {:.4}     {:.4}   {:<10.4} {:.3}",
            t.number,
            v[0],
            v[1],
            params["alpha"].as_f64().unwrap_or(f64::NAN),
            params["threshold"].as_f64().unwrap_or(f64::NAN)
        );
    }

    // One operating point: the most precise configuration that catches ≥ 95% of tumours.
    let chosen =
        front.iter().filter(|t| t.values.as_ref().is_some_and(|v| v[1] >= 0.95)).max_by(|a, b| {
            let (a, b) = (a.values.as_ref().map(|v| v[0]), b.values.as_ref().map(|v| v[0]));
            a.partial_cmp(&b).unwrap_or(std::cmp::Ordering::Equal)
        });
    let Some(chosen) = chosen else {
        println!("\nNo configuration reached a recall of 0.95; run more trials.");
        return Ok(());
    };
    let params = chosen.params_map();
    let alpha = params["alpha"].as_f64().unwrap_or(1.0);
    let threshold = params["threshold"].as_f64().unwrap_or(0.5);
    let mut refit = model(alpha, threshold);
    refit.fit(&train)?;
    let predicted = refit.predict(&test)?;
    println!(
        "\nChosen (most precise with CV recall ≥ 0.95): trial #{}, alpha {alpha:.4}, threshold \
         {threshold:.3}\nTest set ({} records, scored once): precision {:.4}, recall {:.4}",
        chosen.number,
        test.n_rows(),
        precision(test.target(), &predicted, MALIGNANT)?,
        recall(test.target(), &predicted, MALIGNANT)?
    );
    Ok(())
}
