//! The storage guarantees, checked across processes: a worker that acknowledges every result
//! it got stored, and a verification of the final database against every worker's log.
//!
//! A backend's tests use it like this:
//!
//! 1. create a study and [`enqueue_markers`]: trials whose only fixed parameter is a unique
//!    `marker`;
//! 2. start worker processes with [`spawn_worker`] (the test binary re-executes itself and the
//!    test named there calls [`worker_from_env`]); kill, freeze or restart things at will;
//! 3. run a last worker in [`Mode::Recover`] so every trial a dead worker left is finished;
//! 4. [`verify`] the study against the workers' acknowledgement logs ([`read_acks`]).
//!
//! What [`verify`] asserts, for DESIGN.md's guarantees:
//! - numbers are unique and dense (0, 1, 2, …);
//! - no trial is left waiting or running;
//! - every acknowledged result is in the database, complete, with the same attempt and value
//!   (nothing acknowledged is lost);
//! - no trial is acknowledged twice (at most one completion is accepted per trial);
//! - every enqueued marker is completed by exactly one trial;
//! - every complete trial's value is the objective's value of its parameters (no half-written
//!   trial).

use std::fs::OpenOptions;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::ok;
use crate::storage::Storage;
use crate::{Budget, Flow, FrozenTrial, Result, Study, Trial, TrialError, TrialState};

const SUITE: &str = "guarantees";

/// The parameter that identifies an enqueued trial.
pub const MARKER: &str = "marker";

/// The environment variable that turns a test process into a worker.
pub const WORKER_ENV: &str = "TUNEWISE_GUARANTEE_WORKER";

/// How a worker decides to stop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Run trials while enqueued trials are waiting, then stop.
    Drain,
    /// Run until no trial is waiting or running (reclaiming those whose lease expires), or
    /// until the deadline.
    Recover,
}

/// One worker's settings.
#[derive(Debug, Clone)]
pub struct WorkerConfig {
    /// Storage URL or path, for the backend's own opener.
    pub url: String,
    /// The study to join.
    pub study: String,
    /// This worker's id.
    pub worker_id: String,
    /// Its trials' lease.
    pub lease: Duration,
    /// Time the objective spends per trial.
    pub work: Duration,
    /// Where it appends its acknowledgements.
    pub ack_path: PathBuf,
    /// When it stops.
    pub mode: Mode,
    /// The longest it runs.
    pub deadline: Duration,
}

impl WorkerConfig {
    fn to_env(&self) -> String {
        let mode = match self.mode {
            Mode::Drain => "drain",
            Mode::Recover => "recover",
        };
        [
            self.url.clone(),
            self.study.clone(),
            self.worker_id.clone(),
            self.lease.as_millis().to_string(),
            self.work.as_millis().to_string(),
            self.ack_path.display().to_string(),
            mode.to_owned(),
            self.deadline.as_millis().to_string(),
        ]
        .join("\u{1f}")
    }

    fn from_env(s: &str) -> Option<Self> {
        let parts: Vec<&str> = s.split('\u{1f}').collect();
        let [url, study, worker_id, lease, work, ack, mode, deadline] = parts.as_slice() else {
            return None;
        };
        let ms = |v: &str| v.parse::<u64>().ok().map(Duration::from_millis);
        Some(WorkerConfig {
            url: (*url).to_owned(),
            study: (*study).to_owned(),
            worker_id: (*worker_id).to_owned(),
            lease: ms(lease)?,
            work: ms(work)?,
            ack_path: PathBuf::from(ack),
            mode: match *mode {
                "drain" => Mode::Drain,
                "recover" => Mode::Recover,
                _ => return None,
            },
            deadline: ms(deadline)?,
        })
    }
}

/// The objective's value for a marker: anything deterministic and distinct will do.
pub fn marker_value(marker: i64) -> f64 {
    marker as f64 * 0.5 + 0.25
}

/// The value of a trial that was not enqueued (`x` in [0, 1]).
fn spare_value(x: f64) -> f64 {
    -1.0 - x
}

/// Enqueues `n` trials with markers `0..n`.
pub fn enqueue_markers(study: &Study, n: i64) -> Result<()> {
    for m in 0..n {
        study.enqueue_trial([(MARKER, m)])?;
    }
    Ok(())
}

