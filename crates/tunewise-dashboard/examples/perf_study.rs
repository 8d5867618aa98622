//! A large, realistic finished study in an SQLite file, reproducible by seed: the input of the
//! dashboard's performance measurements (`scripts/dashboard_perf.sh`, docs/benchmarks.md).
//!
//! ```text
//! cargo run --release -p tunewise-dashboard --example perf_study -- \
//!     --out target/dashboard-perf/large-50000-seed1.db \
//!     [--trials 50000] [--seed 1] [--study large] [--scratch DIR]
//! ```
//!
//! The study minimizes a validation loss over six parameters (a log-scaled float, a float, an
//! int, a log-scaled int and two categoricals). About 85 % of its trials are complete, 12 %
//! pruned (with the learning curve they reported up to the step they were stopped at) and 3 %
//! failed; a third of the complete trials report a learning curve too. Two workers ran it, one
//! trial at a time each, for 5 s to 3 min per trial, so the start and end times overlap the way
//! a real two-worker run does. Later trials concentrate around the best so far, the way a
//! model-based sampler does, so the history plot has the usual shape.
//!
//! The trials are built in memory, then copied into a new SQLite file with
//! `tunewise_core::storage::copy_study` (the storage's own inserts, one durable commit each). Each
//! commit waits for the disk (`fsync`, about 2.8 ms per trial on this project's machine), so the
//! file is built on a memory file system (`--scratch DIR`, default `/dev/shm` where it exists,
//! about 0.06 ms per trial) and then copied next to `OUT` as `OUT.partial` and renamed to `OUT`:
//! an interrupted run never leaves a file that looks finished. An existing `OUT` is refused.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

use chrono::{DateTime, Duration, TimeZone, Utc};
use tunewise_core::rng::Rng;
use tunewise_core::storage::{copy_study, InMemoryStorage, Storage};
use tunewise_core::{Direction, Distribution, FrozenTrial, Param, TrialState};
use tunewise_sqlite::SqliteStorage;

/// Errors are messages for the terminal.
type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

const USAGE: &str =
    "usage: perf_study --out FILE [--trials N] [--seed S] [--study NAME] [--scratch DIR]";

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// The checked command line.
struct Options {
    out: PathBuf,
    trials: u64,
    seed: u64,
    study: String,
    scratch: Option<PathBuf>,
}

fn parse(args: impl Iterator<Item = String>) -> Result<Options> {
    let mut out = None;
    let mut trials = 50_000;
    let mut seed = 1;
    let mut study = "large".to_owned();
    let mut scratch = None;
    let mut args = args.peekable();
    while let Some(flag) = args.next() {
        let mut value =
            |name: &str| args.next().ok_or_else(|| format!("{name} needs a value\n{USAGE}"));
        match flag.as_str() {
            "--out" => out = Some(PathBuf::from(value("--out")?)),
            "--trials" => {
                let v = value("--trials")?;
                trials = v
                    .parse()
                    .ok()
                    .filter(|n| *n > 0)
                    .ok_or_else(|| format!("--trials {v}: give a positive whole number"))?;
            }
            "--seed" => {
                let v = value("--seed")?;
                seed = v
                    .parse()
                    .map_err(|_| format!("--seed {v}: give a non-negative whole number"))?;
            }
            "--study" => study = value("--study")?,
            "--scratch" => scratch = Some(PathBuf::from(value("--scratch")?)),
            "-h" | "--help" => return Err(USAGE.into()),
            other => return Err(format!("unknown argument '{other}'\n{USAGE}").into()),
        }
    }
    let out = out.ok_or_else(|| format!("--out FILE is required\n{USAGE}"))?;
    if study.trim().is_empty() {
        return Err("--study: give a non-empty name".into());
    }
    Ok(Options { out, trials, seed, study, scratch })
}

