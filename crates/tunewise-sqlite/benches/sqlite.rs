//! The SQLite storage's cost, on a file on the real disk with durable commits
//! (`synchronous = FULL`), seeded random sampler, ten parameters of every kind and a trivial
//! objective (the same workload as the engine benchmark):
//!
//! - `sqlite/trial_10_params`: `Study::optimize` on one process, time per trial (criterion's
//!   `time` is per trial). A first line prints commits per trial, counted by SQLite's commit
//!   hook, without and with three reports per trial.
//! - `sqlite/open_and_load/100000`: opening a file that holds a 100,000-trial study and loading
//!   every trial (`Study` load: `trials_since(0)` into its cache, what a sampler is given). The
//!   file is built once (about a minute) and kept in the target directory for later runs.
//!
//! Files live under cargo's `CARGO_TARGET_TMPDIR` (on the disk of the target directory, not a
//! tmpfs: the bench prints the file system it found). Set `TUNEWISE_BENCH_DIR` to measure
//! another disk.
//!
//! Run with `cargo bench -p tunewise-sqlite --bench sqlite`.
// `criterion_group!` generates an undocumented public function.
#![allow(missing_docs)]

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use tunewise_bench::workload::ten_params;
use tunewise_core::{Budget, RandomSampler, Study, Trial, TrialError};
use tunewise_sqlite::SqliteStorage;

const BIG: usize = 100_000;

/// The same, with three intermediate reports.
fn ten_params_reporting(trial: &mut Trial) -> Result<f64, TrialError> {
    let v = ten_params(trial)?;
    for step in 0..3 {
        trial.report(step, v / (step + 1) as f64)?;
    }
    Ok(v)
}

fn bench_dir() -> PathBuf {
    let dir = std::env::var_os("TUNEWISE_BENCH_DIR").map(PathBuf::from).unwrap_or_else(|| {
        PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("tunewise-sqlite-bench")
    });
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The type of the file system holding `path`, from /proc/mounts (longest matching mount).
fn file_system(path: &Path) -> String {
    let path = path.canonicalize().unwrap_or_else(|_| path.to_path_buf());
    let mounts = std::fs::read_to_string("/proc/mounts").unwrap_or_default();
    mounts
        .lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            (f.len() > 2 && path.starts_with(f[1]))
                .then(|| (f[1].len(), format!("{} on {}", f[2], f[1])))
        })
        .max()
        .map(|(_, s)| s)
        .unwrap_or_else(|| "unknown".into())
}

/// The median time of a 4 KiB write and `fdatasync` in `dir`: what one durable commit costs at
/// least on this disk.
fn fsync_latency(dir: &Path) -> Duration {
    use std::io::Write;
    let path = dir.join("fsync.probe");
    let mut f = std::fs::File::create(&path).unwrap();
    let mut times: Vec<Duration> = (0..50)
        .map(|_| {
            f.write_all(&[0u8; 4096]).unwrap();
            let start = Instant::now();
            f.sync_data().unwrap();
            start.elapsed()
        })
        .collect();
    let _ = std::fs::remove_file(&path);
    times.sort();
    times[times.len() / 2]
}

fn fresh(path: &Path) -> Arc<SqliteStorage> {
    for ext in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{ext}", path.display()));
    }
    Arc::new(SqliteStorage::open(path).unwrap())
}

fn study(storage: &Arc<SqliteStorage>, name: &str) -> Study {
    Study::builder()
        .name(name)
        .minimize()
        .sampler(RandomSampler::with_seed(42))
        .storage(storage.clone())
        .load_if_exists(true)
        .create()
        .unwrap()
}

/// Commits per trial, printed once.
fn commits_per_trial(dir: &Path) {
    let n = 500;
    for (label, reporting) in [("no reports", false), ("3 reports", true)] {
        let storage = fresh(&dir.join("commits.db"));
        let s = study(&storage, "commits");
        let before = storage.commits();
        let start = Instant::now();
        if reporting {
            s.optimize(ten_params_reporting, Budget::trials(n)).unwrap();
        } else {
            s.optimize(ten_params, Budget::trials(n)).unwrap();
        }
        let per_trial = start.elapsed() / n as u32;
        let commits = (storage.commits() - before) as f64 / n as f64;
        println!(
            "sqlite/commits_per_trial ({label}): {commits:.2} commits per trial, \
             {per_trial:.2?} per trial over {n} trials"
        );
    }
}

fn trial_10_params(c: &mut Criterion) {
    let dir = bench_dir();
    println!(
        "bench files in {} ({}); median write + fdatasync: {:.2?}",
        dir.display(),
        file_system(&dir),
        fsync_latency(&dir)
    );
    commits_per_trial(&dir);
    let storage = fresh(&dir.join("trials.db"));
    let s = study(&storage, "trials");
    let mut g = c.benchmark_group("sqlite");
    g.sample_size(20).measurement_time(Duration::from_secs(10));
    g.bench_function("trial_10_params", |b| {
        b.iter_custom(|iters| {
            let start = Instant::now();
            s.optimize(ten_params, Budget::trials(iters as usize)).unwrap();
            start.elapsed()
        })
    });
    g.finish();
}

/// A file holding a study of `BIG` complete trials, built once and reused.
fn big_file(dir: &Path) -> PathBuf {
    let path = dir.join(format!("study-{BIG}.db"));
    let done = dir.join(format!("study-{BIG}.done"));
    if done.exists() {
        return path;
    }
    eprintln!("building {} (once; about a minute)…", path.display());
    let storage = fresh(&path);
    let s = study(&storage, "big");
    let start = Instant::now();
    s.optimize(ten_params, Budget::trials(BIG)).unwrap();
    eprintln!("built {BIG} trials in {:.1?}", start.elapsed());
    drop(s);
    drop(storage);
    std::fs::write(&done, b"").unwrap();
    path
}

fn open_and_load(c: &mut Criterion) {
    let path = big_file(&bench_dir());
    let bytes = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
    println!(
        "{}: {:.1} MB, {} B per trial",
        path.display(),
        bytes as f64 / 1e6,
        bytes / BIG as u64
    );
    let mut g = c.benchmark_group("sqlite/open_and_load");
    g.sample_size(10).measurement_time(Duration::from_secs(15));
    g.bench_with_input(BenchmarkId::from_parameter(BIG), &path, |b, path| {
        b.iter(|| {
            let storage = Arc::new(SqliteStorage::open(path).unwrap());
            let s = Study::builder().name("big").storage(storage).load().unwrap();
            let n = s.trials().unwrap().len();
            assert_eq!(n, BIG);
            s
        })
    });
    g.finish();
}

criterion_group!(benches, trial_10_params, open_and_load);
criterion_main!(benches);
