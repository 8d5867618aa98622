//! Managing studies: `studies`, `trials`, `best`, `delete`, `copy`, `export` and `enqueue`.
//!
//! Every command opens the storage with [`open_existing`] (a mistyped SQLite path is an error,
//! not a new empty file) and loads the study with [`load_study`] (an unknown name is an error
//! listing the studies there are). Nothing here changes a study except `delete` (only with
//! `--yes`), `copy` (which writes only a new study) and `enqueue` (which adds a waiting trial).

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{anyhow, bail, Context, Result};
use serde::Serialize;
use serde_json::Value;
use tunewise::storage::Storage;
use tunewise::{Distribution, FrozenTrial, ParamValue, Study, TrialState};

use crate::config::{self, DEFAULT_STORAGE};
use crate::open_storage;
use crate::run::STUDY_FILE_ATTR;
use crate::table;

/// The storage flag of every managing command.
#[derive(Debug, clap::Args)]
pub struct StorageArg {
    /// Storage URL: a SQLite file (sqlite://FILE or a path) or postgres://…
    #[arg(short, long, value_name = "URL", default_value = DEFAULT_STORAGE)]
    pub storage: String,
}

/// `--format` of `studies` and `trials`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum TableFormat {
    /// Aligned columns for the terminal.
    Table,
    /// CSV with a header row.
    Csv,
    /// JSON.
    Json,
}

/// A trial state, as `--state` takes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum StateArg {
    /// Enqueued, not started.
    Waiting,
    /// Started, not finished.
    Running,
    /// Finished with values.
    Complete,
    /// Stopped early.
    Pruned,
    /// Failed.
    Failed,
}

impl StateArg {
    fn state(self) -> TrialState {
        match self {
            StateArg::Waiting => TrialState::Waiting,
            StateArg::Running => TrialState::Running,
            StateArg::Complete => TrialState::Complete,
            StateArg::Pruned => TrialState::Pruned,
            StateArg::Failed => TrialState::Failed,
        }
    }
}

/// `tunewise studies`.
#[derive(Debug, clap::Args)]
pub struct StudiesArgs {
    #[command(flatten)]
    storage: StorageArg,
    /// Output format.
    #[arg(long, value_enum, default_value_t = TableFormat::Table)]
    format: TableFormat,
}

/// `tunewise trials`.
#[derive(Debug, clap::Args)]
pub struct TrialsArgs {
    #[command(flatten)]
    storage: StorageArg,
    /// The study's name.
    #[arg(long, value_name = "NAME")]
    study: String,
    /// Output format (CSV and JSON are those of `tunewise export`).
    #[arg(long, value_enum, default_value_t = TableFormat::Table)]
    format: TableFormat,
    /// Only the trials in this state.
    #[arg(long, value_enum, value_name = "STATE")]
    state: Option<StateArg>,
}

/// `--format` of `best`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum BestFormat {
    /// Lines for people.
    Text,
    /// JSON.
    Json,
}

/// `tunewise best`.
#[derive(Debug, clap::Args)]
pub struct BestArgs {
    #[command(flatten)]
    storage: StorageArg,
    /// The study's name.
    #[arg(long, value_name = "NAME")]
    study: String,
    /// Output format.
    #[arg(long, value_enum, default_value_t = BestFormat::Text)]
    format: BestFormat,
}

/// `tunewise delete`.
#[derive(Debug, clap::Args)]
pub struct DeleteArgs {
    #[command(flatten)]
    storage: StorageArg,
    /// The study's name.
    #[arg(long, value_name = "NAME")]
    study: String,
    /// Really delete the study and all its trials (there is no undo).
    #[arg(long)]
    yes: bool,
}

/// `tunewise copy`.
#[derive(Debug, clap::Args)]
pub struct CopyArgs {
    #[command(flatten)]
    storage: StorageArg,
    /// The study to copy.
    #[arg(long, value_name = "NAME")]
    study: String,
    /// The storage to copy it to (default: the same storage, with --to).
    #[arg(long, value_name = "URL")]
    to_storage: Option<String>,
    /// The copy's name (default: the same name).
    #[arg(long, value_name = "NAME")]
    to: Option<String>,
}

