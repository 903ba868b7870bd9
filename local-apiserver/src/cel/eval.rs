//! CEL evaluation over JSON documents: values borrow from the object being validated, errors are
//! absorbed by `&&`, `||`, `all` and `exists` the way CEL specifies. No IO, no clock.

use std::borrow::Cow;
use std::cmp::Ordering;

use serde_json::Value;

use super::error::CelError;
use super::parser::{BinOp, Expr, Lit, Macro};
use super::value::{Val, compare, equals};

/// Variables in scope: `self`, `oldSelf` and comprehension variables.
pub(crate) struct Env<'a> {
    vars: Vec<(String, Val<'a>)>,
}

impl<'a> Env<'a> {
    /// An environment binding `self` and, when given, `oldSelf`.
    pub fn new(this: &'a Value, old: Option<&'a Value>) -> Self {
        let mut vars = vec![("self".to_owned(), Val::from_json(this))];
        if let Some(old) = old {
            vars.push(("oldSelf".to_owned(), Val::from_json(old)));
        }
        Self { vars }
    }
}

/// Evaluates `e`.
pub(crate) fn eval<'a>(e: &Expr, env: &mut Env<'a>) -> Result<Val<'a>, CelError> {
    match e {
        Expr::Lit(l) => Ok(match l {
            Lit::Null => Val::Null,
            Lit::Bool(b) => Val::Bool(*b),
            Lit::Int(i) => Val::Int(*i),
            Lit::UInt(u) => Val::UInt(*u),
            Lit::Double(d) => Val::Double(*d),
            Lit::Str(s) => Val::Str(Cow::Owned(s.clone())),
        }),
        Expr::Ident(name) => env
            .vars
            .iter()
            .rev()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
            .ok_or_else(|| CelError::new(format!("undeclared reference to '{name}'"))),
        Expr::Select(operand, field) => {
            let v = eval(operand, env)?;
            v.get(&Val::Str(Cow::Borrowed(field)))?
                .ok_or_else(|| CelError::new(format!("no such key: {field}")))
        }
        Expr::Has(operand, field) => Ok(Val::Bool(
            eval(operand, env)?
                .get(&Val::Str(Cow::Borrowed(field)))?
                .is_some(),
        )),
        Expr::Index(operand, index) => {
            let v = eval(operand, env)?;
            let i = eval(index, env)?;
            if let Some(items) = v.items() {
                let n = i.as_int()?;
                return usize::try_from(n)
                    .ok()
                    .and_then(|n| items.get(n).cloned())
                    .ok_or_else(|| CelError::new(format!("index out of bounds: {n}")));
            }
            v.get(&i)?.ok_or_else(|| CelError::new("no such key"))
        }
        Expr::List(items) => Ok(Val::List(
            items
                .iter()
                .map(|i| eval(i, env))
                .collect::<Result<_, _>>()?,
        )),
        Expr::Map(entries) => {
            let mut out = Vec::with_capacity(entries.len());
            for (k, v) in entries {
                out.push((eval(k, env)?, eval(v, env)?));
            }
            Ok(Val::Map(out))
        }
        Expr::Not(a) => match eval(a, env)? {
            Val::Bool(b) => Ok(Val::Bool(!b)),
            other => Err(no_overload("!_", &other)),
        },
        Expr::Neg(a) => match eval(a, env)? {
            Val::Int(i) => i
                .checked_neg()
                .map(Val::Int)
                .ok_or_else(|| CelError::new("integer overflow")),
            Val::Double(d) => Ok(Val::Double(-d)),
            other => Err(no_overload("-_", &other)),
        },
        Expr::Cond(c, a, b) => match eval(c, env)? {
            Val::Bool(true) => eval(a, env),
            Val::Bool(false) => eval(b, env),
            other => Err(no_overload("_?_:_", &other)),
        },
        Expr::Binary(BinOp::And, a, b) => logical(eval(a, env), || eval(b, env), false),
        Expr::Binary(BinOp::Or, a, b) => logical(eval(a, env), || eval(b, env), true),
        Expr::Binary(op, a, b) => {
            let (a, b) = (eval(a, env)?, eval(b, env)?);
            binary(*op, &a, &b)
        }
        Expr::Call { target, func, args } => {
            let target = target.as_deref().map(|t| eval(t, env)).transpose()?;
            let args = args
                .iter()
                .map(|a| eval(a, env))
                .collect::<Result<Vec<_>, _>>()?;
            super::functions::call(func, target, args)
        }
        Expr::Comprehension {
            kind,
            range,
            var,
            filter,
            body,
        } => {
            let range = eval(range, env)?;
            let elems = range.items().or_else(|| range.keys()).ok_or_else(|| {
                CelError::new(format!("cannot iterate over {}", range.type_name()))
            })?;
            comprehension(*kind, elems, var, filter.as_deref(), body, env)
        }
    }
}

