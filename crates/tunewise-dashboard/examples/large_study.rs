//! Fills a SQLite file with a large study, to try the dashboard on it:
//!
//! ```text
//! cargo run --release -p tunewise-dashboard --example large_study -- big.db 50000
//! tunewise dashboard --storage big.db
//! ```
//!
//! The study "large" minimizes a noisy quadratic of three parameters (a log-scale float, an
//! integer and a categorical) with random search, reporting two intermediate values per trial.
//! Seeded: the same arguments give the same study.

use std::process::ExitCode;
use std::sync::Arc;

use tunewise_core::{Budget, RandomSampler, Study, TrialError};
use tunewise_sqlite::SqliteStorage;

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let path = args.next().ok_or("usage: large_study FILE [TRIALS] (default 50000 trials)")?;
    let trials: usize = match args.next() {
        Some(n) => n.parse().map_err(|e| format!("TRIALS must be a whole number: {e}"))?,
        None => 50_000,
    };
    let storage = Arc::new(SqliteStorage::open(&path)?);
    let study = Study::builder()
        .name("large")
        .minimize()
        .sampler(RandomSampler::with_seed(7))
        .storage(storage)
        .load_if_exists(true)
        .create()?;
    study.optimize(
        |t| -> Result<f64, TrialError> {
            let lr = t.suggest_float_log("lr", 1e-5, 1e-1)?;
            let layers = t.suggest_int("layers", 1, 8)?;
            let act = t.suggest_categorical("activation", &["relu", "tanh", "gelu"])?;
            let penalty = match act {
                "relu" => 0.0,
                "tanh" => 0.2,
                _ => 0.1,
            };
            let value = (lr.log10() + 3.0).powi(2) + (layers as f64 - 3.0).powi(2) / 4.0 + penalty;
            t.report(0, value * 2.0)?;
            t.report(1, value * 1.5)?;
            Ok(value)
        },
        Budget::trials(trials),
    )?;
    println!("{path}: study 'large' holds {} trials", study.trials()?.len());
    Ok(())
}
