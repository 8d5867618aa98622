//! Tuning the decision threshold: a classifier's probabilities are cut at 0.5 by default,
//! but when a missed case costs more than a false alarm the threshold should move.
//!
//! On breast cancer (malignant as the positive class), the workflow first tunes a
//! standardized logistic regression's regularization for ROC AUC (the ranking quality,
//! independent of any threshold), then the threshold is chosen on **out-of-fold**
//! probabilities of the training set — each record scored by a model that did not see it — as
//! the most precise one that keeps a recall of at least 0.98. The held-out test set then shows
//! precision and recall at the default 0.5 and at the tuned threshold, each measured once.
//!
//! Run it with `cargo run --release -p tunewise-ml --example threshold_tuning [-- TRIALS]`
//! (default 20).

mod shared;

use std::error::Error;

use tunewise::prelude::*;
use tunewise_ml::{
    on_probabilities, precision, precision_recall_curve, recall, roc_auc, threshold_for,
    train_test_split, Average, Estimator, LogisticRegression, Splitter, Standardized,
    StratifiedKFold, Target, Thresholded, Workflow,
};

const SEED: u64 = 3;
const MALIGNANT: Average = Average::Binary { positive: 1.0 };
const MIN_RECALL: f64 = 0.98;

fn main() -> Result<(), Box<dyn Error>> {
    let trials: usize = match std::env::args().nth(1) {
        Some(n) => n.parse().map_err(|e| format!("TRIALS must be a number, got '{n}': {e}"))?,
        None => 20,
    };
    let data = shared::malignant_positive()?;

    // 1. Tune the model for ranking quality (ROC AUC), threshold-free.
    let tuned = Workflow::classification(on_probabilities(|t, p| roc_auc(t, p, 1.0)))
        .maximize()
        .metric_name("ROC AUC")
        .seed(SEED)
        .budget(Budget::trials(trials))
        .run(&data, |trial| {
            let alpha = trial.suggest_float_log("alpha", 1e-3, 1e2)?;
            Ok(Standardized::new(LogisticRegression::new(alpha)))
        })?;
    let alpha = tuned.best_params["alpha"].as_f64().unwrap_or(1.0);
    println!(
        "Tuned alpha = {alpha:.4}: cross-validated ROC AUC {:.4} ± {:.4}, test ROC AUC {:.4}",
        tuned.cv_score, tuned.cv_std, tuned.test_score
    );

    // The same train/test split as the workflow's (same seed and fraction, stratified).
    let split = train_test_split(&data, 0.2, SEED, true)?;
    let (train, test) = (data.select(&split.train)?, data.select(&split.test)?);

    // 2. Out-of-fold probabilities on the training set.
    let mut oof = vec![0.0; train.n_rows()];
    for fold in StratifiedKFold::shuffled(5, SEED).splits(&train)? {
        let mut model = Standardized::new(LogisticRegression::new(alpha));
        model.fit(&train.select(&fold.train)?)?;
        let held = model.predict_proba(&train.select(&fold.test)?)?.ok_or("no probabilities")?;
        for (&row, p) in fold.test.iter().zip(held) {
            oof[row] = p;
        }
    }
    let curve = precision_recall_curve(train.target(), &oof, 1.0)?;
    let threshold = threshold_for(&curve, Target::MinRecall(MIN_RECALL))?;
    println!(
        "Threshold for out-of-fold recall ≥ {MIN_RECALL} with the best precision: {threshold:.4} \
         ({} points on the training set's precision–recall curve)\n",
        curve.len()
    );

    // 3. Refit on the whole training set; score each threshold once on the test set.
    let malignant = test.target().iter().filter(|&&y| y == 1.0).count();
    println!(
        "Test set ({} records, {malignant} malignant: one tumour is {:.1} points of recall):",
        test.n_rows(),
        100.0 / malignant.max(1) as f64
    );
    println!("  threshold  precision  recall");
    for t in [0.5, threshold] {
        let mut model = Thresholded::new(Standardized::new(LogisticRegression::new(alpha)), t);
        model.fit(&train)?;
        let predicted = model.predict(&test)?;
        println!(
            "  {t:<10.4} {:.4}     {:.4}",
            precision(test.target(), &predicted, MALIGNANT)?,
            recall(test.target(), &predicted, MALIGNANT)?
        );
    }
    Ok(())
}