/// `&&` (`short` = false) and `||` (`short` = true) with CEL's error absorption.
fn logical<'a>(
    a: Result<Val<'a>, CelError>,
    b: impl FnOnce() -> Result<Val<'a>, CelError>,
    short: bool,
) -> Result<Val<'a>, CelError> {
    let name = if short { "_||_" } else { "_&&_" };
    let a = match a {
        Ok(Val::Bool(x)) if x == short => return Ok(Val::Bool(short)),
        Ok(Val::Bool(_)) => Ok(()),
        Ok(other) => Err(no_overload(name, &other)),
        Err(e) => Err(e),
    };
    match b() {
        Ok(Val::Bool(x)) if x == short => Ok(Val::Bool(short)),
        Ok(Val::Bool(x)) => a.map(|()| Val::Bool(x)),
        Ok(other) => a.and(Err(no_overload(name, &other))),
        Err(e) => a.and(Err(e)),
    }
}

fn comprehension<'a>(
    kind: Macro,
    elems: Vec<Val<'a>>,
    var: &str,
    filter: Option<&Expr>,
    body: &Expr,
    env: &mut Env<'a>,
) -> Result<Val<'a>, CelError> {
    let mut first_error = None;
    let mut trues = 0usize;
    let mut mapped = Vec::new();
    for elem in elems {
        env.vars.push((var.to_owned(), elem.clone()));
        let keep = match filter {
            Some(f) => eval(f, env).and_then(|v| match v {
                Val::Bool(b) => Ok(b),
                other => Err(no_overload("map", &other)),
            }),
            None => Ok(true),
        };
        let result = keep.and_then(|keep| {
            if keep {
                eval(body, env).map(Some)
            } else {
                Ok(None)
            }
        });
        env.vars.pop();
        match (kind, result) {
            (_, Ok(None)) => {}
            (Macro::Map, Ok(Some(v))) => mapped.push(v),
            (Macro::Filter, Ok(Some(Val::Bool(b)))) => {
                if b {
                    mapped.push(elem);
                }
            }
            (Macro::All, Ok(Some(Val::Bool(false)))) => return Ok(Val::Bool(false)),
            (Macro::Exists, Ok(Some(Val::Bool(true)))) => return Ok(Val::Bool(true)),
            (_, Ok(Some(Val::Bool(b)))) => trues += usize::from(b),
            (_, Ok(Some(other))) => return Err(no_overload("comprehension", &other)),
            (Macro::All | Macro::Exists, Err(e)) => {
                first_error.get_or_insert(e);
            }
            (_, Err(e)) => return Err(e),
        }
    }
    if let Some(e) = first_error {
        return Err(e);
    }
    Ok(match kind {
        Macro::All => Val::Bool(true),
        Macro::Exists => Val::Bool(false),
        Macro::ExistsOne => Val::Bool(trues == 1),
        Macro::Map | Macro::Filter => Val::List(mapped),
    })
}

