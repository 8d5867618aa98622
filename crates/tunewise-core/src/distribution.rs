//! Distributions: the range a parameter is drawn from, and its internal `f64` representation.
//!
//! Samplers work in one internal `f64` per parameter:
//! - a float is its own value (log-scaled floats too: samplers take the logarithm themselves);
//! - an int is its value as `f64` (exact: ranges are limited to ±2^53);
//! - a categorical is the index of its choice.
//!
//! Conversions back snap to the distribution (rounding ints and indices, snapping to the step),
//! so that external → internal → external is exact for ints, steps and categoricals.

use std::fmt;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::param::ParamValue;

/// Largest integer magnitude whose every value an `f64` holds exactly.
const MAX_EXACT_INT: i64 = 1 << 53;

/// Relative tolerance when checking that a float step divides its range.
const STEP_TOLERANCE: f64 = 1e-8;

/// A float range: uniform, log-uniform, or on a step grid.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FloatDistribution {
    /// Lowest value (inclusive).
    pub low: f64,
    /// Highest value (inclusive).
    pub high: f64,
    /// Sample on a log scale (requires `low > 0`).
    #[serde(default)]
    pub log: bool,
    /// Only values `low + k * step` (requires `(high - low) / step` to be whole).
    #[serde(default)]
    pub step: Option<f64>,
}

/// An integer range: uniform, log-uniform, or on a step grid.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IntDistribution {
    /// Lowest value (inclusive).
    pub low: i64,
    /// Highest value (inclusive).
    pub high: i64,
    /// Sample on a log scale (requires `low >= 1` and `step == 1`).
    #[serde(default)]
    pub log: bool,
    /// Only values `low + k * step`.
    #[serde(default = "one")]
    pub step: i64,
}

fn one() -> i64 {
    1
}

/// A choice among values of any kind (bool, integer, float, string).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CategoricalDistribution {
    /// The choices; the internal representation of a choice is its index here.
    pub choices: Arc<[ParamValue]>,
}

/// The distribution of one parameter.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum Distribution {
    /// Floats.
    Float(FloatDistribution),
    /// Integers.
    Int(IntDistribution),
    /// Categorical choices.
    Categorical(CategoricalDistribution),
}

impl FloatDistribution {
    /// The number of grid points of a stepped range.
    fn step_count(&self) -> Option<u64> {
        self.step.map(|s| ((self.high - self.low) / s).round() as u64)
    }

    /// The stepped value closest to `x`, within the range.
    fn snap(&self, x: f64) -> f64 {
        match self.step {
            Some(step) => {
                let n = self.step_count().unwrap_or(0) as f64;
                let k = ((x - self.low) / step).round().clamp(0.0, n);
                // `low + n * step` can round away from `high` (0.0 + 3 * 0.1 > 0.3): the last
                // grid point is `high` as written, so snapped values stay in the range and the
                // upper bound round-trips exactly.
                if k == n {
                    self.high
                } else {
                    self.low + k * step
                }
            }
            None => x.clamp(self.low, self.high),
        }
    }

    /// The highest value actually reachable (for a stepped range, the last grid point).
    pub fn max_value(&self) -> f64 {
        self.snap(self.high)
    }
}

impl IntDistribution {
    fn snap(&self, x: f64) -> i64 {
        let k = ((x - self.low as f64) / self.step as f64).round();
        let n = ((self.high - self.low) / self.step) as f64;
        self.low + (k.clamp(0.0, n) as i64) * self.step
    }
}

impl Distribution {
    /// A uniform float range `[low, high]`.
    pub fn float(low: f64, high: f64) -> Self {
        Distribution::Float(FloatDistribution { low, high, log: false, step: None })
    }

    /// A log-uniform float range `[low, high]`, `low > 0`.
    pub fn float_log(low: f64, high: f64) -> Self {
        Distribution::Float(FloatDistribution { low, high, log: true, step: None })
    }

    /// A float range on the grid `low, low + step, …, high`.
    pub fn float_step(low: f64, high: f64, step: f64) -> Self {
        Distribution::Float(FloatDistribution { low, high, log: false, step: Some(step) })
    }

