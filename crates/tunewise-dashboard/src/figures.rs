//! Figures on the server: computed from the cached trials with tunewise-plot, downsampled,
//! drawn as SVG once per (kind, options, cursor), and served as JSON or SVG.

use std::sync::Arc;

use serde::Deserialize;
use tunewise_core::{
    Direction, FanovaEvaluator, FrozenTrial, ImportanceEvaluator, PedAnovaEvaluator, TrialState,
};
use tunewise_plot::Figure;

use crate::error::ApiError;
use crate::hub::Snapshot;

/// The kinds of figure the dashboard serves, in the order the study page shows them.
pub(crate) const KINDS: [&str; 9] = [
    "history",
    "importance",
    "pareto",
    "edf",
    "slice",
    "contour",
    "parallel_coordinates",
    "intermediate",
    "timeline",
];

/// A figure drawn once, sent many times.
#[derive(Debug)]
pub(crate) struct Rendered {
    pub(crate) json: String,
    pub(crate) svg: String,
}

/// The options of a figure request.
#[derive(Debug, Clone, Default, Deserialize)]
pub(crate) struct FigureQuery {
    /// Which objective, from 0.
    pub(crate) objective: Option<usize>,
    /// Slice: the parameter (default: the first).
    pub(crate) param: Option<String>,
    /// Contour: the two parameters (default: the first two numeric ones).
    pub(crate) x: Option<String>,
    pub(crate) y: Option<String>,
    /// Parallel coordinates: the parameters, comma-separated (default: every one).
    pub(crate) params: Option<String>,
    /// Timeline: one row per worker.
    pub(crate) by_worker: Option<bool>,
    /// Importance: `ped-anova` (default) or `fanova`.
    pub(crate) evaluator: Option<String>,
    /// `json` (default) or `svg`.
    pub(crate) format: Option<String>,
}

impl FigureQuery {
    /// The cache key of the figure these options draw (the format is not part of it).
    pub(crate) fn key(&self, kind: &str) -> String {
        format!(
            "{kind}\u{1f}{}\u{1f}{}\u{1f}{}\u{1f}{}\u{1f}{}\u{1f}{}\u{1f}{}",
            self.objective.unwrap_or(0),
            self.param.as_deref().unwrap_or(""),
            self.x.as_deref().unwrap_or(""),
            self.y.as_deref().unwrap_or(""),
            self.params.as_deref().unwrap_or(""),
            self.by_worker.unwrap_or(false),
            self.evaluator.as_deref().unwrap_or("")
        )
    }
}

/// The kinds that apply to this study (those the study page shows).
pub(crate) fn applicable(snap: &Snapshot) -> Vec<&'static str> {
    let complete = snap.counts.get(&tunewise_core::TrialState::Complete).copied().unwrap_or(0) > 0;
    let numeric = snap.params.iter().filter(|p| !p.categorical).count();
    KINDS
        .iter()
        .copied()
        .filter(|k| match *k {
            "history" => true,
            "importance" => complete && !snap.params.is_empty(),
            "pareto" => snap.record.directions.len() >= 2,
            "edf" => complete,
            "slice" => complete && !snap.params.is_empty(),
            "contour" => complete && numeric >= 2,
            "parallel_coordinates" => complete && snap.params.len() >= 2,
            "intermediate" => snap.has_intermediate,
            "timeline" => snap.has_started,
            _ => false,
        })
        .collect()
}

/// The most trials the importance is measured on (a deterministic sample beyond).
const FANOVA_TRIALS: usize = 2000;

/// The most bars a timeline shows.
const TIMELINE_BARS: usize = 500;

/// The number of the best complete trial for objective `o`, if any.
fn best_of(trials: &[Arc<FrozenTrial>], direction: Direction, o: usize) -> Option<u64> {
    let value = |t: &FrozenTrial| {
        t.values.as_ref().and_then(|v| v.get(o)).copied().filter(|v| v.is_finite())
    };
    let mut best: Option<(f64, u64)> = None;
    for t in trials.iter().filter(|t| t.state == TrialState::Complete) {
        if let Some(v) = value(t) {
            if best.map_or(true, |(b, _)| direction.better(v, b)) {
                best = Some((v, t.number));
            }
        }
    }
    best.map(|(_, n)| n)
}

