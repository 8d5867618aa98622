//! `tunewise ask` and `tunewise tell`: an outer loop in any language drives the study, one
//! process per call.
//!
//! `ask` starts a trial, samples its parameters from the study file's search space, prints them
//! and exits with the trial left running (detached, with no lease to expire), so that a later
//! `tell` (another process) finishes it by number.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{anyhow, bail, Context, Result};
use serde_json::Value;
use tunewise::{Study, TrialError, TrialState};

use crate::command::env_name;
use crate::config::{self, Plan, DEFAULT_STORAGE};
use crate::manage::{emit, load_study, open_existing, unknown_study, StorageArg};
use crate::open_storage;
use crate::run::{self, STUDY_FILE_ATTR};

/// `--format` of `ask`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum AskFormat {
    /// `{"trial": N, "params": {...}}` on one line.
    Json,
    /// `NAME=value` lines for a shell's `eval`.
    Env,
}

/// `tunewise ask`.
#[derive(Debug, clap::Args)]
pub struct AskArgs {
    /// The study file whose `[params]` are sampled (default: the one stored in the study by `run`
    /// or an earlier `ask --config`). With it, the study is created if it does not exist.
    #[arg(short, long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Storage URL (default: the study file's study.storage, else sqlite://tunewise.db).
    #[arg(short, long, value_name = "URL")]
    storage: Option<String>,
    /// Study name (default: the study file's study.name, else its file name without .toml, else
    /// "tunewise").
    #[arg(long, value_name = "NAME")]
    study: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = AskFormat::Json)]
    format: AskFormat,
}

/// How `tell` ends a trial without values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum TellState {
    /// Stopped early.
    Pruned,
    /// Failed (with --message).
    Failed,
}

/// `tunewise tell`.
#[derive(Debug, clap::Args)]
#[command(allow_negative_numbers = true)]
pub struct TellArgs {
    #[command(flatten)]
    storage: StorageArg,
    /// The study's name.
    #[arg(long, value_name = "NAME")]
    study: String,
    /// The trial's number, as `ask` printed it.
    #[arg(value_name = "TRIAL")]
    trial: u64,
    /// The trial's value, one per objective.
    #[arg(value_name = "VALUE")]
    values: Vec<String>,
    /// End the trial pruned or failed instead of with values.
    #[arg(long, value_enum, value_name = "STATE")]
    state: Option<TellState>,
    /// Why the trial failed (with --state failed).
    #[arg(long, value_name = "TEXT")]
    message: Option<String>,
}

/// Opens or creates the study and its search space: from `--config`, or from the study file
/// stored in the study.
fn study_and_plan(args: &AskArgs) -> Result<(Study, Plan)> {
    let from_file = args.config.as_deref().map(config::load).transpose()?;
    let name = args
        .study
        .clone()
        .or_else(|| from_file.as_ref().and_then(|p| p.study_name.clone()))
        .or_else(|| {
            args.config.as_ref().and_then(|p| p.file_stem()).map(|s| s.to_string_lossy().into())
        })
        .unwrap_or_else(|| "tunewise".to_owned());
    let url = args
        .storage
        .clone()
        .or_else(|| from_file.as_ref().map(|p| p.storage.clone()))
        .unwrap_or_else(|| DEFAULT_STORAGE.to_owned());
    let (storage, plan) = match from_file {
        Some(plan) => (open_storage(&url)?, plan),
        None => {
            let storage = open_existing(&url)?;
            let Some(record) = storage.find_study(&name)? else {
                return Err(unknown_study(&*storage, &url, &name)
                    .context("give --config FILE to create the study from a study file"));
            };
            let Some(text) = record.user_attrs.get(STUDY_FILE_ATTR).and_then(Value::as_str) else {
                bail!(
                    "study '{name}' has no study file stored (it was not run with `tunewise run \
                     --config` nor asked with `tunewise ask --config`), so ask does not know its \
                     search space; give --config FILE"
                );
            };
            let plan = config::parse(text).with_context(|| {
                format!("the study file stored in study '{name}' is invalid; give --config FILE")
            })?;
            (storage, plan)
        }
    };
    let study = run::study_builder(&plan, &name, storage, run::default_worker_id())?
        .load_if_exists(true)
        .create()
        .with_context(|| format!("cannot create or load the study '{name}' in '{url}'"))?;
    if args.config.is_some() {
        run::store_study_file(&study, &plan)?;
    }
    Ok((study, plan))
}

/// A value as one shell word: quoted when it holds anything but plain characters.
fn shell_word(text: &str) -> String {
    let plain = !text.is_empty()
        && text.chars().all(|c| c.is_ascii_alphanumeric() || "._+-:/,@%".contains(c));
    if plain {
        text.to_owned()
    } else {
        format!("'{}'", text.replace('\'', r"'\''"))
    }
}