fn objective(work: Duration) -> impl Fn(&mut Trial) -> std::result::Result<f64, TrialError> + Sync {
    move |trial: &mut Trial| {
        let enqueued = trial.snapshot().fixed_params.iter().any(|(n, _)| &**n == MARKER);
        let value = if enqueued {
            marker_value(trial.suggest_int(MARKER, 0, 1 << 40)?)
        } else {
            spare_value(trial.suggest_float("x", 0.0, 1.0)?)
        };
        if !work.is_zero() {
            std::thread::sleep(work);
        }
        Ok(value)
    }
}

/// Runs one worker in this process until its mode says stop; returns the trials it finished.
///
/// After each trial the storage acknowledged as complete, the worker appends
/// `number attempt value` to its log and syncs the file, before starting the next trial.
pub fn run_worker(storage: Arc<dyn Storage>, cfg: &WorkerConfig) -> Result<usize> {
    let study = Study::builder()
        .name(&cfg.study)
        .storage(storage)
        .worker_id(&cfg.worker_id)
        .lease_duration(cfg.lease)
        .load()?;
    let mut log =
        OpenOptions::new().create(true).append(true).open(&cfg.ack_path).map_err(|e| {
            crate::Error::Storage(format!("ack log {}: {e}", cfg.ack_path.display()))
        })?;
    study.add_callback(move |_, t: &FrozenTrial| {
        if let (TrialState::Complete, Some(v)) = (t.state, t.value()) {
            // The log is the test's record of what the storage acknowledged: it must be on disk
            // before the next trial starts, or a kill could lose an acknowledgement.
            let line = format!("{} {} {v:?}\n", t.number, t.attempt);
            if log.write_all(line.as_bytes()).and_then(|()| log.sync_data()).is_err() {
                return Flow::Stop;
            }
        }
        Flow::Continue
    });
    let started = Instant::now();
    let objective = objective(cfg.work);
    let mut done = 0;
    while started.elapsed() < cfg.deadline {
        let trials = study.trials()?;
        let waiting = trials.iter().any(|t| t.state == TrialState::Waiting);
        let running = trials.iter().any(|t| t.state == TrialState::Running);
        match cfg.mode {
            Mode::Drain if !waiting => break,
            Mode::Recover if !waiting && !running => break,
            Mode::Recover if !waiting => {
                // Only abandoned trials are left: wait for their leases rather than make new
                // trials, then let start_trial reclaim them.
                std::thread::sleep(cfg.lease / 4);
                if study.trials()?.iter().any(|t| t.state == TrialState::Waiting) {
                    continue;
                }
            }
            _ => {}
        }
        done += study.optimize(&objective, Budget::trials(1))?.trials;
    }
    Ok(done)
}

/// The worker entry point of a test binary: when [`WORKER_ENV`] is set, runs the worker it
/// describes with the storage `open` gives for its URL, and exits the process; otherwise
/// returns at once (the test is then an ordinary no-op).
pub fn worker_from_env(open: &dyn Fn(&str) -> Arc<dyn Storage>) {
    let Ok(spec) = std::env::var(WORKER_ENV) else { return };
    let Some(cfg) = WorkerConfig::from_env(&spec) else {
        eprintln!("guarantees worker: unreadable {WORKER_ENV}");
        std::process::exit(2);
    };
    match run_worker(open(&cfg.url), &cfg) {
        Ok(_) => std::process::exit(0),
        Err(e) => {
            eprintln!("guarantees worker {}: {e}", cfg.worker_id);
            std::process::exit(1);
        }
    }
}

/// Starts a worker process: this test binary again, running only `test_name` (a test whose body
/// calls [`worker_from_env`]).
pub fn spawn_worker(test_name: &str, cfg: &WorkerConfig) -> std::io::Result<Child> {
    let exe = std::env::current_exe()?;
    Command::new(exe)
        .args(["--exact", test_name, "--nocapture", "--test-threads=1", "--quiet"])
        .env(WORKER_ENV, cfg.to_env())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
}

/// One acknowledged result.
#[derive(Debug, Clone, PartialEq)]
pub struct Ack {
    /// Trial number.
    pub number: u64,
    /// Attempt that completed it.
    pub attempt: u32,
    /// Its value.
    pub value: f64,
    /// The log it came from.
    pub log: PathBuf,
}

