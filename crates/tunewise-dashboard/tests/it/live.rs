//! Live updates: a trial added after a cursor shows up in `changes`, the summary and the table.

use std::time::Duration;

use tunewise_core::{FrozenTrial, Storage, TrialState};

use crate::common::*;

fn add_waiting_trial(storage: &dyn Storage) {
    let record = storage.find_study("demo").unwrap().unwrap();
    storage.insert_trial(record.id, &FrozenTrial::new(0, 0, TrialState::Waiting)).unwrap();
}

#[tokio::test]
async fn a_trial_added_after_a_cursor_shows_up_in_changes() {
    let storage = storage_with(5);
    let app = app(storage.clone(), options());
    let cursor = get_json(&app, "/api/studies/demo").await["cursor"].as_u64().unwrap();
    let idle = get_json(&app, &format!("/api/studies/demo/changes?cursor={cursor}&wait=0")).await;
    assert_eq!(idle["changed"], false);
    assert_eq!(idle["cursor"].as_u64().unwrap(), cursor);
    add_waiting_trial(&*storage);
    let changed =
        get_json(&app, &format!("/api/studies/demo/changes?cursor={cursor}&wait=0")).await;
    assert_eq!(changed["changed"], true);
    assert!(changed["cursor"].as_u64().unwrap() > cursor);
    assert_eq!(changed["n_trials"], 6);
    assert_eq!(get_json(&app, "/api/studies/demo").await["n_trials"], 6);
    let page = get_json(&app, "/api/studies/demo/trials?state=waiting").await;
    assert_eq!(page["trials"][0]["number"], 5);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_poll_answers_when_a_trial_arrives() {
    let storage = storage_with(5);
    let app = app(storage.clone(), options().refresh_interval(Duration::from_millis(20)));
    let cursor = get_json(&app, "/api/studies/demo").await["cursor"].as_u64().unwrap();
    let poll = {
        let app = app.clone();
        tokio::spawn(async move {
            get_json(&app, &format!("/api/studies/demo/changes?cursor={cursor}&wait=30")).await
        })
    };
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(!poll.is_finished(), "nothing changed yet: the poll waits");
    add_waiting_trial(&*storage);
    let answer = poll.await.unwrap();
    assert_eq!(answer["changed"], true);
    assert_eq!(answer["n_trials"], 6);
}

#[tokio::test]
async fn figures_follow_new_trials() {
    let storage = storage_with(10);
    let app = app(storage.clone(), options());
    let before = get_json(&app, "/api/studies/demo/figures/timeline").await;
    let study =
        tunewise_core::Study::builder().name("demo").storage(storage.clone()).load().unwrap();
    study
        .optimize(
            |t| -> Result<f64, tunewise_core::TrialError> {
                Ok(t.suggest_float("x", 0.0, 1.0)? + 1.0)
            },
            tunewise_core::Budget::trials(3),
        )
        .unwrap();
    let after = get_json(&app, "/api/studies/demo/figures/timeline").await;
    assert_ne!(before, after, "the cached figure is redrawn at the new cursor");
}
