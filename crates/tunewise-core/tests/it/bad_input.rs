//! Misuse returns an error that names the problem, never a panic.

use std::fmt::Debug;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tunewise_core::prelude::*;
use tunewise_core::{
    CategoricalDistribution, Error, FloatDistribution, InMemoryStorage, IntDistribution, Storage,
};

/// Asserts an `InvalidDistribution` error for `name` whose reason contains `needle`, and whose
/// message quotes the name.
#[track_caller]
fn assert_invalid<T: Debug>(result: Result<T, Error>, name: &str, needle: &str) {
    match result {
        Err(e @ Error::InvalidDistribution { .. }) => {
            let message = e.to_string();
            let Error::InvalidDistribution { name: n, reason } = e else { unreachable!() };
            assert_eq!(n, name);
            assert!(reason.contains(needle), "'{needle}' not in: {reason}");
            assert!(message.contains(&format!("'{name}'")), "the name is not in: {message}");
        }
        other => panic!("expected InvalidDistribution for '{name}' ({needle}), got {other:?}"),
    }
}

/// Every bad range, with a fragment of the reason it must give.
fn bad_distributions() -> Vec<(Distribution, &'static str)> {
    let float_both =
        Distribution::Float(FloatDistribution { low: 0.1, high: 1.0, log: true, step: Some(0.1) });
    let int_both = Distribution::Int(IntDistribution { low: 1, high: 9, log: true, step: 2 });
    vec![
        (Distribution::float(1.0, 0.0), "greater than high"),
        (Distribution::int(5, 1), "greater than high"),
        (Distribution::float_log(0.0, 1.0), "log scale needs low > 0"),
        (Distribution::float_log(-1.0, 1.0), "log scale needs low > 0"),
        (Distribution::int_log(0, 10), "log scale needs low >= 1"),
        (Distribution::int_log(-5, 10), "log scale needs low >= 1"),
        (Distribution::float_step(0.0, 1.0, 0.3), "does not divide"),
        (Distribution::int_step(0, 10, 3), "does not divide"),
        (Distribution::float_step(0.0, 1.0, 0.0), "step must be a positive number"),
        (Distribution::float_step(0.0, 1.0, -0.5), "step must be a positive number"),
        (Distribution::float_step(0.0, 1.0, f64::NAN), "step must be a positive number"),
        (Distribution::float_step(0.0, 1.0, f64::INFINITY), "step must be a positive number"),
        (Distribution::int_step(0, 10, 0), "step must be a positive integer"),
        (Distribution::int_step(0, 10, -2), "step must be a positive integer"),
        (Distribution::float(f64::NAN, 1.0), "finite"),
        (Distribution::float(0.0, f64::NAN), "finite"),
        (Distribution::float(0.0, f64::INFINITY), "finite"),
        (Distribution::float(f64::NEG_INFINITY, 0.0), "finite"),
        (Distribution::float_log(1.0, f64::INFINITY), "finite"),
        (float_both, "both log and step"),
        (int_both, "both log and a step"),
        (Distribution::int(0, i64::MAX), "2^53"),
        (Distribution::categorical(Vec::<i64>::new()), "at least one choice"),
        (Distribution::categorical(["a", "b", "a"]), "more than once"),
        (Distribution::categorical([1, 2, 1]), "more than once"),
        (Distribution::categorical([0.5, 0.5]), "more than once"),
        (Distribution::categorical([true, true]), "more than once"),
        (Distribution::categorical([f64::NAN]), "NaN"),
        (Distribution::categorical([1.0, f64::NAN]), "NaN"),
        (Distribution::categorical([1.0, f64::INFINITY]), "finite"),
        (Distribution::categorical([f64::NEG_INFINITY]), "finite"),
    ]
}

#[test]
fn bad_distributions_are_refused_naming_the_parameter() {
    for (d, needle) in bad_distributions() {
        assert_invalid(d.validate("lr"), "lr", needle);
        assert_invalid(SearchSpace::new().add("lr", d.clone()), "lr", needle);
    }
}

