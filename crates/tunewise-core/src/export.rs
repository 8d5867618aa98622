//! The trials table as CSV and JSON.

use std::collections::BTreeSet;
use std::io::Write;
use std::sync::Arc;

use serde_json::{json, Map, Value};

use crate::direction::Direction;
use crate::error::{Error, Result};
use crate::frozen::FrozenTrial;
use crate::param::ParamValue;

fn value_columns(directions: &[Direction]) -> Vec<String> {
    if directions.len() == 1 {
        vec!["value".to_owned()]
    } else {
        (0..directions.len()).map(|i| format!("values_{i}")).collect()
    }
}

fn param_json(v: &ParamValue) -> Value {
    match v {
        ParamValue::Bool(b) => json!(b),
        ParamValue::Int(i) => json!(i),
        ParamValue::Float(f) => json!(f),
        ParamValue::Str(s) => json!(&**s),
    }
}

fn cell(v: Option<f64>) -> String {
    v.map(|x| x.to_string()).unwrap_or_default()
}

/// Writes one row per trial: number, state, values, `params_<name>` (the union of all names, in
/// name order; empty where a conditional parameter was not asked), `user_attrs_<key>`,
/// constraints, times, attempt and failure reason.
pub(crate) fn write_csv(
    directions: &[Direction],
    trials: &[Arc<FrozenTrial>],
    out: impl Write,
) -> Result<()> {
    let names: BTreeSet<&str> =
        trials.iter().flat_map(|t| t.params.iter().map(|p| &*p.name)).collect();
    let attrs: BTreeSet<&str> =
        trials.iter().flat_map(|t| t.user_attrs.keys().map(String::as_str)).collect();
    let n_constraints = trials.iter().map(|t| t.constraints.len()).max().unwrap_or(0);
    let mut header = vec!["number".to_owned(), "state".to_owned()];
    header.extend(value_columns(directions));
    header.extend(names.iter().map(|n| format!("params_{n}")));
    header.extend(attrs.iter().map(|a| format!("user_attrs_{a}")));
    header.extend((0..n_constraints).map(|i| format!("constraints_{i}")));
    header.extend(
        ["datetime_start", "datetime_complete", "duration_s", "attempt", "fail_reason"]
            .map(String::from),
    );
    let mut w = csv::Writer::from_writer(out);
    let io = |e: csv::Error| Error::Export(e.to_string());
    w.write_record(&header).map_err(io)?;
    for t in trials {
        let mut row = vec![t.number.to_string(), t.state.to_string()];
        for i in 0..directions.len() {
            row.push(cell(t.values.as_ref().and_then(|v| v.get(i).copied())));
        }
        for n in &names {
            row.push(t.param_value(n).map(|v| v.to_string()).unwrap_or_default());
        }
        for a in &attrs {
            row.push(match t.user_attrs.get(*a) {
                Some(Value::String(s)) => s.clone(),
                Some(v) => v.to_string(),
                None => String::new(),
            });
        }
        for i in 0..n_constraints {
            row.push(cell(t.constraints.get(i).copied()));
        }
        row.push(t.datetime_start.map(|d| d.to_rfc3339()).unwrap_or_default());
        row.push(t.datetime_complete.map(|d| d.to_rfc3339()).unwrap_or_default());
        row.push(cell(t.duration().and_then(|d| d.to_std().ok()).map(|d| d.as_secs_f64())));
        row.push(t.attempt.to_string());
        row.push(t.fail_reason.clone().unwrap_or_default());
        w.write_record(&row).map_err(io)?;
    }
    w.flush().map_err(|e| Error::Export(e.to_string()))
}

/// Writes a JSON array with one object per trial; parameters in the user's terms, with their
/// distributions.
pub(crate) fn write_json(
    directions: &[Direction],
    trials: &[Arc<FrozenTrial>],
    mut out: impl Write,
) -> Result<()> {
    let rows: Vec<Value> = trials
        .iter()
        .map(|t| {
            let params: Map<String, Value> =
                t.params.iter().map(|p| (p.name.to_string(), param_json(&p.value()))).collect();
            let distributions: Map<String, Value> = t
                .params
                .iter()
                .map(|p| {
                    (
                        p.name.to_string(),
                        serde_json::to_value(&*p.distribution).unwrap_or(Value::Null),
                    )
                })
                .collect();
            let intermediate: Map<String, Value> =
                t.intermediate_values.iter().map(|(s, v)| (s.to_string(), json!(v))).collect();
            json!({
                "number": t.number,
                "state": t.state,
                "values": t.values,
                "params": params,
                "distributions": distributions,
                "intermediate_values": intermediate,
                "constraints": t.constraints,
                "user_attrs": t.user_attrs,
                "datetime_start": t.datetime_start.map(|d| d.to_rfc3339()),
                "datetime_complete": t.datetime_complete.map(|d| d.to_rfc3339()),
                "duration_s": t.duration().and_then(|d| d.to_std().ok()).map(|d| d.as_secs_f64()),
                "attempt": t.attempt,
                "worker_id": t.worker_id.as_deref(),
                "fail_reason": t.fail_reason,
            })
        })
        .collect();
    let doc = json!({ "directions": directions, "trials": rows });
    serde_json::to_writer_pretty(&mut out, &doc).map_err(|e| Error::Export(e.to_string()))?;
    out.write_all(b"\n").map_err(|e| Error::Export(e.to_string()))
}
