//! Study behaviour: the loop, budgets, failures, ask/tell, enqueue, add_trial, best trials,
//! callbacks, threads, resuming, export.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tunewise_core::prelude::*;
use tunewise_core::storage::Storage;
use tunewise_core::{Error, InMemoryStorage};

fn square(t: &mut Trial) -> Result<f64, TrialError> {
    let x = t.suggest_float("x", -5.0, 5.0)?;
    Ok(x * x)
}

#[test]
fn optimize_runs_budget_and_finds_best() {
    let study = Study::builder().minimize().seed(1).create().unwrap();
    let report = study.optimize(square, Budget::trials(30)).unwrap();
    assert_eq!(report.trials, 30);
    assert_eq!(report.stop_reason, StopReason::TrialBudget);
    let trials = study.trials().unwrap();
    assert_eq!(trials.len(), 30);
    assert!(trials.iter().all(|t| t.state == TrialState::Complete));
    let numbers: Vec<u64> = trials.iter().map(|t| t.number).collect();
    assert_eq!(numbers, (0..30).collect::<Vec<_>>());
    let best = study.best_trial().unwrap();
    let min = trials.iter().filter_map(|t| t.value()).fold(f64::INFINITY, f64::min);
    assert_eq!(best.value().unwrap(), min);
    assert_eq!(study.best_value().unwrap(), min);
    assert_eq!(study.best_params().unwrap()["x"], best.param_value("x").unwrap());
}

#[test]
fn maximize_picks_largest() {
    let study = Study::builder().maximize().seed(2).create().unwrap();
    study.optimize(square, Budget::trials(20)).unwrap();
    let max = study.trials().unwrap().iter().filter_map(|t| t.value()).fold(f64::MIN, f64::max);
    assert_eq!(study.best_value().unwrap(), max);
}

#[test]
fn time_budget_stops_the_study() {
    let study = Study::builder().seed(3).create().unwrap();
    let report = study
        .optimize(
            |t: &mut Trial| -> Result<f64, TrialError> {
                std::thread::sleep(Duration::from_millis(5));
                square(t)
            },
            Budget::time(Duration::from_millis(100)),
        )
        .unwrap();
    assert_eq!(report.stop_reason, StopReason::TimeLimit);
    assert!(report.trials >= 2, "ran {} trials", report.trials);
    assert!(report.trials < 100);
}

#[test]
fn trials_and_time_budget_whichever_first() {
    let study = Study::builder().seed(3).create().unwrap();
    let report =
        study.optimize(square, Budget::trials(5).with_time(Duration::from_secs(60))).unwrap();
    assert_eq!(report.trials, 5);
    assert_eq!(report.stop_reason, StopReason::TrialBudget);
}

#[test]
fn parallel_threads_run_every_trial_once() {
    let study = Study::builder().seed(4).create().unwrap();
    let calls = AtomicUsize::new(0);
    let report = study
        .optimize_parallel(
            |t: &mut Trial| -> Result<f64, TrialError> {
                calls.fetch_add(1, Ordering::SeqCst);
                square(t)
            },
            Budget::trials(200),
            4,
        )
        .unwrap();
    assert_eq!(report.trials, 200);
    assert_eq!(calls.load(Ordering::SeqCst), 200);
    let trials = study.trials().unwrap();
    assert_eq!(trials.len(), 200);
    for (i, t) in trials.iter().enumerate() {
        assert_eq!(t.number, i as u64);
        assert_eq!(t.state, TrialState::Complete);
    }
}

#[test]
fn failures_are_recorded_and_the_study_goes_on() {
    let study = Study::builder().seed(5).create().unwrap();
    let report = study
        .optimize(
            |t: &mut Trial| -> Result<f64, TrialError> {
                let x = t.suggest_float("x", 0.0, 1.0)?;
                match t.number() % 4 {
                    0 => Err(TrialError::failed("diverged")),
                    1 => Ok(f64::NAN),
                    2 => panic!("boom"),
                    _ => Ok(x),
                }
            },
            Budget::trials(8),
        )
        .unwrap();
    assert_eq!(report.trials, 8);
    let trials = study.trials().unwrap();
    let reasons: Vec<Option<&str>> = trials.iter().map(|t| t.fail_reason.as_deref()).collect();
    assert_eq!(reasons[0], Some("diverged"));
    assert!(reasons[1].unwrap().contains("NaN"));
    assert!(reasons[2].unwrap().contains("panicked: boom"));
    assert_eq!(trials[3].state, TrialState::Complete);
    assert_eq!(trials.iter().filter(|t| t.state == TrialState::Failed).count(), 6);
    // Failed trials keep the parameters they had.
    assert!(trials[0].param("x").is_some());
}

