//! Cross-validation inside a trial: fold scores reported as intermediate values, pruning after
//! the first folds, training scores kept, failures recorded.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use tunewise_core::{
    Budget, FrozenTrial, Pruner, RandomSampler, Study, StudyView, TrialError, TrialState,
};
use tunewise_ml::{
    accuracy, cross_validate, datasets, Dataset, Estimator, KFold, Knn, StratifiedKFold,
};

/// A user's own model: predicts the training majority class, and counts its fits.
#[derive(Debug)]
struct Majority {
    class: f64,
    fits: Arc<AtomicUsize>,
}

impl Estimator for Majority {
    fn fit(&mut self, data: &Dataset) -> tunewise_ml::Result<()> {
        self.fits.fetch_add(1, Ordering::SeqCst);
        let counts = data.class_counts();
        self.class = counts.iter().max_by_key(|(_, n)| *n).map_or(0.0, |(c, _)| *c);
        Ok(())
    }

    fn predict(&self, features: &Dataset) -> tunewise_ml::Result<Vec<f64>> {
        Ok(vec![self.class; features.n_rows()])
    }
}

fn study() -> Study {
    Study::builder().maximize().sampler(RandomSampler::with_seed(3)).create().unwrap()
}

#[test]
fn every_fold_is_reported_as_an_intermediate_value() {
    let data = datasets::iris().unwrap();
    let study = study();
    let mut trial = study.ask().unwrap();
    let folds = StratifiedKFold::shuffled(5, 1);
    let scores = cross_validate(&mut trial, &data, &folds, || Knn::new(5), accuracy).unwrap();
    assert_eq!(scores.validation.len(), 5);
    assert_eq!(scores.train.len(), 5);
    assert!(scores.mean() > 0.9, "kNN on iris: {scores:?}");
    assert!(scores.std() >= 0.0 && scores.std() < 0.1);
    assert!(scores.train_mean() >= scores.mean() - 0.05, "training rows score at least as well");
    let stored = study.tell(trial, Ok(scores.mean())).unwrap();
    let reported: Vec<f64> = stored.intermediate_values.values().map(|v| v[0]).collect();
    assert_eq!(reported, scores.validation);
    assert_eq!(stored.intermediate_values.keys().copied().collect::<Vec<_>>(), vec![0, 1, 2, 3, 4]);
}

/// Prunes every trial once it has reported two steps.
#[derive(Debug)]
struct AfterTwoFolds;

impl Pruner for AfterTwoFolds {
    fn prune(&self, _study: &StudyView<'_>, trial: &FrozenTrial) -> tunewise_core::Result<bool> {
        Ok(trial.intermediate_values.len() >= 2)
    }
}

#[test]
fn a_pruned_configuration_stops_after_its_first_folds() {
    let data = datasets::iris().unwrap();
    let fits = Arc::new(AtomicUsize::new(0));
    let study = Study::builder()
        .maximize()
        .sampler(RandomSampler::with_seed(3))
        .pruner(AfterTwoFolds)
        .create()
        .unwrap();
    study
        .optimize(
            |trial| -> Result<f64, TrialError> {
                let make = || Majority { class: 0.0, fits: fits.clone() };
                Ok(cross_validate(trial, &data, &KFold::shuffled(5, 0), make, accuracy)?.mean())
            },
            Budget::trials(3),
        )
        .unwrap();
    let trials = study.trials().unwrap();
    assert!(trials.iter().all(|t| t.state == TrialState::Pruned));
    assert!(trials.iter().all(|t| t.intermediate_values.len() == 2));
    assert_eq!(fits.load(Ordering::SeqCst), 3 * 2, "the last three folds are never fitted");
}

#[test]
fn a_splitter_that_does_not_fit_the_data_fails_the_trial_with_its_message() {
    let data = datasets::iris().unwrap().select(&[0, 1, 2]).unwrap();
    let study = study();
    study
        .optimize(
            |trial| -> Result<f64, TrialError> {
                Ok(cross_validate(trial, &data, &KFold::new(5), || Knn::new(2), accuracy)?.mean())
            },
            Budget::trials(1),
        )
        .unwrap();
    let trial = &study.trials().unwrap()[0];
    assert_eq!(trial.state, TrialState::Failed);
    let reason = trial.fail_reason.as_deref().unwrap_or_default();
    assert!(reason.contains("fold"), "the message names the problem: {reason}");
}
