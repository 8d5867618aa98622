//! The stored record of a trial.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::distribution::Distribution;
use crate::param::ParamValue;

/// Where a trial is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TrialState {
    /// Enqueued, waiting for a worker to claim it.
    Waiting,
    /// Claimed by a worker that holds its lease.
    Running,
    /// Finished with values.
    Complete,
    /// Stopped early by a pruner.
    Pruned,
    /// The objective failed, returned NaN, or the trial was abandoned.
    Failed,
}

impl TrialState {
    /// Every state, in the order of a trial's life.
    pub const ALL: [TrialState; 5] = [
        TrialState::Waiting,
        TrialState::Running,
        TrialState::Complete,
        TrialState::Pruned,
        TrialState::Failed,
    ];

    /// The state named `name` (as [`as_str`](Self::as_str) writes it), if any.
    pub fn from_name(name: &str) -> Option<TrialState> {
        TrialState::ALL.into_iter().find(|s| s.as_str() == name)
    }

    /// Whether the trial has finished (complete, pruned or failed).
    pub fn is_finished(self) -> bool {
        matches!(self, TrialState::Complete | TrialState::Pruned | TrialState::Failed)
    }

    /// The state's name in lower case.
    pub fn as_str(self) -> &'static str {
        match self {
            TrialState::Waiting => "waiting",
            TrialState::Running => "running",
            TrialState::Complete => "complete",
            TrialState::Pruned => "pruned",
            TrialState::Failed => "failed",
        }
    }
}

impl fmt::Display for TrialState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One parameter of a trial: its name, its distribution and its internal value.
///
/// Names and distributions are shared (`Arc`) between the trials of a study, so a trial with ten
/// parameters costs a few hundred bytes and copies cheaply.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Param {
    /// The parameter's name.
    pub name: Arc<str>,
    /// Its distribution.
    pub distribution: Arc<Distribution>,
    /// Its internal value (see [`Distribution`]).
    pub internal: f64,
}

impl Param {
    /// The value in the user's terms.
    pub fn value(&self) -> ParamValue {
        self.distribution.to_external(self.internal)
    }
}

/// A user attribute's value: any JSON value.
pub type AttrValue = serde_json::Value;

/// A trial as stored: an immutable snapshot.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FrozenTrial {
    /// Storage-wide id.
    pub id: u64,
    /// Number within the study: 0, 1, 2, … unique and dense.
    pub number: u64,
    /// State.
    pub state: TrialState,
    /// Parameters in the order they were suggested.
    pub params: Vec<Param>,
    /// Values fixed before the trial ran (enqueued trials, or a reclaimed trial's parameters):
    /// a suggestion of one of these names returns this value.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fixed_params: Vec<(Arc<str>, ParamValue)>,
    /// One value per objective, for a complete trial.
    pub values: Option<Vec<f64>>,
    /// Intermediate values by step, one per objective.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub intermediate_values: BTreeMap<u64, Vec<f64>>,
    /// Constraint values: the trial is feasible when every one is ≤ 0.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub constraints: Vec<f64>,
    /// User attributes.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub user_attrs: BTreeMap<String, AttrValue>,
    /// Why a failed trial failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fail_reason: Option<String>,
    /// When a worker started it.
    pub datetime_start: Option<DateTime<Utc>>,
    /// When it finished.
    pub datetime_complete: Option<DateTime<Utc>>,
    /// The worker that holds or held it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub worker_id: Option<Arc<str>>,
    /// Attempt number: 0 for the first run, incremented each time the trial is reclaimed.
    pub attempt: u32,
}

impl FrozenTrial {
    /// An empty record in `state`, for storages to fill in.
    pub fn new(id: u64, number: u64, state: TrialState) -> Self {
        FrozenTrial {
            id,
            number,
            state,
            params: Vec::new(),
            fixed_params: Vec::new(),
            values: None,
            intermediate_values: BTreeMap::new(),
            constraints: Vec::new(),
            user_attrs: BTreeMap::new(),
            fail_reason: None,
            datetime_start: None,
            datetime_complete: None,
            worker_id: None,
            attempt: 0,
        }
    }

    /// The single value of a complete single-objective trial.
    pub fn value(&self) -> Option<f64> {
        match self.values.as_deref() {
            Some([v]) => Some(*v),
            _ => None,
        }
    }

    /// A parameter by name.
    pub fn param(&self, name: &str) -> Option<&Param> {
        self.params.iter().find(|p| &*p.name == name)
    }

    /// A parameter's value by name, in the user's terms.
    pub fn param_value(&self, name: &str) -> Option<ParamValue> {
        self.param(name).map(Param::value)
    }

    /// Parameters as a sorted map of user values.
    pub fn params_map(&self) -> BTreeMap<String, ParamValue> {
        self.params.iter().map(|p| (p.name.to_string(), p.value())).collect()
    }

    /// Whether every constraint is satisfied (≤ 0). A trial without constraints is feasible.
    pub fn is_feasible(&self) -> bool {
        self.constraints.iter().all(|c| *c <= 0.0)
    }

    /// The last reported step and its values.
    pub fn last_step(&self) -> Option<(u64, &[f64])> {
        self.intermediate_values.iter().next_back().map(|(s, v)| (*s, v.as_slice()))
    }

    /// Wall-clock duration, when started and finished.
    pub fn duration(&self) -> Option<chrono::Duration> {
        Some(self.datetime_complete? - self.datetime_start?)
    }
}

#[cfg(test)]
mod tests {
    use super::TrialState;

    #[test]
    fn every_state_is_found_by_its_name_and_no_other_name_is() {
        for s in TrialState::ALL {
            assert_eq!(TrialState::from_name(s.as_str()), Some(s));
        }
        assert_eq!(TrialState::from_name("Complete"), None);
        assert_eq!(TrialState::from_name("done"), None);
    }
}
