//! The trial table: the filter language, sorting, paging and the CSV export, all on the
//! server so that the browser only ever receives one page of rows.

use std::cmp::Ordering;
use std::fmt::Write as _;

use serde_json::{json, Map, Value};
use tunewise_core::{FrozenTrial, ParamValue, TrialState};

use crate::error::ApiError;
use crate::hub::Snapshot;

/// Rows per page when the request does not say.
pub(crate) const DEFAULT_LIMIT: usize = 50;
/// The most rows one page returns.
pub(crate) const MAX_LIMIT: usize = 1000;

/// A comparison operator of the filter language.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Lt,
    Le,
    Gt,
    Ge,
    Eq,
    Ne,
}

impl Op {
    fn holds(self, ord: Ordering) -> bool {
        match self {
            Op::Lt => ord == Ordering::Less,
            Op::Le => ord != Ordering::Greater,
            Op::Gt => ord == Ordering::Greater,
            Op::Ge => ord != Ordering::Less,
            Op::Eq => ord == Ordering::Equal,
            Op::Ne => ord != Ordering::Equal,
        }
    }

    fn is_equality(self) -> bool {
        matches!(self, Op::Eq | Op::Ne)
    }
}

/// What a column of the table is.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Column {
    Number,
    State,
    /// The value of objective I.
    Value(usize),
    Worker,
    /// Seconds from start to end.
    Duration,
    Param(String),
}

impl Column {
    /// The column a name (of the filter language or of `sort`) stands for in this study.
    fn parse(name: &str, snap: &Snapshot) -> Result<Column, ApiError> {
        let objectives = snap.record.directions.len();
        let column = match name {
            "number" => Column::Number,
            "state" => Column::State,
            "worker" => Column::Worker,
            "duration" => Column::Duration,
            "value" => Column::Value(0),
            n if snap.param(n).is_some() => Column::Param(n.to_owned()),
            n => match n.strip_prefix("value").and_then(|i| i.parse::<usize>().ok()) {
                Some(i) if i < objectives => Column::Value(i),
                _ => {
                    return Err(ApiError::bad_request(format!(
                        "unknown column '{name}'; the columns are: {}",
                        column_keys(snap).join(", ")
                    )))
                }
            },
        };
        Ok(column)
    }

    /// The column's key, as `sort` and the table's headers name it.
    fn key(&self, objectives: usize) -> String {
        match self {
            Column::Number => "number".into(),
            Column::State => "state".into(),
            Column::Value(_) if objectives == 1 => "value".into(),
            Column::Value(i) => format!("value{i}"),
            Column::Worker => "worker".into(),
            Column::Duration => "duration".into(),
            Column::Param(p) => p.clone(),
        }
    }
}

/// Every column of the study, in table order.
fn columns(snap: &Snapshot) -> Vec<Column> {
    let mut out = vec![Column::Number, Column::State];
    out.extend((0..snap.record.directions.len()).map(Column::Value));
    out.extend(snap.params.iter().map(|p| Column::Param(p.name.clone())));
    out.extend([Column::Worker, Column::Duration]);
    out
}

fn column_keys(snap: &Snapshot) -> Vec<String> {
    let n = snap.record.directions.len();
    columns(snap).iter().map(|c| c.key(n)).collect()
}

/// A cell as the filter and the sort compare it.
#[derive(Debug, Clone, PartialEq)]
enum Cell {
    Num(f64),
    Text(String),
    Missing,
}

impl Cell {
    fn of(column: &Column, t: &FrozenTrial) -> Cell {
        match column {
            Column::Number => Cell::Num(t.number as f64),
            Column::State => Cell::Text(t.state.as_str().to_owned()),
            Column::Value(i) => match t.values.as_ref().and_then(|v| v.get(*i)) {
                Some(v) if !v.is_nan() => Cell::Num(*v),
                _ => Cell::Missing,
            },
            Column::Worker => {
                t.worker_id.as_ref().map_or(Cell::Missing, |w| Cell::Text(w.to_string()))
            }
            Column::Duration => t
                .duration()
                .and_then(|d| d.num_microseconds())
                .map_or(Cell::Missing, |us| Cell::Num(us as f64 / 1e6)),
            Column::Param(name) => match t.param_value(name) {
                Some(v) => match v.as_f64() {
                    Some(x) => Cell::Num(x),
                    None => Cell::Text(v.to_string()),
                },
                None => Cell::Missing,
            },
        }
    }

