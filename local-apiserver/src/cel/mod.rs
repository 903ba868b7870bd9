//! A small interpreter for the subset of CEL that CRD `x-kubernetes-validations` rules use:
//! literals, arithmetic, comparisons, `&&`/`||`/`!`/`?:`, `in`, field selection and indexing,
//! `has()`, the `all`/`exists`/`exists_one`/`map`/`filter` macros and the common string and list
//! functions. Programs are compiled once per CRD and evaluated against `self` (and `oldSelf`).

mod error;
mod eval;
mod functions;
mod lexer;
mod parser;
mod value;

use serde_json::Value;

pub(crate) use error::CelError;
use eval::Env;
use parser::Expr;
use value::Val;

/// A compiled CEL expression.
#[derive(Debug, Clone)]
pub(crate) struct Program {
    expr: Expr,
    uses_old_self: bool,
}

impl Program {
    /// Parses `src`, rejecting syntax and functions this interpreter does not support and
    /// variables other than `self` and `oldSelf`.
    pub fn compile(src: &str) -> Result<Self, CelError> {
        let expr = parser::parse(lexer::tokenize(src)?)?;
        check_variables(&expr, &mut vec!["self".to_owned(), "oldSelf".to_owned()])?;
        let uses_old_self = parser::references(&expr, "oldSelf");
        Ok(Self {
            expr,
            uses_old_self,
        })
    }

    /// Whether this is a transition rule (it reads `oldSelf`).
    pub fn uses_old_self(&self) -> bool {
        self.uses_old_self
    }

    /// Evaluates a rule that must yield a bool.
    pub fn eval_bool(&self, this: &Value, old: Option<&Value>) -> Result<bool, CelError> {
        match eval::eval(&self.expr, &mut Env::new(this, old))? {
            Val::Bool(b) => Ok(b),
            _ => Err(CelError::new("rule did not evaluate to a bool")),
        }
    }

    /// Evaluates a `messageExpression`, which must yield a string.
    pub fn eval_string(&self, this: &Value, old: Option<&Value>) -> Result<String, CelError> {
        match eval::eval(&self.expr, &mut Env::new(this, old))? {
            Val::Str(s) => Ok(s.into_owned()),
            _ => Err(CelError::new(
                "messageExpression did not evaluate to a string",
            )),
        }
    }
}