/// Reads acknowledgement logs. A torn last line (the writer was killed while writing it) is
/// not an acknowledgement and is skipped: the worker had not synced it.
pub fn read_acks(paths: &[PathBuf]) -> Vec<Ack> {
    let mut acks = Vec::new();
    for path in paths {
        let Ok(text) = std::fs::read_to_string(path) else { continue };
        // Only whole lines: a line without its newline was cut by a kill, and its last number
        // may be cut short too.
        for line in text.split_inclusive('\n').filter_map(|l| l.strip_suffix('\n')) {
            let mut parts = line.split_whitespace();
            let (Some(n), Some(a), Some(v), None) =
                (parts.next(), parts.next(), parts.next(), parts.next())
            else {
                continue;
            };
            if let (Ok(number), Ok(attempt), Ok(value)) = (n.parse(), a.parse(), v.parse()) {
                acks.push(Ack { number, attempt, value, log: path.clone() });
            }
        }
    }
    acks
}

/// Asserts the guarantees over the study's final state; panics naming the first violation.
/// `n_markers` is the number of trials enqueued with [`enqueue_markers`].
pub fn verify(storage: &dyn Storage, study: &str, n_markers: i64, acks: &[Ack]) {
    let record = ok(SUITE, storage.find_study(study), "finding the study")
        .unwrap_or_else(|| panic!("{SUITE}: study '{study}' is gone"));
    let trials = ok(SUITE, storage.trials_since(record.id, 0), "reading every trial").trials;
    let mut by_number: Vec<Option<Arc<FrozenTrial>>> = vec![None; trials.len()];
    for t in &trials {
        let slot = by_number.get_mut(t.number as usize).unwrap_or_else(|| {
            panic!("{SUITE}: trial numbers are not dense: {} of {}", t.number, trials.len())
        });
        assert!(slot.is_none(), "{SUITE}: trial number {} appears twice", t.number);
        *slot = Some(t.clone());
    }
    for t in &trials {
        assert!(
            t.state.is_finished(),
            "{SUITE}: trial {} was left {} (attempt {}, worker {:?})",
            t.number,
            t.state,
            t.attempt,
            t.worker_id
        );
    }
    let mut acked = vec![false; trials.len()];
    for a in acks {
        let t = by_number.get(a.number as usize).and_then(Option::as_ref).unwrap_or_else(|| {
            panic!("{SUITE}: acknowledged trial {} is not in the database", a.number)
        });
        assert_eq!(
            t.state,
            TrialState::Complete,
            "{SUITE}: acknowledged trial {} is {}",
            a.number,
            t.state
        );
        assert_eq!(
            t.attempt, a.attempt,
            "{SUITE}: trial {} was acknowledged for attempt {} but stored for {}",
            a.number, a.attempt, t.attempt
        );
        assert_eq!(
            t.value(),
            Some(a.value),
            "{SUITE}: trial {} acknowledged {} but stored {:?}",
            a.number,
            a.value,
            t.value()
        );
        let slot = &mut acked[a.number as usize];
        assert!(
            !*slot,
            "{SUITE}: trial {} was completed twice (second ack in {})",
            a.number,
            a.log.display()
        );
        *slot = true;
    }
    let mut markers = vec![0usize; usize::try_from(n_markers).unwrap_or(0)];
    for t in trials.iter().filter(|t| t.state == TrialState::Complete) {
        let value = t.value().unwrap_or(f64::NAN);
        match (t.param_value(MARKER), t.param_value("x")) {
            (Some(m), _) => {
                let m = m.as_i64().unwrap_or(-1);
                assert_eq!(
                    value,
                    marker_value(m),
                    "{SUITE}: trial {} has marker {m} but value {value}",
                    t.number
                );
                let slot =
                    markers.get_mut(usize::try_from(m).unwrap_or(usize::MAX)).unwrap_or_else(
                        || panic!("{SUITE}: trial {} has unknown marker {m}", t.number),
                    );
                *slot += 1;
            }
            (None, Some(x)) => {
                let x = x.as_f64().unwrap_or(f64::NAN);
                assert_eq!(
                    value,
                    spare_value(x),
                    "{SUITE}: trial {} value {value} is not its objective's",
                    t.number
                );
            }
            (None, None) => panic!("{SUITE}: complete trial {} has no parameters", t.number),
        }
    }
    for (m, count) in markers.iter().enumerate() {
        assert_eq!(*count, 1, "{SUITE}: enqueued marker {m} was completed {count} times");
    }
}

/// The acknowledgement log path of worker `i` in `dir`.
pub fn ack_path(dir: &Path, i: usize) -> PathBuf {
    dir.join(format!("acks-{i}.log"))
}