    /// Order for sorting: numbers before text; missing cells are handled by the caller.
    fn cmp(&self, other: &Cell) -> Ordering {
        match (self, other) {
            (Cell::Num(a), Cell::Num(b)) => a.total_cmp(b),
            (Cell::Text(a), Cell::Text(b)) => a.cmp(b),
            (Cell::Num(_), Cell::Text(_)) => Ordering::Less,
            (Cell::Text(_), Cell::Num(_)) => Ordering::Greater,
            (Cell::Missing, Cell::Missing) => Ordering::Equal,
            (Cell::Missing, _) => Ordering::Greater,
            (_, Cell::Missing) => Ordering::Less,
        }
    }
}

/// One condition of a filter: `NAME OP VALUE`.
#[derive(Debug, Clone, PartialEq)]
struct Condition {
    column: Column,
    op: Op,
    value: Cell,
}

impl Condition {
    fn holds(&self, t: &FrozenTrial) -> bool {
        match (Cell::of(&self.column, t), &self.value) {
            (Cell::Missing, _) => false,
            (Cell::Num(a), Cell::Num(b)) => self.op.holds(a.total_cmp(b)),
            (Cell::Text(a), Cell::Text(b)) => self.op.holds(a.as_str().cmp(b)),
            // A numeric cell against a text value (or the reverse) can only differ.
            (a, b) => self.op == Op::Ne && a != *b,
        }
    }
}

/// A parsed filter: every condition must hold.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Filter {
    state: Option<TrialState>,
    conditions: Vec<Condition>,
}

impl Filter {
    /// Parses `state` (`all` or a state's name) and the filter expression: conditions
    /// `NAME OP VALUE` joined by `and` or `,`.
    pub(crate) fn parse(
        state: Option<&str>,
        expression: Option<&str>,
        snap: &Snapshot,
    ) -> Result<Filter, ApiError> {
        let state = match state.map(str::trim).filter(|s| !s.is_empty()) {
            None | Some("all") => None,
            Some(s) => Some(parse_state(s).ok_or_else(|| {
                ApiError::bad_request(format!(
                    "unknown state '{s}'; give one of all, complete, pruned, failed, running, \
                     waiting"
                ))
            })?),
        };
        let mut conditions = Vec::new();
        let empty = || {
            ApiError::bad_request(format!(
                "the filter '{}' has an empty condition next to an 'and'; write conditions \
                 NAME OP VALUE joined by 'and' or ','",
                expression.unwrap_or("")
            ))
        };
        for part in expression.unwrap_or("").split(',').filter(|p| !p.trim().is_empty()) {
            let mut words: Vec<&str> = Vec::new();
            for word in part.split_whitespace() {
                if word.eq_ignore_ascii_case("and") {
                    if words.is_empty() {
                        return Err(empty());
                    }
                    conditions.push(condition(&words.join(" "), snap)?);
                    words.clear();
                } else {
                    words.push(word);
                }
            }
            if words.is_empty() {
                return Err(empty());
            }
            conditions.push(condition(&words.join(" "), snap)?);
        }
        Ok(Filter { state, conditions })
    }

    fn holds(&self, t: &FrozenTrial) -> bool {
        self.state.map_or(true, |s| t.state == s) && self.conditions.iter().all(|c| c.holds(t))
    }
}

fn parse_state(s: &str) -> Option<TrialState> {
    TrialState::from_name(&s.to_ascii_lowercase())
}

