//! Figures on the server: computed from the cached trials with tunewise-plot, downsampled,
//! drawn as SVG once per (kind, options, cursor), and served as JSON or SVG.

use std::sync::Arc;

use serde::Deserialize;
use tunewise_core::{Direction, FrozenTrial, TrialState};
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
            let trials = &thin(trials, max_points, directions[o], o)[..];
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
            let trials = &thin(trials, max_points, directions[o], o)[..];
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
            let trials = &thin_curves(trials, max_points, directions[o], o)[..];
            Figure::Intermediate(tunewise_plot::intermediate(trials, directions, o).map_err(plot)?)
        }
        "timeline" => {
            let trials = &thin(trials, max_points, directions[o], o)[..];
            let by_worker = q.by_worker.unwrap_or(false);
            Figure::Timeline(tunewise_plot::timeline(trials, by_worker).map_err(plot)?)
        }
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

/// At most about `max` of `trials` (sorted by number), for the figures that draw one mark per
/// trial and that tunewise-plot does not downsample (slice, contour, timeline; intermediate
/// through [`thin_curves`]): every k-th trial, the last one, and the best tenth of the budget
/// by `objective`, so the region of the optimum stays dense. Without it the slice, contour and
/// timeline of a 50,000-trial study are 2–3 MB of SVG each, which the browser takes seconds to
/// lay out (docs/benchmarks.md, "Dashboard (50,000-trial study)").
fn thin(
    trials: &[Arc<FrozenTrial>],
    max: usize,
    direction: Direction,
    objective: usize,
) -> Vec<Arc<FrozenTrial>> {
    if trials.len() <= max {
        return trials.to_vec();
    }
    let value = |t: &FrozenTrial| {
        let v = t.values.as_ref()?.get(objective).copied()?;
        (t.state == TrialState::Complete && v.is_finite()).then_some(v)
    };
    let mut best: Vec<(f64, &Arc<FrozenTrial>)> =
        trials.iter().filter_map(|t| Some((value(t)?, t))).collect();
    let n_best = (max / 10).min(best.len());
    if n_best > 0 {
        best.select_nth_unstable_by(n_best - 1, |a, b| match direction {
            Direction::Minimize => a.0.total_cmp(&b.0),
            Direction::Maximize => b.0.total_cmp(&a.0),
        });
    }
    let stride = trials.len().div_ceil(max.saturating_sub(n_best).max(1));
    let mut kept: Vec<Arc<FrozenTrial>> = trials.iter().step_by(stride).cloned().collect();
    kept.extend(trials.last().cloned());
    kept.extend(best[..n_best].iter().map(|(_, t)| Arc::clone(t)));
    kept.sort_by_key(|t| t.number);
    kept.dedup_by_key(|t| t.number);
    kept
}

/// The trials with intermediate values, thinned (see [`thin`]) so that their curves hold about
/// `max_points` points together.
fn thin_curves(
    trials: &[Arc<FrozenTrial>],
    max_points: usize,
    direction: Direction,
    objective: usize,
) -> Vec<Arc<FrozenTrial>> {
    let with: Vec<Arc<FrozenTrial>> =
        trials.iter().filter(|t| !t.intermediate_values.is_empty()).cloned().collect();
    let points: usize = with.iter().map(|t| t.intermediate_values.len()).sum();
    if points <= max_points {
        return with;
    }
    let curves = (with.len() * max_points / points).max(1);
    thin(&with, curves, direction, objective)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn trials(n: u64) -> Vec<Arc<FrozenTrial>> {
        (0..n)
            .map(|i| {
                let mut t = FrozenTrial::new(i, i, TrialState::Complete);
                // The best (smallest) values are at numbers 500..=509.
                t.values = Some(vec![(i as f64 - 504.5).abs()]);
                if i % 2 == 0 {
                    t.intermediate_values = (0..10).map(|s| (s, vec![s as f64])).collect();
                }
                Arc::new(t)
            })
            .collect()
    }

    #[test]
    fn thinning_keeps_about_the_budget_the_ends_and_the_best_trials() {
        let all = trials(10_000);
        assert_eq!(thin(&all, 20_000, Direction::Minimize, 0).len(), 10_000, "under budget");
        let kept = thin(&all, 100, Direction::Minimize, 0);
        assert!((95..=112).contains(&kept.len()), "{} trials kept", kept.len());
        let numbers: Vec<u64> = kept.iter().map(|t| t.number).collect();
        assert!(numbers.windows(2).all(|w| w[0] < w[1]), "sorted, each once");
        assert_eq!(numbers.first(), Some(&0));
        assert_eq!(numbers.last(), Some(&9_999));
        assert!((500..510).all(|n| numbers.contains(&n)), "the ten best are kept: {numbers:?}");
        let max = thin(&all, 100, Direction::Maximize, 0);
        assert!((9_990..10_000).all(|n| max.iter().any(|t| t.number == n)), "the ten largest");
    }

    #[test]
    fn curves_are_thinned_to_about_the_point_budget() {
        let all = trials(10_000);
        let kept = thin_curves(&all, 2_000, Direction::Minimize, 0);
        let points: usize = kept.iter().map(|t| t.intermediate_values.len()).sum();
        assert!((1_800..=2_300).contains(&points), "{points} points");
        assert!(kept.iter().all(|t| !t.intermediate_values.is_empty()));
        assert_eq!(thin_curves(&all[..100], 2_000, Direction::Minimize, 0).len(), 50);
    }
}
