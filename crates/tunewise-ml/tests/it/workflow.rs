//! The tune → refit → test workflow: results, refit, reproducibility, rule-of-thumb warnings,
//! resume, pruning and bad input.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use tunewise_core::{
    Budget, FrozenTrial, InMemoryStorage, Pruner, RandomSampler, Storage, Study, StudyView,
    TrialError, TrialState,
};
use tunewise_ml::{
    accuracy, datasets, mse, rule_of_thumb, train_test_split, Dataset, Estimator, Knn, Ridge,
    Scorer, Task, Workflow, CV_ATTR,
};

fn knn_on_iris(seed: u64, trials: usize) -> tunewise_ml::Tuned<Knn> {
    Workflow::classification(accuracy)
        .maximize()
        .metric_name("accuracy")
        .seed(seed)
        .quiet()
        .study(Study::builder().sampler(RandomSampler::with_seed(seed)))
        .budget(Budget::trials(trials))
        .run(&datasets::iris().unwrap(), |trial| {
            Ok(Knn::new(trial.suggest_int("k", 2, 40)? as usize))
        })
        .unwrap()
}

#[test]
fn the_result_holds_best_params_cv_score_with_spread_test_score_and_every_trial() {
    let tuned = knn_on_iris(3, 10);
    assert_eq!((tuned.n_train, tuned.n_test, tuned.n_splits), (120, 30, 5));
    assert_eq!(tuned.trials.len(), 10);
    assert_eq!(tuned.cv_folds.len(), 5);
    assert!(tuned.cv_score > 0.9 && tuned.cv_std > 0.0 && tuned.cv_std < 0.1, "{tuned}");
    assert!((tuned.cv_folds.iter().sum::<f64>() / 5.0 - tuned.cv_score).abs() < 1e-12);
    assert!(tuned.test_score > 0.85, "{tuned}");
    for t in &tuned.trials {
        assert_eq!(t.state, TrialState::Complete);
        assert!(t.train.is_some() && t.validation.is_some() && t.validation_std.is_some());
        assert_eq!(t.folds.len(), 5, "each fold reported");
    }
    let best = tuned.ranked()[0];
    assert_eq!(best.number, tuned.best_trial);
    assert_eq!(best.params, tuned.best_params);
    assert!(tuned.ranked().windows(2).all(|w| w[0].validation >= w[1].validation));
    let summary = tuned.to_string();
    for needle in ["Best configuration", "k = ", "Cross-validated accuracy", "± ", "Test accuracy"]
    {
        assert!(summary.contains(needle), "'{needle}' missing from:\n{summary}");
    }
    assert!(summary.contains("Bias–variance") && summary.contains("gap"), "{summary}");
    assert!(tuned.framework_fraction().is_some_and(|f| (0.0..1.0).contains(&f)));
}

#[test]
fn the_test_score_is_the_best_configuration_refitted_on_the_whole_training_set() {
    let data = datasets::iris().unwrap();
    let tuned = knn_on_iris(5, 6);
    let split = train_test_split(&data, 0.2, 5, true).unwrap();
    let (train, test) = (data.select(&split.train).unwrap(), data.select(&split.test).unwrap());
    let k = tuned.best_params["k"].as_i64().unwrap() as usize;
    let mut model = Knn::new(k);
    model.fit(&train).unwrap();
    assert_eq!(accuracy.score(&model, &test).unwrap(), tuned.test_score);
    assert_eq!(tuned.model.predict(&test).unwrap(), model.predict(&test).unwrap());
    assert_eq!(accuracy.score(&model, &train).unwrap(), tuned.refit_train_score);
}

#[test]
fn the_same_seed_gives_the_same_trials_and_scores() {
    let (a, b) = (knn_on_iris(11, 6), knn_on_iris(11, 6));
    assert_eq!(a.trials, b.trials);
    assert_eq!((a.best_trial, a.test_score), (b.best_trial, b.test_score));
    let c = knn_on_iris(12, 6);
    assert_ne!(a.trials, c.trials, "another seed, other trials");
}