/// One condition `NAME OP VALUE`.
fn condition(text: &str, snap: &Snapshot) -> Result<Condition, ApiError> {
    let bad = |why: &str| {
        ApiError::bad_request(format!(
            "bad filter condition '{text}': {why}; write NAME OP VALUE with OP one of \
             < <= > >= = !=, e.g. 'value < 0.5 and state = complete'"
        ))
    };
    let at = text.find(['<', '>', '=', '!']).ok_or_else(|| bad("no operator"))?;
    let (name, rest) = text.split_at(at);
    let (op, len) = [
        ("<=", Op::Le),
        (">=", Op::Ge),
        ("!=", Op::Ne),
        ("==", Op::Eq),
        ("<", Op::Lt),
        (">", Op::Gt),
        ("=", Op::Eq),
    ]
    .iter()
    .find(|(s, _)| rest.starts_with(s))
    .map(|(s, op)| (*op, s.len()))
    .ok_or_else(|| bad("'!' must be followed by '='"))?;
    let name = name.trim();
    let raw = rest[len..].trim();
    if name.is_empty() {
        return Err(bad("no column name before the operator"));
    }
    let raw = unquote(raw);
    if raw.is_empty() {
        return Err(bad("no value after the operator"));
    }
    if raw.starts_with(['<', '>', '=', '!']) {
        return Err(bad("unknown operator"));
    }
    let column = Column::parse(name, snap)?;
    let number = || {
        raw.parse::<f64>()
            .ok()
            .filter(|v| !v.is_nan())
            .map(Cell::Num)
            .ok_or_else(|| bad(&format!("'{raw}' is not a number")))
    };
    let value = match &column {
        Column::Number | Column::Value(_) | Column::Duration => number()?,
        Column::State => {
            if !op.is_equality() {
                return Err(bad("the state compares only with = or !="));
            }
            let s = parse_state(raw).ok_or_else(|| {
                bad(&format!(
                    "unknown state '{raw}' (complete, pruned, failed, running or waiting)"
                ))
            })?;
            Cell::Text(s.as_str().to_owned())
        }
        Column::Worker => {
            if !op.is_equality() {
                return Err(bad("the worker compares only with = or !="));
            }
            Cell::Text(raw.to_owned())
        }
        Column::Param(p) => {
            let categorical = snap.param(p).is_some_and(|p| p.categorical);
            match raw.parse::<f64>() {
                Ok(v) if !v.is_nan() && !categorical => Cell::Num(v),
                _ if categorical && !op.is_equality() => {
                    return Err(bad(&format!(
                        "'{p}' is categorical: it compares only with = or !="
                    )))
                }
                // A categorical choice that is a number (1, 0.5) is stored as one.
                Ok(v) if !v.is_nan() => Cell::Num(v),
                _ if !op.is_equality() => return Err(bad(&format!("'{raw}' is not a number"))),
                _ => Cell::Text(raw.to_owned()),
            }
        }
    };
    Ok(Condition { column, op, value })
}

fn unquote(s: &str) -> &str {
    for q in ['"', '\''] {
        if let Some(inner) = s.strip_prefix(q).and_then(|r| r.strip_suffix(q)) {
            return inner;
        }
    }
    s
}

/// The sort of the table: a column and a direction.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Sort {
    column: Column,
    descending: bool,
}

impl Sort {
    pub(crate) fn parse(
        key: Option<&str>,
        order: Option<&str>,
        snap: &Snapshot,
    ) -> Result<Sort, ApiError> {
        let column = match key.map(str::trim).filter(|k| !k.is_empty()) {
            None => Column::Number,
            Some(k) => Column::parse(k, snap)?,
        };
        let descending = match order.map(str::trim).filter(|o| !o.is_empty()) {
            None | Some("asc") => false,
            Some("desc") => true,
            Some(o) => {
                return Err(ApiError::bad_request(format!("unknown order '{o}'; give asc or desc")))
            }
        };
        Ok(Sort { column, descending })
    }
}

/// The positions in `snap.trials` of the trials that pass `filter`, in `sort` order. Cells that are missing (a value of an
/// unfinished trial, a parameter a trial does not have) come last in either order; ties keep
/// number order.
pub(crate) fn select(snap: &Snapshot, filter: &Filter, sort: &Sort) -> Vec<usize> {
    let trials = &snap.trials;
    let mut matched: Vec<usize> = (0..trials.len()).filter(|&i| filter.holds(&trials[i])).collect();
    if sort.column == Column::Number {
        if sort.descending {
            matched.reverse();
        }
        return matched;
    }
    let mut keyed: Vec<(Cell, usize)> =
        matched.into_iter().map(|i| (Cell::of(&sort.column, &trials[i]), i)).collect();
    // Positions follow the trials' numbers: ties are broken by number.
    keyed.sort_by(|(a, ia), (b, ib)| {
        let by_cell = match (a, b) {
            (Cell::Missing, Cell::Missing) => Ordering::Equal,
            (Cell::Missing, _) => Ordering::Greater,
            (_, Cell::Missing) => Ordering::Less,
            _ if sort.descending => b.cmp(a),
            _ => a.cmp(b),
        };
        by_cell.then(ia.cmp(ib))
    });
    keyed.into_iter().map(|(_, i)| i).collect()
}