#[test]
fn error_chains_become_the_failure_message() {
    let study = Study::builder().seed(5).create().unwrap();
    study
        .optimize(
            |_t: &mut Trial| -> Result<f64, TrialError> {
                let n: i32 = "abc".parse()?;
                Ok(f64::from(n))
            },
            Budget::trials(1),
        )
        .unwrap();
    let t = study.trial(0).unwrap();
    assert_eq!(t.state, TrialState::Failed);
    assert!(t.fail_reason.as_deref().unwrap().contains("invalid digit"));
}

#[test]
fn stop_on_failure_stops_with_the_message() {
    let study = Study::builder().seed(6).stop_on_failure(true).create().unwrap();
    let err = study
        .optimize(
            |t: &mut Trial| -> Result<f64, TrialError> {
                if t.number() == 2 {
                    return Err(TrialError::failed("out of memory"));
                }
                square(t)
            },
            Budget::trials(10),
        )
        .unwrap_err();
    assert_eq!(err, Error::ObjectiveFailed { number: 2, message: "out of memory".into() });
    assert_eq!(study.trials().unwrap().len(), 3);
}

#[test]
fn callback_can_stop_the_study() {
    let study = Study::builder().seed(7).create().unwrap();
    let seen = Arc::new(AtomicUsize::new(0));
    let seen2 = seen.clone();
    study.add_callback(move |s: &Study, t| {
        seen2.fetch_add(1, Ordering::SeqCst);
        assert_eq!(s.name(), s.record().name);
        if t.number == 4 {
            Flow::Stop
        } else {
            Flow::Continue
        }
    });
    let report = study.optimize(square, Budget::trials(100)).unwrap();
    assert_eq!(report.stop_reason, StopReason::Callback);
    assert_eq!(report.trials, 5);
    assert_eq!(seen.load(Ordering::SeqCst), 5);
}

#[test]
fn ask_and_tell_drive_the_study() {
    let study = Study::builder().seed(8).create().unwrap();
    for _ in 0..10 {
        let mut trial = study.ask().unwrap();
        let x = trial.suggest_float("x", -1.0, 1.0).unwrap();
        let stored = study.tell(trial, Ok(x.abs())).unwrap();
        assert_eq!(stored.state, TrialState::Complete);
        assert_eq!(stored.value(), Some(x.abs()));
    }
    let trial = study.ask().unwrap();
    let stored = study.tell::<f64>(trial, Err(TrialError::Pruned)).unwrap();
    assert_eq!(stored.state, TrialState::Pruned);
    assert_eq!(study.trials().unwrap().len(), 11);
}

#[test]
fn a_dropped_asked_trial_is_recorded_as_failed() {
    let study = Study::builder().seed(8).create().unwrap();
    let mut trial = study.ask().unwrap();
    trial.suggest_int("n", 1, 3).unwrap();
    drop(trial);
    let t = study.trial(0).unwrap();
    assert_eq!(t.state, TrialState::Failed);
    assert!(t.fail_reason.as_deref().unwrap().contains("dropped"));
    assert!(t.param("n").is_some());
}

