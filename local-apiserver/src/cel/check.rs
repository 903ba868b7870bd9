//! The checks kube-apiserver makes when a CRD is created, which the `cel` crate leaves to run
//! time: every variable is declared (`self`, `oldSelf` or a macro's own) and every function is
//! one this server evaluates. Also finds transition rules. Reads the expression tree only.

use cel::Env;
use cel::common::ast::{EntryExpr, Expr, IdedExpr};

use super::error::CelError;

/// The variables a rule may read besides the ones its macros bind and the names of types.
const VARIABLES: &[&str] = &["self", "oldSelf"];

/// The deepest expression tree a rule may have: bounds the evaluator's recursion (see `stack`).
const MAX_DEPTH: usize = 250;

/// The functions (not operators) a rule may call: those of Kubernetes' CEL libraries that the
/// environment implements. A rule calling another (`isQuantity()`, `url()`, `timestamp()`, ...)
/// is rejected when its CRD is registered, not when an object is written.
const FUNCTIONS: &[&str] = &[
    // standard library
    "size",
    "int",
    "uint",
    "double",
    "string",
    "bool",
    "bytes",
    "dyn",
    "type",
    "matches",
    "startsWith",
    "endsWith",
    "contains",
    // strings extension
    "charAt",
    "indexOf",
    "lastIndexOf",
    "lowerAscii",
    "upperAscii",
    "trim",
    "replace",
    "split",
    "substring",
    "join",
    // Kubernetes' lists library
    "isSorted",
    "sum",
    "min",
    "max",
];

/// What the checks found out about an expression.
pub(super) struct Checked {
    /// It reads `oldSelf`: a transition rule.
    pub uses_old_self: bool,
    /// The height of its tree, which the evaluator recurses as deep as.
    pub depth: usize,
}

/// Checks `expr`, compiled in `env`.
pub(super) fn check(expr: &IdedExpr, env: &Env) -> Result<Checked, CelError> {
    let mut free = Vec::new();
    let depth = walk(expr, &mut Vec::new(), &mut free)?;
    if depth > MAX_DEPTH {
        return Err(CelError::new(format!(
            "expression nested deeper than {MAX_DEPTH} levels"
        )));
    }
    let declared = |name: &str| VARIABLES.contains(&name) || env.types().find_type(name).is_some();
    if let Some(name) = free.iter().find(|name| !declared(name)) {
        return Err(CelError::new(format!("undeclared reference to '{name}'")));
    }
    Ok(Checked {
        uses_old_self: free.contains(&"oldSelf"),
        depth,
    })
}

/// Collects the variables `e` reads that are not `bound` by an enclosing macro into `free`;
/// returns the height of `e`.
fn walk<'e>(
    e: &'e IdedExpr,
    bound: &mut Vec<&'e str>,
    free: &mut Vec<&'e str>,
) -> Result<usize, CelError> {
    if let Expr::Ident(name) = &e.expr {
        if !bound.contains(&name.as_str()) {
            free.push(name);
        }
        return Ok(1);
    }
    let mut height = 0;
    let mut child = |c: &'e IdedExpr, bound: &mut Vec<&'e str>| -> Result<(), CelError> {
        height = height.max(walk(c, bound, free)?);
        Ok(())
    };
    match &e.expr {
        Expr::Unspecified | Expr::Literal(_) | Expr::Ident(_) => {}
        Expr::Select(select) => child(&select.operand, bound)?,
        Expr::Call(call) => {
            let operator = !call
                .func_name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.');
            if !operator && !FUNCTIONS.contains(&call.func_name.as_str()) {
                return Err(CelError::new(format!(
                    "function {}() is not supported",
                    call.func_name
                )));
            }
            for operand in call.target.as_deref().into_iter().chain(&call.args) {
                child(operand, bound)?;
            }
        }
        Expr::List(list) => {
            for item in &list.elements {
                child(item, bound)?;
            }
        }
        Expr::Map(map) => {
            for entry in &map.entries {
                match &entry.expr {
                    EntryExpr::MapEntry(entry) => {
                        child(&entry.key, bound)?;
                        child(&entry.value, bound)?;
                    }
                    EntryExpr::StructField(field) => child(&field.value, bound)?,
                }
            }
        }
        Expr::Struct(s) => {
            return Err(CelError::new(format!(
                "undeclared reference to '{}'",
                s.type_name
            )));
        }
        Expr::Comprehension(c) => {
            child(&c.iter_range, bound)?;
            child(&c.accu_init, bound)?;
            let outer = bound.len();
            bound.extend([c.iter_var.as_str(), c.accu_var.as_str()]);
            bound.extend(c.iter_var2.as_deref());
            for part in [&c.loop_cond, &c.loop_step, &c.result] {
                child(part, bound)?;
            }
            bound.truncate(outer);
        }
    }
    Ok(height + 1)
}