/// The table's columns as the page shows them: key (for `sort` and the filter) and label.
pub(crate) fn columns_json(snap: &Snapshot) -> Value {
    let n = snap.record.directions.len();
    let cols: Vec<Value> = columns(snap)
        .iter()
        .map(|c| {
            let label = match c {
                Column::Number => "#".to_owned(),
                Column::Duration => "duration (s)".to_owned(),
                c => c.key(n),
            };
            let kind = match c {
                Column::Number => "number",
                Column::State => "state",
                Column::Value(_) => "value",
                Column::Worker => "worker",
                Column::Duration => "duration",
                Column::Param(_) => "param",
            };
            let mut col = json!({ "key": c.key(n), "label": label, "kind": kind });
            if let Column::Value(i) = c {
                col["objective"] = json!(i);
            }
            col
        })
        .collect();
    Value::Array(cols)
}

fn param_json(v: &ParamValue) -> Value {
    serde_json::to_value(v).unwrap_or(Value::Null)
}

fn number_json(v: f64) -> Value {
    // JSON has no infinities or NaN: they are sent as text.
    serde_json::Number::from_f64(v).map_or_else(|| Value::String(v.to_string()), Value::Number)
}

/// One row of the table as JSON.
pub(crate) fn row_json(t: &FrozenTrial) -> Value {
    let params: Map<String, Value> =
        t.params.iter().map(|p| (p.name.to_string(), param_json(&p.value()))).collect();
    let duration = t.duration().and_then(|d| d.num_microseconds()).map(|us| us as f64 / 1e6);
    json!({
        "number": t.number,
        "state": t.state.as_str(),
        "values": t.values.as_ref().map(|v| v.iter().map(|x| number_json(*x)).collect::<Vec<_>>()),
        "params": params,
        "worker": t.worker_id.as_deref(),
        "start": t.datetime_start.map(|d| d.to_rfc3339()),
        "complete": t.datetime_complete.map(|d| d.to_rfc3339()),
        "duration": duration,
    })
}

/// The rows as CSV, with a header: number, state, the values, the parameters, worker, start,
/// end and duration in seconds. The values and parameters are named as in `tunewise export`'s
/// CSV (`value` or `values_0`, `values_1`…, and `params_<name>`), so one script reads both.
pub(crate) fn csv(snap: &Snapshot, rows: &[&FrozenTrial]) -> Result<String, ApiError> {
    let objectives = snap.record.directions.len();
    let mut header = vec!["number".to_owned(), "state".to_owned()];
    if objectives == 1 {
        header.push("value".to_owned());
    } else {
        header.extend((0..objectives).map(|i| format!("values_{i}")));
    }
    header.extend(snap.params.iter().map(|p| format!("params_{}", p.name)));
    header
        .extend(["worker", "datetime_start", "datetime_complete", "duration_s"].map(String::from));
    let mut w = csv::Writer::from_writer(Vec::with_capacity(64 * (rows.len() + 1)));
    let fail = |e: csv::Error| ApiError::internal(format!("cannot write CSV: {e}"));
    w.write_record(&header).map_err(fail)?;
    let mut record: Vec<String> = Vec::with_capacity(header.len());
    for t in rows {
        record.clear();
        record.push(t.number.to_string());
        record.push(t.state.as_str().to_owned());
        for i in 0..objectives {
            record.push(
                t.values.as_ref().and_then(|v| v.get(i)).map_or(String::new(), f64::to_string),
            );
        }
        for p in &snap.params {
            record.push(t.param_value(&p.name).map_or(String::new(), |v| v.to_string()));
        }
        record.push(t.worker_id.as_deref().unwrap_or("").to_owned());
        record.push(t.datetime_start.map_or(String::new(), |d| d.to_rfc3339()));
        record.push(t.datetime_complete.map_or(String::new(), |d| d.to_rfc3339()));
        let mut duration = String::new();
        if let Some(us) = t.duration().and_then(|d| d.num_microseconds()) {
            let _ = write!(duration, "{}", us as f64 / 1e6);
        }
        record.push(duration);
        w.write_record(&record).map_err(fail)?;
    }
    let bytes = w.into_inner().map_err(|e| ApiError::internal(format!("cannot write CSV: {e}")))?;
    String::from_utf8(bytes).map_err(|e| ApiError::internal(format!("cannot write CSV: {e}")))
}
