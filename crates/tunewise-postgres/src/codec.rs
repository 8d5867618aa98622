//! Rows to records and back: trials, studies, interned parameter keys.
//!
//! Exactness: floats travel as `double precision` in the binary protocol (bit for bit, including
//! infinities); JSON that must read back exactly (fixed parameter values, attribute values) is
//! stored as text, never as `jsonb` numbers (which would turn `2.0` into `2` or `1e18` into an
//! integer); intermediate values are text written with Rust's shortest round-trip formatting.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use tokio_postgres::Row;
use tunewise_core::storage::{StudyId, StudyRecord};
use tunewise_core::{
    AttrValue, Direction, Distribution, FrozenTrial, Param, ParamValue, TrialState,
};

/// The columns of a trial, in the order [`trial`] decodes them.
macro_rules! trial_columns {
    () => {
        "id, number, state, attempt, worker_id, param_keys, param_values, fixed_params, \
         fixed_keys, fixed_values, objective_values, constraint_values, intermediate::text, \
         user_attrs::text, fail_reason, datetime_start, datetime_complete"
    };
    ($t:literal) => {
        concat!(
            $t,
            ".id, ",
            $t,
            ".number, ",
            $t,
            ".state, ",
            $t,
            ".attempt, ",
            $t,
            ".worker_id, ",
            $t,
            ".param_keys, ",
            $t,
            ".param_values, ",
            $t,
            ".fixed_params, ",
            $t,
            ".fixed_keys, ",
            $t,
            ".fixed_values, ",
            $t,
            ".objective_values, ",
            $t,
            ".constraint_values, ",
            $t,
            ".intermediate::text, ",
            $t,
            ".user_attrs::text, ",
            $t,
            ".fail_reason, ",
            $t,
            ".datetime_start, ",
            $t,
            ".datetime_complete"
        )
    };
}
pub(crate) use trial_columns;

/// Why a row could not be decoded.
#[derive(Debug)]
pub(crate) enum DecodeError {
    /// A parameter key this process has not loaded yet (another worker registered it).
    MissingKey(i32),
    /// Anything else: the row is not what this build wrote.
    Bad(String),
}

fn bad(what: &str, e: impl std::fmt::Display) -> DecodeError {
    DecodeError::Bad(format!("cannot read {what}: {e}"))
}

/// The interned parameter keys of one study: (name, distribution) ⇄ key id.
#[derive(Debug, Default)]
pub(crate) struct StudyKeys {
    by_id: HashMap<i32, (Arc<str>, Arc<Distribution>)>,
    by_name: HashMap<Arc<str>, Vec<(Arc<Distribution>, i32)>>,
}

impl StudyKeys {
    /// The key id of a parameter's name and distribution, if registered.
    pub(crate) fn id_of(&self, p: &Param) -> Option<i32> {
        self.by_name.get(&*p.name)?.iter().find(|(d, _)| **d == *p.distribution).map(|(_, id)| *id)
    }

    fn get(&self, id: i32) -> Result<&(Arc<str>, Arc<Distribution>), DecodeError> {
        self.by_id.get(&id).ok_or(DecodeError::MissingKey(id))
    }

    /// These keys plus the rows `(id, name, distribution)`, keeping the shared names and
    /// distributions already handed out.
    pub(crate) fn merged(&self, rows: &[Row]) -> Result<StudyKeys, DecodeError> {
        let mut by_id = self.by_id.clone();
        let mut by_name = self.by_name.clone();
        for row in rows {
            let id: i32 = row.try_get(0).map_err(|e| bad("a parameter key", e))?;
            if by_id.contains_key(&id) {
                continue;
            }
            let name: &str = row.try_get(1).map_err(|e| bad("a parameter key", e))?;
            let json: &str = row.try_get(2).map_err(|e| bad("a parameter key", e))?;
            let distribution: Distribution =
                serde_json::from_str(json).map_err(|e| bad("a distribution", e))?;
            let name: Arc<str> = match by_name.get_key_value(name) {
                Some((k, _)) => k.clone(),
                None => Arc::from(name),
            };
            let distribution = Arc::new(distribution);
            by_id.insert(id, (name.clone(), distribution.clone()));
            by_name.entry(name).or_default().push((distribution, id));
        }
        Ok(StudyKeys { by_id, by_name })
    }
}