#[test]
fn a_detached_trial_is_told_by_number_from_another_handle() {
    let storage: Arc<dyn Storage> = Arc::new(InMemoryStorage::new());
    let asker = Study::builder().name("outer").storage(storage.clone()).create().unwrap();
    let mut numbers = Vec::new();
    for _ in 0..3 {
        let mut trial = asker.ask().unwrap();
        trial.suggest_float("x", 0.0, 1.0).unwrap();
        numbers.push(trial.number());
        trial.detach().unwrap(); // the asking process exits; the trial stays running
    }
    drop(asker);
    let teller = Study::builder().name("outer").storage(storage).load().unwrap();
    assert_eq!(teller.trial(0).unwrap().state, TrialState::Running);
    assert!(teller.trial(0).unwrap().param("x").is_some(), "the parameters were stored");

    // Refused results leave the trial running, to be told again.
    let err = teller.tell_number(numbers[0], Ok(vec![1.0, 2.0])).unwrap_err();
    assert!(matches!(err, Error::WrongNumberOfValues { expected: 1, got: 2 }), "{err}");
    let err = teller.tell_number(numbers[0], Ok(f64::NAN)).unwrap_err();
    assert!(err.to_string().contains("NaN"), "{err}");
    assert_eq!(teller.trial(0).unwrap().state, TrialState::Running);

    let stored = teller.tell_number(numbers[0], Ok(0.25)).unwrap();
    assert_eq!((stored.state, stored.value()), (TrialState::Complete, Some(0.25)));
    let pruned = teller.tell_number::<f64>(numbers[1], Err(TrialError::Pruned)).unwrap();
    assert_eq!(pruned.state, TrialState::Pruned);
    let failed = teller.tell_number::<f64>(numbers[2], Err(TrialError::failed("oom"))).unwrap();
    assert_eq!((failed.state, failed.fail_reason.as_deref()), (TrialState::Failed, Some("oom")));
    assert_eq!(teller.best_value().unwrap(), 0.25);

    let err = teller.tell_number(numbers[0], Ok(0.1)).unwrap_err();
    assert_eq!(err, Error::TrialFinished(numbers[0]));
    assert_eq!(teller.trial(0).unwrap().value(), Some(0.25), "a second tell changes nothing");
    assert!(matches!(teller.tell_number(99, Ok(0.1)).unwrap_err(), Error::TrialNotFound(_)));
    teller.enqueue_trial([("x", 0.5)]).unwrap();
    let err = teller.tell_number(3, Ok(0.1)).unwrap_err();
    assert!(err.to_string().contains("waiting"), "{err}");
}

#[test]
fn enqueued_trials_run_first_with_their_values() {
    let study = Study::builder().seed(9).create().unwrap();
    study.enqueue_trial([("x", 1.5)]).unwrap();
    study.enqueue_trial([("x", ParamValue::from(-2.0)), ("n", ParamValue::from(3))]).unwrap();
    study
        .optimize(
            |t: &mut Trial| -> Result<f64, TrialError> {
                let x = t.suggest_float("x", -5.0, 5.0)?;
                let n = t.suggest_int("n", 1, 4)?;
                Ok(x + n as f64)
            },
            Budget::trials(4),
        )
        .unwrap();
    let trials = study.trials().unwrap();
    assert_eq!(trials.len(), 4);
    assert_eq!(trials[0].param_value("x"), Some(ParamValue::Float(1.5)));
    assert_eq!(trials[1].param_value("x"), Some(ParamValue::Float(-2.0)));
    assert_eq!(trials[1].param_value("n"), Some(ParamValue::Int(3)));
    // The first enqueued trial did not fix "n": it was sampled.
    assert!(trials[0].param("n").is_some());
}

#[test]
fn enqueued_value_outside_the_distribution_fails_that_trial_only() {
    let study = Study::builder().seed(9).create().unwrap();
    study.enqueue_trial([("x", 50.0)]).unwrap();
    let report = study.optimize(square, Budget::trials(3)).unwrap();
    assert_eq!(report.trials, 3);
    let trials = study.trials().unwrap();
    assert_eq!(trials[0].state, TrialState::Failed);
    let reason = trials[0].fail_reason.as_deref().unwrap();
    assert!(reason.contains("'x'") && reason.contains("50"), "{reason}");
    assert_eq!(trials[1].state, TrialState::Complete);
}

#[test]
fn add_trial_records_known_results() {
    let study = Study::builder().seed(10).create().unwrap();
    let stored = study
        .add_trial(
            KnownTrial::complete(0.25)
                .param("x", Distribution::float(-5.0, 5.0), 0.5)
                .param("opt", Distribution::categorical(["adam", "sgd"]), "sgd")
                .user_attr("source", "spreadsheet"),
        )
        .unwrap();
    assert_eq!(stored.number, 0);
    assert_eq!(stored.param_value("opt"), Some(ParamValue::from("sgd")));
    assert_eq!(study.best_value().unwrap(), 0.25);
    study.optimize(square, Budget::trials(3)).unwrap();
    assert_eq!(study.trials().unwrap().len(), 4);
}

