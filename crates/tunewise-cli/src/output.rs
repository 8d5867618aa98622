//! How a run is watched: a progress bar, a line per trial, or JSON Lines for programs.
//!
//! One [`Reporter`] per run, shared by `run` and `worker`: [`Reporter::start`] before the first
//! trial, [`Reporter::trial`] from the study's callback after each finished trial,
//! [`Reporter::finish`] with the run's report. Human text goes to standard error (the summary to
//! standard output, or to standard error with `--json`); JSON goes to standard output only.

use std::fmt::Write as _;
use std::io::{IsTerminal, Write};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{anyhow, Result};
use indicatif::{ProgressBar, ProgressState, ProgressStyle};
use serde_json::{json, Value};
use tunewise::{dominates, Direction, FrozenTrial, OptimizeReport, Study, TrialState};

/// How finished trials are shown on standard error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Progress {
    /// A bar when standard error is a terminal, else a line per trial.
    #[default]
    Auto,
    /// A progress bar (not drawn when standard error is not a terminal; failed trials' lines are).
    Bar,
    /// One line per trial.
    Plain,
    /// Nothing per trial.
    None,
}

/// The output flags shared by `run` and `worker`.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct OutputArgs {
    /// How finished trials are shown on standard error: a bar on a terminal and a line per trial
    /// otherwise (auto), or always bar, plain or none.
    #[arg(long, value_enum, value_name = "MODE", default_value_t = Progress::Auto)]
    pub progress: Progress,
    /// Writes JSON Lines on standard output: one object per finished trial, one at the end
    /// (the human summary then goes to standard error).
    #[arg(long)]
    pub json: bool,
}

/// What bounds the run, as far as it is known when it starts: for the bar's length and the
/// remaining time.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Limits {
    /// Trials this run may finish.
    pub trials: Option<usize>,
    /// Wall-clock limit of this run.
    pub time: Option<Duration>,
}

/// Shows a run's trials as chosen by [`OutputArgs`]. Cheap to clone: the clones share one state,
/// so a study callback can own one while the caller keeps another.
#[derive(Clone)]
pub struct Reporter {
    state: Arc<Mutex<State>>,
}