fn run() -> Result<()> {
    let opts = parse(std::env::args().skip(1))?;
    if opts.out.exists() {
        let shown = opts.out.display();
        return Err(format!("{shown} exists already; remove it first or give another --out").into());
    }
    let partial = sidecar(&opts.out, ".partial");
    remove_leftovers(&partial)?;

    let t0 = Instant::now();
    let memory = InMemoryStorage::new();
    let record = memory.create_study(&opts.study, &[Direction::Minimize])?;
    let space = Space::new();
    let mut generator = Generator::new(opts.seed, &space);
    for _ in 0..opts.trials {
        let trial = generator.next_trial();
        memory.insert_trial(record.id, &trial)?;
    }
    let built = t0.elapsed();

    // Every insert is a durable commit (an fsync); on a memory file system those cost nothing,
    // so the file is built there and copied to its place once.
    let scratch = match &opts.scratch {
        Some(dir) => dir.clone(),
        None if Path::new(SHM).is_dir() => PathBuf::from(SHM),
        None => opts.out.parent().map(Path::to_path_buf).unwrap_or_default(),
    };
    let name = format!("tunewise-perf-study-{}.db", std::process::id());
    let building = scratch.join(name);
    remove_leftovers(&building)?;
    let t1 = Instant::now();
    let written = write_sqlite(&memory, &opts.study, &building);
    let copied = t1.elapsed();
    let moved = written.and_then(|()| {
        let (from, to) = (building.display(), partial.display());
        std::fs::copy(&building, &partial).map_err(|e| format!("copying {from} to {to}: {e}"))?;
        std::fs::File::open(&partial)?.sync_all()?;
        let out = opts.out.display();
        std::fs::rename(&partial, &opts.out)
            .map_err(|e| format!("renaming {to} to {out}: {e}").into())
    });
    let cleaned = remove_leftovers(&building);
    moved?;
    cleaned?;
    let size = std::fs::metadata(&opts.out)?.len();
    println!(
        "{} trials of study '{}' (seed {}) in {}: built in memory in {:.2} s, copied into \
         SQLite (in {}) in {:.2} s ({:.3} ms per trial), {:.1} MB",
        opts.trials,
        opts.study,
        opts.seed,
        opts.out.display(),
        built.as_secs_f64(),
        scratch.display(),
        copied.as_secs_f64(),
        copied.as_secs_f64() * 1000.0 / opts.trials as f64,
        size as f64 / 1e6,
    );
    Ok(())
}

/// Where the file is built when `--scratch` is not given and this directory exists.
const SHM: &str = "/dev/shm";

/// Copies the study into a new SQLite file at `path`, with the storage's own inserts.
fn write_sqlite(memory: &InMemoryStorage, study: &str, path: &Path) -> Result<()> {
    let sqlite = SqliteStorage::open(path)?;
    copy_study(memory, study, &sqlite, None)?;
    // Dropped here: the last connection checkpoints the write-ahead log into the file.
    Ok(())
}

/// Removes a database file and its write-ahead log and shared-memory files, if there.
fn remove_leftovers(db: &Path) -> Result<()> {
    for file in [db.to_path_buf(), sidecar(db, "-wal"), sidecar(db, "-shm")] {
        if file.exists() {
            std::fs::remove_file(&file)
                .map_err(|e| format!("removing the leftover {}: {e}", file.display()))?;
        }
    }
    Ok(())
}

fn sidecar(path: &Path, suffix: &str) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}

const OPTIMIZERS: [&str; 4] = ["adam", "sgd", "rmsprop", "adagrad"];
const ACTIVATIONS: [&str; 3] = ["relu", "tanh", "gelu"];
const WORKERS: [&str; 2] = ["worker-a", "worker-b"];

/// The six parameters: names and distributions shared by every trial, as a study shares them.
struct Space {
    names: [Arc<str>; 6],
    distributions: [Arc<Distribution>; 6],
}

impl Space {
    fn new() -> Space {
        Space {
            names: ["lr", "dropout", "layers", "units", "optimizer", "activation"].map(Arc::from),
            distributions: [
                Distribution::float_log(1e-5, 1e-1),
                Distribution::float(0.0, 0.5),
                Distribution::int(1, 8),
                Distribution::int_log(16, 1024),
                Distribution::categorical(OPTIMIZERS),
                Distribution::categorical(ACTIVATIONS),
            ]
            .map(Arc::new),
        }
    }
}

/// A point of the space in internal values (floats and ints as numbers, categoricals as
/// indices).
#[derive(Clone, Copy)]
struct Point {
    lr: f64,
    dropout: f64,
    layers: f64,
    units: f64,
    optimizer: f64,
    activation: f64,
}

struct Generator<'a> {
    space: &'a Space,
    rng: Rng,
    number: u64,
    /// When each worker is free again.
    free_at: [DateTime<Utc>; 2],
    best: Option<(f64, Point)>,
}