/// `--format` of `export`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ExportFormat {
    /// CSV with a header row.
    Csv,
    /// JSON.
    Json,
}

/// `tunewise export`.
#[derive(Debug, clap::Args)]
pub struct ExportArgs {
    #[command(flatten)]
    storage: StorageArg,
    /// The study's name.
    #[arg(long, value_name = "NAME")]
    study: String,
    /// Output format (default: json for an --output ending in .json, else csv).
    #[arg(long, value_enum)]
    format: Option<ExportFormat>,
    /// Write to this file instead of standard output.
    #[arg(short, long, value_name = "FILE")]
    output: Option<PathBuf>,
}

/// `tunewise enqueue`.
#[derive(Debug, clap::Args)]
pub struct EnqueueArgs {
    #[command(flatten)]
    storage: StorageArg,
    /// The study's name.
    #[arg(long, value_name = "NAME")]
    study: String,
    /// The parameters as a JSON object, e.g. '{"lr": 0.01, "layers": 3}'.
    #[arg(long, value_name = "OBJECT")]
    json: Option<String>,
    /// Parameters as name=value; those not given are sampled as usual.
    #[arg(value_name = "NAME=VALUE")]
    params: Vec<String>,
}

/// The SQLite file a storage URL names, if it names one (read as `tunewise::storage::open` does).
fn sqlite_file(url: &str) -> Option<&str> {
    let url = url.trim();
    match url.split_once("://") {
        Some(("sqlite", path)) => Some(path),
        None if url != "memory" => Some(url),
        _ => None,
    }
}

/// Opens a storage that should already hold studies. A SQLite file that does not exist is an
/// error: opening it would create an empty one, and a mistyped path would look like a storage
/// without studies.
pub fn open_existing(url: &str) -> Result<Arc<dyn Storage>> {
    if let Some(path) = sqlite_file(url).filter(|p| !p.is_empty()) {
        if !Path::new(path).exists() {
            let here = std::env::current_dir()
                .map(|d| format!(" (in {})", d.display()))
                .unwrap_or_default();
            bail!(
                "the storage '{url}' does not exist: there is no file '{path}'{here}; fix \
                 --storage, or create a study there first with `tunewise run` or `tunewise ask \
                 --config FILE`"
            );
        }
    }
    open_storage(url)
}

/// The error for a study that is not in the storage: it names the studies there are.
pub fn unknown_study(storage: &dyn Storage, url: &str, name: &str) -> anyhow::Error {
    let names: Vec<String> =
        storage.list_studies().map(|s| s.into_iter().map(|r| r.name).collect()).unwrap_or_default();
    let there = if names.is_empty() {
        "it holds no study yet".to_owned()
    } else {
        format!("its studies are: {}", names.join(", "))
    };
    anyhow!("no study named '{name}' in '{url}' ({there}); fix --study or --storage")
}

/// Loads a study to read or change it (its sampler is not used).
pub fn load_study(storage: Arc<dyn Storage>, url: &str, name: &str) -> Result<Study> {
    let found =
        storage.find_study(name).with_context(|| format!("cannot read the studies of '{url}'"))?;
    if found.is_none() {
        return Err(unknown_study(&*storage, url, name));
    }
    Study::builder()
        .name(name)
        .storage(storage)
        .load()
        .with_context(|| format!("cannot load the study '{name}' from '{url}'"))
}

/// Writes to standard output (an error, not a panic, when it is closed).
pub fn emit(bytes: &[u8]) -> Result<()> {
    let mut out = std::io::stdout().lock();
    out.write_all(bytes).and_then(|()| out.flush()).context("cannot write to standard output")
}

fn csv_text(header: &[String], rows: &[Vec<String>]) -> Result<Vec<u8>> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(header)?;
    for r in rows {
        w.write_record(r)?;
    }
    w.into_inner().map_err(|e| anyhow!("cannot write CSV: {e}"))
}

fn json_line(value: &impl Serialize) -> Result<Vec<u8>> {
    let mut text = serde_json::to_vec_pretty(value)?;
    text.push(b'\n');
    Ok(text)
}