/// `tunewise ask`: starts a trial and prints its number and parameters.
pub fn ask(args: AskArgs) -> Result<ExitCode> {
    let (study, plan) = study_and_plan(&args)?;
    let mut trial = study.ask().with_context(|| {
        format!(
            "no trial to ask for in study '{}' (`tunewise trials` lists those asked)",
            study.name()
        )
    })?;
    // On an error, `trial` is dropped and recorded as failed: nothing stays running for nobody.
    let values = plan.suggest_all(&mut trial)?;
    let number = trial.number();
    trial.detach().context("cannot store the trial's parameters")?;
    let text = match args.format {
        AskFormat::Json => {
            let params = serde_json::to_string(&values).unwrap_or_default();
            // Written by hand so that "trial" comes first, as people read it.
            format!("{{\"trial\":{number},\"params\":{params}}}\n")
        }
        AskFormat::Env => {
            let mut out = format!("TUNEWISE_TRIAL={number}\nTUNEWISE_TRIAL_NUMBER={number}\n");
            for (k, v) in &values {
                out.push_str(&format!("{}={}\n", env_name(k), shell_word(&v.to_string())));
            }
            out
        }
    };
    emit(text.as_bytes())?;
    Ok(ExitCode::SUCCESS)
}

/// The values of `tell`, or how the trial ended without values.
fn told_result(args: &TellArgs, study: &Study) -> Result<Result<Vec<f64>, TrialError>> {
    if args.message.is_some() && args.state != Some(TellState::Failed) {
        bail!("--message is the reason of a failed trial; use it with --state failed");
    }
    match (args.state, args.values.is_empty()) {
        (Some(_), false) => bail!("give the trial's value(s) or --state, not both"),
        (None, true) => {
            bail!("give the trial's value (one per objective), or --state pruned|failed")
        }
        (Some(TellState::Pruned), true) => Ok(Err(TrialError::Pruned)),
        (Some(TellState::Failed), true) => Ok(Err(TrialError::Failed(
            args.message.clone().unwrap_or_else(|| "told failed by `tunewise tell`".to_owned()),
        ))),
        (None, false) => {
            let directions: Vec<String> =
                study.directions().iter().map(ToString::to_string).collect();
            if args.values.len() != directions.len() {
                bail!(
                    "study '{}' has {} objective(s) ({}): give {} value(s), got {}",
                    args.study,
                    directions.len(),
                    directions.join(", "),
                    directions.len(),
                    args.values.len()
                );
            }
            let mut values = Vec::with_capacity(args.values.len());
            for text in &args.values {
                let v: f64 = text.trim().parse().map_err(|_| {
                    anyhow!("'{text}' is not a number; give the trial's value(s) as numbers")
                })?;
                if v.is_nan() {
                    bail!("the value is NaN; give a number, or end the trial with --state failed");
                }
                values.push(v);
            }
            Ok(Ok(values))
        }
    }
}

/// `tunewise tell`: finishes a trial started by `ask`.
pub fn tell(args: TellArgs) -> Result<ExitCode> {
    let url = &args.storage.storage;
    let study = load_study(open_existing(url)?, url, &args.study)?;
    let result = told_result(&args, &study)?;
    let n = args.trial;
    let trial = match study.trial(n) {
        Ok(t) => t,
        Err(tunewise::Error::TrialNotFound(_)) => {
            let count = study.trials()?.len();
            let range = match count {
                0 => "it has no trial yet".to_owned(),
                1 => "its only trial is 0".to_owned(),
                c => format!("its trials are 0 to {}", c - 1),
            };
            bail!(
                "study '{}' has no trial {n} ({range}); give the number `ask` printed",
                args.study
            );
        }
        Err(e) => return Err(e.into()),
    };
    match trial.state {
        TrialState::Running => {}
        TrialState::Waiting => bail!(
            "trial {n} of study '{}' is waiting: it was enqueued and has not started; `tunewise \
             ask` (or `run`) starts it",
            args.study
        ),
        state => {
            let values: Vec<String> = trial.values.iter().flatten().map(f64::to_string).collect();
            let shown =
                if values.is_empty() { String::new() } else { format!(" ({})", values.join(", ")) };
            bail!(
                "trial {n} of study '{}' is already {state}{shown}; a finished trial cannot be \
                 told again (nothing was changed)",
                args.study
            );
        }
    }
    let stored = study
        .tell_number(n, result)
        .with_context(|| format!("cannot finish trial {n} of study '{}'", args.study))?;
    let values: Vec<String> = stored.values.iter().flatten().map(f64::to_string).collect();
    match stored.state {
        TrialState::Complete => println!("trial {n}: complete {}", values.join(", ")),
        state => println!("trial {n}: {state}"),
    }
    Ok(ExitCode::SUCCESS)
}
