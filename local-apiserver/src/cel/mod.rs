//! CEL for CRD `x-kubernetes-validations` rules, over the `cel` crate: one environment (the
//! standard library, the strings extension and Kubernetes' lists library), the checks
//! kube-apiserver makes when a CRD is created, and evaluation against `self` (and `oldSelf`)
//! read in place from the JSON document. Programs are compiled once per CRD.

mod check;
mod error;
mod lists;
mod stack;
#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::sync::{Arc, LazyLock};

use cel::common::types::{
    CelBool, CelDouble, CelInt, CelList, CelMap, CelNull, CelString, CelUInt,
};
use cel::common::value::Val;
use cel::{Context, Env, ExecutionError};
use serde_json::Value;

pub(crate) use error::CelError;

/// The environment every rule is compiled and evaluated in, built once.
static ENV: LazyLock<Arc<Env>> = LazyLock::new(|| {
    let mut env = Env::stdlib();
    // cel-go, hence Kubernetes, keeps the last entry of a map literal that repeats a key
    env.set_error_on_duplicate_map_keys(false);
    env.add_extension(cel::extensions::strings)
        .and_then(|()| env.add_extension(lists::extension))
        .expect("the CEL extensions declare distinct overloads");
    Arc::new(env)
});

/// The longest rule compiled: bounds the parser's recursion over a long chain like `a + b + ...`
/// (about 2 KiB of stack per operator) to what the large stack holds.
const MAX_SOURCE_CHARS: usize = 16_000;

/// The deepest expression tree evaluated on the caller's stack (about 640 KiB of it when
/// unoptimised); deeper ones are evaluated on a thread of their own. The rules of the
/// operator's CRDs are at most 9 deep.
const INLINE_DEPTH: usize = 16;

/// A compiled CEL expression.
#[derive(Debug, Clone)]
pub(crate) struct Program {
    program: Arc<cel::Program>,
    uses_old_self: bool,
    depth: usize,
}

impl Program {
    /// Parses `src`, rejecting syntax errors, functions this server does not evaluate and
    /// variables other than `self` and `oldSelf`.
    pub fn compile(src: &str) -> Result<Self, CelError> {
        if src.chars().count() > MAX_SOURCE_CHARS {
            return Err(CelError::new(format!(
                "expression longer than {MAX_SOURCE_CHARS} characters"
            )));
        }
        let (program, checked) = stack::on_large_stack(|| {
            let program = ENV.compile(src).map_err(|e| CelError::new(e.to_string()))?;
            let checked = check::check(program.expression(), &ENV)?;
            Ok((program, checked))
        })?;
        Ok(Self {
            program: Arc::new(program),
            uses_old_self: checked.uses_old_self,
            depth: checked.depth,
        })
    }

    /// Whether this is a transition rule (it reads `oldSelf`).
    pub fn uses_old_self(&self) -> bool {
        self.uses_old_self
    }

    /// Evaluates a rule that must yield a bool.
    pub fn eval_bool(&self, this: &Value, old: Option<&Value>) -> Result<bool, CelError> {
        match self.execute(this, old)? {
            cel::Value::Bool(b) => Ok(b),
            _ => Err(CelError::new("rule did not evaluate to a bool")),
        }
    }

    /// Evaluates a `messageExpression`, which must yield a string.
    pub fn eval_string(&self, this: &Value, old: Option<&Value>) -> Result<String, CelError> {
        match self.execute(this, old)? {
            cel::Value::String(s) => Ok(s.as_ref().clone()),
            _ => Err(CelError::new(
                "messageExpression did not evaluate to a string",
            )),
        }
    }

    fn execute(&self, this: &Value, old: Option<&Value>) -> Result<cel::Value, CelError> {
        let run = || {
            let mut context = Context::with_env(Arc::clone(&ENV));
            context.add_variable_as_val("self", from_json(this));
            if let Some(old) = old {
                context.add_variable_as_val("oldSelf", from_json(old));
            }
            self.program.execute(&context).map_err(describe)
        };
        if self.depth <= INLINE_DEPTH {
            run()
        } else {
            stack::on_large_stack(run)
        }
    }
}

/// The CEL value of a JSON value, borrowing its strings. Integers that fit are `int`, as
/// Kubernetes reads integer fields; larger ones `uint`; other numbers `double`.
fn from_json(v: &Value) -> Box<dyn Val + '_> {
    match v {
        Value::Null => Box::new(CelNull),
        Value::Bool(b) => Box::new(CelBool::from(*b)),
        Value::Number(n) => match (n.as_i64(), n.as_u64()) {
            (Some(i), _) => Box::new(CelInt::from(i)),
            (None, Some(u)) => Box::new(CelUInt::from(u)),
            _ => Box::new(CelDouble::from(n.as_f64().unwrap_or(f64::NAN))),
        },
        Value::String(s) => Box::new(CelString::from(s.as_str())),
        Value::Array(items) => Box::new(CelList::from(
            items.iter().map(from_json).collect::<Vec<_>>(),
        )),
        Value::Object(map) => Box::new(CelMap::from(
            map.iter()
                .map(|(k, v)| (k.as_str().into(), from_json(v)))
                .collect::<HashMap<_, _>>(),
        )),
    }
}

/// The message of an evaluation error, worded as kube-apiserver (cel-go) words the common ones.
fn describe(e: ExecutionError) -> CelError {
    CelError::new(match e {
        ExecutionError::NoSuchKey(key) => format!("no such key: {key}"),
        ExecutionError::DivisionByZero(_) => "division by zero".to_owned(),
        ExecutionError::RemainderByZero(_) => "modulus by zero".to_owned(),
        ExecutionError::Overflow(..) => "integer overflow".to_owned(),
        other => other.to_string(),
    })
}
