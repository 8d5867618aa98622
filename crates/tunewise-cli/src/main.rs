//! `tunewise`: tune any program, in any language, from the command line.
//!
//! `tunewise run [--config study.toml] -- program args {param}` runs the program once per trial
//! with the trial's parameters (in its arguments, as environment variables and as a JSON file),
//! reads its score from its standard output and keeps the study in a storage (SQLite by default),
//! so that a later run resumes it. See `docs/cli.md`.

mod ask;
mod command;
mod config;
mod dashboard;
mod manage;
mod output;
mod plot;
mod run;
mod serve;
mod suggest;
mod table;
mod worker;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Hyperparameter tuning for any program.
#[derive(Debug, Parser)]
#[command(name = "tunewise", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Commands,
}

#[derive(Debug, Subcommand)]
enum Commands {
    /// Runs a study: the program after `--` (or the study file's command.args) once per trial.
    Run(RunArgs),
    /// Asks the running trial for a parameter's value and prints it (inside a program that
    /// `tunewise run` started): `lr=$(tunewise suggest float lr 1e-5 1e-1 --log)`.
    Suggest(suggest::SuggestArgs),
    /// Reports an intermediate value at STEP (inside a program that `tunewise run` started);
    /// exits with status 3 when the trial is pruned and the program should stop. With
    /// `--study NAME -o FILE.html` instead: writes the study's HTML report (as `plot report`).
    Report(suggest::ReportArgs),
    /// Lists the studies of a storage: trials by state, best value, last activity.
    Studies(manage::StudiesArgs),
    /// Lists the trials of a study (a table, CSV or JSON).
    Trials(manage::TrialsArgs),
    /// Shows the best trial of a study (or its Pareto front).
    Best(manage::BestArgs),
    /// Deletes a study and all its trials (with --yes).
    Delete(manage::DeleteArgs),
    /// Copies a study, with every trial, to another storage or name.
    Copy(manage::CopyArgs),
    /// Writes the trials of a study as CSV or JSON.
    Export(manage::ExportArgs),
    /// Adds a trial with fixed parameters; the next run or ask takes it first.
    Enqueue(manage::EnqueueArgs),
    /// Starts a trial and prints its number and parameters (for an outer loop; see tell).
    Ask(ask::AskArgs),
    /// Finishes a trial started by ask: its value(s), or --state pruned|failed.
    Tell(ask::TellArgs),
    /// Joins a study that `tunewise run` created (in a shared storage) and runs its trials here:
    /// start one per machine, or many; see docs/distributed.md.
    Worker(WorkerArgs),
    /// Draws a figure of a study as SVG (history, importance, slice, contour, parallel,
    /// intermediate, pareto, edf, timeline), or `plot report`: every figure in one
    /// self-contained HTML page.
    Plot(plot::PlotArgs),
    /// Serves a live web dashboard of the storage's studies (read-only unless --allow-writes):
    /// trial table, figures, updated while workers run; see docs/dashboard.md.
    Dashboard(dashboard::DashboardArgs),
}

/// The flags of `tunewise run`, as given.
#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// The study file (TOML): search space, directions, sampler, pruner, budget, command.
    #[arg(short, long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Trials at a time.
    #[arg(short, long, value_name = "N", default_value_t = 1)]
    pub jobs: usize,
    /// Trials to run (replaces the study file's budget.trials).
    #[arg(short = 'n', long, value_name = "N")]
    pub trials: Option<usize>,
    /// Storage URL: a SQLite file (sqlite://FILE or a path), memory, or postgres://… (replaces
    /// the study file's study.storage; default sqlite://tunewise.db).
    #[arg(short, long, value_name = "URL")]
    pub storage: Option<String>,
    /// Study name (replaces the study file's study.name; default: the study file's name, or "tunewise").
    #[arg(long, value_name = "NAME")]
    pub study: Option<String>,
    /// Progress bar, line per trial, or JSON Lines.
    #[command(flatten)]
    pub output: output::OutputArgs,
    /// The program and its arguments; `{name}` stands for parameter `name`.
    #[arg(last = true, value_name = "COMMAND")]
    pub command: Vec<String>,
}

/// The flags of `tunewise worker`, as given.
#[derive(Debug, clap::Args)]
pub struct WorkerArgs {
    /// Storage URL of the shared study: postgres://… for many machines, or a SQLite file for
    /// many processes on one machine.
    #[arg(short, long, value_name = "URL")]
    pub storage: String,
    /// The study's name (as `tunewise run` created it).
    #[arg(long, value_name = "NAME")]
    pub study: String,
    /// Trials at a time in this worker.
    #[arg(short, long, value_name = "N", default_value_t = 1)]
    pub jobs: usize,
    /// Trials this worker runs at most (the study file's budget.trials still caps the study's
    /// total).
    #[arg(short = 'n', long, value_name = "N")]
    pub trials: Option<usize>,
    /// This worker's id, recorded on its trials; unique among live workers (default:
    /// hostname-pid). A worker restarted with the same id takes back the trials it left.
    #[arg(long, value_name = "ID")]
    pub worker_id: Option<String>,
    /// How long a running trial stays this worker's without a heartbeat (renewed four times
    /// per lease); after it, another worker runs the trial again. Default 60s.
    #[arg(long, value_name = "DURATION")]
    pub lease: Option<String>,
    /// A study file to use instead of the one stored in the study (same checks as `run`).
    #[arg(short, long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// How the trials are shown.
    #[command(flatten)]
    pub output: output::OutputArgs,
    /// The program and its arguments, instead of the stored command.
    #[arg(last = true, value_name = "COMMAND")]
    pub command: Vec<String>,
}

/// Opens a storage URL (`sqlite://FILE` or a path, `memory`, `postgres://…`), with an error that
/// names the URL and how to fix it.
pub fn open_storage(url: &str) -> anyhow::Result<std::sync::Arc<dyn tunewise::storage::Storage>> {
    use anyhow::Context;
    tunewise::storage::open(url).map_err(|e| anyhow::anyhow!("{e}")).with_context(|| {
        let build = if url.trim_start().starts_with("postgres") && !cfg!(feature = "postgres") {
            " (this tunewise was built without PostgreSQL: install it with --features postgres)"
        } else {
            ""
        };
        format!("cannot open the storage '{url}'{build}; fix --storage or [study] storage")
    })
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Commands::Run(args) => run::run(args),
        Commands::Suggest(args) => suggest::suggest(args),
        Commands::Report(args) => suggest::report(args),
        Commands::Studies(args) => manage::studies(args),
        Commands::Trials(args) => manage::trials(args),
        Commands::Best(args) => manage::best(args),
        Commands::Delete(args) => manage::delete(args),
        Commands::Copy(args) => manage::copy(args),
        Commands::Export(args) => manage::export(args),
        Commands::Enqueue(args) => manage::enqueue(args),
        Commands::Ask(args) => ask::ask(args),
        Commands::Tell(args) => ask::tell(args),
        Commands::Worker(args) => worker::worker(args),
        Commands::Plot(args) => plot::plot(args),
        Commands::Dashboard(args) => dashboard::dashboard(args),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(1)
        }
    }
}
