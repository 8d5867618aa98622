//! Timeline: each trial as a bar from its start to its end, coloured by state.

use std::borrow::Borrow;
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use tunewise_core::{FrozenTrial, TrialState};

use crate::error::{Error, Result};
use crate::figure::Axis;
use crate::svg::{render, Chart, Series, GREY, PALETTE};

/// One trial's bar.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TimelineBar {
    /// The trial's number.
    pub number: u64,
    /// Its state.
    pub state: TrialState,
    /// The row (index into the y axis' categories).
    pub row: usize,
    /// Start, in seconds after the first trial's start.
    pub start: f64,
    /// End, in seconds after the first trial's start; an unfinished trial ends at the latest
    /// time in the study (so the figure does not depend on when it is drawn).
    pub end: f64,
    /// The worker that ran it, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub worker: Option<String>,
}

/// Trials over time, one row per trial or one per worker.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TimelineFigure {
    /// Title.
    pub title: String,
    /// Seconds since the first start.
    pub x: Axis,
    /// Rows: trials (`#N`) or workers.
    pub y: Axis,
    /// Whether rows are workers.
    pub by_worker: bool,
    /// One bar per started trial, in number order.
    pub bars: Vec<TimelineBar>,
}

/// The timeline of the started trials: one row per trial, or per worker when `by_worker`.
pub fn timeline<T: Borrow<FrozenTrial>>(trials: &[T], by_worker: bool) -> Result<TimelineFigure> {
    let mut started: Vec<&FrozenTrial> =
        trials.iter().map(Borrow::borrow).filter(|t| t.datetime_start.is_some()).collect();
    started.sort_by_key(|t| t.number);
    let times = started.iter().flat_map(|t| [t.datetime_start, t.datetime_complete]).flatten();
    let (Some(first), Some(latest)) = (times.clone().min(), times.max()) else {
        return Err(Error::NoStartedTrials);
    };
    let secs = |d: chrono::DateTime<chrono::Utc>| (d - first).num_milliseconds() as f64 / 1000.0;
    let worker = |t: &FrozenTrial| t.worker_id.as_deref().unwrap_or("unknown").to_owned();
    let rows: Vec<String> = if by_worker {
        // Workers in order of their first trial.
        let mut first_seen: BTreeMap<String, u64> = BTreeMap::new();
        for t in &started {
            first_seen.entry(worker(t)).or_insert(t.number);
        }
        let mut names: Vec<(u64, String)> = first_seen.into_iter().map(|(w, n)| (n, w)).collect();
        names.sort();
        names.into_iter().map(|(_, w)| w).collect()
    } else {
        started.iter().map(|t| format!("#{}", t.number)).collect()
    };
    let bars = started
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let row =
                if by_worker { rows.iter().position(|w| *w == worker(t)).unwrap_or(0) } else { i };
            let start = t.datetime_start.map_or(0.0, secs);
            let end = t.datetime_complete.map_or(secs(latest), secs).max(start);
            TimelineBar {
                number: t.number,
                state: t.state,
                row,
                start,
                end,
                worker: t.worker_id.as_deref().map(str::to_owned),
            }
        })
        .collect();
    Ok(TimelineFigure {
        title: "Timeline of trials".to_owned(),
        x: Axis::linear("seconds since the first start"),
        y: Axis {
            label: if by_worker { "worker" } else { "trial" }.to_owned(),
            log: false,
            categories: Some(rows),
        },
        by_worker,
        bars,
    })
}

/// The colour of a state in the timeline.
fn state_colour(state: TrialState) -> &'static str {
    match state {
        TrialState::Complete => PALETTE[0],
        TrialState::Pruned => PALETTE[1],
        TrialState::Failed => PALETTE[3],
        TrialState::Running => PALETTE[2],
        TrialState::Waiting => GREY,
    }
}

impl TimelineFigure {
    /// The figure as SVG: one bar series per state present, with a legend.
    pub fn to_svg(&self) -> String {
        let states = [
            TrialState::Complete,
            TrialState::Pruned,
            TrialState::Failed,
            TrialState::Running,
            TrialState::Waiting,
        ];
        let series = states
            .iter()
            .filter(|s| self.bars.iter().any(|b| b.state == **s))
            .map(|s| Series::Bars {
                bars: self
                    .bars
                    .iter()
                    .filter(|b| b.state == *s)
                    .map(|b| (b.start, b.end, b.row as f64))
                    .collect(),
                colour: state_colour(*s),
                label: Some(s.to_string()),
            })
            .collect();
        render(&Chart { title: self.title.clone(), x: self.x.spec(), y: self.y.spec(), series })
    }
}