/// One row of `tunewise studies`.
#[derive(Debug, Serialize)]
struct StudySummary {
    name: String,
    directions: Vec<String>,
    complete: usize,
    pruned: usize,
    failed: usize,
    running: usize,
    waiting: usize,
    /// The best value (one objective).
    best_value: Option<f64>,
    /// The size of the Pareto front (several objectives).
    pareto_size: Option<usize>,
    /// The latest start or end of a trial, or the study's creation.
    last_activity: String,
}

impl StudySummary {
    /// The columns: the table has one `best` column, the CSV `best_value` and `pareto_size`.
    fn header(format: TableFormat) -> Vec<String> {
        let mut h = ["name", "directions", "complete", "pruned", "failed", "running", "waiting"]
            .map(String::from)
            .to_vec();
        if format == TableFormat::Table {
            h.push("best".to_owned());
        } else {
            h.extend(["best_value".to_owned(), "pareto_size".to_owned()]);
        }
        h.push("last_activity".to_owned());
        h
    }

    /// The cells under [`header`](Self::header): short numbers in the table, every digit in CSV.
    fn cells(&self, format: TableFormat) -> Vec<String> {
        let mut row = vec![self.name.clone(), self.directions.join(",")];
        let counts = [self.complete, self.pruned, self.failed, self.running, self.waiting];
        row.extend(counts.map(|n| n.to_string()));
        if format == TableFormat::Table {
            row.push(match (self.best_value, self.pareto_size) {
                (Some(v), _) => table::short(v),
                (None, Some(n)) => format!("pareto front of {n}"),
                (None, None) => String::new(),
            });
        } else {
            row.push(self.best_value.map(|v| v.to_string()).unwrap_or_default());
            row.push(self.pareto_size.map(|n| n.to_string()).unwrap_or_default());
        }
        row.push(self.last_activity.clone());
        row
    }
}

fn summary(study: &Study) -> Result<StudySummary> {
    let trials = study.trials()?;
    let count = |s: TrialState| trials.iter().filter(|t| t.state == s).count();
    let best = study.best_trials()?;
    let single = study.directions().len() == 1;
    let last = trials
        .iter()
        .flat_map(|t| [t.datetime_start, t.datetime_complete])
        .flatten()
        .max()
        .unwrap_or(study.record().created);
    Ok(StudySummary {
        name: study.name().to_owned(),
        directions: study.directions().iter().map(ToString::to_string).collect(),
        complete: count(TrialState::Complete),
        pruned: count(TrialState::Pruned),
        failed: count(TrialState::Failed),
        running: count(TrialState::Running),
        waiting: count(TrialState::Waiting),
        best_value: if single { best.first().and_then(|t| t.value()) } else { None },
        pareto_size: (!single).then_some(best.len()),
        last_activity: last.to_rfc3339(),
    })
}

/// `tunewise studies`: every study of the storage.
pub fn studies(args: StudiesArgs) -> Result<ExitCode> {
    let url = &args.storage.storage;
    let storage = open_existing(url)?;
    let records =
        storage.list_studies().with_context(|| format!("cannot read the studies of '{url}'"))?;
    let mut rows = Vec::with_capacity(records.len());
    for r in &records {
        rows.push(summary(&load_study(storage.clone(), url, &r.name)?)?);
    }
    match args.format {
        TableFormat::Table if rows.is_empty() => {
            emit(format!("no study in '{url}' yet\n").as_bytes())
        }
        TableFormat::Table | TableFormat::Csv => {
            let header = StudySummary::header(args.format);
            let body: Vec<Vec<String>> = rows.iter().map(|s| s.cells(args.format)).collect();
            if args.format == TableFormat::Table {
                emit(table::render(&header, &body).as_bytes())
            } else {
                emit(&csv_text(&header, &body)?)
            }
        }
        TableFormat::Json => emit(&json_line(&rows)?),
    }?;
    Ok(ExitCode::SUCCESS)
}

