//! A whole `Study` on PostgreSQL: optimize, resume from a new handle and a new connection, and
//! the parts of a trial that travel through the storage (pruning reports, attributes, enqueued
//! and known trials, ask/tell).

use std::sync::Arc;
use std::time::Duration;

use tunewise_core::{
    Budget, KnownTrial, RandomSampler, Storage, Study, Trial, TrialError, TrialState,
};
use tunewise_postgres::PostgresStorage;

use crate::common;

fn objective(trial: &mut Trial) -> Result<f64, TrialError> {
    let x = trial.suggest_float("x", -10.0, 10.0)?;
    let lr = trial.suggest_float_log("lr", 1e-5, 1e-1)?;
    let n = trial.suggest_int("n", 1, 8)?;
    let act = trial.suggest_categorical("act", &["relu", "tanh", "gelu"])?;
    for step in 0..3 {
        trial.report(step, x.abs() + step as f64)?;
    }
    trial.set_user_attr("act_len", act.len() as i64)?;
    Ok((x - 2.0).powi(2) + lr.log10().abs() + n as f64 + if act == "relu" { 0.0 } else { 0.5 })
}

#[test]
fn a_study_runs_and_resumes_on_postgres() {
    let Some(url) = common::url("a_study_runs_and_resumes_on_postgres") else { return };
    let name = common::unique("study");
    let storage: Arc<dyn Storage> = common::storage(&url);
    let study = Study::builder()
        .name(&name)
        .minimize()
        .sampler(RandomSampler::with_seed(3))
        .storage(storage.clone())
        .create()
        .expect("create");
    study.enqueue_trial([("x", 2.0)]).expect("enqueue");
    study
        .add_trial(
            KnownTrial::complete(50.0)
                .param("x", tunewise_core::Distribution::float(-10.0, 10.0), 9.0)
                .user_attr("source", "earlier run"),
        )
        .expect("add a known trial");
    let report = study.optimize(objective, Budget::trials(30)).expect("optimize");
    assert_eq!(report.trials, 30);
    study.set_user_attr("note", "first session").expect("study attribute");
    let first = study.trials().expect("trials");
    assert_eq!(first.len(), 31);
    assert_eq!(first[0].param_value("x").and_then(|v| v.as_f64()), Some(2.0), "enqueued x");
    assert!(first.iter().all(|t| t.state == TrialState::Complete));
    let best = study.best_value().expect("best value");
    drop(study);

    // A new process would open a new storage: resume from a fresh connection.
    let again: Arc<dyn Storage> = Arc::new(PostgresStorage::connect(&url).expect("reconnect"));
    let resumed = Study::builder()
        .name(&name)
        .sampler(RandomSampler::with_seed(4))
        .storage(again.clone())
        .load()
        .expect("load");
    assert_eq!(resumed.record().user_attrs.get("note"), Some(&"first session".into()));
    let loaded = resumed.trials().expect("trials");
    assert_eq!(loaded.len(), first.len());
    for (a, b) in first.iter().zip(&loaded) {
        assert_eq!(**a, **b, "trial {} reads back differently", a.number);
    }
    assert_eq!(loaded[5].intermediate_values.len(), 3, "reports are stored");
    assert!(loaded[5].user_attrs.contains_key("act_len"), "trial attributes are stored");
    assert_eq!(resumed.best_value().expect("best"), best);

    resumed.optimize(objective, Budget::trials(10)).expect("optimize again");
    let all = resumed.trials().expect("trials");
    assert_eq!(all.len(), 41);
    let numbers: Vec<u64> = all.iter().map(|t| t.number).collect();
    assert_eq!(numbers, (0..41).collect::<Vec<_>>(), "numbers go on densely");

    // ask/tell, a pruned and a failed trial.
    let mut t = resumed.ask().expect("ask");
    let x = t.suggest_float("x", -10.0, 10.0).expect("suggest");
    resumed.tell(t, Ok::<f64, TrialError>(x * x)).expect("tell");
    let t = resumed.ask().expect("ask");
    resumed.tell(t, Err::<f64, _>(TrialError::Pruned)).expect("tell pruned");
    let t = resumed.ask().expect("ask");
    resumed.tell(t, Err::<f64, _>(TrialError::failed("diverged"))).expect("tell failed");
    let all = resumed.trials().expect("trials");
    assert_eq!(all[42].state, TrialState::Pruned);
    assert_eq!(all[43].fail_reason.as_deref(), Some("diverged"));

    // The first storage (still open) sees what the second wrote.
    let record = storage.find_study(&name).expect("find").expect("exists");
    assert_eq!(storage.trials_since(record.id, 0).expect("read").trials.len(), 44);
    again.delete_study(record.id).expect("delete");
    assert!(storage.find_study(&name).expect("find").is_none());
}

#[test]
fn a_worker_restarting_with_its_id_recovers_its_trials_at_once() {
    let Some(url) = common::url("a_worker_restarting_with_its_id_recovers_its_trials_at_once")
    else {
        return;
    };
    let name = common::unique("restart");
    let storage: Arc<dyn Storage> = common::storage(&url);
    let study = Study::builder()
        .name(&name)
        .storage(storage.clone())
        .worker_id("node-7")
        .lease_duration(Duration::from_secs(3600))
        .create()
        .expect("create");
    // A trial left running as if the process had been killed mid-objective.
    let mut t = study.ask().expect("ask");
    t.suggest_int("k", 0, 9).expect("suggest");
    let lease = t.detach().expect("detach");
    drop(study);

    let again = Study::builder()
        .name(&name)
        .storage(storage.clone())
        .worker_id("node-7")
        .load()
        .expect("load");
    let t = again.trial(lease.number).expect("trial");
    assert_eq!((t.state, t.attempt), (TrialState::Waiting, 1), "released at once");
    again
        .optimize(|tr| Ok::<f64, TrialError>(tr.suggest_int("k", 0, 9)? as f64), Budget::trials(1))
        .expect("run");
    let t = again.trial(lease.number).expect("trial");
    assert_eq!((t.state, t.attempt), (TrialState::Complete, 1), "rerun as the next attempt");
    storage.delete_study(again.record().id).expect("delete");
}