#[test]
fn bad_suggestions_are_refused_and_the_trial_goes_on() {
    let study = Study::builder().seed(1).create().unwrap();
    let mut t = study.ask().unwrap();
    for (d, needle) in bad_distributions() {
        assert_invalid(t.suggest("lr", d), "lr", needle);
    }
    // The typed methods say the same.
    assert_invalid(t.suggest_float("a", 1.0, 0.0), "a", "greater than high");
    assert_invalid(t.suggest_float_log("b", 0.0, 1.0), "b", "log scale");
    assert_invalid(t.suggest_float_step("c", 0.0, 1.0, 0.3), "c", "does not divide");
    assert_invalid(t.suggest_float_step("c", 0.0, 1.0, -1.0), "c", "positive");
    assert_invalid(t.suggest_float("d", f64::NAN, 1.0), "d", "finite");
    assert_invalid(t.suggest_int("e", 3, 2), "e", "greater than high");
    assert_invalid(t.suggest_int_log("f", 0, 8), "f", "log scale");
    assert_invalid(t.suggest_int_step("g", 0, 10, 4), "g", "does not divide");
    assert_invalid(t.suggest_int_step("g", 0, 10, 0), "g", "positive");
    assert_invalid(t.suggest_categorical::<&str>("h", &[]), "h", "at least one");
    assert_invalid(t.suggest_categorical("h", &["x", "x"]), "h", "more than once");
    assert_invalid(t.suggest_categorical("h", &[f64::NAN]), "h", "NaN");
    // None of it was recorded, and the trial still works.
    assert!(t.params().is_empty());
    let lr = t.suggest_float("lr", 0.0, 1.0).unwrap();
    let stored = study.tell(t, Ok(lr)).unwrap();
    assert_eq!(stored.state, TrialState::Complete);
    assert_eq!(stored.params.len(), 1);
}

#[test]
fn a_bad_range_in_an_objective_fails_the_trial_with_its_name() {
    let study = Study::builder().seed(2).create().unwrap();
    let report = study
        .optimize(
            |t: &mut Trial| -> Result<f64, TrialError> {
                if t.number() == 1 {
                    return Ok(t.suggest_float_log("learning_rate", 0.0, 0.1)?);
                }
                Ok(t.suggest_float("x", 0.0, 1.0)?)
            },
            Budget::trials(3),
        )
        .unwrap();
    assert_eq!(report.trials, 3, "the study goes on");
    let trials = study.trials().unwrap();
    assert_eq!(trials[1].state, TrialState::Failed);
    let reason = trials[1].fail_reason.as_deref().unwrap();
    assert!(reason.contains("'learning_rate'") && reason.contains("log scale"), "{reason}");
    assert_eq!(trials[2].state, TrialState::Complete);
}

#[test]
fn asking_a_name_again_with_another_distribution_is_refused() {
    let study = Study::builder().seed(3).create().unwrap();
    let mut t = study.ask().unwrap();
    let x = t.suggest_float("x", 0.0, 1.0).unwrap();
    let mismatch = |r: Result<String, Error>| match r {
        Err(e @ Error::DistributionMismatch { .. }) => {
            let message = e.to_string();
            let Error::DistributionMismatch { name, existing, requested } = e else {
                unreachable!()
            };
            assert_eq!(name, "x");
            assert_eq!(existing, "float [0, 1]");
            assert!(message.contains("'x'"), "{message}");
            requested
        }
        other => panic!("expected DistributionMismatch, got {other:?}"),
    };
    assert_eq!(mismatch(t.suggest_float("x", 0.0, 2.0).map(|v| v.to_string())), "float [0, 2]");
    assert_eq!(
        mismatch(t.suggest_float_log("x", 0.5, 1.0).map(|v| v.to_string())),
        "float [0.5, 1] log"
    );
    assert_eq!(mismatch(t.suggest_int("x", 0, 1).map(|v| v.to_string())), "int [0, 1]");
    assert_eq!(
        mismatch(t.suggest_categorical("x", &["a", "b"]).map(|v| v.to_string())),
        "categorical [\"a\", \"b\"]"
    );
    // The same distribution again is not an error: it gives the same value.
    assert_eq!(t.suggest_float("x", 0.0, 1.0).unwrap(), x);
    let stored = study.tell(t, Ok(x)).unwrap();
    assert_eq!(stored.params.len(), 1);
    assert_eq!(stored.param_value("x"), Some(ParamValue::Float(x)));
}

