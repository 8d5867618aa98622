//! Figures on the server: computed from the cached trials with tunewise-plot, downsampled,
//! drawn as SVG once per (kind, options, cursor), and served as JSON or SVG.

use serde::Deserialize;
use tunewise_plot::Figure;

use crate::error::ApiError;
use crate::hub::Snapshot;

/// The kinds of figure the dashboard serves, in the order the study page shows them.
pub(crate) const KINDS: [&str; 8] = [
    "history",
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
    /// `json` (default) or `svg`.
    pub(crate) format: Option<String>,
}

impl FigureQuery {
    /// The cache key of the figure these options draw (the format is not part of it).
    pub(crate) fn key(&self, kind: &str) -> String {
        format!(
            "{kind}\u{1f}{}\u{1f}{}\u{1f}{}\u{1f}{}\u{1f}{}\u{1f}{}",
            self.objective.unwrap_or(0),
            self.param.as_deref().unwrap_or(""),
            self.x.as_deref().unwrap_or(""),
            self.y.as_deref().unwrap_or(""),
            self.params.as_deref().unwrap_or(""),
            self.by_worker.unwrap_or(false)
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

/// Computes the figure, downsampled to about `max_points`, and draws it.
pub(crate) fn render(
    snap: &Snapshot,
    kind: &str,
    q: &FigureQuery,
    max_points: usize,
) -> Result<Rendered, ApiError> {
    let trials = &snap.trials[..];
    let directions = &snap.record.directions;
    let o = q.objective.unwrap_or(0);
    if o >= directions.len() {
        return Err(ApiError::bad_request(format!(
            "objective {o} does not exist: the study has {} (numbered from 0)",
            directions.len()
        )));
    }
    let names = || snap.params.iter().map(|p| p.name.as_str()).collect::<Vec<_>>().join(", ");
    let plot = |e: tunewise_plot::Error| ApiError::unprocessable(e.to_string());
    let mut figure = match kind {
        "history" => Figure::History(tunewise_plot::history(trials, directions, o).map_err(plot)?),
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
    figure.downsample(max_points);
    let json = serde_json::to_string(&figure)
        .map_err(|e| ApiError::internal(format!("cannot write the figure as JSON: {e}")))?;
    Ok(Rendered { json, svg: figure.to_svg() })
}