#[test]
fn multi_objective_pareto_front() {
    let study = Study::builder()
        .directions([Direction::Minimize, Direction::Maximize])
        .seed(11)
        .create()
        .unwrap();
    let points = [(1.0, 1.0), (2.0, 3.0), (1.5, 0.5), (3.0, 3.0), (0.5, 0.2), (2.0, 3.0)];
    for (a, b) in points {
        study.add_trial(KnownTrial::complete([a, b])).unwrap();
    }
    let front: Vec<u64> = study.best_trials().unwrap().iter().map(|t| t.number).collect();
    // (1.5, 0.5) is dominated by (1, 1); (3, 3) by (2, 3); the two (2, 3) tie and both stay.
    assert_eq!(front, vec![0, 1, 4, 5]);
    assert_eq!(study.best_trial().unwrap_err(), Error::MultiObjective(2));
    study
        .optimize(
            |t: &mut Trial| -> Result<(f64, f64), TrialError> {
                let x = t.suggest_float("x", 0.0, 1.0)?;
                Ok((x, x * x))
            },
            Budget::trials(5),
        )
        .unwrap();
    assert_eq!(study.trials().unwrap().len(), 11);
}

#[test]
fn constraints_make_infeasible_trials_lose() {
    let study = Study::builder().seed(12).create().unwrap();
    study
        .optimize(
            |t: &mut Trial| -> Result<f64, TrialError> {
                let x = t.suggest_float("x", -5.0, 5.0)?;
                // Feasible only for x >= 1: the unconstrained optimum x = 0 is excluded.
                t.set_constraints(vec![1.0 - x])?;
                Ok(x * x)
            },
            Budget::trials(60),
        )
        .unwrap();
    let best = study.best_trial().unwrap();
    assert!(best.is_feasible());
    assert!(best.param_value("x").unwrap().as_f64().unwrap() >= 1.0);
    assert_eq!(best.constraints.len(), 1);
}

#[test]
fn no_feasible_trial_is_an_error() {
    let study = Study::builder().create().unwrap();
    study.add_trial(KnownTrial::complete(1.0).constraints(vec![0.5])).unwrap();
    assert_eq!(study.best_trial().unwrap_err(), Error::NoFeasibleTrial);
}

#[test]
fn intermediate_values_user_attrs_and_pruned_trials() {
    let study = Study::builder().seed(13).create().unwrap();
    study
        .optimize(
            |t: &mut Trial| -> Result<f64, TrialError> {
                let lr = t.suggest_float_log("lr", 1e-4, 1e-1)?;
                t.set_user_attr("model", "linear")?;
                for step in 0..3 {
                    t.report(step, lr * step as f64)?;
                    if t.should_prune()? {
                        return Err(TrialError::Pruned);
                    }
                }
                if t.number() == 1 {
                    return Err(TrialError::Pruned);
                }
                Ok(lr)
            },
            Budget::trials(3),
        )
        .unwrap();
    let trials = study.trials().unwrap();
    assert_eq!(trials[0].intermediate_values.len(), 3);
    assert_eq!(trials[0].last_step().unwrap().0, 2);
    assert_eq!(trials[0].user_attrs["model"], "linear");
    assert_eq!(trials[1].state, TrialState::Pruned);
    assert_eq!(trials[1].intermediate_values.len(), 3);
}

#[test]
fn conditional_parameters_appear_only_in_their_branch() {
    let study = Study::builder().seed(14).create().unwrap();
    study
        .optimize(
            |t: &mut Trial| -> Result<f64, TrialError> {
                let model = t.suggest_categorical("model", &["svm", "tree"])?;
                Ok(if model == "svm" {
                    t.suggest_float_log("c", 1e-3, 1e3)?.ln().abs()
                } else {
                    t.suggest_int("depth", 1, 10)? as f64
                })
            },
            Budget::trials(40),
        )
        .unwrap();
    for t in study.trials().unwrap() {
        let svm = t.param_value("model").unwrap().as_str() == Some("svm");
        assert_eq!(t.param("c").is_some(), svm);
        assert_eq!(t.param("depth").is_some(), !svm);
    }
}

#[test]
fn suggesting_the_same_name_twice_returns_the_same_value() {
    let study = Study::builder().seed(15).create().unwrap();
    let mut t = study.ask().unwrap();
    let a = t.suggest_float("x", 0.0, 1.0).unwrap();
    let b = t.suggest_float("x", 0.0, 1.0).unwrap();
    assert_eq!(a, b);
    let err = t.suggest_float("x", 0.0, 2.0).unwrap_err();
    assert!(matches!(err, Error::DistributionMismatch { ref name, .. } if name == "x"));
    study.tell(t, Ok(a)).unwrap();
}