    /// A uniform integer range `[low, high]`.
    pub fn int(low: i64, high: i64) -> Self {
        Distribution::Int(IntDistribution { low, high, log: false, step: 1 })
    }

    /// A log-uniform integer range `[low, high]`, `low >= 1`.
    pub fn int_log(low: i64, high: i64) -> Self {
        Distribution::Int(IntDistribution { low, high, log: true, step: 1 })
    }

    /// An integer range on the grid `low, low + step, …, high`.
    pub fn int_step(low: i64, high: i64, step: i64) -> Self {
        Distribution::Int(IntDistribution { low, high, log: false, step })
    }

    /// A categorical choice among `choices`.
    pub fn categorical<I, T>(choices: I) -> Self
    where
        I: IntoIterator<Item = T>,
        T: Into<ParamValue>,
    {
        Distribution::Categorical(CategoricalDistribution {
            choices: choices.into_iter().map(Into::into).collect(),
        })
    }

    /// Checks the distribution, naming the parameter in the error.
    pub fn validate(&self, name: &str) -> Result<()> {
        match self {
            Distribution::Float(d) => {
                if !d.low.is_finite() || !d.high.is_finite() {
                    return Err(Error::invalid(
                        name,
                        format!("bounds must be finite numbers, got low={} high={}", d.low, d.high),
                    ));
                }
                if d.low > d.high {
                    return Err(Error::invalid(
                        name,
                        format!("low ({}) is greater than high ({}); swap them", d.low, d.high),
                    ));
                }
                if d.log && d.low <= 0.0 {
                    return Err(Error::invalid(
                        name,
                        format!("a log scale needs low > 0, got low={}", d.low),
                    ));
                }
                if let Some(step) = d.step {
                    if d.log {
                        return Err(Error::invalid(
                            name,
                            "a float cannot have both log and step; choose one",
                        ));
                    }
                    if !(step.is_finite() && step > 0.0) {
                        return Err(Error::invalid(
                            name,
                            format!("step must be a positive number, got {step}"),
                        ));
                    }
                    let k = (d.high - d.low) / step;
                    if (k - k.round()).abs() > STEP_TOLERANCE * k.abs().max(1.0) {
                        return Err(Error::invalid(
                            name,
                            format!(
                                "step {step} does not divide the range [{}, {}] (width {}); \
                                 change high to {} or choose another step",
                                d.low,
                                d.high,
                                d.high - d.low,
                                d.low + k.floor() * step
                            ),
                        ));
                    }
                    if k.round() > MAX_EXACT_INT as f64 {
                        return Err(Error::invalid(name, "the step is too small for the range"));
                    }
                }
                Ok(())
            }
            Distribution::Int(d) => {
                if d.low > d.high {
                    return Err(Error::invalid(
                        name,
                        format!("low ({}) is greater than high ({}); swap them", d.low, d.high),
                    ));
                }
                if d.low.abs() > MAX_EXACT_INT || d.high.abs() > MAX_EXACT_INT {
                    return Err(Error::invalid(
                        name,
                        "integer bounds must lie within ±2^53 (9007199254740992)",
                    ));
                }
                if d.step < 1 {
                    return Err(Error::invalid(
                        name,
                        format!("step must be a positive integer, got {}", d.step),
                    ));
                }
                if d.log {
                    if d.low < 1 {
                        return Err(Error::invalid(
                            name,
                            format!("a log scale needs low >= 1, got low={}", d.low),
                        ));
                    }
                    if d.step != 1 {
                        return Err(Error::invalid(
                            name,
                            "an int cannot have both log and a step other than 1; choose one",
                        ));
                    }
                }
                if (d.high - d.low) % d.step != 0 {
                    return Err(Error::invalid(
                        name,
                        format!(
                            "step {} does not divide the range [{}, {}]; change high to {} or choose another step",
                            d.step,
                            d.low,
                            d.high,
                            d.high - (d.high - d.low) % d.step
                        ),
                    ));
                }
                Ok(())
            }
            Distribution::Categorical(d) => {
                if d.choices.is_empty() {
                    return Err(Error::invalid(name, "a categorical needs at least one choice"));
                }
                for (i, c) in d.choices.iter().enumerate() {
                    if let ParamValue::Float(v) = c {
                        if !v.is_finite() {
                            return Err(Error::invalid(
                                name,
                                format!(
                                    "{v} is not a valid choice; choices must be finite numbers"
                                ),
                            ));
                        }
                    }
                    if d.choices[..i].iter().any(|p| p.same_choice(c)) {
                        return Err(Error::invalid(
                            name,
                            format!("the choice {c} ({}) appears more than once", c.kind()),
                        ));
                    }
                }
                Ok(())
            }
        }
    }

