//! The CEL functions this server implements: `size`, conversions, the string helpers Kubernetes
//! enables (`startsWith`, `matches`, `lowerAscii`, `split`, ...) and the list helpers (`sum`,
//! `min`, `max`, `isSorted`, `indexOf`, `join`).

use std::borrow::Cow;
use std::cmp::Ordering;

use super::error::CelError;
use super::value::{Val, compare, equals};

/// Calls `func` on an optional receiver with evaluated arguments.
pub(crate) fn call<'a>(
    func: &str,
    target: Option<Val<'a>>,
    args: Vec<Val<'a>>,
) -> Result<Val<'a>, CelError> {
    // `f(x, ...)` and `x.f(...)` are the same overload for the functions that allow both.
    let (this, rest) = match target {
        Some(t) => (t, args),
        None => {
            let mut args = args.into_iter();
            let this = args
                .next()
                .ok_or_else(|| CelError::new(format!("{func}() needs an argument")))?;
            (this, args.collect())
        }
    };
    let arg = |i: usize| {
        rest.get(i)
            .ok_or_else(|| CelError::new(format!("{func}() is missing argument {}", i + 1)))
    };
    let text = |v: &Val<'a>| -> Result<String, CelError> {
        match v {
            Val::Str(s) => Ok(s.to_string()),
            _ => Err(CelError::new(format!("{func}() expects a string"))),
        }
    };
    let owned = |s: String| Val::Str(Cow::Owned(s));
    Ok(match func {
        "size" => Val::Int(size(&this)?),
        "dyn" => this,
        "int" => Val::Int(match &this {
            Val::Int(i) => *i,
            Val::UInt(u) => i64::try_from(*u).map_err(|_| CelError::new("int() overflow"))?,
            Val::Double(d) if d.is_finite() && d.abs() < 9.2e18 => d.trunc() as i64,
            Val::Str(s) => s
                .parse()
                .map_err(|_| CelError::new(format!("cannot convert {s:?} to int")))?,
            _ => return Err(CelError::new("int() does not accept this type")),
        }),
        "uint" => Val::UInt(match &this {
            Val::Int(i) => u64::try_from(*i).map_err(|_| CelError::new("uint() overflow"))?,
            Val::UInt(u) => *u,
            Val::Double(d) if d.is_finite() && *d >= 0.0 && *d < 1.8e19 => d.trunc() as u64,
            Val::Str(s) => s
                .parse()
                .map_err(|_| CelError::new(format!("cannot convert {s:?} to uint")))?,
            _ => return Err(CelError::new("uint() does not accept this type")),
        }),
        "double" => Val::Double(match &this {
            Val::Int(i) => *i as f64,
            Val::UInt(u) => *u as f64,
            Val::Double(d) => *d,
            Val::Str(s) => s
                .parse()
                .map_err(|_| CelError::new(format!("cannot convert {s:?} to double")))?,
            _ => return Err(CelError::new("double() does not accept this type")),
        }),
        "string" => owned(match &this {
            Val::Str(s) => s.to_string(),
            Val::Int(i) => i.to_string(),
            Val::UInt(u) => u.to_string(),
            Val::Double(d) => d.to_string(),
            Val::Bool(b) => b.to_string(),
            _ => return Err(CelError::new("string() does not accept this type")),
        }),
        "bool" => Val::Bool(match &this {
            Val::Bool(b) => *b,
            Val::Str(s) if matches!(s.as_ref(), "true" | "True" | "TRUE" | "t" | "1") => true,
            Val::Str(s) if matches!(s.as_ref(), "false" | "False" | "FALSE" | "f" | "0") => false,
            _ => return Err(CelError::new("bool() does not accept this value")),
        }),
        "startsWith" => Val::Bool(text(&this)?.starts_with(&text(arg(0)?)?)),
        "endsWith" => Val::Bool(text(&this)?.ends_with(&text(arg(0)?)?)),
        "contains" => Val::Bool(text(&this)?.contains(&text(arg(0)?)?)),
        "matches" => {
            let re = regex::Regex::new(&text(arg(0)?)?)
                .map_err(|e| CelError::new(format!("invalid regex: {e}")))?;
            Val::Bool(re.is_match(&text(&this)?))
        }
        "lowerAscii" => owned(text(&this)?.to_ascii_lowercase()),
        "upperAscii" => owned(text(&this)?.to_ascii_uppercase()),
        "trim" => owned(text(&this)?.trim().to_owned()),
        "substring" => {
            let chars: Vec<char> = text(&this)?.chars().collect();
            let start = index(arg(0)?, chars.len())?;
            let end = if rest.len() > 1 {
                index(arg(1)?, chars.len())?
            } else {
                chars.len()
            };
            if start > end {
                return Err(CelError::new("substring: start is after end"));
            }
            owned(chars[start..end].iter().collect())
        }
        "replace" => {
            let (s, from, to) = (text(&this)?, text(arg(0)?)?, text(arg(1)?)?);
            match rest.get(2) {
                Some(Val::Int(n)) if *n >= 0 => {
                    owned(s.replacen(&from, &to, usize::try_from(*n).unwrap_or(usize::MAX)))
                }
                _ => owned(s.replace(&from, &to)),
            }
        }
        "split" => {
            let (s, sep) = (text(&this)?, text(arg(0)?)?);
            Val::List(s.split(sep.as_str()).map(|p| owned(p.to_owned())).collect())
        }
        "join" => {
            let items = list(&this, func)?;
            let sep = if rest.is_empty() {
                String::new()
            } else {
                text(arg(0)?)?
            };
            let parts = items.iter().map(text).collect::<Result<Vec<_>, _>>()?;
            owned(parts.join(&sep))
        }
        "indexOf" | "lastIndexOf" => {
            let last = func == "lastIndexOf";
            if let Val::Str(s) = &this {
                let needle = text(arg(0)?)?;
                let found = if last {
                    s.rfind(&needle)
                } else {
                    s.find(&needle)
                };
                Val::Int(found.map_or(-1, |byte| s[..byte].chars().count() as i64))
            } else {
                let items = list(&this, func)?;
                let mut found = -1;
                for (i, item) in items.iter().enumerate() {
                    if equals(item, arg(0)?)? {
                        found = i as i64;
                        if !last {
                            break;
                        }
                    }
                }
                Val::Int(found)
            }
        }
        "isSorted" => {
            let items = list(&this, func)?;
            let mut sorted = true;
            for pair in items.windows(2) {
                sorted &= compare(&pair[0], &pair[1])? != Ordering::Greater;
            }
            Val::Bool(sorted)
        }
        "sum" => {
            let items = list(&this, func)?;
            let mut acc = Val::Int(0);
            for item in &items {
                acc = match (&acc, item) {
                    (Val::Int(a), Val::Int(b)) => Val::Int(
                        a.checked_add(*b)
                            .ok_or_else(|| CelError::new("integer overflow"))?,
                    ),
                    (Val::Int(0), Val::UInt(b)) => Val::UInt(*b),
                    (Val::UInt(a), Val::UInt(b)) => Val::UInt(
                        a.checked_add(*b)
                            .ok_or_else(|| CelError::new("integer overflow"))?,
                    ),
                    (Val::Int(0) | Val::Double(_), Val::Double(b)) => Val::Double(number(&acc) + b),
                    _ => return Err(CelError::new("sum() needs a list of numbers of one type")),
                };
            }
            acc
        }
        "min" | "max" => {
            let items = list(&this, func)?;
            let mut best: Option<Val<'a>> = None;
            for item in items {
                let better = match &best {
                    None => true,
                    Some(b) => {
                        let ord = compare(&item, b)?;
                        if func == "min" {
                            ord == Ordering::Less
                        } else {
                            ord == Ordering::Greater
                        }
                    }
                };
                if better {
                    best = Some(item);
                }
            }
            best.ok_or_else(|| CelError::new(format!("{func}() of an empty list")))?
        }
        other => {
            return Err(CelError::new(format!(
                "function {other}() is not supported"
            )));
        }
    })
}

