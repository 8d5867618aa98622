//! `tunewise suggest` and `tunewise report`: a trial's program asks for its parameters and
//! reports intermediate values itself (define-by-run), through the socket its trial serves.

use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::process::ExitCode;

use anyhow::{anyhow, bail, Context, Result};
use clap::Subcommand;
use tunewise::{Distribution, FloatDistribution, IntDistribution, ParamValue};

use crate::serve::{Request, Response, SOCKET_ENV};

/// Exit status of `tunewise report` when the trial is pruned: the program should stop.
pub const PRUNED: u8 = 3;

/// Exit status of a command line clap could not refuse by itself (as clap's own usage errors).
const BAD_USAGE: u8 = 2;

/// The flags of `tunewise suggest`, as given.
#[derive(Debug, clap::Args)]
pub struct SuggestArgs {
    #[command(subcommand)]
    kind: Kind,
}

/// The kinds of parameter, as in the study file's `[params.NAME] type`.
#[derive(Debug, Subcommand)]
enum Kind {
    /// A float in [LOW, HIGH].
    Float {
        /// The parameter's name.
        name: String,
        /// Lowest value (inclusive).
        #[arg(allow_negative_numbers = true)]
        low: f64,
        /// Highest value (inclusive).
        #[arg(allow_negative_numbers = true)]
        high: f64,
        /// Log scale (LOW > 0).
        #[arg(long)]
        log: bool,
        /// Only LOW, LOW + S, …, HIGH (not with --log).
        #[arg(long, value_name = "S", allow_negative_numbers = true)]
        step: Option<f64>,
    },
    /// An integer in [LOW, HIGH].
    Int {
        /// The parameter's name.
        name: String,
        /// Lowest value (inclusive).
        #[arg(allow_negative_numbers = true)]
        low: i64,
        /// Highest value (inclusive).
        #[arg(allow_negative_numbers = true)]
        high: i64,
        /// Log scale (LOW >= 1).
        #[arg(long)]
        log: bool,
        /// Only LOW, LOW + S, …, HIGH.
        #[arg(long, value_name = "S", allow_negative_numbers = true)]
        step: Option<i64>,
    },
    /// One of the CHOICEs (printed exactly as given).
    Categorical {
        /// The parameter's name.
        name: String,
        /// The choices (strings).
        #[arg(required = true, num_args = 1.., allow_hyphen_values = true)]
        choices: Vec<String>,
    },
    /// `true` or `false`.
    Bool {
        /// The parameter's name.
        name: String,
    },
}

/// The flags of `tunewise report`, as given.
#[derive(Debug, clap::Args)]
pub struct ReportArgs {
    /// The step (epoch, fold…): each step at most once per trial.
    #[arg(required_unless_present = "study")]
    step: Option<u64>,
    /// The intermediate value, one per objective.
    #[arg(num_args = 0.., allow_negative_numbers = true)]
    values: Vec<f64>,
    #[command(flatten)]
    html: crate::plot::HtmlReportArgs,
}

/// `tunewise suggest`: prints the parameter's value alone on standard output.
pub fn suggest(args: SuggestArgs) -> Result<ExitCode> {
    let (name, distribution) = match args.kind {
        Kind::Float { name, low, high, log, step } => {
            (name, Distribution::Float(FloatDistribution { low, high, log, step }))
        }
        Kind::Int { name, low, high, log, step } => {
            let step = step.unwrap_or(1);
            (name, Distribution::Int(IntDistribution { low, high, log, step }))
        }
        Kind::Categorical { name, choices } => {
            (name, Distribution::categorical(choices.iter().map(String::as_str)))
        }
        Kind::Bool { name } => (name, Distribution::categorical([true, false])),
    };
    if name.is_empty() {
        bail!("the parameter's name is empty; give it a name");
    }
    // Bad ranges are refused here already, so they are found even outside a trial.
    distribution.validate(&name).map_err(|e| anyhow!("{e}"))?;
    let response = send(&Request::Suggest { name: name.clone(), distribution })?;
    let value: ParamValue =
        response.value.ok_or_else(|| anyhow!("the trial answered without a value for '{name}'"))?;
    println!("{value}");
    Ok(ExitCode::SUCCESS)
}

/// `tunewise report`: exit status 0 to go on, [`PRUNED`] when the program should stop.
pub fn report(mut args: ReportArgs) -> Result<ExitCode> {
    if let Some(study) = args.html.study.take() {
        return crate::plot::html_report(args.html, study);
    }
    let Some(step) = args.step else {
        bail!(
            "give the step and its value(s) (`tunewise report STEP VALUE…`, inside a trial), or \
             --study NAME -o FILE.html for the study's HTML report"
        );
    };
    if args.values.is_empty() {
        eprintln!(
            "error: give the intermediate value(s) after the step: `tunewise report {step} \
             VALUE…` (one value per objective)"
        );
        return Ok(ExitCode::from(BAD_USAGE));
    }
    if let Some(v) = args.values.iter().find(|v| !v.is_finite()) {
        bail!(
            "the value {v} is not a finite number; report a large finite value instead, or exit \
             with a non-zero status to fail the trial"
        );
    }
    let response = send(&Request::Report { step, values: args.values })?;
    if response.prune == Some(true) {
        eprintln!(
            "tunewise report: the pruner stopped this trial at step {} (exit status {PRUNED}); \
             stop the program",
            step
        );
        return Ok(ExitCode::from(PRUNED));
    }
    Ok(ExitCode::SUCCESS)
}

const HOW: &str = "`tunewise suggest` and `tunewise report` only work in a program that \
                   `tunewise run` (or `tunewise worker`) started, which gives it the trial's \
                   socket in TUNEWISE_SOCKET: run your program with `tunewise run --config \
                   study.toml -- ./train.sh`";

/// Sends one request to the trial's socket and reads its response.
fn send(request: &Request) -> Result<Response> {
    let Some(path) = std::env::var_os(SOCKET_ENV) else {
        bail!("{SOCKET_ENV} is not set: not inside a trial. {HOW}");
    };
    let shown = std::path::Path::new(&path).display().to_string();
    let mut stream = UnixStream::connect(&path).map_err(|e| {
        anyhow!("cannot reach the trial at {SOCKET_ENV}={shown} ({e}): its trial has ended. {HOW}")
    })?;
    let mut line = serde_json::to_string(request).context("cannot encode the request")?;
    line.push('\n');
    stream
        .write_all(line.as_bytes())
        .with_context(|| format!("cannot send the request to the trial at {shown}"))?;
    let mut answer = String::new();
    BufReader::new(&stream)
        .read_line(&mut answer)
        .with_context(|| format!("cannot read the trial's answer from {shown}"))?;
    if answer.trim().is_empty() {
        bail!("the trial at {shown} ended before it answered; was the program's trial over?");
    }
    let response: Response = serde_json::from_str(answer.trim())
        .with_context(|| format!("the trial's answer {:?} is not understood", answer.trim()))?;
    if !response.ok {
        bail!("{}", response.error.unwrap_or_else(|| "the trial refused the request".into()));
    }
    Ok(response)
}
