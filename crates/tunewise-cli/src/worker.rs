//! `tunewise worker`: joins a study that `tunewise run` created, and runs its trials here.
//!
//! The study carries its own definition (the study file's text and the command, stored by
//! `run`), so a worker needs only the storage URL and the study's name. The trials run exactly
//! as `run` runs them ([`run::execute`]).

use std::process::ExitCode;

use anyhow::{anyhow, bail, Context, Result};

use crate::config::{self, Plan};
use crate::run::{self, COMMAND_ATTR, STUDY_FILE_ATTR};
use crate::{open_storage, WorkerArgs};

/// Runs trials of a shared study; `Ok` holds the exit status.
pub fn worker(args: WorkerArgs) -> Result<ExitCode> {
    let lease = args.lease.as_deref().map(lease).transpose()?;
    let worker_id = match &args.worker_id {
        Some(id) if id.trim().is_empty() => {
            bail!("--worker-id is empty; give an id unique among the live workers, or leave it out")
        }
        Some(id) => id.clone(),
        None => run::default_worker_id(),
    };
    let (url, name) = (&args.storage, &args.study);
    let storage = open_storage(url)?;
    let record = storage
        .find_study(name)
        .map_err(|e| anyhow!("{e}"))
        .with_context(|| format!("cannot read the studies of '{url}'"))?
        .ok_or_else(|| {
            anyhow!(
                "there is no study '{name}' in '{url}': create it first with `tunewise run \
                 --config study.toml --storage {url} --study {name} --trials 0 -- PROGRAM …` \
                 (it stores the study file and the command for the workers), or check --study"
            )
        })?;
    let stored_file = record.user_attrs.get(STUDY_FILE_ATTR).and_then(|v| v.as_str());
    let stored_command: Option<Vec<String>> =
        record.user_attrs.get(COMMAND_ATTR).and_then(|v| serde_json::from_value(v.clone()).ok());
    let plan: Plan = match (&args.config, stored_file) {
        (Some(path), _) => config::load(path)?,
        (None, Some(text)) => config::parse(text).with_context(|| {
            format!(
                "the study file stored in study '{name}' is invalid; store a fixed one with \
                 `tunewise run --config FILE --trials 0`, or give the worker --config FILE"
            )
        })?,
        // `run` without a study file: no parameters, the command alone.
        (None, None) if stored_command.is_some() => config::empty()?,
        (None, None) => bail!(
            "study '{name}' in '{url}' has no stored definition (it was not created by `tunewise \
             run`): create it with `tunewise run --config study.toml --storage {url} --study \
             {name} --trials 0 -- PROGRAM …` first, or give the worker --config FILE -- PROGRAM …"
        ),
    };
    let budget = plan.budget(args.trials)?;
    let argv = if !args.command.is_empty() {
        args.command.clone()
    } else if let (Some(_), Some(file_args)) = (&args.config, &plan.args) {
        file_args.clone()
    } else {
        stored_command.or_else(|| plan.args.clone()).unwrap_or_default()
    };
    // Checked before any trial: the program must exist on this machine.
    let template = run::command_template(&plan, &argv, args.jobs)?;

    let mut builder = run::study_builder(&plan, name, storage, worker_id)?;
    if let Some(lease) = lease {
        builder = builder.lease_duration(lease);
    }
    let study = builder
        .load()
        .map_err(|e| anyhow!("{e}"))
        .with_context(|| format!("cannot load the study '{name}' in '{url}'"))?;
    let settings =
        run::Settings { budget, jobs: args.jobs, trials: args.trials, url, output: &args.output };
    run::execute(&study, &plan, &template, settings)
}

/// `--lease`: a positive duration ("60s", "2m", "500ms" or seconds).
fn lease(text: &str) -> Result<std::time::Duration> {
    match config::parse_duration(text) {
        Some(d) if !d.is_zero() => Ok(d),
        _ => {
            bail!("--lease '{text}' is not a positive duration; give one such as 60s, 2m or 500ms")
        }
    }
}