#[test]
fn regression_minimizes_and_orients_the_gap() {
    let tuned = Workflow::regression(mse)
        .minimize()
        .metric_name("MSE")
        .seed(1)
        .quiet()
        .budget(Budget::trials(8))
        .run(&datasets::diabetes().unwrap(), |trial| {
            Ok(Ridge::new(trial.suggest_float_log("alpha", 1e-4, 1e3)?))
        })
        .unwrap();
    let best = tuned.ranked()[0];
    assert!(tuned.trials.iter().filter_map(|t| t.validation).all(|v| v >= tuned.cv_score));
    // Lower is better: a model fits its training rows at least as well, so the gap is ≥ 0.
    assert!(best.gap(tuned.direction).unwrap() > 0.0, "{tuned}");
    assert!(tuned.test_score > 0.0 && tuned.test_score < 5000.0, "{tuned}");
}

#[test]
fn several_threads_for_trials_and_folds_give_a_result() {
    let tuned = Workflow::classification(accuracy)
        .maximize()
        .seed(2)
        .quiet()
        .trial_threads(2)
        .fold_threads(2)
        .budget(Budget::trials(6))
        .study(Study::builder().sampler(RandomSampler::with_seed(2)))
        .run(&datasets::iris().unwrap(), |trial| {
            Ok(Knn::new(trial.suggest_int("k", 2, 30)? as usize))
        })
        .unwrap();
    assert_eq!(tuned.trials.len(), 6);
    assert!(tuned.trials.iter().all(|t| t.folds.len() == 5 && t.train.is_some()));
    assert_eq!(tuned.framework_fraction(), None, "not meaningful with several threads");
}

#[test]
fn small_data_and_small_classes_are_warned_about() {
    let iris = datasets::iris().unwrap();
    // 20 + 20 + 10 records: below 100, and class 2 below 12.
    let rows: Vec<usize> = (0..20).chain(50..70).chain(100..110).collect();
    let small = iris.select(&rows).unwrap();
    let warnings = rule_of_thumb(&small, Task::Classification, false);
    assert_eq!(warnings.len(), 2, "{warnings:?}");
    assert!(warnings[0].contains("50 records") && warnings[0].contains("100"), "{warnings:?}");
    assert!(warnings[1].contains("class 2") && warnings[1].contains("10 records"));
    assert!(warnings[1].contains("12"), "{warnings:?}");
    let holdout = rule_of_thumb(&small, Task::Classification, true);
    assert!(holdout.iter().all(|w| w.contains("instead of a single validation split")));
    assert!(rule_of_thumb(&small, Task::Regression, false).len() == 1, "no class rule");
    assert!(
        rule_of_thumb(&datasets::breast_cancer().unwrap(), Task::Classification, false).is_empty()
    );

    let tuned = Workflow::classification(accuracy)
        .maximize()
        .folds(3)
        .quiet()
        .budget(Budget::trials(2))
        .run(&small, |trial| Ok(Knn::new(trial.suggest_int("k", 2, 5)? as usize)))
        .unwrap();
    assert_eq!(tuned.warnings, warnings);
    assert!(tuned.to_string().contains("Warning: only 50 records"), "{tuned}");
}

#[test]
fn a_single_validation_split_is_one_split_per_trial() {
    let tuned = Workflow::classification(accuracy)
        .maximize()
        .validation_split(0.25)
        .quiet()
        .budget(Budget::trials(3))
        .run(&datasets::breast_cancer().unwrap(), |trial| {
            Ok(Knn::new(trial.suggest_int("k", 2, 10)? as usize))
        })
        .unwrap();
    assert_eq!(tuned.n_splits, 1);
    assert!(tuned.trials.iter().all(|t| t.folds.len() == 1));
    assert_eq!(tuned.cv_std, 0.0);
}

