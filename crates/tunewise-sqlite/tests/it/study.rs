//! Studies on SQLite through the engine's `Study`: resuming from the file, the sampler's full
//! loop, worker restarts, the commit budget, and several handles on one file.

use std::sync::Arc;
use std::time::Duration;

use tunewise_core::prelude::*;
use tunewise_core::storage::Lease;
use tunewise_core::{FrozenTrial, InMemoryStorage, Param, Storage};

use crate::common::{db_path, open, open_dyn, temp_dir};

/// An objective over every kind of parameter, with reports, attributes, constraints, pruning
/// and failures, so that every part of a trial goes through the storage.
fn objective(trial: &mut Trial) -> Result<f64, TrialError> {
    let x = trial.suggest_float("x", -5.0, 5.0)?;
    let lr = trial.suggest_float_log("lr", 1e-5, 1e-1)?;
    let dropout = trial.suggest_float_step("dropout", 0.0, 0.5, 0.1)?;
    let layers = trial.suggest_int("layers", 1, 8)?;
    let units = trial.suggest_int_log("units", 8, 1024)?;
    let batch = trial.suggest_int_step("batch", 16, 128, 16)?;
    let act = trial.suggest_categorical("activation", &["relu", "tanh", "gelu"])?;
    let bias = trial.suggest_categorical("bias", &[true, false])?;
    let value = x * x
        + lr.ln().abs()
        + dropout
        + layers as f64
        + (units as f64).ln()
        + batch as f64 / 100.0
        + act.len() as f64
        + f64::from(u8::from(bias));
    trial.report(0, value * 2.0)?;
    trial.report(1, value)?;
    trial.set_user_attr("act_len", act.len() as i64)?;
    trial.set_constraints(vec![x - 4.0])?;
    match trial.number() % 7 {
        3 => Err(TrialError::Pruned),
        5 => Err(TrialError::failed("diverged")),
        _ => Ok(value),
    }
}

/// What must be the same whichever storage ran the trial.
fn essence(t: &FrozenTrial) -> impl PartialEq + std::fmt::Debug {
    (
        t.number,
        t.state,
        t.params.clone(),
        t.values.clone(),
        t.intermediate_values.clone(),
        t.constraints.clone(),
        t.user_attrs.clone(),
        t.fail_reason.clone(),
        t.attempt,
    )
}

#[test]
fn the_random_sampler_gives_the_same_study_on_sqlite_as_in_memory() {
    let dir = temp_dir();
    let run = |storage: Arc<dyn Storage>| {
        let study = Study::builder()
            .name("same")
            .storage(storage)
            .sampler(RandomSampler::with_seed(11))
            .create()
            .unwrap();
        study.enqueue_trial([("x", 1.5)]).unwrap();
        study.optimize(objective, Budget::trials(60)).unwrap();
        study
    };
    let on_file = run(open_dyn(&db_path(&dir)));
    let in_memory = run(Arc::new(InMemoryStorage::new()));
    let a = on_file.trials().unwrap();
    let b = in_memory.trials().unwrap();
    assert_eq!(a.len(), 60);
    assert_eq!(
        a.iter().map(|t| essence(t)).collect::<Vec<_>>(),
        b.iter().map(|t| essence(t)).collect::<Vec<_>>()
    );
    assert_eq!(a[0].param_value("x"), Some(ParamValue::Float(1.5)), "the enqueued trial ran first");
    assert_eq!(on_file.best_trial().unwrap().number, in_memory.best_trial().unwrap().number);
    let states = |s: TrialState| a.iter().filter(|t| t.state == s).count();
    assert_eq!((states(TrialState::Pruned), states(TrialState::Failed)), (9, 8));
    assert!(a.iter().all(|t| t.params.len() == 8 && t.intermediate_values.len() == 2));
}

#[test]
fn a_study_resumes_from_the_file_after_its_handles_are_dropped() {
    let dir = temp_dir();
    let path = db_path(&dir);
    let (before, best) = {
        let study = Study::builder()
            .name("resume")
            .maximize()
            .storage(open(&path))
            .sampler(RandomSampler::with_seed(3))
            .create()
            .unwrap();
        study.set_user_attr("dataset", "iris").unwrap();
        study.optimize(objective, Budget::trials(25)).unwrap();
        (study.trials().unwrap(), study.best_trial().unwrap())
    };
    let study = Study::builder()
        .name("resume")
        .storage(open(&path))
        .sampler(RandomSampler::with_seed(4))
        .load()
        .unwrap();
    assert_eq!(study.directions(), [Direction::Maximize]);
    assert_eq!(study.record().user_attrs["dataset"], "iris");
    let after = study.trials().unwrap();
    assert_eq!(after, before, "every trial reads back exactly");
    assert_eq!(study.best_trial().unwrap(), best);
    study.optimize(objective, Budget::trials(5)).unwrap();
    let numbers: Vec<u64> = study.trials().unwrap().iter().map(|t| t.number).collect();
    assert_eq!(numbers, (0..30).collect::<Vec<_>>(), "numbering goes on where it stopped");
}

