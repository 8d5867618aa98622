//! How values are laid out in columns: little-endian `f64` blobs for numbers (exact, infinities
//! and NaN included), small JSON texts for what people may want to read.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde_json::{json, Value};
use tunewise_core::{AttrValue, Direction, Error, ParamValue, TrialState};

/// Bytes of one stored parameter: the key id (`i64`) and the internal value (`f64`).
pub(crate) const PARAM_BYTES: usize = 16;

/// A database value that does not decode: the file was changed by something else, or damaged.
pub(crate) fn damaged(what: impl std::fmt::Display) -> Error {
    Error::Storage(format!(
        "the database holds an unreadable {what}; was the file changed by another program?"
    ))
}

/// `f64`s as a blob of little-endian values.
pub(crate) fn encode_f64s(values: &[f64]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_le_bytes()).collect()
}

pub(crate) fn decode_f64s(bytes: &[u8], what: &str) -> Result<Vec<f64>, Error> {
    if bytes.len() % 8 != 0 {
        return Err(damaged(what));
    }
    Ok(bytes.chunks_exact(8).map(|c| f64::from_le_bytes(c.try_into().unwrap_or([0; 8]))).collect())
}

/// Parameters as `(key id, internal value)` pairs, 16 bytes each.
pub(crate) fn encode_params(params: &[(i64, f64)]) -> Vec<u8> {
    let mut out = Vec::with_capacity(params.len() * PARAM_BYTES);
    for (key, internal) in params {
        out.extend_from_slice(&key.to_le_bytes());
        out.extend_from_slice(&internal.to_le_bytes());
    }
    out
}

pub(crate) fn decode_params(bytes: &[u8]) -> Result<impl Iterator<Item = (i64, f64)> + '_, Error> {
    if bytes.len() % PARAM_BYTES != 0 {
        return Err(damaged("parameter list"));
    }
    Ok(bytes.chunks_exact(PARAM_BYTES).map(|c| {
        let (k, v) = c.split_at(8);
        (
            i64::from_le_bytes(k.try_into().unwrap_or([0; 8])),
            f64::from_le_bytes(v.try_into().unwrap_or([0; 8])),
        )
    }))
}

/// A fixed value as `["name", kind, value]`: the kind keeps a float with an integral value a
/// float, and a non-finite float (which JSON has no number for) is written as a string.
fn encode_value(name: &str, value: &ParamValue) -> Value {
    match value {
        ParamValue::Bool(b) => json!([name, "b", b]),
        ParamValue::Int(i) => json!([name, "i", i]),
        ParamValue::Float(f) if f.is_finite() => json!([name, "f", f]),
        ParamValue::Float(f) => json!([name, "f", f.to_string()]),
        ParamValue::Str(s) => json!([name, "s", &**s]),
    }
}

fn decode_value(kind: &str, value: &Value) -> Option<ParamValue> {
    Some(match (kind, value) {
        ("b", Value::Bool(b)) => ParamValue::Bool(*b),
        ("i", v) => ParamValue::Int(v.as_i64()?),
        ("f", Value::String(s)) => ParamValue::Float(s.parse().ok()?),
        ("f", v) => ParamValue::Float(v.as_f64()?),
        ("s", Value::String(s)) => ParamValue::from(s.as_str()),
        _ => return None,
    })
}

/// Fixed values as a JSON array, `None` when there are none.
pub(crate) fn encode_fixed(fixed: &[(Arc<str>, ParamValue)]) -> Option<String> {
    if fixed.is_empty() {
        return None;
    }
    let list: Vec<Value> = fixed.iter().map(|(n, v)| encode_value(n, v)).collect();
    Some(Value::Array(list).to_string())
}

pub(crate) fn decode_fixed(
    text: &str,
    intern: &mut dyn FnMut(&str) -> Arc<str>,
) -> Result<Vec<(Arc<str>, ParamValue)>, Error> {
    let bad = || damaged("list of fixed parameter values");
    let Value::Array(items) = serde_json::from_str::<Value>(text).map_err(|_| bad())? else {
        return Err(bad());
    };
    items
        .iter()
        .map(|item| match item.as_array().map(Vec::as_slice) {
            Some([Value::String(name), Value::String(kind), value]) => {
                Ok((intern(name), decode_value(kind, value).ok_or_else(bad)?))
            }
            _ => Err(bad()),
        })
        .collect()
}