#[test]
fn a_resumed_study_keeps_its_trials_and_their_training_scores() {
    let storage: Arc<dyn Storage> = Arc::new(InMemoryStorage::new());
    let run = |seed: u64| {
        Workflow::classification(accuracy)
            .maximize()
            .quiet()
            .budget(Budget::trials(3))
            .study(
                Study::builder()
                    .name("knn")
                    .storage(storage.clone())
                    .load_if_exists(true)
                    .sampler(RandomSampler::with_seed(seed)),
            )
            .run(&datasets::iris().unwrap(), |trial| {
                Ok(Knn::new(trial.suggest_int("k", 2, 30)? as usize))
            })
            .unwrap()
    };
    let first = run(1);
    let second = run(2);
    assert_eq!(second.trials.len(), 6);
    assert_eq!(&second.trials[..3], &first.trials[..]);
    assert!(second.trials.iter().all(|t| t.train.is_some()));
    let stored = Study::builder().name("knn").storage(storage).load().unwrap();
    assert!(stored.trials().unwrap().iter().all(|t| t.user_attrs.contains_key(CV_ATTR)));
}

/// Prunes every odd-numbered trial after its second fold.
#[derive(Debug)]
struct OddAfterTwo;

impl Pruner for OddAfterTwo {
    fn prune(&self, _study: &StudyView<'_>, trial: &FrozenTrial) -> tunewise_core::Result<bool> {
        Ok(trial.number % 2 == 1 && trial.intermediate_values.len() >= 2)
    }
}

#[test]
fn pruned_trials_stop_between_folds_and_are_shown_as_pruned() {
    let fits = AtomicUsize::new(0);
    let tuned = Workflow::classification(accuracy)
        .maximize()
        .quiet()
        .budget(Budget::trials(4))
        .study(Study::builder().pruner(OddAfterTwo).sampler(RandomSampler::with_seed(4)))
        .run(&datasets::iris().unwrap(), |trial| {
            fits.fetch_add(1, Ordering::SeqCst);
            Ok(Knn::new(trial.suggest_int("k", 2, 30)? as usize))
        })
        .unwrap();
    let states: Vec<TrialState> = tuned.trials.iter().map(|t| t.state).collect();
    use TrialState::{Complete, Pruned};
    assert_eq!(states, [Complete, Pruned, Complete, Pruned]);
    assert!(tuned.trials.iter().filter(|t| t.state == Pruned).all(|t| t.folds.len() == 2));
    assert!(tuned.to_string().contains("2 pruned"), "{tuned}");
    // The space builds one model per fold (5) plus one for the refit.
    assert_eq!(fits.load(Ordering::SeqCst), 4 * 5 + 1);
}

fn knn_space(trial: &mut tunewise_core::Trial) -> Result<Knn, TrialError> {
    Ok(Knn::new(trial.suggest_int("k", 2, 10)? as usize))
}