/// The value columns' names, as the export names them.
fn value_columns(objectives: usize) -> Vec<String> {
    if objectives == 1 {
        vec!["value".to_owned()]
    } else {
        (0..objectives).map(|i| format!("values_{i}")).collect()
    }
}

/// Keeps the CSV rows whose `state` column is `state`.
fn filter_csv(text: &[u8], state: TrialState) -> Result<Vec<u8>> {
    let mut reader = csv::Reader::from_reader(text);
    let header = reader.headers()?.clone();
    let column = header.iter().position(|h| h == "state").context("the export has no state")?;
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(&header)?;
    for row in reader.records() {
        let row = row?;
        if row.get(column) == Some(state.as_str()) {
            w.write_record(&row)?;
        }
    }
    w.into_inner().map_err(|e| anyhow!("cannot write CSV: {e}"))
}

/// Keeps the trials of a JSON export whose `state` is `state`.
fn filter_json(text: &[u8], state: TrialState) -> Result<Vec<u8>> {
    let mut doc: Value = serde_json::from_slice(text)?;
    if let Some(trials) = doc.get_mut("trials").and_then(Value::as_array_mut) {
        trials.retain(|t| t.get("state").and_then(Value::as_str) == Some(state.as_str()));
    }
    json_line(&doc)
}

/// `tunewise trials`: the trials of a study.
pub fn trials(args: TrialsArgs) -> Result<ExitCode> {
    let url = &args.storage.storage;
    let study = load_study(open_existing(url)?, url, &args.study)?;
    let state = args.state.map(StateArg::state);
    // CSV and JSON are the export's; a state filter drops rows but keeps every column, so that
    // files of one study always have the same columns.
    let text = match args.format {
        TableFormat::Csv => {
            let mut all = Vec::new();
            study.export_csv(&mut all)?;
            match state {
                Some(s) => filter_csv(&all, s)?,
                None => all,
            }
        }
        TableFormat::Json => {
            let mut all = Vec::new();
            study.export_json(&mut all)?;
            match state {
                Some(s) => filter_json(&all, s)?,
                None => all,
            }
        }
        TableFormat::Table => {
            let trials: Vec<Arc<FrozenTrial>> = study
                .trials()?
                .into_iter()
                .filter(|t| state.map_or(true, |s| t.state == s))
                .collect();
            trials_table(study.directions().len(), &trials).into_bytes()
        }
    };
    emit(&text)?;
    Ok(ExitCode::SUCCESS)
}

fn trials_table(objectives: usize, trials: &[Arc<FrozenTrial>]) -> String {
    let names: BTreeSet<&str> = trials
        .iter()
        .flat_map(|t| t.params.iter().map(|p| &*p.name).chain(t.fixed_params.iter().map(|f| &*f.0)))
        .collect();
    let mut header = vec!["number".to_owned(), "state".to_owned()];
    header.extend(value_columns(objectives));
    header.extend(names.iter().map(|n| n.to_string()));
    header.extend(["duration_s".to_owned(), "started".to_owned()]);
    let rows: Vec<Vec<String>> = trials
        .iter()
        .map(|t| {
            let mut row = vec![t.number.to_string(), t.state.to_string()];
            for i in 0..objectives {
                row.push(
                    t.values
                        .as_ref()
                        .and_then(|v| v.get(i))
                        .map_or(String::new(), |v| table::short(*v)),
                );
            }
            for n in &names {
                // A waiting (enqueued) trial shows the values fixed for it.
                let fixed =
                    || t.fixed_params.iter().find(|(f, _)| &**f == *n).map(|(_, v)| v.clone());
                row.push(t.param_value(n).or_else(fixed).map_or(String::new(), |v| match v {
                    ParamValue::Float(f) => table::short(f),
                    other => other.to_string(),
                }));
            }
            let duration = t.duration().and_then(|d| d.to_std().ok());
            row.push(duration.map_or(String::new(), |d| format!("{:.2}", d.as_secs_f64())));
            let started = t.datetime_start.map(|d| d.format("%Y-%m-%d %H:%M:%S").to_string());
            row.push(started.unwrap_or_default());
            row
        })
        .collect();
    table::render(&header, &rows)
}

