//! Tunes a random forest on the digits dataset (1,797 8×8 images of handwritten digits, ten
//! classes) with the tune → refit → test workflow: a stratified 20% test set is held out, the
//! number of trees, the depth and the minimum split size are tuned by stratified 5-fold
//! cross-validation with TPE, the best forest is refitted on the training set and scored once
//! on the test set.
//!
//! Run it with `cargo run --release -p tunewise-ml --example random_forest_digits [-- TRIALS
//! [STORAGE_URL]]` (default 20 trials, in memory).

use std::error::Error;

use tunewise::prelude::*;
use tunewise_ml::{accuracy, datasets, RandomForest, Workflow};

fn main() -> Result<(), Box<dyn Error>> {
    let mut args = std::env::args().skip(1);
    let trials: usize = match args.next() {
        Some(n) => n.parse().map_err(|e| format!("TRIALS must be a number, got '{n}': {e}"))?,
        None => 20,
    };
    let url = args.next().unwrap_or_else(|| "memory".into());
    let storage = tunewise::storage::open(&url)?;

    let data = datasets::digits()?;
    println!(
        "Random forest on digits: {} records, {} features, {} classes; {trials} trials\n",
        data.n_rows(),
        data.n_features(),
        data.classes().len()
    );
    let sampler = TpeSampler::builder().seed(42).n_startup_trials(8).build()?;
    let study = Study::builder()
        .name("forest-digits")
        .storage(storage)
        .load_if_exists(true)
        .sampler(sampler);
    let tuned = Workflow::classification(accuracy)
        .maximize()
        .metric_name("accuracy")
        .seed(42)
        .folds(5)
        .study(study)
        .budget(Budget::trials(trials))
        .run(&data, |trial| {
            let mut forest = RandomForest::new(trial.suggest_int("n_trees", 5, 60)? as usize, 7);
            forest.max_depth = Some(trial.suggest_int("max_depth", 2, 16)? as usize);
            forest.min_samples_split = trial.suggest_int("min_samples_split", 2, 20)? as usize;
            Ok(forest)
        })?;
    println!("{tuned}");
    Ok(())
}
