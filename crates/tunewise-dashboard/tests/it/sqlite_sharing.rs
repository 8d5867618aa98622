//! A study running on an SQLite file while the dashboard reads the same file in a tight loop
//! (issue 9: "a running study sharing the SQLite file with the dashboard is never blocked or
//! failed by it"): every trial completes, every request succeeds, and at the end the dashboard
//! shows every trial. scripts/dashboard_perf.sh measures the same at scale, with the real
//! binaries.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use axum::http::StatusCode;
use tunewise_core::{Budget, RandomSampler, Storage, Study, Trial, TrialError, TrialState};
use tunewise_sqlite::SqliteStorage;

use crate::common::*;

/// Trials each of the two workers runs.
const PER_WORKER: usize = 60;

/// Trials numbered below this wait for the dashboard's reads (see [`objective`]).
const PACED: u64 = 20;

/// Two parameters; three intermediate values (relaxed commits) before the result. Trial `n`
/// (for `n` < [`PACED`]) first waits until the dashboard has made `n` rounds of reads, so the
/// reads certainly overlap the study's writes however fast the disk is.
fn objective(t: &mut Trial, rounds: &AtomicU64) -> Result<f64, TrialError> {
    while rounds.load(Ordering::Relaxed) < t.number().min(PACED) {
        thread::sleep(Duration::from_millis(1));
    }
    let x = t.suggest_float("x", -1.0, 1.0)?;
    let lr = t.suggest_float_log("lr", 1e-4, 1e-1)?;
    for step in 0..3 {
        t.report(step, x * x + lr + 1.0 / (step + 1) as f64)?;
    }
    Ok(x * x + lr)
}

/// One worker: its own connection to the file (as a separate process has), its own seeded
/// sampler and worker id.
fn worker(
    path: &std::path::Path,
    id: &str,
    seed: u64,
    rounds: Arc<AtomicU64>,
) -> thread::JoinHandle<Result<(), String>> {
    let path = path.to_owned();
    let id = id.to_owned();
    thread::spawn(move || {
        let storage = Arc::new(SqliteStorage::open(&path).map_err(|e| e.to_string())?);
        let study = Study::builder()
            .name("shared")
            .minimize()
            .sampler(RandomSampler::with_seed(seed))
            .worker_id(id)
            .storage(storage)
            .load()
            .map_err(|e| e.to_string())?;
        let report = study
            .optimize(|t| objective(t, &rounds), Budget::trials(PER_WORKER))
            .map_err(|e| e.to_string())?;
        if report.trials != PER_WORKER || report.lost_trials > 0 {
            return Err(format!("{report:?}: expected {PER_WORKER} trials, none lost"));
        }
        Ok(())
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_study_running_on_sqlite_is_never_blocked_by_the_dashboard_reading_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("shared.db");
    // The study exists, with one complete trial, before the dashboard opens the file (it opens
    // existing files only, and a figure needs a complete trial).
    {
        let storage = Arc::new(SqliteStorage::open(&path).unwrap());
        let study = Study::builder().name("shared").minimize().storage(storage).create().unwrap();
        let unpaced = AtomicU64::new(u64::MAX);
        study.optimize(|t| objective(t, &unpaced), Budget::trials(1)).unwrap();
    }
    let reader: Arc<dyn Storage> = Arc::new(SqliteStorage::open_read_only(&path).unwrap());
    // Every request reads the storage's changes (no refresh interval).
    let app = app(reader, options());

    let rounds = Arc::new(AtomicU64::new(0));
    let workers = [
        worker(&path, "worker-a", 1, rounds.clone()),
        worker(&path, "worker-b", 2, rounds.clone()),
    ];
    let uris = [
        "/api/studies",
        "/api/studies/shared",
        "/api/studies/shared/trials?sort=value&order=asc&limit=20",
        "/api/studies/shared/trials.csv?filter=x%20%3E%200",
        "/api/studies/shared/figures/history?format=svg",
        "/api/studies/shared/figures/intermediate",
        "/api/studies/shared/changes?cursor=0&wait=0",
    ];
    let mut reads = 0usize;
    let mut seen_while_running = 0usize;
    while workers.iter().any(|w| !w.is_finished()) {
        for uri in uris {
            let answer = get(&app, uri).await;
            assert_eq!(
                answer.status,
                StatusCode::OK,
                "{uri} while the study runs: {}",
                answer.body
            );
            reads += 1;
        }
        let n = get_json(&app, "/api/studies/shared").await["n_trials"].as_u64().unwrap();
        if n > 1 && n < 1 + 2 * PER_WORKER as u64 {
            seen_while_running += 1;
        }
        rounds.fetch_add(1, Ordering::Relaxed);
    }
    for w in workers {
        w.join().unwrap().unwrap_or_else(|e| panic!("a worker failed: {e}"));
    }
    assert!(reads > uris.len(), "the dashboard read the file while the study ran");
    assert!(seen_while_running > 0, "some read saw the study part way through");

    let total = 1 + 2 * PER_WORKER as u64;
    let summary = get_json(&app, "/api/studies/shared").await;
    assert_eq!(summary["n_trials"], total, "{summary}");
    assert_eq!(summary["counts"][TrialState::Complete.as_str()], total, "{summary}");
    let page = get_json(&app, &format!("/api/studies/shared/trials?limit={total}")).await;
    assert_eq!(page["total"], total);
    let numbers: Vec<u64> =
        page["trials"].as_array().unwrap().iter().map(|t| t["number"].as_u64().unwrap()).collect();
    assert_eq!(numbers, (0..total).collect::<Vec<_>>(), "every trial, each once");
    let csv = get(&app, "/api/studies/shared/trials.csv").await.body;
    assert_eq!(csv.lines().count() as u64, total + 1, "a header and one line per trial");
}