/// At most about `max` of `trials`, evenly spaced in number order, always with the trial
/// numbered `keep` (the best, so that it is always drawn). Deterministic. Returns the sample,
/// its size and the number of trials it was taken from.
fn sample(
    trials: Vec<Arc<FrozenTrial>>,
    max: usize,
    keep: Option<u64>,
) -> (Vec<Arc<FrozenTrial>>, usize, usize) {
    let n = trials.len();
    if n <= max || max < 2 {
        return (trials, n, n);
    }
    let k = max - 1;
    let mut picked: Vec<Arc<FrozenTrial>> =
        (0..=k).map(|i| trials[i * (n - 1) / k].clone()).collect();
    if let Some(best) = keep {
        if !picked.iter().any(|t| t.number == best) {
            if let Some(t) = trials.iter().find(|t| t.number == best) {
                picked.push(t.clone());
                picked.sort_by_key(|t| t.number);
            }
        }
    }
    let shown = picked.len();
    (picked, shown, n)
}

/// Computes the figure, downsampled to about `max_points`, and draws it.
pub(crate) fn render(
    snap: &Snapshot,
    kind: &str,
    q: &FigureQuery,
    max_points: usize,
) -> Result<Rendered, ApiError> {
    let all = &snap.trials[..];
    let directions = &snap.record.directions;
    let o = q.objective.unwrap_or(0);
    if o >= directions.len() {
        return Err(ApiError::bad_request(format!(
            "objective {o} does not exist: the study has {} (numbered from 0)",
            directions.len()
        )));
    }
    // Figures that draw one mark per trial get a sample of the trials (tunewise-plot's own
    // downsampling below covers history, edf and parallel coordinates).
    let (sampled, shown, of) = match kind {
        "slice" | "contour" | "importance" => {
            let complete: Vec<Arc<FrozenTrial>> =
                all.iter().filter(|t| t.state == TrialState::Complete).cloned().collect();
            let best = best_of(&complete, directions[o], o);
            // fANOVA fits a random forest: its cost grows fast with the trials.
            let max = if kind == "importance" { max_points.min(FANOVA_TRIALS) } else { max_points };
            sample(complete, max, best)
        }
        "intermediate" => {
            let reported: Vec<Arc<FrozenTrial>> =
                all.iter().filter(|t| !t.intermediate_values.is_empty()).cloned().collect();
            let steps = reported.iter().map(|t| t.intermediate_values.len()).sum::<usize>();
            let per_line = steps.div_ceil(reported.len().max(1)).max(1);
            let best = best_of(&reported, directions[o], o);
            sample(reported, (max_points / per_line).max(20), best)
        }
        "timeline" => {
            // The latest trials: what a running study is doing now.
            let started: Vec<Arc<FrozenTrial>> =
                all.iter().filter(|t| t.datetime_start.is_some()).cloned().collect();
            let n = started.len();
            let keep = TIMELINE_BARS.min(max_points);
            let latest = started[n.saturating_sub(keep)..].to_vec();
            let shown = latest.len();
            (latest, shown, n)
        }
        _ => (Vec::new(), 0, 0),
    };
    let trials: &[Arc<FrozenTrial>] = if sampled.is_empty() { all } else { &sampled };
    let names = || snap.params.iter().map(|p| p.name.as_str()).collect::<Vec<_>>().join(", ");
    let plot = |e: tunewise_plot::Error| ApiError::unprocessable(e.to_string());
    let mut figure = match kind {
        "history" => Figure::History(tunewise_plot::history(trials, directions, o).map_err(plot)?),
        "importance" => {
            let (evaluator, name): (Box<dyn ImportanceEvaluator>, &str) =
                match q.evaluator.as_deref().unwrap_or("ped-anova") {
                    "ped-anova" => (Box::new(PedAnovaEvaluator::new()), "PED-ANOVA"),
                    "fanova" => (Box::new(FanovaEvaluator::new().seed(0)), "fANOVA, seed 0"),
                    other => {
                        return Err(ApiError::bad_request(format!(
                            "unknown importance evaluator '{other}'; give ped-anova or fanova"
                        )))
                    }
                };
            Figure::Importance(
                tunewise_plot::importance(trials, directions, &*evaluator, name, o)
                    .map_err(plot)?,
            )
        }
        "pareto" => Figure::Pareto(tunewise_plot::pareto(trials, directions).map_err(plot)?),
        "edf" => Figure::Edf(tunewise_plot::edf(trials, directions, o).map_err(plot)?),
        "slice" => {
            let param = match q.param.as_deref().filter(|p| !p.is_empty()) {
                Some(p) => p.to_owned(),
                None => snap.params.first().map(|p| p.name.clone()).ok_or_else(|| {
                    ApiError::unprocessable(
                        "the slice plot needs a parameter, and no trial has one",
                    )
                })?,
            };
            Figure::Slice(tunewise_plot::slice(trials, directions, &param, o).map_err(plot)?)
        }
        "contour" => {
            let mut numeric = snap.params.iter().filter(|p| !p.categorical).map(|p| &p.name);
            let x = q.x.clone().filter(|x| !x.is_empty()).or_else(|| numeric.next().cloned());
            let y =
                q.y.clone()
                    .filter(|y| !y.is_empty())
                    .or_else(|| numeric.find(|n| Some(n.as_str()) != x.as_deref()).cloned());
            let (Some(x), Some(y)) = (x, y) else {
                return Err(ApiError::unprocessable(format!(
                    "the contour plot needs two numeric parameters (x and y); the parameters \
                     are: {}",
                    names()
                )));
            };
            if x == y {
                return Err(ApiError::bad_request(format!(
                    "the contour plot needs two different parameters, and x = y = '{x}'"
                )));
            }
            Figure::Contour(tunewise_plot::contour(trials, directions, &x, &y, o).map_err(plot)?)
        }
        "parallel_coordinates" => {
            let chosen: Vec<&str> = q
                .params
                .as_deref()
                .unwrap_or("")
                .split(',')
                .map(str::trim)
                .filter(|p| !p.is_empty())
                .collect();
            Figure::ParallelCoordinates(
                tunewise_plot::parallel_coordinates(trials, directions, &chosen, o)
                    .map_err(plot)?,
            )
        }
        "intermediate" => {
            Figure::Intermediate(tunewise_plot::intermediate(trials, directions, o).map_err(plot)?)
        }
        "timeline" => Figure::Timeline(
            tunewise_plot::timeline(trials, q.by_worker.unwrap_or(false)).map_err(plot)?,
        ),
        other => {
            return Err(ApiError::not_found(format!(
                "unknown figure kind '{other}'; the kinds are: {}",
                KINDS.join(", ")
            )))
        }
    };
    // Parallel coordinates draw a line across every axis for each trial: fewer lines.
    let limit = if kind == "parallel_coordinates" {
        (max_points / (snap.params.len() + 1).max(2)).max(20)
    } else {
        max_points
    };
    figure.downsample(limit);
    if shown < of {
        let note = if kind == "timeline" {
            format!(" (the last {shown} of {of} trials)")
        } else {
            format!(" ({shown} of {of} trials, sampled)")
        };
        match &mut figure {
            Figure::Slice(f) => f.title.push_str(&note),
            Figure::Importance(f) => f.title.push_str(&note),
            Figure::Contour(f) => f.title.push_str(&note),
            Figure::Intermediate(f) => f.title.push_str(&note),
            Figure::Timeline(f) => f.title.push_str(&note),
            _ => {}
        }
    }
    let json = serde_json::to_string(&figure)
        .map_err(|e| ApiError::internal(format!("cannot write the figure as JSON: {e}")))?;
    Ok(Rendered { json, svg: figure.to_svg() })
}
