//! Chaos on a private server: worker processes killed with SIGKILL at random moments, one worker
//! frozen with SIGSTOP past its lease and then resumed, and the server crashed and restarted
//! mid-run. Afterwards no acknowledged result is lost, no trial is completed twice, and no trial
//! is left running once a last recovery worker has run.

use std::path::PathBuf;
use std::process::{Child, Command};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tunewise_core::conformance::guarantees::{
    ack_path, enqueue_markers, read_acks, run_worker, spawn_worker, verify, Mode, WorkerConfig,
};
use tunewise_core::rng::Rng;
use tunewise_core::storage::StudyId;
use tunewise_core::{FrozenTrial, Storage, Study, TrialState};

use crate::common::{self, PrivateServer};
use crate::workers::WORKER_TEST;

const MARKERS: i64 = 500;
const WORKERS: usize = 6;
const LEASE: Duration = Duration::from_millis(1500);
const WORK: Duration = Duration::from_millis(40);

struct Worker {
    child: Child,
    id: String,
}

fn signal(child: &Child, sig: &str) {
    let status =
        Command::new("kill").args([sig, &child.id().to_string()]).status().expect("run kill");
    assert!(status.success(), "kill {sig} {} failed", child.id());
}

fn all_trials(storage: &dyn Storage, study: StudyId) -> Vec<Arc<FrozenTrial>> {
    storage.trials_since(study, 0).expect("read the trials").trials
}

fn running_of(storage: &dyn Storage, study: StudyId, worker: &str) -> Option<Arc<FrozenTrial>> {
    all_trials(storage, study)
        .into_iter()
        .find(|t| t.state == TrialState::Running && t.worker_id.as_deref() == Some(worker))
}

#[test]
fn chaos_loses_no_acknowledged_result() {
    let test = "chaos_loses_no_acknowledged_result";
    if common::url(test).is_none() {
        return;
    }
    let Some(server) = PrivateServer::start(test, "") else { return };
    let url = server.url();
    let storage = common::open_worker_storage(&url);
    let name = common::unique("chaos");
    let study =
        Study::builder().name(&name).storage(storage.clone()).create().expect("create the study");
    let sid = study.record().id;
    enqueue_markers(&study, MARKERS).expect("enqueue");
    let dir = tempfile::tempdir().expect("temp dir");
    let seed = Rng::os_seed();
    eprintln!("chaos seed {seed:#x}");
    let mut rng = Rng::new(seed);

    let mut logs: Vec<PathBuf> = Vec::new();
    let spawn = |id: &str, logs: &mut Vec<PathBuf>| {
        let cfg = WorkerConfig {
            url: url.clone(),
            study: name.clone(),
            worker_id: id.to_owned(),
            lease: LEASE,
            work: WORK,
            ack_path: ack_path(dir.path(), logs.len()),
            mode: Mode::Drain,
            deadline: Duration::from_secs(90),
        };
        logs.push(cfg.ack_path.clone());
        Worker { child: spawn_worker(WORKER_TEST, &cfg).expect("spawn"), id: id.to_owned() }
    };
    let mut workers: Vec<Worker> =
        (0..WORKERS).map(|i| spawn(&format!("chaos-{i}"), &mut logs)).collect();
    let started = Instant::now();

    // Freeze worker 0 while it holds a trial.
    let mut frozen_trial = None;
    while started.elapsed() < Duration::from_secs(20) {
        if running_of(&*storage, sid, &workers[0].id).is_some() {
            signal(&workers[0].child, "-STOP");
            std::thread::sleep(Duration::from_millis(50));
            frozen_trial = running_of(&*storage, sid, &workers[0].id);
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let frozen = workers.remove(0);
    eprintln!("froze {} holding {:?}", frozen.id, frozen_trial.as_ref().map(|t| t.number));

    // Kill workers at random moments, replacing each; crash the server once.
    let (mut kills, mut restarted, mut next_id) = (0, false, WORKERS);
    loop {
        let waiting = all_trials(&*storage, sid).iter().any(|t| t.state == TrialState::Waiting);
        if !waiting || started.elapsed() > Duration::from_secs(60) {
            break;
        }
        std::thread::sleep(Duration::from_millis(100 + rng.below(300)));
        if kills >= 3 && !restarted {
            eprintln!("crashing the server at {:?}", started.elapsed());
            server.crash_and_restart();
            restarted = true;
            continue;
        }
        if kills < 12 {
            let i = rng.below(workers.len() as u64) as usize;
            let mut victim = workers.swap_remove(i);
            let _ = victim.child.kill();
            let _ = victim.child.wait();
            kills += 1;
            // Half the replacements come back under the same id (their trials are released at
            // once), half under a new one (their trials wait for the lease to expire).
            let id = if rng.below(2) == 0 {
                victim.id
            } else {
                next_id += 1;
                format!("chaos-{next_id}")
            };
            workers.push(spawn(&id, &mut logs));
        }
    }
    assert!(restarted, "the server was not restarted: the queue drained too early");
    eprintln!("chaos phase over at {:?}: {kills} kills", started.elapsed());

    // Every live worker dies now; a recovery worker finishes what they and the frozen one hold.
    for mut w in workers {
        let _ = w.child.kill();
        let _ = w.child.wait();
    }
    let recovery_started = Instant::now();
    let recovery = WorkerConfig {
        url: url.clone(),
        study: name.clone(),
        worker_id: "recovery".into(),
        lease: Duration::from_millis(300),
        work: Duration::ZERO,
        ack_path: ack_path(dir.path(), logs.len()),
        mode: Mode::Recover,
        deadline: Duration::from_secs(60),
    };
    logs.push(recovery.ack_path.clone());
    run_worker(storage.clone(), &recovery).expect("recovery worker");
    let recovery_time = recovery_started.elapsed();
    assert!(
        recovery_time < LEASE + Duration::from_secs(10),
        "abandoned trials took {recovery_time:?} to recover (lease {LEASE:?})"
    );

    // The frozen worker wakes up long past its lease: its late result must be refused.
    let mut frozen = frozen;
    signal(&frozen.child, "-CONT");
    let woke = Instant::now();
    loop {
        if frozen.child.try_wait().expect("wait").is_some() {
            break;
        }
        if woke.elapsed() > Duration::from_secs(30) {
            let _ = frozen.child.kill();
            let _ = frozen.child.wait();
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    // Whatever it may have started after waking is recovered too.
    if all_trials(&*storage, sid).iter().any(|t| !t.state.is_finished()) {
        let again = WorkerConfig { ack_path: ack_path(dir.path(), logs.len()), ..recovery };
        logs.push(again.ack_path.clone());
        run_worker(storage.clone(), &again).expect("second recovery");
    }

    let acks = read_acks(&logs);
    verify(&*storage, &name, MARKERS, &acks);
    let trials = all_trials(&*storage, sid);
    if let Some(t) = frozen_trial {
        let now = &trials[t.number as usize];
        assert!(
            now.attempt > t.attempt,
            "the frozen worker's trial {} was not reclaimed (attempt {} then {})",
            t.number,
            t.attempt,
            now.attempt
        );
    }
    let reclaimed = trials.iter().filter(|t| t.attempt > 0).count();
    eprintln!(
        "chaos: {} trials, {} acknowledgements, {reclaimed} reclaimed, recovery in {recovery_time:?}",
        trials.len(),
        acks.len()
    );
    storage.delete_study(sid).expect("delete");
}
