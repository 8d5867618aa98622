//! The benchmark harness's command line.
//!
//! ```text
//! tunewise-bench run [--samplers a,b] [--functions f,g] [--seeds N | --seed-list 0,1,2]
//!                    [--budget 100] [--threads 2] [--out runs.jsonl]
//! tunewise-bench score [--out scored.jsonl] FILE      fill curves and regrets of records that
//!                                                     carry trial values (the Optuna script's)
//! tunewise-bench report [--out report.md] FILE...     the markdown table of JSON-lines files
//! tunewise-bench check FILE                           evaluate our functions at another
//!                                                     framework's points, compare the values
//! tunewise-bench list                                 samplers and functions
//! ```
//!
//! `cargo run --release -p tunewise-bench --bin tunewise-bench -- run --budget 100 --seeds 10`
//! writes one JSON line per run; `scripts/optuna_compare.sh` runs everything with Optuna beside.

use std::fs;
use std::io::Write;
use std::process::ExitCode;

use anyhow::{anyhow, bail, Context, Result};
use tunewise_bench::harness::{self, HarnessConfig};
use tunewise_bench::report;

const USAGE: &str = "usage:
  tunewise-bench run [--samplers a,b] [--functions f,g] [--seeds N | --seed-list 0,1,2]
                     [--budget 100] [--threads 2] [--out FILE]
  tunewise-bench score [--out FILE] FILE
  tunewise-bench report [--out FILE] FILE...
  tunewise-bench check FILE
  tunewise-bench list";

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// The raw flags, before they are checked.
#[derive(Default)]
struct Flags {
    samplers: Option<String>,
    functions: Option<String>,
    seeds: Option<String>,
    seed_list: Option<String>,
    budget: Option<String>,
    threads: Option<String>,
    out: Option<String>,
    files: Vec<String>,
}

fn parse_flags(args: impl Iterator<Item = String>) -> Result<Flags> {
    let mut flags = Flags::default();
    let mut args = args.peekable();
    while let Some(arg) = args.next() {
        let slot = match arg.as_str() {
            "--samplers" => &mut flags.samplers,
            "--functions" => &mut flags.functions,
            "--seeds" => &mut flags.seeds,
            "--seed-list" => &mut flags.seed_list,
            "--budget" => &mut flags.budget,
            "--threads" => &mut flags.threads,
            "--out" => &mut flags.out,
            "-h" | "--help" => bail!("{USAGE}"),
            a if a.starts_with("--") => bail!("unknown flag {a}\n{USAGE}"),
            _ => {
                flags.files.push(arg);
                continue;
            }
        };
        *slot = Some(args.next().with_context(|| format!("{arg} needs a value"))?);
    }
    Ok(flags)
}

fn list(s: &Option<String>) -> Vec<String> {
    s.iter()
        .flat_map(|s| s.split(','))
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(String::from)
        .collect()
}

fn number<T: std::str::FromStr>(flag: &str, value: &Option<String>, default: T) -> Result<T>
where
    T::Err: std::error::Error + Send + Sync + 'static,
{
    match value {
        Some(v) => v.parse().with_context(|| format!("{flag} {v}: not a whole number")),
        None => Ok(default),
    }
}

fn config(flags: &Flags) -> Result<HarnessConfig> {
    let seeds = match (&flags.seeds, &flags.seed_list) {
        (Some(_), Some(_)) => bail!("give --seeds or --seed-list, not both"),
        (_, Some(_)) => list(&flags.seed_list)
            .iter()
            .map(|s| s.parse().with_context(|| format!("--seed-list: {s} is not a seed")))
            .collect::<Result<_>>()?,
        (n, None) => (0..number("--seeds", n, 10u64)?).collect(),
    };
    Ok(HarnessConfig {
        samplers: list(&flags.samplers),
        functions: list(&flags.functions),
        seeds,
        budget: number("--budget", &flags.budget, 100)?,
        threads: number("--threads", &flags.threads, 2)?,
    })
}

fn output(out: &Option<String>) -> Result<Box<dyn Write + Send>> {
    Ok(match out {
        Some(path) => Box::new(std::io::BufWriter::new(
            fs::File::create(path).with_context(|| format!("--out {path}"))?,
        )),
        None => Box::new(std::io::stdout()),
    })
}

fn run() -> Result<()> {
    let mut args = std::env::args().skip(1);
    let command = args.next().unwrap_or_default();
    if matches!(command.as_str(), "-h" | "--help" | "help") {
        println!("{USAGE}");
        return Ok(());
    }
    let flags = parse_flags(args)?;
    match command.as_str() {
        "run" => {
            let config = config(&flags)?;
            let mut out = output(&flags.out)?;
            let mut write_error = None;
            let records = harness::run(&config, |r| {
                if let Err(e) = writeln!(out, "{}", harness::to_json_line(r)) {
                    write_error.get_or_insert(e);
                }
            })?;
            if let Some(e) = write_error {
                return Err(e).context("writing the records");
            }
            out.flush()?;
            let errors = records.iter().filter(|r| r.error.is_some()).count();
            eprintln!("{} runs ({errors} stopped by an error)", records.len());
        }
        "score" => {
            let [file] = &flags.files[..] else { bail!("score takes one file\n{USAGE}") };
            let text = fs::read_to_string(file).with_context(|| format!("reading {file}"))?;
            let mut records = harness::read_jsonl(&text).map_err(|e| anyhow!("{file}: {e}"))?;
            let problems = harness::problems();
            let mut out = output(&flags.out)?;
            for r in &mut records {
                harness::score_record(r, &problems)?;
                writeln!(out, "{}", harness::to_json_line(r))?;
            }
            out.flush()?;
        }
        "report" => {
            if flags.files.is_empty() {
                bail!("report takes one or more JSON-lines files\n{USAGE}");
            }
            let mut records = Vec::new();
            for file in &flags.files {
                let text = fs::read_to_string(file).with_context(|| format!("reading {file}"))?;
                records.extend(harness::read_jsonl(&text).map_err(|e| anyhow!("{file}: {e}"))?);
            }
            let mut out = output(&flags.out)?;
            out.write_all(report::report(&records).as_bytes())?;
            out.flush()?;
        }
        "check" => {
            let [file] = &flags.files[..] else { bail!("check takes one file\n{USAGE}") };
            let text = fs::read_to_string(file).with_context(|| format!("reading {file}"))?;
            let (checked, mismatches) = harness::check_points(&text, &harness::problems())
                .map_err(|e| anyhow!("{file}: {e}"))?;
            for m in &mismatches {
                eprintln!("mismatch: {m}");
            }
            if !mismatches.is_empty() {
                bail!(
                    "{} of {checked} points differ: the definitions are not the same",
                    mismatches.len()
                );
            }
            eprintln!("{checked} points: both definitions agree");
        }
        "list" => {
            let samplers: Vec<&str> = harness::registry().iter().map(|s| s.name).collect();
            let functions: Vec<String> = harness::problems().iter().map(|p| p.name()).collect();
            println!("samplers: {}", samplers.join(", "));
            println!("functions: {}", functions.join(", "));
        }
        _ => bail!("{USAGE}"),
    }
    Ok(())
}
