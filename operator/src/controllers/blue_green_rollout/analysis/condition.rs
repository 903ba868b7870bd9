//! A metric's success and failure conditions: CEL expressions (the `cel` crate, the engine the
//! API server's validation rules run on too) over `result`, the newest value, and `values`,
//! every value newest first. Compiled and tried once at validation, so a bad expression stalls
//! the rollout before any AWS call, with the field named. The crate's parser and evaluator
//! recurse once per level of the expression with large frames, so both run on a thread with a
//! large stack: a deeply nested condition is refused or evaluated, never a crashed operator.

use std::sync::Arc;

use cel::{Context, Program, Value};
use crds::rollout::MeasurementOutcome;

/// The variables a condition may read.
const VARIABLES: [&str; 2] = ["result", "values"];

/// The stack of the thread conditions are parsed and evaluated on (only touched pages are
/// committed).
const STACK_BYTES: usize = 64 << 20;

/// Runs `work` on a thread of its own with a large stack, and waits for it.
fn on_large_stack<T: Send>(work: impl FnOnce() -> T + Send) -> T {
    std::thread::scope(|scope| {
        std::thread::Builder::new()
            .name("cel".to_owned())
            .stack_size(STACK_BYTES)
            .spawn_scoped(scope, work)
            .expect("a thread for CEL starts")
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    })
}

/// Why a condition was refused: the field and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConditionError {
    /// `successCondition` or `failureCondition`.
    pub field: &'static str,
    /// What is wrong with it.
    pub message: String,
}

/// The conditions of one metric, checked. Programs never leave the large-stack thread (even
/// dropping a deep one recurses), so each judgement parses its conditions again there: a few
/// microseconds, once per measurement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conditions {
    success: Option<String>,
    failure: Option<String>,
}

/// Parses `src` and tries it on a sample, so unknown variables, functions and non-bool results
/// are refused now rather than at the first measurement.
fn compile(field: &'static str, src: &str) -> Result<(), ConditionError> {
    let refused = |message: String| ConditionError { field, message };
    let program =
        Program::compile(src).map_err(|e| refused(format!("{src:?} does not parse: {e}")))?;
    // Every name read must be a variable or a macro's own (`values.all(v, ...)`): a sample
    // evaluation alone would miss one behind `&&`, `||` or `?:`.
    let bound = macro_variables(src);
    let references = program.references();
    let mut unknown: Vec<&str> = references
        .variables()
        .into_iter()
        .filter(|v| !VARIABLES.contains(v) && !bound.iter().any(|b| b == v))
        .collect();
    unknown.sort_unstable();
    if let Some(name) = unknown.first() {
        return Err(refused(format!(
            "{src:?}: undeclared reference to '{name}' (a condition reads {})",
            VARIABLES.join(" and ")
        )));
    }
    match eval(&program, 0.0, &[0.0, 0.0, 0.0]) {
        Ok(Value::Bool(_)) => Ok(()),
        Ok(other) => Err(refused(format!(
            "{src:?} must evaluate to a bool, not {}",
            other.type_of()
        ))),
        Err(e) => Err(refused(format!(
            "{src:?}: {e} (a condition reads {})",
            VARIABLES.join(" and ")
        ))),
    }
}

/// The names CEL's macros bind in `src` (the first argument of `.all(`, `.exists(`,
/// `.exists_one(`, `.map(`, `.filter(`).
fn macro_variables(src: &str) -> Vec<String> {
    let mut bound = Vec::new();
    for macro_name in ["all", "exists", "exists_one", "map", "filter"] {
        let opening = format!(".{macro_name}(");
        for (at, _) in src.match_indices(&opening) {
            let rest = &src[at + opening.len()..];
            let name: String = rest
                .trim_start()
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            if !name.is_empty()
                && rest.trim_start()[name.len()..]
                    .trim_start()
                    .starts_with(',')
            {
                bound.push(name);
            }
        }
    }
    bound
}

fn eval(program: &Program, result: f64, values: &[f64]) -> Result<Value, String> {
    let mut context = Context::default();
    context.add_variable_from_value("result", Value::Float(result));
    context.add_variable_from_value(
        "values",
        Value::List(Arc::new(values.iter().map(|v| Value::Float(*v)).collect())),
    );
    program.execute(&context).map_err(|e| e.to_string())
}

fn holds(program: &Program, src: &str, result: f64, values: &[f64]) -> Result<bool, String> {
    match eval(program, result, values)? {
        Value::Bool(b) => Ok(b),
        other => Err(format!("{src:?} gave {}, not a bool", other.type_of())),
    }
}

/// The outcome of one condition on a result: `None` when it is unset.
fn outcome_of(
    field: &'static str,
    src: Option<&str>,
    result: f64,
    values: &[f64],
) -> Option<Result<bool, String>> {
    let src = src?;
    Some(
        Program::compile(src)
            .map_err(|e| format!("{field}: {src:?} does not parse: {e}"))
            .and_then(|p| holds(&p, src, result, values).map_err(|e| format!("{field}: {e}"))),
    )
}

impl Conditions {
    /// Checks the two conditions (at least one is set: the CRD schema says so).
    pub fn compile(success: Option<&str>, failure: Option<&str>) -> Result<Self, ConditionError> {
        on_large_stack(|| {
            if let Some(s) = success {
                compile("successCondition", s)?;
            }
            if let Some(f) = failure {
                compile("failureCondition", f)?;
            }
            Ok(Self {
                success: success.map(str::to_owned),
                failure: failure.map(str::to_owned),
            })
        })
    }