impl<'a> Generator<'a> {
    fn new(seed: u64, space: &'a Space) -> Generator<'a> {
        let start = Utc.with_ymd_and_hms(2026, 11, 1, 8, 0, 0).single().unwrap_or_default();
        Generator {
            space,
            rng: Rng::new(seed),
            number: 0,
            free_at: [start, start + Duration::milliseconds(1500)],
            best: None,
        }
    }

    /// A point drawn from the whole space, or (more often as the study goes on) near the best
    /// so far.
    fn propose(&mut self) -> Point {
        let rng = &mut self.rng;
        let fresh = Point {
            lr: 10f64.powf(rng.uniform_range(-5.0, -1.0)),
            dropout: rng.uniform_range(0.0, 0.5),
            layers: (1 + rng.below(8)) as f64,
            units: 2f64.powf(rng.uniform_range(4.0, 10.0)).round().clamp(16.0, 1024.0),
            optimizer: rng.below(4) as f64,
            activation: rng.below(3) as f64,
        };
        let exploit = (self.number as f64 / 5_000.0).min(0.8);
        match self.best {
            Some((_, b)) if rng.uniform() < exploit => Point {
                lr: 10f64.powf((b.lr.log10() + 0.3 * rng.normal()).clamp(-5.0, -1.0)),
                dropout: (b.dropout + 0.05 * rng.normal()).clamp(0.0, 0.5),
                layers: (b.layers + (rng.normal() * 0.8).round()).clamp(1.0, 8.0),
                units: (b.units.log2() + 0.5 * rng.normal()).clamp(4.0, 10.0).exp2().round(),
                optimizer: if rng.uniform() < 0.8 { b.optimizer } else { fresh.optimizer },
                activation: if rng.uniform() < 0.8 { b.activation } else { fresh.activation },
            },
            _ => fresh,
        }
    }

    /// The final validation loss of a point: a smooth bowl around lr 3e-3, dropout 0.2, four
    /// layers of 256 units, Adam and GELU, plus noise.
    fn loss(&mut self, p: &Point) -> f64 {
        let lr = (p.lr.log10() + 2.5).powi(2) * 0.12;
        let dropout = (p.dropout - 0.2).powi(2) * 2.0;
        let depth = (p.layers - 4.0).abs() * 0.03;
        let width = (p.units.log2() - 8.0).powi(2) * 0.02;
        let optimizer = [0.0, 0.08, 0.03, 0.12][p.optimizer as usize % 4];
        let activation = [0.02, 0.05, 0.0][p.activation as usize % 3];
        0.25 + lr
            + dropout
            + depth
            + width
            + optimizer
            + activation
            + 0.02 * self.rng.normal().abs()
    }

    /// The next trial, finished, with its parameters, times, worker and, for some, a curve.
    fn next_trial(&mut self) -> FrozenTrial {
        let point = self.propose();
        let final_loss = self.loss(&point);
        let roll = self.rng.uniform();
        let state = if roll < 0.03 {
            TrialState::Failed
        } else if roll < 0.15 {
            TrialState::Pruned
        } else {
            TrialState::Complete
        };
        let mut trial = FrozenTrial::new(0, self.number, state);
        let internals =
            [point.lr, point.dropout, point.layers, point.units, point.optimizer, point.activation];
        trial.params = (0..6)
            .map(|i| Param {
                name: self.space.names[i].clone(),
                distribution: self.space.distributions[i].clone(),
                internal: self.space.distributions[i].snap_internal(internals[i]),
            })
            .collect();

        // A learning curve from about 2.5 × the final loss down to it, over 20 epochs.
        let epochs = 20u64;
        let curve = |step: u64, noise: f64| {
            let progress = (step + 1) as f64 / epochs as f64;
            final_loss * (1.0 + 1.5 * (-4.0 * progress).exp() / (-4.0f64 / epochs as f64).exp())
                + noise
        };
        let steps = match state {
            TrialState::Pruned => 1 + self.rng.below(8),
            TrialState::Complete if self.rng.uniform() < 1.0 / 3.0 => epochs,
            _ => 0,
        };
        for step in 0..steps {
            let noise = 0.01 * self.rng.normal();
            trial.intermediate_values.insert(step, vec![curve(step, noise)]);
        }
        match state {
            TrialState::Complete => trial.values = Some(vec![final_loss]),
            TrialState::Failed => {
                trial.fail_reason = Some(format!(
                    "the program exited with exit status: 1; last lines of stderr:\n\
                     RuntimeError: CUDA out of memory (layers={}, units={})",
                    point.layers, point.units
                ));
            }
            _ => {}
        }

        // The worker that is free first takes the trial.
        let w = if self.free_at[0] <= self.free_at[1] { 0 } else { 1 };
        let seconds = match state {
            TrialState::Complete => 20.0 + 160.0 * self.rng.uniform(),
            TrialState::Pruned => 8.0 * steps as f64 + 4.0 * self.rng.uniform(),
            _ => 2.0 + 10.0 * self.rng.uniform(),
        };
        let start = self.free_at[w];
        let end = start + Duration::milliseconds((seconds * 1000.0) as i64);
        trial.datetime_start = Some(start);
        trial.datetime_complete = Some(end);
        trial.worker_id = Some(Arc::from(WORKERS[w]));
        self.free_at[w] = end + Duration::milliseconds(200 + self.rng.below(300) as i64);

        if state == TrialState::Complete && self.best.map_or(true, |(v, _)| final_loss < v) {
            self.best = Some((final_loss, point));
        }
        self.number += 1;
        trial
    }
}