/// User attributes as a JSON object, `None` when there are none.
pub(crate) fn encode_attrs(attrs: &BTreeMap<String, AttrValue>) -> Option<String> {
    if attrs.is_empty() {
        None
    } else {
        serde_json::to_string(attrs).ok()
    }
}

pub(crate) fn decode_attrs(text: Option<&str>) -> Result<BTreeMap<String, AttrValue>, Error> {
    match text {
        None => Ok(BTreeMap::new()),
        Some(t) => serde_json::from_str(t).map_err(|_| damaged("set of user attributes")),
    }
}

pub(crate) fn encode_directions(directions: &[Direction]) -> String {
    serde_json::to_string(directions).unwrap_or_else(|_| "[]".into())
}

pub(crate) fn decode_directions(text: &str) -> Result<Vec<Direction>, Error> {
    serde_json::from_str(text).map_err(|_| damaged("list of directions"))
}

/// Times are stored as microseconds since the Unix epoch (UTC).
pub(crate) fn micros(t: DateTime<Utc>) -> i64 {
    t.timestamp_micros()
}

pub(crate) fn from_micros(us: i64) -> Result<DateTime<Utc>, Error> {
    DateTime::from_timestamp_micros(us).ok_or_else(|| damaged("time"))
}

/// A time as it reads back: to the microsecond.
pub(crate) fn now() -> DateTime<Utc> {
    let t = Utc::now();
    DateTime::from_timestamp_micros(t.timestamp_micros()).unwrap_or(t)
}

pub(crate) fn state_from_str(s: &[u8]) -> Result<TrialState, Error> {
    Ok(match s {
        b"waiting" => TrialState::Waiting,
        b"running" => TrialState::Running,
        b"complete" => TrialState::Complete,
        b"pruned" => TrialState::Pruned,
        b"failed" => TrialState::Failed,
        _ => return Err(damaged("trial state")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_values_round_trip_exactly() {
        let fixed: Vec<(Arc<str>, ParamValue)> = vec![
            (Arc::from("a"), ParamValue::Float(0.1)),
            (Arc::from("b"), ParamValue::Float(2.0)),
            (Arc::from("c"), ParamValue::Float(f64::INFINITY)),
            (Arc::from("d"), ParamValue::Int(-3)),
            (Arc::from("e"), ParamValue::Bool(true)),
            (Arc::from("f"), ParamValue::from("relu")),
            (Arc::from("g"), ParamValue::Float(2.638344616030823e-256)),
        ];
        let text = encode_fixed(&fixed).unwrap();
        let back = decode_fixed(&text, &mut |s| Arc::from(s)).unwrap();
        assert_eq!(back, fixed);
        assert!(matches!(back[1].1, ParamValue::Float(_)));
        let nan = encode_fixed(&[(Arc::from("n"), ParamValue::Float(f64::NAN))]).unwrap();
        let back = decode_fixed(&nan, &mut |s| Arc::from(s)).unwrap();
        assert!(matches!(back[0].1, ParamValue::Float(f) if f.is_nan()));
        assert!(decode_fixed("[[\"a\",\"x\",1]]", &mut |s| Arc::from(s)).is_err());
        assert!(decode_fixed("{}", &mut |s| Arc::from(s)).is_err());
    }

    #[test]
    fn numbers_round_trip_bit_for_bit() {
        let v = [0.1, -0.0, f64::INFINITY, f64::NEG_INFINITY, 5e-324, f64::MAX];
        let back = decode_f64s(&encode_f64s(&v), "values").unwrap();
        assert_eq!(
            back.iter().map(|x| x.to_bits()).collect::<Vec<_>>(),
            v.iter().map(|x| x.to_bits()).collect::<Vec<_>>()
        );
        assert!(decode_f64s(&[0; 7], "values").is_err());
        let p = [(1, 0.5), (i64::MAX, -1e300)];
        assert_eq!(decode_params(&encode_params(&p)).unwrap().collect::<Vec<_>>(), p);
        assert!(decode_params(&[0; 15]).is_err());
    }
}