#[test]
fn a_study_resumes_from_its_storage() {
    let storage: Arc<dyn Storage> = Arc::new(InMemoryStorage::new());
    let study = Study::builder().name("resume").storage(storage.clone()).seed(16).create().unwrap();
    study.optimize(square, Budget::trials(5)).unwrap();
    let again = Study::builder().name("resume").storage(storage.clone()).load().unwrap();
    assert_eq!(again.trials().unwrap().len(), 5);
    again.optimize(square, Budget::trials(5)).unwrap();
    assert_eq!(study.trials().unwrap().len(), 10, "the first handle sees the new trials");
    // create() refuses the existing name unless asked to load it.
    let err = Study::builder().name("resume").storage(storage.clone()).create().unwrap_err();
    assert_eq!(err, Error::StudyExists("resume".into()));
    let loaded =
        Study::builder().name("resume").storage(storage).load_if_exists(true).create().unwrap();
    assert_eq!(loaded.trials().unwrap().len(), 10);
}

#[test]
fn a_restarted_worker_recovers_its_running_trials_at_once() {
    let storage: Arc<dyn Storage> = Arc::new(InMemoryStorage::new());
    let first = Study::builder()
        .name("crash")
        .storage(storage.clone())
        .worker_id("node-1")
        .create()
        .unwrap();
    let mut trial = first.ask().unwrap();
    trial.suggest_float("x", 0.0, 1.0).unwrap();
    let x = trial.params()["x"].clone();
    trial.detach().unwrap(); // the process "dies" with the trial running
    assert_eq!(first.trial(0).unwrap().state, TrialState::Running);

    let restarted =
        Study::builder().name("crash").storage(storage).worker_id("node-1").load().unwrap();
    assert_eq!(restarted.trial(0).unwrap().state, TrialState::Waiting);
    restarted.optimize(square, Budget::trials(1)).unwrap();
    let t = restarted.trial(0).unwrap();
    assert_eq!(t.state, TrialState::Complete);
    assert_eq!(t.attempt, 1);
    assert_eq!(t.param_value("x"), Some(x), "the retried trial keeps its parameters");
    assert_eq!(restarted.trials().unwrap().len(), 1);
}

#[test]
fn an_expired_lease_is_reclaimed_and_the_late_write_refused() {
    let storage: Arc<dyn Storage> = Arc::new(InMemoryStorage::new());
    let study = Study::builder()
        .name("lease")
        .storage(storage.clone())
        .lease_duration(Duration::from_millis(100))
        .create()
        .unwrap();
    // A worker starts trial 0 with a short lease and never renews it.
    let stale = storage
        .start_trial(study.record().id, "dead-worker", Some(Duration::from_millis(50)))
        .unwrap();
    std::thread::sleep(Duration::from_millis(80));
    study.optimize(square, Budget::trials(1)).unwrap();
    let t = study.trial(0).unwrap();
    assert_eq!((t.state, t.attempt), (TrialState::Complete, 1));
    let lease = tunewise_core::storage::Lease::of(study.record().id, &stale);
    let err = storage.report(&lease, 0, &[1.0]).unwrap_err();
    assert!(matches!(err, Error::StaleAttempt { number: 0, attempt: 0, .. }), "{err}");
}

#[test]
fn export_csv_and_json() {
    let study = Study::builder().seed(17).create().unwrap();
    study
        .optimize(
            |t: &mut Trial| -> Result<f64, TrialError> {
                let x = t.suggest_float("x", 0.0, 1.0)?;
                if t.number() % 2 == 0 {
                    t.suggest_categorical("kind", &["a", "b"])?;
                }
                t.set_user_attr("note", "hello, world")?;
                Ok(x)
            },
            Budget::trials(4),
        )
        .unwrap();
    let mut csv = Vec::new();
    study.export_csv(&mut csv).unwrap();
    let csv = String::from_utf8(csv).unwrap();
    let mut lines = csv.lines();
    let header = lines.next().unwrap();
    assert!(
        header.starts_with("number,state,value,params_kind,params_x,user_attrs_note"),
        "{header}"
    );
    assert_eq!(lines.count(), 4);
    assert!(csv.contains("\"hello, world\""));

    let mut json = Vec::new();
    study.export_json(&mut json).unwrap();
    let doc: serde_json::Value = serde_json::from_slice(&json).unwrap();
    let trials = doc["trials"].as_array().unwrap();
    assert_eq!(trials.len(), 4);
    assert_eq!(trials[0]["state"], "complete");
    assert!(trials[0]["params"]["x"].is_f64());
    assert_eq!(trials[0]["distributions"]["x"]["type"], "float");
    assert!(trials[1]["params"].get("kind").is_none());
    assert_eq!(doc["directions"][0], "minimize");
}