#[test]
fn enqueued_values_outside_their_distribution_fail_their_trial_only() {
    let study = Study::builder().seed(4).create().unwrap();
    let cases: Vec<(&str, ParamValue, &str)> = vec![
        ("lr", ParamValue::Float(5.0), "5"),
        ("lr", ParamValue::from("fast"), "fast"),
        ("units", ParamValue::Int(7), "7"),
        ("units", ParamValue::Float(2.5), "2.5"),
        ("act", ParamValue::from("tanh"), "tanh"),
        ("act", ParamValue::Int(0), "0"),
    ];
    for (name, value, _) in &cases {
        study.enqueue_trial([(*name, value.clone())]).unwrap();
    }
    let report = study
        .optimize(
            |t: &mut Trial| -> Result<f64, TrialError> {
                let lr = t.suggest_float("lr", 0.0, 1.0)?;
                let units = t.suggest_int_step("units", 0, 20, 5)?;
                let act = t.suggest_categorical("act", &["relu", "gelu"])?;
                Ok(lr + units as f64 + act.len() as f64)
            },
            Budget::trials(cases.len() + 2),
        )
        .unwrap();
    assert_eq!(report.trials, cases.len() + 2, "the study goes on");
    let trials = study.trials().unwrap();
    for (t, (name, _, shown)) in trials.iter().zip(&cases) {
        assert_eq!(t.state, TrialState::Failed, "trial {} ({name})", t.number);
        let reason = t.fail_reason.as_deref().unwrap();
        assert!(
            reason.contains(&format!("'{name}'")) && reason.contains(shown),
            "trial {}: {reason}",
            t.number
        );
        assert!(reason.contains("is not in"), "{reason}");
    }
    assert!(trials[cases.len()..].iter().all(|t| t.state == TrialState::Complete));
}

#[test]
fn bad_enqueued_trials_are_refused_at_once() {
    let study = Study::builder().seed(5).create().unwrap();
    for bad in [f64::NAN, f64::INFINITY] {
        match study.enqueue_trial([("lr", bad)]) {
            Err(Error::ValueOutOfDistribution { name, .. }) => assert_eq!(name, "lr"),
            other => panic!("expected ValueOutOfDistribution, got {other:?}"),
        }
    }
    match study.enqueue_trial([("", 1.0)]) {
        Err(Error::InvalidConfig(m)) => assert!(m.contains("empty name"), "{m}"),
        other => panic!("expected InvalidConfig, got {other:?}"),
    }
    match study.enqueue_trial([("lr", 0.1), ("lr", 0.2)]) {
        Err(Error::InvalidConfig(m)) => assert!(m.contains("'lr'") && m.contains("twice"), "{m}"),
        other => panic!("expected InvalidConfig, got {other:?}"),
    }
    assert!(study.trials().unwrap().is_empty(), "a refused enqueue stored a trial");
}

#[test]
fn a_wrong_number_of_values_fails_the_trial() {
    let two = Study::builder().directions([Direction::Minimize, Direction::Maximize]);
    let study = two.create().unwrap();
    let report = study
        .optimize(
            |t: &mut Trial| -> Result<Vec<f64>, TrialError> {
                match t.number() {
                    0 => Ok(vec![1.0]),
                    1 => Ok(vec![1.0, 2.0, 3.0]),
                    2 => Ok(vec![]),
                    _ => Ok(vec![1.0, 2.0]),
                }
            },
            Budget::trials(4),
        )
        .unwrap();
    assert_eq!(report.trials, 4);
    let trials = study.trials().unwrap();
    for (t, got) in trials.iter().zip([1, 3, 0]) {
        assert_eq!(t.state, TrialState::Failed);
        let reason = t.fail_reason.as_deref().unwrap();
        assert!(reason.contains(&format!("expected 2 objective value(s), got {got}")), "{reason}");
        assert!(t.values.is_none());
    }
    assert_eq!(trials[3].state, TrialState::Complete);

    // The same through ask and tell.
    let single = Study::builder().seed(6).create().unwrap();
    let t = single.ask().unwrap();
    let stored = single.tell(t, Ok(vec![1.0, 2.0])).unwrap();
    assert_eq!(stored.state, TrialState::Failed);
    assert!(stored.fail_reason.as_deref().unwrap().contains("expected 1"));
}