    /// The internal representation of `value`, or `None` when it is not in the distribution.
    pub fn to_internal(&self, value: &ParamValue) -> Option<f64> {
        match self {
            Distribution::Float(d) => {
                let x = value.as_f64().filter(|x| x.is_finite())?;
                match d.step {
                    // Within float noise of a grid point is that point, even just past a bound
                    // (8.05 + 2 * 0.11 > 8.27).
                    Some(step) => {
                        let snapped = d.snap(x);
                        (((snapped - x) / step).abs() <= 1e-6).then_some(snapped)
                    }
                    None => (x >= d.low && x <= d.high).then_some(x),
                }
            }
            Distribution::Int(d) => {
                let x = value.as_i64()?;
                (x >= d.low && x <= d.high && (x - d.low) % d.step == 0).then_some(x as f64)
            }
            Distribution::Categorical(d) => {
                d.choices.iter().position(|c| c.same_choice(value)).map(|i| i as f64)
            }
        }
    }

    /// Like [`to_internal`](Self::to_internal), with an error naming the parameter.
    pub fn internal_of(&self, name: &str, value: &ParamValue) -> Result<f64> {
        self.to_internal(value).ok_or_else(|| Error::ValueOutOfDistribution {
            name: name.to_owned(),
            value: value.to_string(),
            distribution: self.to_string(),
        })
    }

    /// The user's value for an internal representation, snapped into the distribution.
    pub fn to_external(&self, internal: f64) -> ParamValue {
        match self {
            Distribution::Float(d) => ParamValue::Float(d.snap(internal)),
            Distribution::Int(d) => ParamValue::Int(d.snap(internal)),
            Distribution::Categorical(d) => {
                let last = d.choices.len().saturating_sub(1);
                let i =
                    if internal.is_nan() { 0.0 } else { internal.round().clamp(0.0, last as f64) };
                d.choices.get(i as usize).cloned().unwrap_or(ParamValue::Int(0))
            }
        }
    }

    /// Snaps an internal value into the distribution (the internal value of `to_external`).
    pub fn snap_internal(&self, internal: f64) -> f64 {
        match self {
            Distribution::Float(d) => d.snap(internal),
            Distribution::Int(d) => d.snap(internal) as f64,
            Distribution::Categorical(d) => {
                let last = d.choices.len().saturating_sub(1) as f64;
                if internal.is_nan() {
                    0.0
                } else {
                    internal.round().clamp(0.0, last)
                }
            }
        }
    }

    /// Whether an internal value is a valid representation in this distribution.
    pub fn contains_internal(&self, internal: f64) -> bool {
        if !internal.is_finite() {
            return false;
        }
        match self {
            Distribution::Float(d) => {
                internal >= d.low
                    && internal <= d.high
                    && d.step.map_or(true, |_| d.snap(internal) == internal)
            }
            Distribution::Int(d) => {
                internal.fract() == 0.0
                    && internal >= d.low as f64
                    && internal <= d.high as f64
                    && (internal as i64 - d.low) % d.step == 0
            }
            Distribution::Categorical(d) => {
                internal.fract() == 0.0 && internal >= 0.0 && (internal as usize) < d.choices.len()
            }
        }
    }