#[test]
fn public_types_are_send_and_sync() {
    fn check<T: Send + Sync>() {}
    check::<Study>();
    check::<Trial>();
    check::<InMemoryStorage>();
    check::<RandomSampler>();
    check::<GridSampler>();
    check::<CoarseToFineSampler>();
    check::<Arc<dyn Storage>>();
    check::<tunewise_core::FrozenTrial>();
    check::<Error>();
}

#[test]
fn copy_study_between_storages_keeps_every_trial() {
    use tunewise_core::storage::{copy_study, delete_study_by_name};
    let from: Arc<dyn Storage> = Arc::new(InMemoryStorage::new());
    let to: Arc<dyn Storage> = Arc::new(InMemoryStorage::new());
    let study = Study::builder().name("src").storage(from.clone()).seed(18).create().unwrap();
    study.set_user_attr("dataset", "iris").unwrap();
    study
        .optimize(
            |t: &mut Trial| -> Result<f64, TrialError> {
                let x = t.suggest_float("x", 0.0, 1.0)?;
                t.report(0, x)?;
                if t.number() == 2 {
                    return Err(TrialError::Pruned);
                }
                Ok(x)
            },
            Budget::trials(5),
        )
        .unwrap();
    study.enqueue_trial([("x", 0.5)]).unwrap();
    let mut running = study.ask().unwrap();
    running.suggest_float("x", 0.0, 1.0).unwrap();
    let running_x = running.params()["x"].clone();
    running.detach().unwrap();

    let copied = copy_study(&*from, "src", &*to, Some("dst")).unwrap();
    assert_eq!(copied.name, "dst");
    assert_eq!(copied.user_attrs["dataset"], "iris");
    let a = study.trials().unwrap();
    let b = Study::builder().name("dst").storage(to.clone()).load().unwrap().trials().unwrap();
    assert_eq!(a.len(), b.len());
    for (x, y) in a.iter().zip(&b) {
        assert_eq!(x.number, y.number);
        if x.state == TrialState::Running {
            assert_eq!(y.state, TrialState::Waiting);
            assert_eq!(y.fixed_params, vec![(Arc::from("x"), running_x.clone())]);
            continue;
        }
        assert_eq!(
            (x.state, &x.values, &x.params, &x.intermediate_values),
            (y.state, &y.values, &y.params, &y.intermediate_values)
        );
        assert_eq!(
            (x.datetime_start, x.datetime_complete),
            (y.datetime_start, y.datetime_complete)
        );
    }
    // Taken names and missing sources are refused before anything is written.
    assert_eq!(
        copy_study(&*from, "src", &*to, Some("dst")).unwrap_err(),
        Error::StudyExists("dst".into())
    );
    assert_eq!(
        copy_study(&*from, "nope", &*to, None).unwrap_err(),
        Error::StudyNotFound("nope".into())
    );
    assert_eq!(to.list_studies().unwrap().len(), 1);
    delete_study_by_name(&*to, "dst").unwrap();
    assert!(to.list_studies().unwrap().is_empty());
    assert_eq!(delete_study_by_name(&*to, "dst").unwrap_err(), Error::StudyNotFound("dst".into()));
}

#[test]
fn categorical_choices_are_matched_per_list() {
    let study = Study::builder().seed(19).create().unwrap();
    for _ in 0..3 {
        let mut t = study.ask().unwrap();
        let a = t.suggest_categorical("opt", &["adam", "sgd"]).unwrap();
        assert_eq!(t.suggest_categorical("opt", &["adam", "sgd"]).unwrap(), a);
        let err = t.suggest_categorical("opt", &["adam", "sgd", "rmsprop"]).unwrap_err();
        assert!(matches!(err, Error::DistributionMismatch { ref name, .. } if name == "opt"));
        // Another trial may use another list for the same name (a new study phase, say).
        let b =
            t.suggest_categorical("act", &[String::from("relu"), String::from("gelu")]).unwrap();
        assert!(b == "relu" || b == "gelu");
        study.tell(t, Ok(1.0)).unwrap();
    }
    let mut t = study.ask().unwrap();
    let c = t.suggest_categorical("opt", &["adam", "sgd", "rmsprop"]).unwrap();
    assert!(["adam", "sgd", "rmsprop"].contains(&c));
    let err = t.suggest_categorical("opt", &["adam", "sgd"]).unwrap_err();
    assert!(matches!(err, Error::DistributionMismatch { .. }));
    assert!(t.suggest_categorical::<&str>("empty", &[]).is_err());
    study.tell(t, Ok(1.0)).unwrap();
}