    /// Judges one result: failureCondition true fails; successCondition true passes; with both
    /// set and neither true it is inconclusive; with one set, its opposite decides. An
    /// evaluation error is an `Error` outcome (the measurement could not be judged).
    pub fn judge(&self, result: f64, values: &[f64]) -> (MeasurementOutcome, String) {
        let (success, failure) = on_large_stack(|| {
            (
                outcome_of("successCondition", self.success.as_deref(), result, values),
                outcome_of("failureCondition", self.failure.as_deref(), result, values),
            )
        });
        let src = |s: &Option<String>| s.clone().unwrap_or_default();
        match (failure, success) {
            // A true failureCondition fails the measurement whatever the other one did.
            (Some(Ok(true)), _) => (
                MeasurementOutcome::Failed,
                format!("failureCondition {} is true", src(&self.failure)),
            ),
            (Some(Err(e)), _) | (_, Some(Err(e))) => (MeasurementOutcome::Error, e),
            (_, Some(Ok(true))) => (
                MeasurementOutcome::Successful,
                format!("successCondition {} is true", src(&self.success)),
            ),
            (Some(Ok(false)), Some(Ok(false))) => (
                MeasurementOutcome::Inconclusive,
                format!(
                    "neither successCondition {} nor failureCondition {} is true",
                    src(&self.success),
                    src(&self.failure)
                ),
            ),
            (None, Some(Ok(false))) => (
                MeasurementOutcome::Failed,
                format!("successCondition {} is false", src(&self.success)),
            ),
            (Some(Ok(false)), None) => (
                MeasurementOutcome::Successful,
                format!("failureCondition {} is false", src(&self.failure)),
            ),
            (None, None) => (
                MeasurementOutcome::Inconclusive,
                "no condition is set".to_owned(),
            ),
        }
    }
}

/// A result as the status shows it: integers plainly, other values to 4 decimals.
pub fn format_value(v: f64) -> String {
    if v.is_finite() && v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{v:.0}")
    } else if v.is_finite() {
        let s = format!("{v:.4}");
        s.trim_end_matches('0').trim_end_matches('.').to_owned()
    } else {
        v.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conditions_judge_results() {
        let both = Conditions::compile(Some("result < 1.0"), Some("result > 2")).unwrap();
        assert_eq!(both.judge(0.5, &[0.5]).0, MeasurementOutcome::Successful);
        assert_eq!(both.judge(3.0, &[3.0]).0, MeasurementOutcome::Failed);
        assert_eq!(both.judge(1.5, &[1.5]).0, MeasurementOutcome::Inconclusive);
        let success = Conditions::compile(Some("values.all(v, v < 10.0)"), None).unwrap();
        assert_eq!(
            success.judge(1.0, &[1.0, 2.0]).0,
            MeasurementOutcome::Successful
        );
        let (outcome, message) = success.judge(1.0, &[1.0, 20.0]);
        assert_eq!(outcome, MeasurementOutcome::Failed);
        assert!(message.contains("values.all(v, v < 10.0)"), "{message}");
        let erring = Conditions::compile(Some("values[1] < 1.0"), Some("result > 2.0")).unwrap();
        assert_eq!(
            erring.judge(3.0, &[3.0]).0,
            MeasurementOutcome::Failed,
            "a true failureCondition wins over an erring successCondition"
        );
        let failure = Conditions::compile(None, Some("result >= 5.0")).unwrap();
        assert_eq!(failure.judge(4.0, &[]).0, MeasurementOutcome::Successful);
    }

    #[test]
    fn bad_conditions_are_refused_with_the_field_named() {
        let e = Conditions::compile(Some("result <"), None).unwrap_err();
        assert_eq!(e.field, "successCondition");
        let e = Conditions::compile(None, Some("latency > 2.0")).unwrap_err();
        assert_eq!(e.field, "failureCondition");
        assert!(e.message.contains("latency"), "{}", e.message);
        let e = Conditions::compile(Some("result > 1.0 && latency < 2.0"), None).unwrap_err();
        assert!(
            e.message.contains("undeclared reference to 'latency'"),
            "{}",
            e.message
        );
        let e = Conditions::compile(Some("result + 1.0"), None).unwrap_err();
        assert!(e.message.contains("bool"), "{}", e.message);
    }

    #[test]
    fn deeply_nested_conditions_do_not_overflow_the_callers_stack() {
        let deep = format!("{}result{} < 1.0", "(".repeat(40), ")".repeat(40));
        let c = Conditions::compile(Some(&deep), None).unwrap();
        assert_eq!(c.judge(0.5, &[]).0, MeasurementOutcome::Successful);
        let long = format!("result{} < 1000.0", " + 1.0".repeat(150));
        let c = Conditions::compile(Some(&long), None).unwrap();
        assert_eq!(c.judge(0.5, &[]).0, MeasurementOutcome::Successful);
    }

    #[test]
    fn values_are_formatted_for_people() {
        assert_eq!(format_value(3.0), "3");
        assert_eq!(format_value(0.031_27), "0.0313");
        assert_eq!(format_value(2.5), "2.5");
        assert_eq!(format_value(f64::NAN), "NaN");
    }
}