/// A best trial in `best --format json`.
#[derive(Serialize)]
struct BestEntry {
    number: u64,
    /// The value of a single-objective study.
    #[serde(skip_serializing_if = "Option::is_none")]
    value: Option<f64>,
    values: Vec<f64>,
    params: BTreeMap<String, ParamValue>,
}

/// `tunewise best`: the best trial, or the Pareto front.
pub fn best(args: BestArgs) -> Result<ExitCode> {
    let url = &args.storage.storage;
    let study = load_study(open_existing(url)?, url, &args.study)?;
    let best = study.best_trials()?;
    if best.is_empty() {
        let trials = study.trials()?;
        let complete = trials.iter().filter(|t| t.state == TrialState::Complete).count();
        if complete > 0 {
            bail!(
                "none of the {complete} complete trial(s) of study '{}' is feasible (every \
                 constraint value must be <= 0)",
                args.study
            );
        }
        bail!(
            "study '{}' has no complete trial yet ({} trial(s) in all); run it, or tell results \
             with `tunewise tell`",
            args.study,
            trials.len()
        );
    }
    let single = study.directions().len() == 1;
    let text = match args.format {
        BestFormat::Json => {
            let entry = |t: &FrozenTrial| BestEntry {
                number: t.number,
                value: if single { t.value() } else { None },
                values: t.values.clone().unwrap_or_default(),
                params: t.params.iter().map(|p| (p.name.to_string(), p.value())).collect(),
            };
            if single {
                json_line(&entry(&best[0]))?
            } else {
                json_line(&best.iter().map(|t| entry(t)).collect::<Vec<_>>())?
            }
        }
        BestFormat::Text => {
            let mut out = String::new();
            let shown = if single { &best[..1] } else { &best[..] };
            if !single {
                let directions: Vec<String> =
                    study.directions().iter().map(ToString::to_string).collect();
                out.push_str(&format!(
                    "Pareto front ({}): {} trial(s)\n",
                    directions.join(", "),
                    best.len()
                ));
            }
            for t in shown {
                let values: Vec<String> =
                    t.values.iter().flatten().map(ToString::to_string).collect();
                let word = if single { "value" } else { "values" };
                out.push_str(&format!("trial {}: {word} {}\n", t.number, values.join(", ")));
                for p in &t.params {
                    out.push_str(&format!("  {} = {}\n", p.name, p.value()));
                }
            }
            out.into_bytes()
        }
    };
    emit(&text)?;
    Ok(ExitCode::SUCCESS)
}

/// `tunewise delete`: deletes a study, only with `--yes`.
pub fn delete(args: DeleteArgs) -> Result<ExitCode> {
    let url = &args.storage.storage;
    let storage = open_existing(url)?;
    let Some(record) = storage.find_study(&args.study)? else {
        return Err(unknown_study(&*storage, url, &args.study));
    };
    let count = storage.trials_since(record.id, 0)?.trials.len();
    if !args.yes {
        bail!(
            "not deleting study '{}' ({count} trial(s)) from '{url}' without --yes: deleting \
             removes the study and all its trials for good; add --yes (to keep a copy first: \
             `tunewise copy` or `tunewise export`)",
            args.study
        );
    }
    storage
        .delete_study(record.id)
        .with_context(|| format!("cannot delete the study '{}' from '{url}'", args.study))?;
    println!("deleted study '{}' ({count} trial(s)) from '{url}'", args.study);
    Ok(ExitCode::SUCCESS)
}

