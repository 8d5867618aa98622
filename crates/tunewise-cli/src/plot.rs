//! `tunewise plot KIND`: a figure of a study as SVG, or `tunewise plot report`, every figure
//! that applies in one self-contained HTML page.
//!
//! The HTML report is also `tunewise report --study NAME -o FILE.html` ([`html_report`]): the
//! same command name as `tunewise report STEP VALUE…`, which reports intermediate values from
//! inside a trial (suggest.rs), told apart by `--study` (a program inside a trial never gives
//! it; clap refuses a STEP together with `--study`, and report flags without `--study`).

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{bail, Context, Result};
use tunewise::{Direction, FanovaEvaluator, FrozenTrial, ImportanceEvaluator, PedAnovaEvaluator};
use tunewise_plot::{Figure, Summary};

use crate::config::DEFAULT_STORAGE;
use crate::manage::{load_study, open_existing, StorageArg};

/// What `tunewise plot` draws.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum PlotKind {
    /// Objective value by trial, with the best so far.
    History,
    /// Objective value against one parameter (--param).
    Slice,
    /// Intermediate values by step, one line per trial, pruned trials marked.
    Intermediate,
    /// The first two objectives, the Pareto front highlighted.
    Pareto,
    /// Empirical distribution (CDF) of the objective's values.
    Edf,
    /// Trials as bars from start to end (--by-worker: one row per worker).
    Timeline,
    /// One axis per parameter (every one, or those given by --param) and the objective.
    Parallel,
    /// The objective over two parameters (--param X --param Y), interpolated and filled.
    Contour,
    /// One bar per parameter: how much the objective depends on it (--evaluator, --seed).
    Importance,
    /// Every figure that applies, in one self-contained HTML page.
    Report,
}

/// How `tunewise plot importance` measures importance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum EvaluatorKind {
    /// fANOVA: each parameter's share of the objective's variance over the search space, from a
    /// seeded random forest (--seed).
    Fanova,
    /// PED-ANOVA: how differently each parameter is distributed among the best 10 % of trials;
    /// fast, no randomness.
    PedAnova,
}

/// The flags of `tunewise plot`, as given.
#[derive(Debug, clap::Args)]
pub struct PlotArgs {
    /// What to draw.
    #[arg(value_enum)]
    kind: PlotKind,
    /// The study's name.
    #[arg(long, value_name = "NAME")]
    study: String,
    #[command(flatten)]
    storage: StorageArg,
    /// The parameter of a slice plot; the two of a contour (repeat the flag); for parallel, the
    /// parameters to show (default: every one).
    #[arg(long, value_name = "NAME")]
    param: Vec<String>,
    /// Which objective, numbered from 0 (for a study with several).
    #[arg(long, value_name = "I", default_value_t = 0)]
    objective: usize,
    /// Timeline: one row per worker instead of one per trial.
    #[arg(long)]
    by_worker: bool,
    /// Importance (and the report's): how it is measured.
    #[arg(long, value_enum, value_name = "NAME", default_value = "fanova")]
    evaluator: EvaluatorKind,
    /// Importance with fANOVA: the forest's seed (the same seed gives the same figure); default 0.
    #[arg(long, value_name = "N")]
    seed: Option<u64>,
    /// Draw at most about N points per figure (large studies); the best-so-far line stays exact.
    #[arg(long, value_name = "N")]
    max_points: Option<usize>,
    /// The file to write: .svg for a figure, .html for the report.
    #[arg(short, long, value_name = "FILE")]
    output: PathBuf,
}

