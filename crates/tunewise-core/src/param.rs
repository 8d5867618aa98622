//! Parameter values as the user sees them.

use std::fmt;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

/// A parameter's value in the user's terms: a float, an integer, a bool or a string.
///
/// Categorical choices are `ParamValue`s too. Serialized as a plain JSON number, bool or string.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ParamValue {
    /// A boolean.
    Bool(bool),
    /// An integer.
    Int(i64),
    /// A floating-point number.
    Float(f64),
    /// A string (shared, cheap to clone).
    Str(Arc<str>),
}

impl ParamValue {
    /// The value as an `f64` when it is numeric (ints convert, bools and strings do not).
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            ParamValue::Float(v) => Some(*v),
            ParamValue::Int(v) => Some(*v as f64),
            _ => None,
        }
    }

    /// The value as an `i64` when it is an integer, or a float with an integral value.
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            ParamValue::Int(v) => Some(*v),
            ParamValue::Float(v) if v.fract() == 0.0 && v.abs() < 9.0e15 => Some(*v as i64),
            _ => None,
        }
    }

    /// The value as a `bool` when it is one.
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            ParamValue::Bool(v) => Some(*v),
            _ => None,
        }
    }

    /// The value as a string slice when it is a string.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            ParamValue::Str(v) => Some(v),
            _ => None,
        }
    }

    /// Equality as categorical choices see it: floats compare by bits, so NaN equals NaN and a
    /// choice list can be searched for any value.
    pub(crate) fn same_choice(&self, other: &ParamValue) -> bool {
        match (self, other) {
            (ParamValue::Float(a), ParamValue::Float(b)) => a.to_bits() == b.to_bits(),
            _ => self == other,
        }
    }

    /// The kind's name, for error messages.
    pub(crate) fn kind(&self) -> &'static str {
        match self {
            ParamValue::Bool(_) => "bool",
            ParamValue::Int(_) => "int",
            ParamValue::Float(_) => "float",
            ParamValue::Str(_) => "string",
        }
    }
}

impl fmt::Display for ParamValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParamValue::Bool(v) => write!(f, "{v}"),
            ParamValue::Int(v) => write!(f, "{v}"),
            ParamValue::Float(v) => write!(f, "{v}"),
            ParamValue::Str(v) => write!(f, "{v}"),
        }
    }
}

impl From<bool> for ParamValue {
    fn from(v: bool) -> Self {
        ParamValue::Bool(v)
    }
}
impl From<i64> for ParamValue {
    fn from(v: i64) -> Self {
        ParamValue::Int(v)
    }
}
impl From<i32> for ParamValue {
    fn from(v: i32) -> Self {
        ParamValue::Int(i64::from(v))
    }
}
impl From<u32> for ParamValue {
    fn from(v: u32) -> Self {
        ParamValue::Int(i64::from(v))
    }
}
impl From<f64> for ParamValue {
    fn from(v: f64) -> Self {
        ParamValue::Float(v)
    }
}
impl From<f32> for ParamValue {
    fn from(v: f32) -> Self {
        ParamValue::Float(f64::from(v))
    }
}
impl From<&str> for ParamValue {
    fn from(v: &str) -> Self {
        ParamValue::Str(Arc::from(v))
    }
}
impl From<String> for ParamValue {
    fn from(v: String) -> Self {
        ParamValue::Str(Arc::from(v))
    }
}
impl From<Arc<str>> for ParamValue {
    fn from(v: Arc<str>) -> Self {
        ParamValue::Str(v)
    }
}

/// A type that can be a categorical choice and be given back from
/// [`Trial::suggest_categorical`](crate::Trial::suggest_categorical).
pub trait Categorical: Clone {
    /// The choice as a [`ParamValue`].
    fn to_param(&self) -> ParamValue;

    /// Whether this choice is `p` (as categorical choices compare: floats by bits). Types
    /// override it to compare without building a `ParamValue`.
    fn is_choice(&self, p: &ParamValue) -> bool {
        self.to_param().same_choice(p)
    }
}

impl Categorical for ParamValue {
    fn to_param(&self) -> ParamValue {
        self.clone()
    }
}
impl Categorical for bool {
    fn to_param(&self) -> ParamValue {
        ParamValue::Bool(*self)
    }
    fn is_choice(&self, p: &ParamValue) -> bool {
        *p == ParamValue::Bool(*self)
    }
}
impl Categorical for i64 {
    fn to_param(&self) -> ParamValue {
        ParamValue::Int(*self)
    }
    fn is_choice(&self, p: &ParamValue) -> bool {
        *p == ParamValue::Int(*self)
    }
}
impl Categorical for i32 {
    fn to_param(&self) -> ParamValue {
        ParamValue::Int(i64::from(*self))
    }
}
impl Categorical for u32 {
    fn to_param(&self) -> ParamValue {
        ParamValue::Int(i64::from(*self))
    }
}
impl Categorical for usize {
    fn to_param(&self) -> ParamValue {
        ParamValue::Int(i64::try_from(*self).unwrap_or(i64::MAX))
    }
}
impl Categorical for f64 {
    fn to_param(&self) -> ParamValue {
        ParamValue::Float(*self)
    }
}
impl Categorical for &str {
    fn to_param(&self) -> ParamValue {
        ParamValue::from(*self)
    }
    fn is_choice(&self, p: &ParamValue) -> bool {
        p.as_str() == Some(*self)
    }
}
impl Categorical for String {
    fn to_param(&self) -> ParamValue {
        ParamValue::from(self.as_str())
    }
    fn is_choice(&self, p: &ParamValue) -> bool {
        p.as_str() == Some(self.as_str())
    }
}
impl Categorical for Arc<str> {
    fn to_param(&self) -> ParamValue {
        ParamValue::Str(self.clone())
    }
    fn is_choice(&self, p: &ParamValue) -> bool {
        p.as_str() == Some(&**self)
    }
}
