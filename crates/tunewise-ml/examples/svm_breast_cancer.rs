//! The main job: tunes a support vector machine on the breast cancer dataset (569 tumours, 30
//! features, malignant or benign) with the tune → refit → test workflow, and keeps the study in
//! SQLite.
//!
//! - A stratified 20% of the records is held out as the test set.
//! - The SVM's penalty `C`, its kernel (linear or RBF) and the RBF's `gamma` are tuned by
//!   stratified 5-fold cross-validation on the other 80%, with the automatic sampler
//!   (Gaussian-process Bayesian optimization here). Features are standardized inside each
//!   fold, on that fold's training rows only.
//! - The best configuration is refitted on the whole training set and scored once on the test
//!   set.
//!
//! It prints the best configuration, its cross-validated accuracy ± spread, its test accuracy,
//! the training/validation gap of every trial (the bias–variance diagnostic) and the share of
//! the time the framework took.
//!
//! Run it with `cargo run --release -p tunewise-ml --example svm_breast_cancer [-- TRIALS
//! [STORAGE_URL]]`: default 25 trials in `tunewise-svm.db` (SQLite). Run it again and the study
//! resumes: each run adds its trials and the result covers all of them.

use std::error::Error;

use tunewise::prelude::*;
use tunewise_ml::{accuracy, datasets, Kernel, Standardized, Svc, Workflow};

fn main() -> Result<(), Box<dyn Error>> {
    let mut args = std::env::args().skip(1);
    let trials: usize = match args.next() {
        Some(n) => n.parse().map_err(|e| format!("TRIALS must be a number, got '{n}': {e}"))?,
        None => 25,
    };
    let url = args.next().unwrap_or_else(|| "sqlite://tunewise-svm.db".into());
    let storage = tunewise::storage::open(&url)?;
    let data = datasets::breast_cancer()?;
    println!(
        "SVM on breast cancer: {} records, {} features; {trials} more trials in {url}\n",
        data.n_rows(),
        data.n_features()
    );

    let study = Study::builder().name("svm-breast-cancer").storage(storage).load_if_exists(true);
    let tuned = Workflow::classification(accuracy)
        .maximize()
        .metric_name("accuracy")
        .seed(42)
        .folds(5)
        .study(study.seed(42))
        .budget(Budget::trials(trials))
        .run(&data, |trial| {
            let c = trial.suggest_float_log("C", 1e-2, 1e3)?;
            let kernel = match trial.suggest_categorical("kernel", &["rbf", "linear"])? {
                "rbf" => Kernel::Rbf { gamma: trial.suggest_float_log("gamma", 1e-4, 1.0)? },
                _ => Kernel::Linear,
            };
            Ok(Standardized::new(Svc::new(c, kernel)))
        })?;
    println!("{tuned}");
    Ok(())
}