enum View {
    Bar(ProgressBar),
    Plain,
    Silent,
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct Counts {
    complete: usize,
    pruned: usize,
    failed: usize,
}

struct State {
    mode: Progress,
    view: View,
    json: bool,
    directions: Vec<Direction>,
    counts: Counts,
    /// Trials this run may finish, when known.
    total: Option<usize>,
    /// The best (number, value) with one objective.
    best: Option<(u64, f64)>,
    /// The Pareto front's values with several objectives.
    front: Vec<Vec<f64>>,
}

impl Reporter {
    /// A reporter for the flags; `auto` becomes `bar` or `plain` here, by whether standard error
    /// is a terminal.
    pub fn new(args: &OutputArgs) -> Reporter {
        let mode = match args.progress {
            Progress::Auto if std::io::stderr().is_terminal() => Progress::Bar,
            Progress::Auto => Progress::Plain,
            other => other,
        };
        Reporter {
            state: Arc::new(Mutex::new(State {
                mode,
                view: View::Silent,
                json: args.json,
                directions: Vec::new(),
                counts: Counts::default(),
                total: None,
                best: None,
                front: Vec::new(),
            })),
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        // Output state stays usable after a panic elsewhere: it only counts and prints.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Before the first trial: takes the best so far from the study (a resumed study keeps its
    /// best) and draws the bar.
    pub fn start(&self, study: &Study, limits: Limits) -> Result<()> {
        let best = study.best_trials().map_err(|e| anyhow!("{e}"))?;
        let mut s = self.state();
        s.directions = study.directions().to_vec();
        s.total = limits.trials;
        for t in &best {
            s.note_best(t);
        }
        s.view = match s.mode {
            Progress::Bar => View::Bar(new_bar(limits, &s.bar_message())),
            Progress::Plain => View::Plain,
            Progress::Auto | Progress::None => View::Silent,
        };
        Ok(())
    }

    /// After each finished trial (from the study's callback).
    pub fn trial(&self, t: &FrozenTrial) {
        let mut s = self.state();
        match t.state {
            TrialState::Complete => s.counts.complete += 1,
            TrialState::Pruned => s.counts.pruned += 1,
            TrialState::Failed => s.counts.failed += 1,
            TrialState::Waiting | TrialState::Running => {}
        }
        s.note_best(t);
        match &s.view {
            View::Plain => eprintln!("{}", trial_line(t)),
            View::Bar(bar) => {
                if t.state == TrialState::Failed {
                    // Above the bar, so that errors are not lost; also when the bar is hidden.
                    bar.suspend(|| eprintln!("{}", trial_line(t)));
                }
                bar.set_message(s.bar_message());
                bar.inc(1);
            }
            View::Silent => {}
        }
        if s.json {
            write_stdout(&trial_json(t).to_string());
        }
    }

    /// A line of human text on standard error, above the bar when there is one.
    pub fn message(&self, text: &str) {
        match &self.state().view {
            View::Bar(bar) => bar.suspend(|| eprintln!("{text}")),
            View::Plain | View::Silent => eprintln!("{text}"),
        }
    }

    /// Stops the bar, keeping its last state on screen (before an error is printed, or the
    /// summary).
    pub fn stop(&self) {
        if let View::Bar(bar) = &self.state().view {
            if !bar.is_finished() {
                // As it stands: a run that stopped early does not show a full bar.
                bar.set_style(bar_style(bar.length().is_some(), false));
                bar.abandon();
            }
        }
    }

    /// After the run: stops the bar, then the summary (the number of trials, why the run
    /// stopped, the best trial or the Pareto front) and, with `--json`, the `end` object.
    pub fn finish(&self, report: &OptimizeReport, interrupted: bool, study: &Study) -> Result<()> {
        let best = study.best_trials().map_err(|e| anyhow!("{e}"))?;
        self.stop();
        let s = self.state();
        let reason = if interrupted {
            "of Ctrl-C (run again to resume the study)".to_owned()
        } else {
            report.stop_reason.to_string()
        };
        let mut text = format!("{} trial(s) run; stopped because {reason}\n", report.trials);
        if report.lost_trials > 0 {
            text.push_str(&format!(
                "{} trial(s) lost: this worker's lease expired and another worker ran them again\n",
                report.lost_trials
            ));
        }
        text.push_str(&best_text(&best, study.directions().len()));
        if s.json {
            eprint!("{text}");
            // One objective: the best trial (the first of equals), as in the summary.
            let shown = if study.directions().len() == 1 { 1 } else { best.len() };
            let kind =
                if interrupted { "interrupted".to_owned() } else { stop_kind(&report.stop_reason) };
            let end = json!({
                "event": "end",
                "trials": report.trials,
                "lost": report.lost_trials,
                "complete": s.counts.complete,
                "pruned": s.counts.pruned,
                "failed": s.counts.failed,
                "stop_reason": kind,
                "stop_message": reason,
                "elapsed_s": report.elapsed.as_secs_f64(),
                "best": best.iter().take(shown).map(|t| best_json(t)).collect::<Vec<_>>(),
            });
            write_stdout(&end.to_string());
        } else {
            write_stdout(text.trim_end());
        }
        Ok(())
    }
}

impl State {
    fn note_best(&mut self, t: &FrozenTrial) {
        if t.state != TrialState::Complete || !t.is_feasible() {
            return;
        }
        let Some(values) = t.values.as_deref() else { return };
        if values.len() != self.directions.len() {
            return;
        }
        if let [direction] = self.directions[..] {
            let v = values[0];
            if self.best.map_or(true, |(_, b)| direction.better(v, b)) {
                self.best = Some((t.number, v));
            }
        } else {
            let dirs = &self.directions;
            if self.front.iter().any(|f| dominates(dirs, f, values) || f == values) {
                return;
            }
            self.front.retain(|f| !dominates(dirs, values, f));
            self.front.push(values.to_vec());
        }
    }

    fn bar_message(&self) -> String {
        let Counts { complete, pruned, failed } = self.counts;
        let done = complete + pruned + failed;
        let mut m = match self.total {
            Some(total) => format!("{done}/{total} trials: "),
            None => format!("{done} trials: "),
        };
        let _ = write!(m, "{complete} complete, {pruned} pruned, {failed} failed");
        if self.directions.len() > 1 {
            let _ = write!(m, ", Pareto front {}", self.front.len());
        } else if let Some((number, v)) = self.best {
            let _ = write!(m, ", best {} (trial {number})", short_number(v));
        }
        m
    }
}

/// The bar with a trial budget, and the spinner with only a time limit; `{eta_budget}` is the
/// remaining time of [`remaining`].
/// The numbers are all in `{msg}` (set in one step, so that they agree with each other).
const BAR: &str = "{spinner} {elapsed_precise} [{bar:20}] {msg}";
const SPINNER: &str = "{spinner} {elapsed_precise} {msg}";
const LEFT: &str = "; {eta_budget} left";

fn new_bar(limits: Limits, message: &str) -> ProgressBar {
    let time = limits.time;
    let eta = move |state: &ProgressState, w: &mut dyn std::fmt::Write| {
        let left = remaining(state.elapsed(), state.pos(), state.len(), time);
        let _ = w.write_str(&left.map_or_else(|| "?".to_owned(), short_duration));
    };
    let bar = match limits.trials {
        Some(n) => ProgressBar::new(n as u64),
        None => ProgressBar::new_spinner(),
    };
    bar.set_style(bar_style(limits.trials.is_some(), true).with_key("eta_budget", eta));
    bar.set_message(message.to_owned());
    bar.enable_steady_tick(Duration::from_millis(250));
    bar
}

fn bar_style(bounded: bool, running: bool) -> ProgressStyle {
    let template =
        format!("{}{}", if bounded { BAR } else { SPINNER }, if running { LEFT } else { "" });
    // The templates are constants: an error here is a bug, shown as a plain bar, not a panic.
    ProgressStyle::with_template(&template).unwrap_or_else(|_| ProgressStyle::default_bar())
}

/// Time left in the run: from the trial budget at the rate so far, or from the time limit,
/// whichever ends first; `None` when neither is known yet (no trial finished, no time limit).
pub fn remaining(
    elapsed: Duration,
    done: u64,
    total: Option<u64>,
    time: Option<Duration>,
) -> Option<Duration> {
    let by_trials = total.and_then(|n| match done {
        _ if done >= n => Some(Duration::ZERO),
        0 => None,
        _ => Some(elapsed.mul_f64((n - done) as f64 / done as f64)),
    });
    let by_time = time.map(|t| t.saturating_sub(elapsed));
    match (by_trials, by_time) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// `45s`, `3m 07s`, `2h 05m`.
pub fn short_duration(d: Duration) -> String {
    let s = d.as_secs_f64().round() as u64;
    match s {
        0..60 => format!("{s}s"),
        60..3600 => format!("{}m {:02}s", s / 60, s % 60),
        _ => format!("{}h {:02}m", s / 3600, s % 3600 / 60),
    }
}

/// A value for the bar: six significant digits at most.
fn short_number(v: f64) -> String {
    let a = v.abs();
    if v == 0.0 || !v.is_finite() || (1e-3..1e6).contains(&a) {
        let text = format!("{v:.*}", 5usize.saturating_sub(a.log10().floor().max(0.0) as usize));
        if text.contains('.') {
            text.trim_end_matches('0').trim_end_matches('.').to_owned()
        } else {
            text
        }
    } else {
        format!("{v:.5e}")
    }
}

/// A line on standard output; a closed pipe (`tunewise run --json | head`) is not an error of
/// the run, so write errors are ignored.
fn write_stdout(line: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

/// The kind of a stop reason as in its JSON form (`trial_budget`, `time_limit`, …).
fn stop_kind(reason: &tunewise::StopReason) -> String {
    serde_json::to_value(reason)
        .ok()
        .and_then(|v| v.get("kind").and_then(Value::as_str).map(str::to_owned))
        .unwrap_or_else(|| "unknown".to_owned())
}

/// A number for JSON: infinities (accepted as scores) become the strings `"inf"` / `"-inf"`.
fn json_number(v: f64) -> Value {
    if v.is_finite() {
        json!(v)
    } else if v > 0.0 {
        json!("inf")
    } else {
        json!("-inf")
    }
}

fn params_json(t: &FrozenTrial) -> Value {
    let map: serde_json::Map<String, Value> = t
        .params
        .iter()
        .map(|p| (p.name.to_string(), serde_json::to_value(p.value()).unwrap_or(Value::Null)))
        .collect();
    Value::Object(map)
}

fn values_json(t: &FrozenTrial) -> Value {
    t.values.as_ref().map_or(Value::Null, |v| v.iter().copied().map(json_number).collect())
}

/// The `trial` object of `--json`.
pub fn trial_json(t: &FrozenTrial) -> Value {
    json!({
        "event": "trial",
        "number": t.number,
        "state": t.state.as_str(),
        "values": values_json(t),
        "params": params_json(t),
        "duration_s": t.duration().and_then(|d| d.to_std().ok()).map(|d| d.as_secs_f64()),
        "message": t.fail_reason,
    })
}

fn best_json(t: &FrozenTrial) -> Value {
    json!({ "number": t.number, "values": values_json(t), "params": params_json(t) })
}

fn params_text(t: &FrozenTrial) -> String {
    let parts: Vec<String> = t.params.iter().map(|p| format!("{}={}", p.name, p.value())).collect();
    parts.join(", ")
}

fn values_text(values: &[f64]) -> String {
    let parts: Vec<String> = values.iter().map(|v| v.to_string()).collect();
    parts.join(", ")
}

/// `trial 3: complete 0.123 (lr=…, layers=…)` or `trial 4: failed: …`.
pub fn trial_line(t: &FrozenTrial) -> String {
    match t.state {
        TrialState::Complete => format!(
            "trial {}: complete {} ({})",
            t.number,
            values_text(t.values.as_deref().unwrap_or_default()),
            params_text(t)
        ),
        TrialState::Failed => format!(
            "trial {}: failed: {} ({})",
            t.number,
            t.fail_reason.as_deref().unwrap_or("no reason recorded"),
            params_text(t)
        ),
        TrialState::Pruned => match t.intermediate_values.keys().next_back() {
            Some(step) => format!("trial {}: pruned at step {step} ({})", t.number, params_text(t)),
            None => format!("trial {}: pruned ({})", t.number, params_text(t)),
        },
        state => format!("trial {}: {} ({})", t.number, state.as_str(), params_text(t)),
    }
}

/// `best: trial 4 value 0.5 (x=…)`, or the Pareto front, one trial a line.
fn best_text(best: &[Arc<FrozenTrial>], objectives: usize) -> String {
    let mut text = String::new();
    if best.is_empty() {
        text.push_str("no trial has completed yet\n");
    } else if objectives == 1 {
        let t = &best[0];
        let _ = writeln!(
            text,
            "best: trial {} value {} ({})",
            t.number,
            values_text(t.values.as_deref().unwrap_or_default()),
            params_text(t)
        );
    } else {
        let _ = writeln!(text, "best (Pareto front, {} trial(s)):", best.len());
        for t in best {
            let _ = writeln!(
                text,
                "  trial {}: values {} ({})",
                t.number,
                values_text(t.values.as_deref().unwrap_or_default()),
                params_text(t)
            );
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: fn(u64) -> Duration = Duration::from_secs;

    #[test]
    fn remaining_time_follows_the_trial_rate() {
        // 10 of 40 trials in 20 s: 30 more at 2 s each.
        assert_eq!(remaining(S(20), 10, Some(40), None), Some(S(60)));
        assert_eq!(remaining(S(20), 40, Some(40), None), Some(Duration::ZERO));
        assert_eq!(remaining(S(20), 45, Some(40), None), Some(Duration::ZERO));
    }

    #[test]
    fn remaining_time_is_unknown_before_the_first_trial_without_a_time_limit() {
        assert_eq!(remaining(S(5), 0, Some(40), None), None);
        assert_eq!(remaining(S(5), 3, None, None), None);
    }

    #[test]
    fn the_time_limit_bounds_the_remaining_time_when_it_ends_first() {
        // The trials would need 60 s more, the time limit ends in 40 s.
        assert_eq!(remaining(S(20), 10, Some(40), Some(S(60))), Some(S(40)));
        // The trials end first.
        assert_eq!(remaining(S(20), 10, Some(40), Some(S(600))), Some(S(60)));
        // Before the first trial, only the time limit is known.
        assert_eq!(remaining(S(5), 0, Some(40), Some(S(60))), Some(S(55)));
        assert_eq!(remaining(S(5), 2, None, Some(S(60))), Some(S(55)));
        // Past the limit the running trials finish: nothing left to wait for in the budget.
        assert_eq!(remaining(S(70), 2, None, Some(S(60))), Some(Duration::ZERO));
    }

    #[test]
    fn durations_are_short() {
        assert_eq!(short_duration(Duration::from_millis(400)), "0s");
        assert_eq!(short_duration(S(45)), "45s");
        assert_eq!(short_duration(S(187)), "3m 07s");
        assert_eq!(short_duration(S(2 * 3600 + 5 * 60 + 59)), "2h 05m");
    }

    #[test]
    fn numbers_keep_six_significant_digits() {
        assert_eq!(short_number(0.0), "0");
        assert_eq!(short_number(0.123_456_789), "0.12346");
        assert_eq!(short_number(1234.56789), "1234.57");
        assert_eq!(short_number(-2.5), "-2.5");
        assert_eq!(short_number(1.5e-7), "1.50000e-7");
        assert_eq!(short_number(f64::INFINITY), "inf");
    }

    fn complete(number: u64, values: &[f64]) -> FrozenTrial {
        let mut t = FrozenTrial::new(number, number, TrialState::Complete);
        t.values = Some(values.to_vec());
        t
    }

    fn state(directions: &[Direction]) -> State {
        State {
            mode: Progress::None,
            view: View::Silent,
            json: false,
            directions: directions.to_vec(),
            counts: Counts::default(),
            total: None,
            best: None,
            front: Vec::new(),
        }
    }

    #[test]
    fn the_best_value_follows_the_direction() {
        let mut s = state(&[Direction::Maximize]);
        for (n, v) in [(0, 1.0), (1, 3.0), (2, 2.0)] {
            s.note_best(&complete(n, &[v]));
        }
        s.note_best(&FrozenTrial::new(3, 3, TrialState::Failed));
        assert_eq!(s.best, Some((1, 3.0)));
        assert!(s.bar_message().ends_with("best 3 (trial 1)"), "{}", s.bar_message());
    }

    #[test]
    fn the_pareto_front_keeps_only_non_dominated_points() {
        let mut s = state(&[Direction::Minimize, Direction::Minimize]);
        for (n, v) in [(0, [2.0, 2.0]), (1, [1.0, 3.0]), (2, [3.0, 1.0]), (3, [1.0, 1.0])] {
            s.note_best(&complete(n, &v));
        }
        s.note_best(&complete(4, &[0.5, 4.0]));
        s.note_best(&complete(5, &[1.0, 1.0]));
        assert_eq!(s.front, vec![vec![1.0, 1.0], vec![0.5, 4.0]]);
        assert!(s.bar_message().ends_with("Pareto front 2"), "{}", s.bar_message());
    }

    #[test]
    fn trial_objects_hold_the_documented_fields() {
        let mut t = complete(7, &[0.5, f64::NEG_INFINITY]);
        t.params.push(tunewise::Param {
            name: "lr".into(),
            distribution: Arc::new(tunewise::Distribution::float(0.0, 1.0)),
            internal: 0.25,
        });
        let v = trial_json(&t);
        assert_eq!(v["event"], "trial");
        assert_eq!(v["number"], 7);
        assert_eq!(v["state"], "complete");
        assert_eq!(v["values"], json!([0.5, "-inf"]));
        assert_eq!(v["params"], json!({ "lr": 0.25 }));
        assert_eq!(v["duration_s"], Value::Null);
        assert_eq!(v["message"], Value::Null);
    }
}