#[test]
fn a_worker_restarting_with_its_id_runs_its_abandoned_trial_again_at_once() {
    let dir = temp_dir();
    let path = db_path(&dir);
    let storage = open(&path);
    let study = Study::builder().name("restart").storage(storage.clone()).create().unwrap();
    // The worker "w" dies holding a trial with a long lease, after storing one parameter.
    let t = storage.start_trial(study.record().id, "w", Some(Duration::from_secs(3600))).unwrap();
    let x = Param {
        name: Arc::from("x"),
        distribution: Arc::new(Distribution::float(-5.0, 5.0)),
        internal: 2.5,
    };
    storage.set_trial_params(&Lease::of(study.record().id, &t), &[x]).unwrap();
    drop((study, storage));

    let study =
        Study::builder().name("restart").storage(open(&path)).worker_id("w").load().unwrap();
    let waiting = study.trial(0).unwrap();
    assert_eq!((waiting.state, waiting.attempt), (TrialState::Waiting, 1));
    study.optimize(objective, Budget::trials(1)).unwrap();
    let done = study.trial(0).unwrap();
    assert_eq!((done.state, done.attempt), (TrialState::Complete, 1));
    assert_eq!(done.param_value("x"), Some(ParamValue::Float(2.5)), "its value was kept");
    assert_eq!(study.trials().unwrap().len(), 1, "no new trial was needed");
}

#[test]
fn a_trial_costs_two_commits_and_each_report_adds_its_own() {
    let dir = temp_dir();
    let storage = open(&db_path(&dir));
    let study = Study::builder().name("commits").storage(storage.clone()).create().unwrap();
    let ten = |t: &mut Trial| -> Result<f64, TrialError> {
        let mut sum = 0.0;
        for i in 0..10 {
            sum += t.suggest_float(&format!("p{i}"), 0.0, 1.0)?;
        }
        Ok(sum)
    };
    let before = storage.commits();
    study.optimize(ten, Budget::trials(40)).unwrap();
    // Start and finish: two commits per trial; and one per run, recording why it stopped (the
    // study attribute `stop_reason`).
    assert_eq!(storage.commits() - before, 80 + 1, "two commits per trial, one per run");
    let reporting = |t: &mut Trial| -> Result<f64, TrialError> {
        let v = ten(t)?;
        t.report(0, v)?;
        Ok(v)
    };
    let before = storage.commits();
    study.optimize(reporting, Budget::trials(10)).unwrap();
    // Start, the parameters flushed before the report, the report, finish; the stop reason.
    assert_eq!(storage.commits() - before, 40 + 1);
    // Reading costs no commit.
    let before = storage.commits();
    let _ = study.trials().unwrap();
    let _ = Study::builder().name("commits").storage(storage.clone()).load().unwrap();
    assert_eq!(storage.commits(), before, "loading and reading a study commits nothing");
}

#[test]
fn two_handles_on_one_file_see_each_others_trials() {
    let dir = temp_dir();
    let path = db_path(&dir);
    let a = Study::builder().name("shared").storage(open(&path)).create().unwrap();
    let b = Study::builder().name("shared").storage(open(&path)).load().unwrap();
    a.enqueue_trial([("x", 0.25)]).unwrap();
    b.optimize(objective, Budget::trials(3)).unwrap();
    a.optimize(objective, Budget::trials(2)).unwrap();
    let from_a = a.trials().unwrap();
    let from_b = b.trials().unwrap();
    assert_eq!(from_a.len(), 5);
    assert_eq!(from_a, from_b);
    assert_eq!(from_a[0].param_value("x"), Some(ParamValue::Float(0.25)));
}

#[test]
fn deleting_a_study_deletes_all_its_rows() {
    let dir = temp_dir();
    let path = db_path(&dir);
    let storage = open(&path);
    let keep = Study::builder().name("keep").storage(storage.clone()).create().unwrap();
    keep.optimize(objective, Budget::trials(3)).unwrap();
    let gone = Study::builder().name("gone").storage(storage.clone()).create().unwrap();
    gone.optimize(objective, Budget::trials(5)).unwrap();
    storage.delete_study(gone.record().id).unwrap();

    let conn = rusqlite::Connection::open(&path).unwrap();
    let count = |sql: &str| -> i64 { conn.query_row(sql, [], |r| r.get(0)).unwrap() };
    assert_eq!(count("SELECT count(*) FROM studies"), 1);
    assert_eq!(count("SELECT count(*) FROM trials"), 3);
    assert_eq!(count("SELECT count(DISTINCT study_id) FROM param_keys"), 1);
    assert_eq!(count("SELECT count(*) FROM intermediate_values"), 6);
    let again = Study::builder().name("gone").storage(storage.clone()).create().unwrap();
    assert_ne!(again.record().id, gone.record().id, "ids are never reused");
    again.optimize(objective, Budget::trials(1)).unwrap();
    assert_eq!(again.trials().unwrap()[0].number, 0);
    assert_eq!(keep.trials().unwrap().len(), 3);
}

#[test]
fn workers_starting_at_once_with_load_if_exists_share_one_study() {
    // Every worker runs the same `load_if_exists(true).create()`: whichever creates the study,
    // the others load it instead of failing with StudyExists.
    for round in 0..5 {
        let dir = temp_dir();
        let path = db_path(&dir);
        let ids: Vec<_> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..8)
                .map(|_| {
                    s.spawn(|| {
                        let study = Study::builder()
                            .name("together")
                            .storage(open_dyn(&path))
                            .load_if_exists(true)
                            .create();
                        study.map(|s| s.record().id)
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        for id in &ids {
            assert_eq!(id, &ids[0], "round {round}: {ids:?}");
        }
    }
}