    /// The number of distinct values, when finite (ints, stepped floats, categoricals).
    pub fn cardinality(&self) -> Option<u64> {
        match self {
            Distribution::Float(d) => match d.step_count() {
                Some(n) => Some(n + 1),
                None if d.low == d.high => Some(1),
                None => None,
            },
            Distribution::Int(d) => Some(((d.high - d.low) / d.step) as u64 + 1),
            Distribution::Categorical(d) => Some(d.choices.len() as u64),
        }
    }

    /// Whether the distribution has a single possible value.
    pub fn is_single(&self) -> bool {
        self.cardinality() == Some(1)
    }

    /// Whether samplers should work on a log scale.
    pub fn is_log(&self) -> bool {
        match self {
            Distribution::Float(d) => d.log,
            Distribution::Int(d) => d.log,
            Distribution::Categorical(_) => false,
        }
    }

    /// Internal bounds `(low, high)`: for a categorical, `(0, n - 1)`.
    pub fn internal_bounds(&self) -> (f64, f64) {
        match self {
            Distribution::Float(d) => (d.low, d.max_value()),
            Distribution::Int(d) => (d.low as f64, d.snap(d.high as f64) as f64),
            Distribution::Categorical(d) => (0.0, d.choices.len().saturating_sub(1) as f64),
        }
    }

    /// Internal values for a grid: every value of an int or categorical, every value of a stepped
    /// float with at most `n` of them, and otherwise `n` evenly spaced points of a float
    /// (log-spaced for a log scale).
    pub fn grid_points(&self, n: usize) -> Vec<f64> {
        let n = n.max(1);
        let spaced = |low: f64, high: f64, log: bool| -> Vec<f64> {
            if n == 1 || low == high {
                return vec![if log { (low * high).sqrt() } else { (low + high) / 2.0 }];
            }
            (0..n)
                .map(|i| {
                    let t = i as f64 / (n - 1) as f64;
                    if log {
                        (low.ln() + t * (high.ln() - low.ln())).exp().clamp(low, high)
                    } else {
                        low + t * (high - low)
                    }
                })
                .collect()
        };
        let mut points = match self.cardinality() {
            Some(card)
                if card as usize <= n
                    || matches!(self, Distribution::Int(_) | Distribution::Categorical(_)) =>
            {
                let (low, _) = self.internal_bounds();
                match self {
                    Distribution::Float(FloatDistribution { step: Some(s), .. }) => {
                        (0..card).map(|k| self.snap_internal(low + k as f64 * s)).collect()
                    }
                    // A float without a step has a cardinality only when `low == high`.
                    Distribution::Float(_) => vec![low],
                    Distribution::Int(d) => {
                        (0..card).map(|k| (d.low + k as i64 * d.step) as f64).collect()
                    }
                    Distribution::Categorical(_) => (0..card).map(|k| k as f64).collect(),
                }
            }
            _ => {
                let (low, high) = self.internal_bounds();
                spaced(low, high, self.is_log())
                    .into_iter()
                    .map(|x| self.snap_internal(x))
                    .collect::<Vec<_>>()
            }
        };
        points.dedup();
        points
    }
}

impl fmt::Display for Distribution {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Distribution::Float(d) => {
                write!(f, "float [{}, {}]", d.low, d.high)?;
                if d.log {
                    write!(f, " log")?;
                }
                if let Some(s) = d.step {
                    write!(f, " step {s}")?;
                }
                Ok(())
            }
            Distribution::Int(d) => {
                write!(f, "int [{}, {}]", d.low, d.high)?;
                if d.log {
                    write!(f, " log")?;
                }
                if d.step != 1 {
                    write!(f, " step {}", d.step)?;
                }
                Ok(())
            }
            Distribution::Categorical(d) => {
                write!(f, "categorical [")?;
                for (i, c) in d.choices.iter().enumerate() {
                    if i > 0 {
                        write!(f, ", ")?;
                    }
                    match c {
                        ParamValue::Str(s) => write!(f, "{s:?}")?,
                        other => write!(f, "{other}")?,
                    }
                }
                write!(f, "]")
            }
        }
    }
}