/// Shares one `Arc<str>` per worker id between the trials read.
#[derive(Debug, Default)]
pub(crate) struct Workers(HashMap<String, Arc<str>>);

impl Workers {
    fn get(&mut self, id: &str) -> Arc<str> {
        if let Some(w) = self.0.get(id) {
            return w.clone();
        }
        // Bounded: a long-lived process reading many studies does not keep every id forever.
        if self.0.len() >= 4096 {
            self.0.clear();
        }
        let w: Arc<str> = Arc::from(id);
        self.0.insert(id.to_owned(), w.clone());
        w
    }
}

pub(crate) fn parse_state(s: &str) -> Result<TrialState, DecodeError> {
    Ok(match s {
        "waiting" => TrialState::Waiting,
        "running" => TrialState::Running,
        "complete" => TrialState::Complete,
        "pruned" => TrialState::Pruned,
        "failed" => TrialState::Failed,
        other => return Err(bad("a trial state", format!("unknown state '{other}'"))),
    })
}

/// Intermediate values as stored: `"v1 v2 …"` (shortest round-trip formatting).
pub(crate) fn values_text(values: &[f64]) -> String {
    let parts: Vec<String> = values.iter().map(|v| format!("{v:?}")).collect();
    parts.join(" ")
}

fn parse_values(text: &str) -> Result<Vec<f64>, DecodeError> {
    text.split_whitespace()
        .map(|v| v.parse::<f64>().map_err(|e| bad("an intermediate value", e)))
        .collect()
}

/// Intermediate values as stored: a JSON object step → values text.
pub(crate) fn intermediate_json(values: &BTreeMap<u64, Vec<f64>>) -> Option<String> {
    if values.is_empty() {
        return None;
    }
    let map: BTreeMap<String, String> =
        values.iter().map(|(step, v)| (step.to_string(), values_text(v))).collect();
    serde_json::to_string(&map).ok()
}

/// A JSON value as stored (its exact text).
pub(crate) fn attr_text(value: &AttrValue) -> Result<String, String> {
    serde_json::to_string(value).map_err(|e| format!("cannot encode a user attribute: {e}"))
}

/// User attributes as stored: a JSON object key → the value's JSON text.
pub(crate) fn attrs_json(attrs: &BTreeMap<String, AttrValue>) -> Result<Option<String>, String> {
    if attrs.is_empty() {
        return Ok(None);
    }
    let map = attrs
        .iter()
        .map(|(k, v)| Ok((k.as_str(), attr_text(v)?)))
        .collect::<Result<BTreeMap<&str, String>, String>>()?;
    serde_json::to_string(&map).map(Some).map_err(|e| e.to_string())
}

fn parse_attrs(text: &str) -> Result<BTreeMap<String, AttrValue>, DecodeError> {
    let map: BTreeMap<String, String> =
        serde_json::from_str(text).map_err(|e| bad("user attributes", e))?;
    map.into_iter()
        .map(|(k, v)| Ok((k, serde_json::from_str(&v).map_err(|e| bad("a user attribute", e))?)))
        .collect()
}

/// Fixed parameter values as stored: JSON `[[name, value], …]`.
pub(crate) fn fixed_json(fixed: &[(Arc<str>, ParamValue)]) -> Result<Option<String>, String> {
    if fixed.is_empty() {
        return Ok(None);
    }
    let list: Vec<(&str, &ParamValue)> = fixed.iter().map(|(n, v)| (&**n, v)).collect();
    serde_json::to_string(&list).map(Some).map_err(|e| format!("cannot encode fixed values: {e}"))
}