#[test]
fn a_nan_result_fails_the_trial_and_infinity_does_not() {
    let study = Study::builder().seed(7).create().unwrap();
    study
        .optimize(
            |t: &mut Trial| -> Result<f64, TrialError> {
                Ok(if t.number() == 0 { f64::NAN } else { f64::INFINITY })
            },
            Budget::trials(2),
        )
        .unwrap();
    let trials = study.trials().unwrap();
    assert_eq!(trials[0].state, TrialState::Failed);
    assert!(trials[0].fail_reason.as_deref().unwrap().contains("NaN"));
    assert_eq!(trials[1].state, TrialState::Complete);
    assert_eq!(trials[1].value(), Some(f64::INFINITY));

    let two = Study::builder().directions([Direction::Minimize, Direction::Minimize]);
    let study = two.create().unwrap();
    let t = study.ask().unwrap();
    let stored = study.tell(t, Ok([1.0, f64::NAN])).unwrap();
    assert_eq!(stored.state, TrialState::Failed);
    assert!(stored.fail_reason.as_deref().unwrap().contains("NaN"));
}

#[test]
fn reporting_a_step_twice_is_refused() {
    let study = Study::builder().seed(8).create().unwrap();
    let mut t = study.ask().unwrap();
    t.report(0, 1.0).unwrap();
    t.report(1, 0.5).unwrap();
    match t.report(0, 2.0) {
        Err(Error::InvalidConfig(m)) => assert!(m.contains("step 0"), "{m}"),
        other => panic!("expected InvalidConfig, got {other:?}"),
    }
    let stored = study.tell(t, Ok(0.5)).unwrap();
    assert_eq!(stored.intermediate_values[&0], vec![1.0], "the first report is kept");
}

#[test]
fn reporting_the_wrong_number_of_values_is_refused() {
    let study = Study::builder().seed(9).create().unwrap();
    let mut t = study.ask().unwrap();
    assert_eq!(
        t.report_values(0, &[1.0, 2.0]),
        Err(Error::WrongNumberOfValues { expected: 1, got: 2 })
    );
    assert_eq!(t.report_values(0, &[]), Err(Error::WrongNumberOfValues { expected: 1, got: 0 }));
    let stored = study.tell(t, Ok(1.0)).unwrap();
    assert!(stored.intermediate_values.is_empty());

    let two = Study::builder().directions([Direction::Minimize, Direction::Maximize]);
    let study = two.create().unwrap();
    let mut t = study.ask().unwrap();
    let e = t.report(0, 1.0).unwrap_err();
    assert_eq!(e, Error::WrongNumberOfValues { expected: 2, got: 1 });
    assert!(e.to_string().contains("2 direction(s)"), "{e}");
    t.report_values(0, &[1.0, 2.0]).unwrap();
}

#[test]
fn nan_constraints_are_refused() {
    let study = Study::builder().seed(10).create().unwrap();
    let mut t = study.ask().unwrap();
    match t.set_constraints(vec![0.0, f64::NAN]) {
        Err(Error::InvalidConfig(m)) => assert!(m.contains("NaN"), "{m}"),
        other => panic!("expected InvalidConfig, got {other:?}"),
    }
    let stored = study.tell(t, Ok(1.0)).unwrap();
    assert!(stored.constraints.is_empty());
}