/// The flags of `tunewise report --study NAME -o FILE.html`: the HTML report of `plot report`
/// under the name the report is looked for by (`tunewise report STEP VALUE…` inside a trial
/// is the other use of the name; `--study` tells them apart).
#[derive(Debug, clap::Args)]
pub struct HtmlReportArgs {
    /// Write the HTML report of this study (as `tunewise plot report`) instead of reporting an
    /// intermediate value.
    #[arg(long, value_name = "NAME", conflicts_with = "step", requires = "output")]
    pub study: Option<String>,
    /// With --study: the storage URL, a SQLite file (sqlite://FILE or a path) or postgres://…
    #[arg(short, long, value_name = "URL", default_value = DEFAULT_STORAGE, requires = "study")]
    storage: String,
    /// With --study: how the report's parameter importance is measured.
    #[arg(long, value_enum, value_name = "NAME", default_value = "fanova", requires = "study")]
    evaluator: EvaluatorKind,
    /// With --study: the fANOVA forest's seed; default 0.
    #[arg(long, value_name = "N", requires = "study")]
    seed: Option<u64>,
    /// With --study: draw at most about N points per figure.
    #[arg(long, value_name = "N", requires = "study")]
    max_points: Option<usize>,
    /// With --study: the HTML file to write.
    #[arg(short, long, value_name = "FILE", requires = "study")]
    output: Option<PathBuf>,
}

/// `tunewise report --study NAME -o FILE.html`: the same page as `tunewise plot report`.
pub fn html_report(args: HtmlReportArgs, study: String) -> Result<ExitCode> {
    let Some(output) = args.output else {
        bail!("give the HTML file to write with -o FILE.html");
    };
    plot(PlotArgs {
        kind: PlotKind::Report,
        study,
        storage: StorageArg { storage: args.storage },
        param: Vec::new(),
        objective: 0,
        by_worker: false,
        evaluator: args.evaluator,
        seed: args.seed,
        max_points: args.max_points,
        output,
    })
}

/// `tunewise plot`.
pub fn plot(args: PlotArgs) -> Result<ExitCode> {
    let url = &args.storage.storage;
    let study = load_study(open_existing(url)?, url, &args.study)?;
    let trials = study.trials()?;
    let directions = study.directions();
    let (evaluator, evaluator_name) = evaluator(&args)?;
    let text = if args.kind == PlotKind::Report {
        let mut summary = Summary::of(&trials, directions);
        let importance = (&*evaluator, evaluator_name.as_str());
        let mut figures =
            report_figures(&trials, directions, args.by_worker, importance, &mut summary)?;
        if let Some(n) = args.max_points {
            figures.iter_mut().for_each(|f| f.downsample(n));
        }
        tunewise_plot::report_html(study.name(), &summary, &figures)
    } else {
        let mut figure = figure(&args, &trials, directions, (&*evaluator, &evaluator_name))
            .with_context(|| format!("cannot draw the study '{}'", args.study))?;
        if let Some(n) = args.max_points {
            figure.downsample(n);
        }
        figure.to_svg()
    };
    std::fs::write(&args.output, text).with_context(|| {
        format!("cannot write '{}'; fix -o (a file in a writable directory)", args.output.display())
    })?;
    println!("wrote {}", args.output.display());
    Ok(ExitCode::SUCCESS)
}

/// The importance evaluator the flags ask for, and its name for titles.
fn evaluator(args: &PlotArgs) -> Result<(Box<dyn ImportanceEvaluator>, String)> {
    Ok(match (args.evaluator, args.seed) {
        (EvaluatorKind::Fanova, seed) => {
            let seed = seed.unwrap_or(0);
            (Box::new(FanovaEvaluator::new().seed(seed)), format!("fANOVA, seed {seed}"))
        }
        (EvaluatorKind::PedAnova, None) => (Box::new(PedAnovaEvaluator::new()), "PED-ANOVA".into()),
        (EvaluatorKind::PedAnova, Some(_)) => bail!(
            "--seed applies to --evaluator fanova only (PED-ANOVA has no randomness); drop --seed \
             or use --evaluator fanova"
        ),
    })
}