fn no_overload(op: &str, v: &Val<'_>) -> CelError {
    CelError::new(format!(
        "no matching overload for '{op}' applied to {}",
        v.type_name()
    ))
}

fn binary<'a>(op: BinOp, a: &Val<'a>, b: &Val<'a>) -> Result<Val<'a>, CelError> {
    let overflow = || CelError::new("integer overflow");
    Ok(match op {
        BinOp::Eq => Val::Bool(equals(a, b)?),
        BinOp::Ne => Val::Bool(!equals(a, b)?),
        BinOp::Lt => Val::Bool(compare(a, b)? == Ordering::Less),
        BinOp::Le => Val::Bool(compare(a, b)? != Ordering::Greater),
        BinOp::Gt => Val::Bool(compare(a, b)? == Ordering::Greater),
        BinOp::Ge => Val::Bool(compare(a, b)? != Ordering::Less),
        BinOp::In => {
            if let Some(items) = b.items() {
                let mut found = false;
                for item in &items {
                    found |= equals(a, item)?;
                }
                Val::Bool(found)
            } else {
                Val::Bool(b.get(a)?.is_some())
            }
        }
        BinOp::Add => match (a, b) {
            (Val::Int(x), Val::Int(y)) => Val::Int(x.checked_add(*y).ok_or_else(overflow)?),
            (Val::UInt(x), Val::UInt(y)) => Val::UInt(x.checked_add(*y).ok_or_else(overflow)?),
            (Val::Str(x), Val::Str(y)) => Val::Str(Cow::Owned(format!("{x}{y}"))),
            _ => match (a.items(), b.items()) {
                (Some(mut xs), Some(ys)) => {
                    xs.extend(ys);
                    Val::List(xs)
                }
                _ => arith(a, b, "_+_", |x, y| x + y)?,
            },
        },
        BinOp::Sub => match (a, b) {
            (Val::Int(x), Val::Int(y)) => Val::Int(x.checked_sub(*y).ok_or_else(overflow)?),
            (Val::UInt(x), Val::UInt(y)) => Val::UInt(x.checked_sub(*y).ok_or_else(overflow)?),
            _ => arith(a, b, "_-_", |x, y| x - y)?,
        },
        BinOp::Mul => match (a, b) {
            (Val::Int(x), Val::Int(y)) => Val::Int(x.checked_mul(*y).ok_or_else(overflow)?),
            (Val::UInt(x), Val::UInt(y)) => Val::UInt(x.checked_mul(*y).ok_or_else(overflow)?),
            _ => arith(a, b, "_*_", |x, y| x * y)?,
        },
        BinOp::Div | BinOp::Rem => {
            let div = op == BinOp::Div;
            match (a, b) {
                (Val::Int(_), Val::Int(0)) | (Val::UInt(_), Val::UInt(0)) => {
                    return Err(CelError::new(if div {
                        "division by zero"
                    } else {
                        "modulus by zero"
                    }));
                }
                (Val::Int(x), Val::Int(y)) => Val::Int(
                    if div {
                        x.checked_div(*y)
                    } else {
                        x.checked_rem(*y)
                    }
                    .ok_or_else(overflow)?,
                ),
                (Val::UInt(x), Val::UInt(y)) => Val::UInt(if div { x / y } else { x % y }),
                _ if div => arith(a, b, "_/_", |x, y| x / y)?,
                _ => return Err(no_overload("_%_", a)),
            }
        }
        BinOp::And | BinOp::Or => unreachable!("logical operators are evaluated lazily"),
    })
}

fn arith<'a>(
    a: &Val<'a>,
    b: &Val<'a>,
    op: &str,
    f: impl Fn(f64, f64) -> f64,
) -> Result<Val<'a>, CelError> {
    match (a.number(), b.number()) {
        (Some(x), Some(y)) => Ok(Val::Double(f(x, y))),
        _ => Err(no_overload(op, if a.number().is_none() { a } else { b })),
    }
}