#[test]
fn add_trial_refuses_bad_records_and_stores_nothing() {
    let study = Study::builder().seed(11).create().unwrap();
    let x = || Distribution::float(0.0, 1.0);
    let config = |known: KnownTrial, needle: &str| match study.add_trial(known) {
        Err(Error::InvalidConfig(m)) => assert!(m.contains(needle), "'{needle}' not in: {m}"),
        other => panic!("expected InvalidConfig ({needle}), got {other:?}"),
    };
    config(KnownTrial::complete(f64::NAN), "NaN");
    config(KnownTrial::unfinished(TrialState::Complete), "values");
    config(KnownTrial::unfinished(TrialState::Running), "running");
    config(KnownTrial::unfinished(TrialState::Waiting), "waiting");
    config(KnownTrial::complete(1.0).param("x", x(), 0.5).param("x", x(), 0.2), "'x'");
    config(KnownTrial::complete(1.0).constraints(vec![f64::NAN]), "NaN");
    config(KnownTrial::complete(1.0).intermediate(3, vec![1.0, 2.0]), "step 3");

    assert_eq!(
        study.add_trial(KnownTrial::complete(vec![1.0, 2.0])).unwrap_err(),
        Error::WrongNumberOfValues { expected: 1, got: 2 }
    );
    for value in [ParamValue::Float(1.5), ParamValue::from("a"), ParamValue::Bool(true)] {
        match study.add_trial(KnownTrial::complete(1.0).param("x", x(), value)) {
            Err(Error::ValueOutOfDistribution { name, distribution, .. }) => {
                assert_eq!((name.as_str(), distribution.as_str()), ("x", "float [0, 1]"));
            }
            other => panic!("expected ValueOutOfDistribution, got {other:?}"),
        }
    }
    let categorical = Distribution::Categorical(CategoricalDistribution { choices: Arc::from([]) });
    for (d, needle) in [(Distribution::float(1.0, 0.0), "greater"), (categorical, "choice")] {
        assert_invalid(study.add_trial(KnownTrial::complete(1.0).param("x", d, 0.5)), "x", needle);
    }
    assert!(study.trials().unwrap().is_empty(), "a refused add_trial stored a trial");
}

#[test]
fn best_trial_needs_a_completed_single_objective_trial() {
    let study = Study::builder().seed(12).create().unwrap();
    assert_eq!(study.best_trial().unwrap_err(), Error::NoCompletedTrials);
    assert_eq!(study.best_value().unwrap_err(), Error::NoCompletedTrials);
    assert_eq!(study.best_params().unwrap_err(), Error::NoCompletedTrials);
    assert!(study.best_trials().unwrap().is_empty());
    study.add_trial(KnownTrial::unfinished(TrialState::Failed)).unwrap();
    study.add_trial(KnownTrial::unfinished(TrialState::Pruned)).unwrap();
    let e = study.best_trial().unwrap_err();
    assert_eq!(e, Error::NoCompletedTrials);
    assert!(e.to_string().contains("no completed trial"), "{e}");
    study.add_trial(KnownTrial::complete(1.0).constraints(vec![0.5])).unwrap();
    assert_eq!(study.best_trial().unwrap_err(), Error::NoFeasibleTrial);

    let two = Study::builder().directions([Direction::Minimize, Direction::Maximize]);
    let study = two.create().unwrap();
    study.add_trial(KnownTrial::complete([1.0, 2.0])).unwrap();
    let e = study.best_trial().unwrap_err();
    assert_eq!(e, Error::MultiObjective(2));
    assert!(e.to_string().contains("best_trials()"), "the message points to the fix: {e}");
    assert_eq!(study.best_value().unwrap_err(), Error::MultiObjective(2));
    assert_eq!(study.best_params().unwrap_err(), Error::MultiObjective(2));
    assert_eq!(study.best_trials().unwrap().len(), 1);
}