fn error_of<S: Scorer>(workflow: Workflow<S>, data: &Dataset) -> String {
    match workflow.quiet().budget(Budget::trials(2)).run(data, knn_space) {
        Ok(_) => panic!("expected an error"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn bad_settings_and_data_are_refused_before_tuning_with_the_problem_named() {
    let iris = datasets::iris().unwrap();
    let e = error_of(Workflow::classification(accuracy), &iris);
    assert!(e.contains(".maximize()") && e.contains(".minimize()"), "{e}");
    let e = error_of(Workflow::classification(accuracy).maximize().test_fraction(1.5), &iris);
    assert!(e.contains("1.5") && e.contains("test set"), "{e}");
    let e = error_of(Workflow::classification(accuracy).maximize().validation_split(0.0), &iris);
    assert!(e.contains("validation_split"), "{e}");
    let e = error_of(Workflow::classification(accuracy).maximize().trial_threads(0), &iris);
    assert!(e.contains("at least 1"), "{e}");
    // More folds than training records.
    let e = error_of(Workflow::classification(accuracy).maximize().folds(500), &iris);
    assert!(e.contains("500") && e.contains("120 training records"), "{e}");
    // A class with fewer training records than stratified folds.
    let rows: Vec<usize> = (0..50).chain(50..100).chain(100..106).collect();
    let few = iris.select(&rows).unwrap();
    let e = error_of(Workflow::classification(accuracy).maximize().folds(10), &few);
    assert!(e.contains("class 2") || e.contains("2.0"), "the class is named: {e}");
    // A single class.
    let one_class = iris.select(&(0..50).collect::<Vec<_>>()).unwrap();
    let e = error_of(Workflow::classification(accuracy).maximize(), &one_class);
    assert!(e.contains("single class") && e.contains("Workflow::regression"), "{e}");
}

#[test]
fn when_every_trial_fails_the_error_carries_the_last_failure_and_the_trials_stay() {
    let storage: Arc<dyn Storage> = Arc::new(InMemoryStorage::new());
    let result = Workflow::classification(accuracy)
        .maximize()
        .quiet()
        .budget(Budget::trials(3))
        .study(Study::builder().name("failing").storage(storage.clone()))
        .run(&datasets::iris().unwrap(), |trial| {
            // k = 0 is refused by the model at fit time.
            Ok(Knn::new(trial.suggest_int("k", 0, 0)? as usize))
        });
    let e = result.map(|_| ()).unwrap_err().to_string();
    assert!(e.contains("no trial completed") && e.contains("3 failed"), "{e}");
    assert!(e.contains("k"), "the model's message is kept: {e}");
    let stored = Study::builder().name("failing").storage(storage).load().unwrap();
    assert_eq!(stored.trials().unwrap().len(), 3);
}

#[test]
fn a_search_space_that_changes_on_refit_is_refused() {
    let calls = AtomicUsize::new(0);
    let result = Workflow::classification(accuracy)
        .maximize()
        .quiet()
        .folds(3)
        .budget(Budget::trials(2))
        .run(&datasets::iris().unwrap(), |trial| {
            let n = calls.fetch_add(1, Ordering::SeqCst);
            if n >= 2 * 3 {
                trial.suggest_float("extra", 0.0, 1.0)?;
            }
            Ok(Knn::new(trial.suggest_int("k", 2, 10)? as usize))
        });
    let e = result.map(|_| ()).unwrap_err().to_string();
    assert!(e.contains("only on the trial's suggestions"), "{e}");
}

#[test]
fn good_enough_stops_on_the_cross_validation_noise_and_the_summary_says_why() {
    // kNN on iris: accuracies within a few points of each other for most k, each measured on
    // 5 folds of 24 flowers (one flower = 4 points): the noise soon dominates what is left.
    let mut counts = Vec::new();
    for seed in 1..=8 {
        let tuned = Workflow::classification(accuracy)
            .maximize()
            .seed(seed)
            .quiet()
            .study(Study::builder().sampler(RandomSampler::with_seed(seed)))
            .budget(Budget::trials(200).good_enough(tunewise_core::GoodEnough::cross_validation()))
            .run(&datasets::iris().unwrap(), |trial| {
                Ok(Knn::new(trial.suggest_int("k", 2, 40)? as usize))
            })
            .unwrap();
        assert!(
            matches!(
                tuned.stop_reason,
                tunewise_core::StopReason::GoodEnough { cross_validation: true, .. }
            ),
            "seed {seed}: {}",
            tuned.stop_reason
        );
        counts.push(tuned.trials.len());
        let summary = tuned.to_string();
        assert!(summary.contains("estimated remaining improvement"), "{summary}");
    }
    // Measured: 20, 83, 20, 20, 21, 20, 21, 20 trials of the 200 allowed.
    counts.sort_unstable();
    assert!(counts[4] <= 40 && counts[7] < 150, "{counts:?}");
}
