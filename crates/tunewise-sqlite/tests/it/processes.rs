//! Worker processes sharing one file, through the guarantees harness of tunewise-core
//! (`conformance::guarantees`): this test binary re-executes itself as the workers.
//!
//! - eight workers drain 200 enqueued trials: numbers unique and dense, every enqueued trial
//!   done exactly once, nothing claimed twice;
//! - writers killed with SIGKILL at random moments, round after round: the file stays intact,
//!   no acknowledged result is lost, no trial is completed twice, and a recovery worker with a
//!   short lease finishes everything they left.

use std::path::{Path, PathBuf};
use std::process::Child;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rusqlite::Connection;
use tunewise_core::conformance::guarantees::{
    ack_path, enqueue_markers, read_acks, run_worker, spawn_worker, verify, worker_from_env, Mode,
    WorkerConfig,
};
use tunewise_core::rng::Rng;
use tunewise_core::{Storage, Study, TrialState};
use tunewise_sqlite::SqliteStorage;

use crate::common::{db_path, open, temp_dir};

/// The test a worker process runs (the harness sets its configuration in the environment).
const WORKER_TEST: &str = "processes::worker";

/// The worker entry point: a no-op in an ordinary test run.
#[test]
fn worker() {
    worker_from_env(&|url| match SqliteStorage::open(url) {
        Ok(s) => Arc::new(s),
        Err(e) => {
            eprintln!("worker: {e}");
            std::process::exit(3);
        }
    });
}

/// A worker's settings; `work` is the time its objective spends per trial.
fn config(
    db: &Path,
    dir: &Path,
    i: usize,
    id: &str,
    mode: Mode,
    lease: Duration,
    work: Duration,
) -> WorkerConfig {
    WorkerConfig {
        url: db.display().to_string(),
        study: "guarantees".into(),
        worker_id: id.into(),
        lease,
        work,
        ack_path: ack_path(dir, i),
        mode,
        deadline: Duration::from_secs(40),
    }
}

fn integrity(db: &Path) -> String {
    let conn = Connection::open(db).unwrap();
    conn.query_row("PRAGMA integrity_check", [], |r| r.get(0)).unwrap()
}

fn wait(mut child: Child, what: &str) {
    let status = child.wait().unwrap();
    assert!(status.success(), "{what} exited with {status}");
}

fn logs(dir: &Path, n: usize) -> Vec<PathBuf> {
    (0..n).map(|i| ack_path(dir, i)).collect()
}

#[test]
fn eight_worker_processes_share_one_study() {
    let dir = temp_dir();
    let db = db_path(&dir);
    let storage = open(&db);
    let study = Study::builder().name("guarantees").storage(storage.clone()).create().unwrap();
    let markers = 200;
    enqueue_markers(&study, markers).unwrap();

    let lease = Duration::from_secs(10);
    // 2 ms per trial: long enough that every worker is up before the queue is drained.
    let work = Duration::from_millis(2);
    let children: Vec<Child> = (0..8)
        .map(|i| {
            let cfg = config(&db, dir.path(), i, &format!("w{i}"), Mode::Drain, lease, work);
            spawn_worker(WORKER_TEST, &cfg).unwrap()
        })
        .collect();
    for (i, c) in children.into_iter().enumerate() {
        wait(c, &format!("worker {i}"));
    }
    // Nothing should be left; a recovery pass proves it rather than assuming it.
    let cfg = config(&db, dir.path(), 8, "recovery", Mode::Recover, lease, work);
    run_worker(storage.clone(), &cfg).unwrap();

    let acks = read_acks(&logs(dir.path(), 9));
    assert!(acks.len() >= markers as usize, "only {} acknowledgements", acks.len());
    verify(&*storage, "guarantees", markers, &acks);
    let trials = study.trials().unwrap();
    let workers: std::collections::BTreeSet<_> =
        trials.iter().filter_map(|t| t.worker_id.clone()).collect();
    assert!(workers.len() >= 2, "the trials were not shared: {workers:?}");
    assert!(trials.iter().all(|t| t.attempt == 0), "no trial was claimed twice");
    assert_eq!(integrity(&db), "ok");
}

#[test]
fn killed_writers_lose_no_acknowledged_result() {
    let dir = temp_dir();
    let db = db_path(&dir);
    let storage = open(&db);
    let study = Study::builder().name("guarantees").storage(storage.clone()).create().unwrap();
    let markers = 1200;
    enqueue_markers(&study, markers).unwrap();
    let lease = Duration::from_millis(400);
    // A worker that died before any round, holding the first trial: recovered by lease expiry
    // whatever the kills below happen to hit.
    let dead = storage.start_trial(study.record().id, "dead", Some(lease)).unwrap();
    let mut rng = Rng::new(Rng::os_seed());
    let (max_rounds, per_round) = (4, 4);
    let (mut rounds, mut killed_holding) = (0, 0);
    // Rounds go on while there is work left to be killed in the middle of.
    let waiting = |study: &Study| {
        study.trials().unwrap().iter().filter(|t| t.state == TrialState::Waiting).count()
    };
    while rounds < max_rounds && waiting(&study) > 100 {
        // Ids repeat across rounds: a restarted worker releases what it left at once; the last
        // round's trials wait for their leases to expire.
        let children: Vec<Child> = (0..per_round)
            .map(|k| {
                let i = rounds * per_round + k;
                let id = format!("k{k}");
                let cfg = config(&db, dir.path(), i, &id, Mode::Drain, lease, Duration::ZERO);
                spawn_worker(WORKER_TEST, &cfg).unwrap()
            })
            .collect();
        let start = Instant::now();
        for mut child in children {
            // Most of a worker's time is spent writing (zero work per trial), so a random
            // moment is most likely mid-transaction. `Child::kill` sends SIGKILL.
            let at = Duration::from_millis(40 + rng.below(160));
            if let Some(left) = at.checked_sub(start.elapsed()) {
                std::thread::sleep(left);
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        assert_eq!(integrity(&db), "ok", "after round {rounds}");
        let trials = study.trials().unwrap();
        killed_holding += trials.iter().filter(|t| t.state == TrialState::Running).count();
        rounds += 1;
    }
    let done_before = study.trials().unwrap().iter().filter(|t| t.state.is_finished()).count();
    eprintln!(
        "{done_before} trials finished in {rounds} rounds of kills; {killed_holding} trials were \
         held by killed workers"
    );
    assert!(rounds >= 2, "the workers finished the queue before a second round of kills");

    let n = rounds * per_round;
    let short = Duration::from_millis(300);
    let cfg = config(&db, dir.path(), n, "recovery", Mode::Recover, short, Duration::ZERO);
    run_worker(storage.clone(), &cfg).unwrap();

    let acks = read_acks(&logs(dir.path(), n + 1));
    verify(&*storage, "guarantees", markers, &acks);
    let rerun = study.trial(dead.number).unwrap();
    assert_eq!(rerun.state, TrialState::Complete, "the dead worker's trial was finished");
    assert!(rerun.attempt >= 1, "the dead worker's trial was not reclaimed");
    drop((study, storage));
    assert_eq!(integrity(&db), "ok");
    // Every acknowledged result is also in a fresh handle's view of the file.
    let fresh = open(&db);
    let record = fresh.find_study("guarantees").unwrap().unwrap();
    let all = fresh.trials_since(record.id, 0).unwrap().trials;
    for a in &acks {
        let t = all.iter().find(|t| t.number == a.number).unwrap();
        assert_eq!((t.state, t.value()), (TrialState::Complete, Some(a.value)));
    }
}