fn figure(
    args: &PlotArgs,
    trials: &[Arc<FrozenTrial>],
    directions: &[Direction],
    (evaluator, evaluator_name): (&dyn ImportanceEvaluator, &str),
) -> Result<Figure> {
    let o = args.objective;
    Ok(match args.kind {
        PlotKind::History => Figure::History(tunewise_plot::history(trials, directions, o)?),
        PlotKind::Slice => {
            let [param] = args.param.as_slice() else {
                bail!(
                    "the slice plot needs one --param NAME (got {}); the parameters are: {}",
                    args.param.len(),
                    param_list(trials)
                );
            };
            Figure::Slice(tunewise_plot::slice(trials, directions, param, o)?)
        }
        PlotKind::Intermediate => {
            Figure::Intermediate(tunewise_plot::intermediate(trials, directions, o)?)
        }
        PlotKind::Pareto => Figure::Pareto(tunewise_plot::pareto(trials, directions)?),
        PlotKind::Edf => Figure::Edf(tunewise_plot::edf(trials, directions, o)?),
        PlotKind::Timeline => Figure::Timeline(tunewise_plot::timeline(trials, args.by_worker)?),
        PlotKind::Contour => {
            let [x, y] = args.param.as_slice() else {
                bail!(
                    "the contour plot needs two parameters, --param X --param Y (got {}); the \
                     parameters are: {}",
                    args.param.len(),
                    param_list(trials)
                );
            };
            Figure::Contour(tunewise_plot::contour(trials, directions, x, y, o)?)
        }
        PlotKind::Parallel => {
            let params: Vec<&str> = args.param.iter().map(String::as_str).collect();
            Figure::ParallelCoordinates(tunewise_plot::parallel_coordinates(
                trials, directions, &params, o,
            )?)
        }
        PlotKind::Importance => Figure::Importance(tunewise_plot::importance(
            trials,
            directions,
            evaluator,
            evaluator_name,
            o,
        )?),
        // plot() writes the report itself; this is never reached.
        PlotKind::Report => bail!("the report is not one figure"),
    })
}

/// The parameter names of the trials, sorted, comma-separated.
fn param_list(trials: &[Arc<FrozenTrial>]) -> String {
    let mut names: Vec<&str> =
        trials.iter().flat_map(|t| t.params.iter().map(|p| &*p.name)).collect();
    names.sort_unstable();
    names.dedup();
    names.join(", ")
}

/// The report's figures: the Pareto front (several objectives), the history and distribution
/// of each objective, a slice per parameter, parallel coordinates (two parameters or more),
/// the importance of the parameters for each objective, intermediate values (when reported) and
/// the timeline. A study with no complete trial is an error (there would be nothing to show); an
/// importance that cannot be computed (fewer than 2 complete trials, no shared parameter) is left
/// out with a note in `summary`.
fn report_figures(
    trials: &[Arc<FrozenTrial>],
    directions: &[Direction],
    by_worker: bool,
    (evaluator, evaluator_name): (&dyn ImportanceEvaluator, &str),
    summary: &mut Summary,
) -> Result<Vec<Figure>> {
    let mut figures = Vec::new();
    if directions.len() >= 2 {
        figures.extend(tunewise_plot::pareto(trials, directions).ok().map(Figure::Pareto));
    }
    for o in 0..directions.len() {
        figures.push(Figure::History(tunewise_plot::history(trials, directions, o)?));
        figures.push(Figure::Edf(tunewise_plot::edf(trials, directions, o)?));
    }
    let mut names: Vec<&str> =
        trials.iter().flat_map(|t| t.params.iter().map(|p| &*p.name)).collect();
    names.sort_unstable();
    names.dedup();
    for name in names {
        // A parameter seen only on unfinished trials has no slice: leave it out.
        figures.extend(tunewise_plot::slice(trials, directions, name, 0).ok().map(Figure::Slice));
    }
    if trials.iter().any(|t| t.params.len() >= 2) {
        let all = tunewise_plot::parallel_coordinates(trials, directions, &[], 0);
        figures.extend(all.ok().map(Figure::ParallelCoordinates));
    }
    for o in 0..directions.len() {
        match tunewise_plot::importance(trials, directions, evaluator, evaluator_name, o) {
            Ok(f) => figures.push(Figure::Importance(f)),
            Err(e) if directions.len() == 1 => {
                summary.note(format!("Parameter importance left out: {e}."));
            }
            Err(e) => summary.note(format!("Parameter importance of objective {o} left out: {e}.")),
        }
    }
    figures
        .extend(tunewise_plot::intermediate(trials, directions, 0).ok().map(Figure::Intermediate));
    figures.extend(tunewise_plot::timeline(trials, by_worker).ok().map(Figure::Timeline));
    Ok(figures)
}
