//! The cross-process guarantees harness, exercised in one process on the in-memory storage:
//! worker threads stand in for worker processes.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tunewise_core::conformance::guarantees::{
    ack_path, enqueue_markers, read_acks, run_worker, verify, Mode, WorkerConfig,
};
use tunewise_core::storage::Storage;
use tunewise_core::{InMemoryStorage, Study};

fn config(dir: &std::path::Path, i: usize, mode: Mode) -> WorkerConfig {
    WorkerConfig {
        url: "memory".into(),
        study: "guarantees".into(),
        worker_id: format!("w{i}"),
        lease: Duration::from_millis(300),
        work: Duration::from_millis(1),
        ack_path: ack_path(dir, i),
        mode,
        deadline: Duration::from_secs(20),
    }
}

fn temp_dir(tag: &str) -> PathBuf {
    let dir =
        std::env::temp_dir().join(format!("tunewise-guarantees-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn workers_drain_the_queue_and_verify_passes() {
    let dir = temp_dir("drain");
    let storage: Arc<dyn Storage> = Arc::new(InMemoryStorage::new());
    let study = Study::builder().name("guarantees").storage(storage.clone()).create().unwrap();
    enqueue_markers(&study, 60).unwrap();
    // A worker that died holding a trial: it is recovered when its lease expires.
    let dead =
        storage.start_trial(study.record().id, "dead", Some(Duration::from_millis(100))).unwrap();
    assert_eq!(dead.number, 0);
    std::thread::scope(|s| {
        for i in 0..4 {
            let storage = storage.clone();
            let cfg = config(&dir, i, Mode::Drain);
            s.spawn(move || run_worker(storage, &cfg).unwrap());
        }
    });
    run_worker(storage.clone(), &config(&dir, 9, Mode::Recover)).unwrap();
    let logs: Vec<PathBuf> = (0..10).map(|i| ack_path(&dir, i)).collect();
    let acks = read_acks(&logs);
    assert!(acks.len() >= 60, "{} acknowledgements", acks.len());
    verify(&*storage, "guarantees", 60, &acks);
    let t0 = storage.trial(study.record().id, 0).unwrap();
    assert_eq!(t0.attempt, 1, "the dead worker's trial was reclaimed");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
#[should_panic(expected = "acknowledged")]
fn verify_catches_a_lost_acknowledgement() {
    let dir = temp_dir("lost");
    let storage: Arc<dyn Storage> = Arc::new(InMemoryStorage::new());
    let study = Study::builder().name("guarantees").storage(storage.clone()).create().unwrap();
    enqueue_markers(&study, 3).unwrap();
    run_worker(storage.clone(), &config(&dir, 0, Mode::Drain)).unwrap();
    // A log line for a trial the database does not have as acknowledged.
    std::fs::write(ack_path(&dir, 1), "2 0 99.0\n").unwrap();
    let acks = read_acks(&[ack_path(&dir, 0), ack_path(&dir, 1)]);
    let _ = std::fs::remove_dir_all(&dir);
    verify(&*storage, "guarantees", 3, &acks);
}

#[test]
#[should_panic(expected = "completed twice")]
fn verify_catches_a_double_completion() {
    let dir = temp_dir("twice");
    let storage: Arc<dyn Storage> = Arc::new(InMemoryStorage::new());
    let study = Study::builder().name("guarantees").storage(storage.clone()).create().unwrap();
    enqueue_markers(&study, 3).unwrap();
    run_worker(storage.clone(), &config(&dir, 0, Mode::Drain)).unwrap();
    let mut acks = read_acks(&[ack_path(&dir, 0)]);
    acks.push(acks[0].clone());
    let _ = std::fs::remove_dir_all(&dir);
    verify(&*storage, "guarantees", 3, &acks);
}

#[test]
fn a_torn_last_line_is_not_an_acknowledgement() {
    let dir = temp_dir("torn");
    // Killed while writing "1 0 0.75\n": the cut line could read as a different value.
    std::fs::write(ack_path(&dir, 0), "0 0 0.25\n1 0 0.7").unwrap();
    let acks = read_acks(&[ack_path(&dir, 0)]);
    assert_eq!(acks.len(), 1);
    assert_eq!((acks[0].number, acks[0].value), (0, 0.25));
    let _ = std::fs::remove_dir_all(&dir);
}
