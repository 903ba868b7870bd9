//! CEL values: JSON read in place or built during evaluation, with CEL's equality (numbers
//! compare across int, uint and double) and ordering.

use std::borrow::Cow;
use std::cmp::Ordering;

use serde_json::Value;

use super::error::CelError;

/// A CEL value; lists and maps of the evaluated document are read in place.
#[derive(Debug, Clone)]
pub(crate) enum Val<'a> {
    Null,
    Bool(bool),
    Int(i64),
    UInt(u64),
    Double(f64),
    Str(Cow<'a, str>),
    List(Vec<Val<'a>>),
    Map(Vec<(Val<'a>, Val<'a>)>),
    /// A JSON array or object of the document.
    Json(&'a Value),
}

impl<'a> Val<'a> {
    /// The CEL value of a JSON value.
    pub fn from_json(v: &'a Value) -> Self {
        match v {
            Value::Null => Val::Null,
            Value::Bool(b) => Val::Bool(*b),
            Value::Number(n) => match (n.as_i64(), n.as_u64()) {
                (Some(i), _) => Val::Int(i),
                (None, Some(u)) => Val::UInt(u),
                _ => Val::Double(n.as_f64().unwrap_or(f64::NAN)),
            },
            Value::String(s) => Val::Str(Cow::Borrowed(s)),
            Value::Array(_) | Value::Object(_) => Val::Json(v),
        }
    }

    pub fn type_name(&self) -> &'static str {
        match self {
            Val::Null => "null_type",
            Val::Bool(_) => "bool",
            Val::Int(_) => "int",
            Val::UInt(_) => "uint",
            Val::Double(_) => "double",
            Val::Str(_) => "string",
            Val::List(_) | Val::Json(Value::Array(_)) => "list",
            _ => "map",
        }
    }

    pub fn items(&self) -> Option<Vec<Val<'a>>> {
        match self {
            Val::List(items) => Some(items.clone()),
            Val::Json(Value::Array(items)) => Some(items.iter().map(Val::from_json).collect()),
            _ => None,
        }
    }

    pub fn keys(&self) -> Option<Vec<Val<'a>>> {
        match self {
            Val::Map(entries) => Some(entries.iter().map(|(k, _)| k.clone()).collect()),
            Val::Json(Value::Object(map)) => Some(
                map.keys()
                    .map(|k| Val::Str(Cow::Borrowed(k.as_str())))
                    .collect(),
            ),
            _ => None,
        }
    }

    pub fn get(&self, key: &Val<'_>) -> Result<Option<Val<'a>>, CelError> {
        match self {
            Val::Json(Value::Object(map)) => match key {
                Val::Str(k) => Ok(map.get(k.as_ref()).map(Val::from_json)),
                _ => Ok(None),
            },
            Val::Map(entries) => {
                for (k, v) in entries {
                    if equals(k, key)? {
                        return Ok(Some(v.clone()));
                    }
                }
                Ok(None)
            }
            other => Err(CelError::new(format!(
                "type '{}' does not support field selection",
                other.type_name()
            ))),
        }
    }

    pub fn as_int(&self) -> Result<i64, CelError> {
        match self {
            Val::Int(i) => Ok(*i),
            Val::UInt(u) => i64::try_from(*u).map_err(|_| CelError::new("integer overflow")),
            other => Err(CelError::new(format!(
                "expected int, found {}",
                other.type_name()
            ))),
        }
    }

    pub fn number(&self) -> Option<f64> {
        match self {
            Val::Int(i) => Some(*i as f64),
            Val::UInt(u) => Some(*u as f64),
            Val::Double(d) => Some(*d),
            _ => None,
        }
    }
}

/// Deep equality; numbers compare across int, uint and double.
pub(crate) fn equals(a: &Val<'_>, b: &Val<'_>) -> Result<bool, CelError> {
    if let (Some(x), Some(y)) = (a.number(), b.number()) {
        return Ok(match (a, b) {
            (Val::Int(i), Val::Int(j)) => i == j,
            (Val::UInt(i), Val::UInt(j)) => i == j,
            _ => x == y,
        });
    }
    Ok(match (a, b) {
        (Val::Null, Val::Null) => true,
        (Val::Bool(x), Val::Bool(y)) => x == y,
        (Val::Str(x), Val::Str(y)) => x == y,
        _ => {
            if let (Some(xs), Some(ys)) = (a.items(), b.items()) {
                if xs.len() != ys.len() {
                    return Ok(false);
                }
                for (x, y) in xs.iter().zip(&ys) {
                    if !equals(x, y)? {
                        return Ok(false);
                    }
                }
                return Ok(true);
            }
            if let (Some(xk), Some(yk)) = (a.keys(), b.keys()) {
                if xk.len() != yk.len() {
                    return Ok(false);
                }
                for k in &xk {
                    match (a.get(k)?, b.get(k)?) {
                        (Some(x), Some(y)) if equals(&x, &y)? => {}
                        _ => return Ok(false),
                    }
                }
                return Ok(true);
            }
            false
        }
    })
}

/// Ordering of numbers, strings and bools.
pub(crate) fn compare(a: &Val<'_>, b: &Val<'_>) -> Result<Ordering, CelError> {
    match (a, b) {
        (Val::Int(x), Val::Int(y)) => Ok(x.cmp(y)),
        (Val::UInt(x), Val::UInt(y)) => Ok(x.cmp(y)),
        (Val::Str(x), Val::Str(y)) => Ok(x.cmp(y)),
        (Val::Bool(x), Val::Bool(y)) => Ok(x.cmp(y)),
        _ => match (a.number(), b.number()) {
            (Some(x), Some(y)) => x
                .partial_cmp(&y)
                .ok_or_else(|| CelError::new("NaN is not ordered")),
            _ => Err(CelError::new(format!(
                "cannot compare {} with {}",
                a.type_name(),
                b.type_name()
            ))),
        },
    }
}