#[test]
fn optimize_refuses_zero_threads_and_a_budget_without_limits() {
    let study = Study::builder().seed(13).create().unwrap();
    let calls = AtomicUsize::new(0);
    let objective = |_: &mut Trial| -> Result<f64, TrialError> {
        calls.fetch_add(1, Ordering::SeqCst);
        Ok(1.0)
    };
    match study.optimize_parallel(objective, Budget::trials(5), 0) {
        Err(Error::InvalidConfig(m)) => assert!(m.contains("threads"), "{m}"),
        other => panic!("expected InvalidConfig, got {other:?}"),
    }
    match study.optimize(objective, Budget::default()) {
        Err(Error::InvalidConfig(m)) => assert!(m.contains("Budget::trials"), "{m}"),
        other => panic!("expected InvalidConfig, got {other:?}"),
    }
    assert_eq!(calls.load(Ordering::SeqCst), 0);
    assert!(study.trials().unwrap().is_empty());
    // A budget of zero trials is a valid, empty run.
    let report = study.optimize(objective, Budget::trials(0)).unwrap();
    assert_eq!(report.trials, 0);
    assert_eq!(calls.load(Ordering::SeqCst), 0);
}

#[test]
fn the_builder_refuses_empty_names_and_bad_settings() {
    let refused = |b: tunewise_core::StudyBuilder, needle: &str| match b.create() {
        Err(Error::InvalidConfig(m)) => assert!(m.contains(needle), "'{needle}' not in: {m}"),
        other => panic!("expected InvalidConfig ({needle}), got {other:?}"),
    };
    refused(Study::builder().name(""), "name is empty");
    refused(Study::builder().name("   "), "name is empty");
    refused(Study::builder().worker_id(""), "worker id is empty");
    refused(Study::builder().lease_duration(Duration::from_millis(5)), "lease_duration");
    match Study::builder().load() {
        Err(Error::InvalidConfig(m)) => assert!(m.contains("name"), "{m}"),
        other => panic!("expected InvalidConfig, got {other:?}"),
    }
}

#[test]
fn loading_a_missing_study_fails_with_its_name() {
    let storage: Arc<dyn Storage> = Arc::new(InMemoryStorage::new());
    let e = Study::builder().name("nope").storage(storage).load().unwrap_err();
    assert_eq!(e, Error::StudyNotFound("nope".into()));
    assert!(e.to_string().contains("'nope'"), "{e}");
}

#[test]
fn creating_a_duplicate_study_fails_and_loading_it_works() {
    let storage: Arc<dyn Storage> = Arc::new(InMemoryStorage::new());
    let make = || Study::builder().name("s").storage(storage.clone());
    make().create().unwrap();
    let e = make().create().unwrap_err();
    assert_eq!(e, Error::StudyExists("s".into()));
    assert!(e.to_string().contains("'s'"), "{e}");
    assert!(make().load_if_exists(true).create().is_ok());
    assert!(make().load().is_ok());
    // Loading with other directions than the study's is refused.
    match make().maximize().load() {
        Err(Error::InvalidConfig(m)) => assert!(m.contains("directions"), "{m}"),
        other => panic!("expected InvalidConfig, got {other:?}"),
    }
}

#[test]
fn tell_refuses_a_trial_of_another_study() {
    // Two studies in one storage.
    let storage: Arc<dyn Storage> = Arc::new(InMemoryStorage::new());
    let a = Study::builder().name("a").storage(storage.clone()).create().unwrap();
    let b = Study::builder().name("b").storage(storage).create().unwrap();
    let t = a.ask().unwrap();
    match b.tell(t, Ok(1.0)) {
        Err(Error::InvalidConfig(m)) => assert!(m.contains("'a'") && m.contains("'b'"), "{m}"),
        other => panic!("expected InvalidConfig, got {other:?}"),
    }
    assert!(b.trials().unwrap().is_empty());

    // Two studies with the same id in two storages.
    let (c, d) = (Study::builder().create().unwrap(), Study::builder().create().unwrap());
    assert_eq!(c.record().id, d.record().id);
    let t = c.ask().unwrap();
    assert!(matches!(d.tell(t, Ok(1.0)), Err(Error::InvalidConfig(_))));
    assert!(d.trials().unwrap().is_empty());

    // Another handle on the same study may tell.
    let storage: Arc<dyn Storage> = Arc::new(InMemoryStorage::new());
    let e = Study::builder().name("e").storage(storage.clone()).create().unwrap();
    let e2 = Study::builder().name("e").storage(storage).load().unwrap();
    let t = e.ask().unwrap();
    assert_eq!(e2.tell(t, Ok(1.0)).unwrap().state, TrialState::Complete);
}