fn size(v: &Val<'_>) -> Result<i64, CelError> {
    let n = match v {
        Val::Str(s) => s.chars().count(),
        Val::List(items) => items.len(),
        Val::Map(entries) => entries.len(),
        Val::Json(serde_json::Value::Array(items)) => items.len(),
        Val::Json(serde_json::Value::Object(map)) => map.len(),
        _ => return Err(CelError::new("size() needs a string, list or map")),
    };
    Ok(n as i64)
}

fn list<'a>(v: &Val<'a>, func: &str) -> Result<Vec<Val<'a>>, CelError> {
    match v {
        Val::List(items) => Ok(items.clone()),
        Val::Json(serde_json::Value::Array(items)) => {
            Ok(items.iter().map(Val::from_json).collect())
        }
        _ => Err(CelError::new(format!("{func}() needs a list"))),
    }
}

fn index(v: &Val<'_>, len: usize) -> Result<usize, CelError> {
    match v {
        Val::Int(i) => usize::try_from(*i).ok().filter(|i| *i <= len),
        _ => None,
    }
    .ok_or_else(|| CelError::new("index out of range"))
}

fn number(v: &Val<'_>) -> f64 {
    match v {
        Val::Int(i) => *i as f64,
        Val::UInt(u) => *u as f64,
        Val::Double(d) => *d,
        _ => 0.0,
    }
}