fn check_variables(e: &Expr, bound: &mut Vec<String>) -> Result<(), CelError> {
    match e {
        Expr::Lit(_) => Ok(()),
        Expr::Ident(name) if bound.contains(name) => Ok(()),
        Expr::Ident(name) => Err(CelError::new(format!("undeclared reference to '{name}'"))),
        Expr::Select(a, _) | Expr::Not(a) | Expr::Neg(a) | Expr::Has(a, _) => {
            check_variables(a, bound)
        }
        Expr::Index(a, b) | Expr::Binary(_, a, b) => {
            check_variables(a, bound)?;
            check_variables(b, bound)
        }
        Expr::Cond(a, b, c) => {
            check_variables(a, bound)?;
            check_variables(b, bound)?;
            check_variables(c, bound)
        }
        Expr::List(items) => items.iter().try_for_each(|i| check_variables(i, bound)),
        Expr::Map(entries) => entries.iter().try_for_each(|(k, v)| {
            check_variables(k, bound)?;
            check_variables(v, bound)
        }),
        Expr::Call { target, args, .. } => {
            if let Some(t) = target {
                check_variables(t, bound)?;
            }
            args.iter().try_for_each(|a| check_variables(a, bound))
        }
        Expr::Comprehension {
            range,
            var,
            filter,
            body,
            ..
        } => {
            check_variables(range, bound)?;
            bound.push(var.clone());
            let inner = filter
                .as_deref()
                .map_or(Ok(()), |f| check_variables(f, bound))
                .and_then(|()| check_variables(body, bound));
            bound.pop();
            inner
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn rule(src: &str, this: Value) -> Result<bool, CelError> {
        Program::compile(src)?.eval_bool(&this, None)
    }

    #[test]
    fn operator_crd_rules() {
        let spec = json!({"minCapacity": 1, "maxCapacity": 4, "codeDeploy": {}, "weight": 50, "list": [1, 2, 3]});
        assert!(rule("self.minCapacity <= self.maxCapacity", spec.clone()).unwrap());
        assert!(rule("has(self.codeDeploy) != has(self.ecsNative)", spec.clone()).unwrap());
        assert!(rule("self.weight >= 0 && self.weight <= 100", spec.clone()).unwrap());
        assert!(
            rule(
                "!has(self.codeDeploy) || !has(self.ecsNative)",
                spec.clone()
            )
            .unwrap()
        );
        assert!(rule("size(self.list) <= 10", spec.clone()).unwrap());
        assert!(rule("self.list.all(x, x > 0)", spec.clone()).unwrap());
        assert!(rule("self.list.exists(x, x == 3)", spec.clone()).unwrap());
        assert!(rule("self.list.exists_one(x, x >= 3)", spec.clone()).unwrap());
        assert!(!rule("self.minCapacity > self.maxCapacity", spec).unwrap());
    }

    #[test]
    fn transition_rules_see_old_self() {
        let p = Program::compile("self == oldSelf").unwrap();
        assert!(p.uses_old_self());
        assert!(p.eval_bool(&json!("a"), Some(&json!("a"))).unwrap());
        assert!(
            !p.eval_bool(&json!({"x": [1]}), Some(&json!({"x": [2]})))
                .unwrap()
        );
        assert!(!Program::compile("self.a > 0").unwrap().uses_old_self());
    }

    #[test]
    fn missing_fields_error_unless_absorbed() {
        let err = rule("self.a > 1", json!({})).unwrap_err();
        assert_eq!(err.to_string(), "no such key: a");
        assert!(rule("has(self.a) && self.a > 1 || true", json!({})).unwrap());
        assert!(!rule("self.a > 1 && false", json!({})).unwrap());
        assert!(
            rule(
                "self.l.exists(x, x.a == 1)",
                json!({"l": [{"b": 1}, {"a": 1}]})
            )
            .unwrap()
        );
    }

    #[test]
    fn strings_lists_maps_and_arithmetic() {
        let obj =
            json!({"name": "web-1", "tags": {"team": "a"}, "l": ["b", "a"], "n": 7, "d": 1.5});
        for src in [
            "self.name.startsWith('web') && self.name.endsWith('-1') && self.name.contains('b-')",
            "self.name.matches('^[a-z]+-[0-9]$')",
            "'team' in self.tags && self.tags.team == 'a' && self.tags['team'] == 'a'",
            "'a' in self.l && self.l[0] == 'b' && size(self.l) == 2 && self.l.size() == 2",
            "self.n % 4 == 3 && self.n / 2 == 3 && self.n * 2 - 1 == 13 && -self.n == -7",
            "self.d > 1 && self.n > self.d && double(self.n) == 7.0 && int(self.d) == 1",
            "self.l.map(x, x + '!') == ['b!', 'a!'] && self.l.filter(x, x == 'a') == ['a']",
            "self.tags.all(k, k == 'team') && {'a': 1}.a == 1 && [1, 2] + [3] == [1, 2, 3]",
            "self.name.split('-') == ['web', '1'] && ['x', 'y'].join('-') == 'x-y'",
            "[3, 1, 2].sum() == 6 && [3, 1, 2].max() == 3 && ![3, 1].isSorted() && 'ABC'.lowerAscii() == 'abc'",
            "self.n == 7u && string(self.n) == '7' && self.name.substring(0, 3) == 'web'",
            "true ? self.n == 7 : self.missing",
        ] {
            assert!(rule(src, obj.clone()).unwrap(), "{src}");
        }
    }

    #[test]
    fn runtime_errors_are_errors_not_panics() {
        for src in [
            "self.n / 0 == 1",
            "self.n % 0 == 1",
            "9223372036854775807 + 1 > 0",
            "self.l[5] == 1",
            "self.l[-1] == 1",
            "self.name.substring(5, 1) == ''",
            "self.name.matches('(') ",
            "self.n + 'a' == 'b'",
            "self.n",
        ] {
            assert!(
                rule(src, json!({"n": 1, "l": [], "name": "ab"})).is_err(),
                "{src}"
            );
        }
    }

    #[test]
    fn undeclared_variables_are_rejected_at_compile_time() {
        assert!(Program::compile("other.x > 1").is_err());
        assert!(Program::compile("self.l.all(x, x > y)").is_err());
        assert!(Program::compile("self.l.all(x, x > 0) && x > 0").is_err());
    }
}