/// `tunewise copy`: copies a study, with every trial, to another storage or name.
pub fn copy(args: CopyArgs) -> Result<ExitCode> {
    let url = &args.storage.storage;
    let to_url = args.to_storage.clone().unwrap_or_else(|| url.clone());
    let to_name = args.to.clone().unwrap_or_else(|| args.study.clone());
    if to_url == *url && to_name == args.study {
        bail!(
            "copying study '{}' onto itself: give --to-storage URL (another storage) or --to NAME \
             (another name)",
            args.study
        );
    }
    let from = open_existing(url)?;
    let Some(record) = from.find_study(&args.study)? else {
        return Err(unknown_study(&*from, url, &args.study));
    };
    // The destination is opened only now, so that a mistake above creates no file there.
    let to = if to_url == *url { from.clone() } else { open_storage(&to_url)? };
    match tunewise::storage::copy_study(&*from, &args.study, &*to, Some(&to_name)) {
        Ok(_) => {}
        Err(tunewise::Error::StudyExists(_)) => bail!(
            "a study named '{to_name}' already exists in '{to_url}'; nothing was copied. Choose \
             another name with --to NAME, or delete that study first"
        ),
        Err(e) => {
            return Err(anyhow!(e).context(format!(
                "cannot copy study '{}' to '{to_name}' in '{to_url}'; nothing was copied",
                args.study
            )))
        }
    }
    let count = from.trials_since(record.id, 0)?.trials.len();
    println!("copied study '{}' ({count} trial(s)) to '{to_name}' in '{to_url}'", args.study);
    Ok(ExitCode::SUCCESS)
}

/// `tunewise export`: the trials table as CSV or JSON, to a file or standard output.
pub fn export(args: ExportArgs) -> Result<ExitCode> {
    let url = &args.storage.storage;
    let study = load_study(open_existing(url)?, url, &args.study)?;
    let format = args.format.unwrap_or_else(|| {
        match args.output.as_ref().and_then(|p| p.extension()).and_then(|e| e.to_str()) {
            Some(ext) if ext.eq_ignore_ascii_case("json") => ExportFormat::Json,
            _ => ExportFormat::Csv,
        }
    });
    // Written to memory first, so that a failed export leaves no half-written file.
    let mut text = Vec::new();
    match format {
        ExportFormat::Csv => study.export_csv(&mut text)?,
        ExportFormat::Json => study.export_json(&mut text)?,
    }
    match &args.output {
        Some(path) => {
            std::fs::write(path, &text).with_context(|| {
                format!("cannot write '{}'; check the path given to --output", path.display())
            })?;
            eprintln!(
                "exported {} trial(s) of study '{}' to {}",
                study.trials()?.len(),
                args.study,
                path.display()
            );
        }
        None => emit(&text)?,
    }
    Ok(ExitCode::SUCCESS)
}

/// The search space of the study file stored in the study by `run` or `ask`, if any.
fn stored_space(study: &Study) -> Option<BTreeMap<String, Distribution>> {
    let text = study.record().user_attrs.get(STUDY_FILE_ATTR)?.as_str()?;
    match config::parse(text) {
        Ok(plan) => Some(plan.params.into_iter().map(|p| (p.name, p.distribution)).collect()),
        Err(e) => {
            eprintln!(
                "warning: the study file stored in study '{}' is not valid ({e:#}); values are \
                 read as numbers, booleans or strings",
                study.name()
            );
            None
        }
    }
}

/// A value given on the command line or in JSON, before it is typed.
enum Raw {
    Text(String),
    Json(Value),
}

impl Raw {
    fn text(&self) -> String {
        match self {
            Raw::Text(t) => t.clone(),
            Raw::Json(Value::String(s)) => s.clone(),
            Raw::Json(v) => v.to_string(),
        }
    }
}

/// Reads a value without a known distribution: an integer, a float, a boolean or a string.
fn untyped(name: &str, raw: &Raw) -> Result<ParamValue> {
    Ok(match raw {
        Raw::Text(t) => {
            if let Ok(i) = t.parse::<i64>() {
                ParamValue::Int(i)
            } else if let Some(f) = t.parse::<f64>().ok().filter(|f| f.is_finite()) {
                ParamValue::Float(f)
            } else if let Ok(b) = t.parse::<bool>() {
                ParamValue::Bool(b)
            } else {
                ParamValue::from(t.as_str())
            }
        }
        Raw::Json(v) => match v {
            Value::Bool(b) => ParamValue::Bool(*b),
            Value::Number(n) => match (n.as_i64(), n.as_f64()) {
                (Some(i), _) => ParamValue::Int(i),
                (None, Some(f)) => ParamValue::Float(f),
                (None, None) => bail!("parameter '{name}': {n} is not a usable number"),
            },
            Value::String(s) => ParamValue::from(s.as_str()),
            other => bail!(
                "parameter '{name}': {other} is not a value; give a number, a boolean or a string"
            ),
        },
    })
}