/// A trial from the columns [`trial_columns`] starting at column `at`.
pub(crate) fn trial(
    row: &Row,
    at: usize,
    keys: &StudyKeys,
    workers: &mut Workers,
) -> Result<FrozenTrial, DecodeError> {
    macro_rules! col {
        ($i:expr, $what:literal) => {
            row.try_get(at + $i).map_err(|e| bad($what, e))?
        };
    }
    let id: i64 = col!(0, "a trial id");
    let number: i64 = col!(1, "a trial number");
    let state: &str = col!(2, "a trial state");
    let attempt: i32 = col!(3, "an attempt");
    let mut t = FrozenTrial::new(id as u64, number as u64, parse_state(state)?);
    t.attempt = attempt as u32;
    let worker: Option<&str> = col!(4, "a worker id");
    t.worker_id = worker.map(|w| workers.get(w));

    let pkeys: Option<Vec<i32>> = col!(5, "parameter keys");
    let pvals: Option<Vec<f64>> = col!(6, "parameter values");
    if let (Some(pkeys), Some(pvals)) = (pkeys, pvals) {
        let mut params = Vec::with_capacity(pkeys.len());
        for (k, v) in pkeys.into_iter().zip(pvals) {
            let (name, distribution) = keys.get(k)?;
            params.push(Param {
                name: name.clone(),
                distribution: distribution.clone(),
                internal: v,
            });
        }
        t.params = params;
    }

    let fixed: Option<&str> = col!(7, "fixed values");
    if let Some(fixed) = fixed {
        let list: Vec<(String, ParamValue)> =
            serde_json::from_str(fixed).map_err(|e| bad("fixed values", e))?;
        t.fixed_params = list.into_iter().map(|(n, v)| (Arc::from(n), v)).collect();
    }
    let fkeys: Option<Vec<i32>> = col!(8, "fixed keys");
    let fvals: Option<Vec<f64>> = col!(9, "fixed key values");
    if let (Some(fkeys), Some(fvals)) = (fkeys, fvals) {
        // Values of earlier attempts, after those given when enqueued; the first of a name wins.
        for (k, v) in fkeys.into_iter().zip(fvals) {
            let (name, distribution) = keys.get(k)?;
            if !t.fixed_params.iter().any(|(n, _)| n == name) {
                t.fixed_params.push((name.clone(), distribution.to_external(v)));
            }
        }
    }

    t.values = col!(10, "objective values");
    let constraints: Option<Vec<f64>> = col!(11, "constraint values");
    t.constraints = constraints.unwrap_or_default();
    let intermediate: Option<&str> = col!(12, "intermediate values");
    if let Some(text) = intermediate {
        let map: BTreeMap<String, String> =
            serde_json::from_str(text).map_err(|e| bad("intermediate values", e))?;
        for (step, values) in map {
            let step: u64 = step.parse().map_err(|e| bad("a step", e))?;
            t.intermediate_values.insert(step, parse_values(&values)?);
        }
    }
    let attrs: Option<&str> = col!(13, "user attributes");
    if let Some(text) = attrs {
        t.user_attrs = parse_attrs(text)?;
    }
    t.fail_reason = col!(14, "a fail reason");
    t.datetime_start = col!(15, "a start time");
    t.datetime_complete = col!(16, "an end time");
    Ok(t)
}

/// A study from the columns `id, name, directions, user_attrs::text, created`.
pub(crate) fn study(row: &Row) -> Result<StudyRecord, DecodeError> {
    let id: i64 = row.try_get(0).map_err(|e| bad("a study id", e))?;
    let name: String = row.try_get(1).map_err(|e| bad("a study name", e))?;
    let directions: Vec<String> = row.try_get(2).map_err(|e| bad("directions", e))?;
    let directions = directions
        .iter()
        .map(|d| match d.as_str() {
            "minimize" => Ok(Direction::Minimize),
            "maximize" => Ok(Direction::Maximize),
            other => Err(bad("a direction", format!("unknown direction '{other}'"))),
        })
        .collect::<Result<Vec<_>, _>>()?;
    let attrs: &str = row.try_get(3).map_err(|e| bad("study attributes", e))?;
    let created: DateTime<Utc> = row.try_get(4).map_err(|e| bad("a creation time", e))?;
    Ok(StudyRecord {
        id: StudyId(id as u64),
        name,
        directions,
        user_attrs: parse_attrs(attrs)?,
        created,
    })
}

/// A direction as stored.
pub(crate) fn direction_str(d: Direction) -> &'static str {
    match d {
        Direction::Minimize => "minimize",
        Direction::Maximize => "maximize",
    }
}
