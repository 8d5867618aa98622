//! Cross-validation inside a trial: fold scores reported as intermediate values, pruning after
//! the first folds, training scores kept, failures recorded.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use tunewise_core::{
    Budget, Direction, FrozenTrial, Pruner, RandomSampler, Study, StudyView, TrialError, TrialState,
};
use tunewise_ml::{
    accuracy, cross_validate, cross_validate_many, cross_validate_parallel, datasets, log_loss,
    on_probabilities, precision, r2, recall, roc_auc, Average, Dataset, Estimator, KFold, Knn,
    LogisticRegression, Ridge, Scorer, StratifiedKFold,
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

#[test]
fn folds_on_several_threads_give_the_same_scores_as_on_one() {
    let data = datasets::diabetes().unwrap();
    let folds = KFold::shuffled(5, 11);
    let scores = |threads: usize| {
        let study = Study::builder().maximize().create().unwrap();
        let mut trial = study.ask().unwrap();
        let s = cross_validate_parallel(&mut trial, &data, &folds, || Ridge::new(0.5), r2, threads)
            .unwrap();
        let stored = study.tell(trial, Ok(s.mean())).unwrap();
        let reported: Vec<f64> = stored.intermediate_values.values().map(|v| v[0]).collect();
        assert_eq!(reported, s.validation, "reported in fold order with {threads} threads");
        assert!(s.model_time > std::time::Duration::ZERO);
        (s.validation, s.train)
    };
    let one = scores(1);
    for threads in [0, 2, 3, 5, 8] {
        assert_eq!(scores(threads), one, "{threads} threads");
    }
}

#[test]
fn with_folds_in_batches_pruning_saves_the_batches_after_the_bad_one() {
    let data = datasets::iris().unwrap();
    for (threads, expected_fits) in [(1, 2), (2, 2), (3, 3), (5, 5)] {
        let fits = Arc::new(AtomicUsize::new(0));
        let study = Study::builder().maximize().pruner(AfterTwoFolds).create().unwrap();
        let mut trial = study.ask().unwrap();
        let make = || Majority { class: 0.0, fits: fits.clone() };
        let folds = KFold::shuffled(5, 0);
        let result = cross_validate_parallel(&mut trial, &data, &folds, make, accuracy, threads);
        assert_eq!(result, Err(TrialError::Pruned), "{threads} threads");
        assert_eq!(fits.load(Ordering::SeqCst), expected_fits, "{threads} threads");
        study.tell(trial, result.map(|s| s.mean())).unwrap();
    }
}

/// Panics when fitted: a model bug must fail its trial, not the study.
#[derive(Debug)]
struct Panics;

impl Estimator for Panics {
    fn fit(&mut self, _data: &Dataset) -> tunewise_ml::Result<()> {
        panic!("boom in fit")
    }
    fn predict(&self, _features: &Dataset) -> tunewise_ml::Result<Vec<f64>> {
        Ok(Vec::new())
    }
}

#[test]
fn a_model_panicking_in_a_parallel_fold_fails_the_trial_with_its_message() {
    let data = datasets::iris().unwrap();
    let study = study();
    study
        .optimize(
            |trial| -> Result<f64, TrialError> {
                let folds = KFold::shuffled(4, 0);
                Ok(cross_validate_parallel(trial, &data, &folds, || Panics, accuracy, 2)?.mean())
            },
            Budget::trials(1),
        )
        .unwrap();
    let trial = &study.trials().unwrap()[0];
    assert_eq!(trial.state, TrialState::Failed);
    let reason = trial.fail_reason.as_deref().unwrap_or_default();
    assert!(reason.contains("boom in fit"), "{reason}");
}

#[test]
fn several_metrics_report_one_value_per_objective_at_each_fold() {
    let data = datasets::breast_cancer().unwrap();
    let study = Study::builder().directions([Direction::Maximize; 2]).create().unwrap();
    let mut trial = study.ask().unwrap();
    let p = |t: &[f64], y: &[f64]| precision(t, y, Average::Binary { positive: 1.0 });
    let r = |t: &[f64], y: &[f64]| recall(t, y, Average::Binary { positive: 1.0 });
    let folds = StratifiedKFold::shuffled(3, 2);
    let make = || LogisticRegression::new(1.0);
    let scores = cross_validate_many(&mut trial, &data, &folds, make, &[&p, &r], 2).unwrap();
    assert_eq!(scores.len(), 2);
    assert!(scores[0].mean() > 0.85 && scores[1].mean() > 0.85, "{scores:?}");
    let stored = study.tell(trial, Ok(vec![scores[0].mean(), scores[1].mean()])).unwrap();
    for (step, values) in &stored.intermediate_values {
        let i = *step as usize;
        assert_eq!(values, &vec![scores[0].validation[i], scores[1].validation[i]]);
    }
    assert_eq!(stored.intermediate_values.len(), 3);
}

#[test]
fn more_scorers_than_objectives_fail_the_trial_naming_the_counts() {
    let data = datasets::iris().unwrap();
    let study = study();
    let mut trial = study.ask().unwrap();
    let folds = KFold::shuffled(3, 0);
    let result =
        cross_validate_many(&mut trial, &data, &folds, || Knn::new(3), &[&accuracy, &accuracy], 1);
    let Err(TrialError::Failed(message)) = result else { panic!("{result:?}") };
    assert!(message.contains('1') && message.contains('2'), "{message}");
    let none: [&dyn Scorer; 0] = [];
    let result = cross_validate_many(&mut trial, &data, &folds, || Knn::new(3), &none, 1);
    assert!(matches!(result, Err(TrialError::Failed(m)) if m.contains("scorer")));
}

#[test]
fn probability_metrics_score_probabilities_and_refuse_models_without_them() {
    let data = datasets::breast_cancer().unwrap();
    let study = study();
    let mut trial = study.ask().unwrap();
    let folds = StratifiedKFold::shuffled(3, 0);
    let make = || LogisticRegression::new(1.0);
    let auc = cross_validate(
        &mut trial,
        &data,
        &folds,
        make,
        on_probabilities(|t, p| roc_auc(t, p, 1.0)),
    )
    .unwrap();
    assert!(auc.mean() > 0.95, "{auc:?}");
    let mut model = LogisticRegression::new(1.0);
    model.fit(&data).unwrap();
    let loss = on_probabilities(|t, p| log_loss(t, p, 1.0)).score(&model, &data).unwrap();
    assert!(loss > 0.0 && loss < 0.3, "{loss}");
    let fits = Arc::new(AtomicUsize::new(0));
    let mut majority = Majority { class: 0.0, fits };
    majority.fit(&data).unwrap();
    let err = on_probabilities(|t, p| roc_auc(t, p, 1.0))
        .score(&majority, &data)
        .unwrap_err()
        .to_string();
    assert!(err.contains("probabilities"), "{err}");
}