/// Reads a value as its distribution wants it, and checks that it lies in it.
fn typed(name: &str, raw: &Raw, distribution: &Distribution) -> Result<ParamValue> {
    let text = raw.text();
    let value = match distribution {
        Distribution::Float(_) => match text.trim().parse::<f64>() {
            Ok(f) if f.is_finite() => ParamValue::Float(f),
            _ => bail!("parameter '{name}': '{text}' is not a number ('{name}' is {distribution})"),
        },
        Distribution::Int(_) => {
            match ParamValue::Float(text.trim().parse::<f64>().unwrap_or(f64::NAN)).as_i64() {
                Some(i) => ParamValue::Int(i),
                None => bail!(
                    "parameter '{name}': '{text}' is not an integer ('{name}' is {distribution})"
                ),
            }
        }
        Distribution::Categorical(c) => {
            let number = text.trim().parse::<f64>().ok();
            let found = c.choices.iter().find(|choice| {
                choice.to_string() == text || (number.is_some() && choice.as_f64() == number)
            });
            match found {
                Some(choice) => choice.clone(),
                None => bail!(
                    "parameter '{name}': '{text}' is not one of its choices ('{name}' is \
                     {distribution})"
                ),
            }
        }
    };
    distribution.internal_of(name, &value).map_err(|e| anyhow!("{e}; give a value inside it"))?;
    Ok(value)
}

/// `tunewise enqueue`: a trial with fixed parameters, run before any sampled one.
pub fn enqueue(args: EnqueueArgs) -> Result<ExitCode> {
    let url = &args.storage.storage;
    let study = load_study(open_existing(url)?, url, &args.study)?;
    let mut given: Vec<(String, Raw)> = Vec::new();
    for item in &args.params {
        let Some((name, value)) = item.split_once('=') else {
            bail!("'{item}' is not NAME=VALUE; write each parameter as name=value, e.g. lr=0.01");
        };
        given.push((name.trim().to_owned(), Raw::Text(value.to_owned())));
    }
    if let Some(text) = &args.json {
        let object: serde_json::Map<String, Value> =
            serde_json::from_str(text).with_context(|| {
                format!("--json {text:?} is not a JSON object such as '{{\"lr\": 0.01}}'")
            })?;
        given.extend(object.into_iter().map(|(k, v)| (k, Raw::Json(v))));
    }
    if given.is_empty() {
        bail!("nothing to enqueue: give parameters as name=value, or --json '{{\"name\": value}}'");
    }
    let space = stored_space(&study);
    let mut params: Vec<(String, ParamValue)> = Vec::with_capacity(given.len());
    for (name, raw) in &given {
        if name.is_empty() {
            bail!("a parameter has an empty name; write name=value");
        }
        if params.iter().any(|(n, _)| n == name) {
            bail!("parameter '{name}' is given twice; give it once");
        }
        let value = match &space {
            Some(space) => match space.get(name) {
                Some(d) => typed(name, raw, d)?,
                None => {
                    let known: Vec<&str> = space.keys().map(String::as_str).collect();
                    bail!(
                        "study '{}' has no parameter '{name}'; its study file defines: {}",
                        args.study,
                        if known.is_empty() { "none".to_owned() } else { known.join(", ") }
                    );
                }
            },
            None => untyped(name, raw)?,
        };
        params.push((name.clone(), value));
    }
    let number = study.enqueue_trial(params.iter().map(|(n, v)| (n.as_str(), v.clone())))?;
    let shown: Vec<String> = params.iter().map(|(n, v)| format!("{n}={v}")).collect();
    println!(
        "enqueued trial {number} ({}) in study '{}'; the next `tunewise run` or `tunewise ask` \
         takes it first",
        shown.join(", "),
        args.study
    );
    Ok(ExitCode::SUCCESS)
}
