//! Eight worker processes share one study on PostgreSQL (the shared test database).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tunewise_core::conformance::guarantees::{
    ack_path, enqueue_markers, read_acks, spawn_worker, verify, worker_from_env, Mode, WorkerConfig,
};
use tunewise_core::{Storage, Study, TrialState};

use crate::common;

/// The test a worker process runs: it acts as a worker when the harness's environment variable
/// says so, and returns at once otherwise.
pub const WORKER_TEST: &str = "workers::guarantees_worker";

#[test]
fn guarantees_worker() {
    worker_from_env(&common::open_worker_storage);
}

#[test]
fn eight_worker_processes_share_one_study() {
    let Some(url) = common::url("eight_worker_processes_share_one_study") else { return };
    let storage = common::storage(&url);
    let name = common::unique("eight-workers");
    let study = Study::builder()
        .name(&name)
        .storage(storage.clone() as Arc<dyn Storage>)
        .create()
        .expect("create the study");
    let markers = 200;
    enqueue_markers(&study, markers).expect("enqueue");
    let dir = tempfile::tempdir().expect("temp dir");

    let started = Instant::now();
    let workers: Vec<_> = (0..8)
        .map(|i| {
            let cfg = WorkerConfig {
                url: url.clone(),
                study: name.clone(),
                worker_id: format!("worker-{i}"),
                lease: Duration::from_secs(30),
                work: Duration::from_millis(2),
                ack_path: ack_path(dir.path(), i),
                mode: Mode::Drain,
                deadline: Duration::from_secs(60),
            };
            spawn_worker(WORKER_TEST, &cfg).expect("spawn a worker")
        })
        .collect();
    for mut w in workers {
        let status = w.wait().expect("wait for a worker");
        assert!(status.success(), "a worker failed: {status}");
    }
    let elapsed = started.elapsed();

    let logs: Vec<PathBuf> = (0..8).map(|i| ack_path(dir.path(), i)).collect();
    let acks = read_acks(&logs);
    verify(&*storage, &name, markers, &acks);
    let trials = study.trials().expect("trials");
    // A worker that saw a waiting trial just before another claimed it starts a new one: a few
    // trials beyond the markers are expected, every one of them acknowledged.
    assert!(trials.len() as i64 >= markers);
    assert_eq!(acks.len(), trials.len(), "every trial was acknowledged once");
    for t in &trials {
        assert_eq!(
            (t.state, t.attempt),
            (TrialState::Complete, 0),
            "trial {} was claimed more than once",
            t.number
        );
    }
    // Every worker took part: the queue was shared, not drained by one.
    let mut per_worker = std::collections::BTreeMap::new();
    for t in &trials {
        *per_worker.entry(t.worker_id.clone()).or_insert(0) += 1;
    }
    assert!(per_worker.len() >= 4, "only {} workers ran trials: {per_worker:?}", per_worker.len());
    eprintln!("8 workers drained {markers} trials in {elapsed:?}: {per_worker:?}");
    storage.delete_study(study.record().id).expect("delete the study");
}
