//! A metric's success and failure conditions: CEL expressions (the `cel` crate, the engine the
//! API server's validation rules run on too) over `result`, the newest value, and `values`,
//! every value newest first. Compiled and tried once at validation, so a bad expression stalls
//! the rollout before any AWS call, with the field named.

use std::sync::Arc;

use cel::{Context, Program, Value};
use crds::rollout::MeasurementOutcome;

/// The variables a condition may read.
const VARIABLES: [&str; 2] = ["result", "values"];

/// Why a condition was refused: the field and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConditionError {
    /// `successCondition` or `failureCondition`.
    pub field: &'static str,
    /// What is wrong with it.
    pub message: String,
}

/// The compiled conditions of one metric.
pub struct Conditions {
    success: Option<(String, Program)>,
    failure: Option<(String, Program)>,
}

impl std::fmt::Debug for Conditions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Conditions")
            .field("success", &self.success.as_ref().map(|(s, _)| s))
            .field("failure", &self.failure.as_ref().map(|(s, _)| s))
            .finish()
    }
}

fn compile(field: &'static str, src: &str) -> Result<(String, Program), ConditionError> {
    let refused = |message: String| ConditionError { field, message };
    let program =
        Program::compile(src).map_err(|e| refused(format!("{src:?} does not parse: {e}")))?;
    // Try it on a sample, so unknown variables, functions and non-bool results are refused now
    // rather than at the first measurement.
    match eval(&program, 0.0, &[0.0]) {
        Ok(Value::Bool(_)) => Ok((src.to_owned(), program)),
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

impl Conditions {
    /// Compiles the two conditions (at least one is set: the CRD schema says so).
    pub fn compile(success: Option<&str>, failure: Option<&str>) -> Result<Self, ConditionError> {
        Ok(Self {
            success: success
                .map(|s| compile("successCondition", s))
                .transpose()?,
            failure: failure
                .map(|s| compile("failureCondition", s))
                .transpose()?,
        })
    }

    /// Judges one result: failureCondition true fails; successCondition true passes; with both
    /// set and neither true it is inconclusive; with one set, its opposite decides. An
    /// evaluation error is an `Error` outcome (the measurement could not be judged).
    pub fn judge(&self, result: f64, values: &[f64]) -> (MeasurementOutcome, String) {
        if let Some((src, p)) = &self.failure {
            match holds(p, src, result, values) {
                Ok(true) => {
                    return (
                        MeasurementOutcome::Failed,
                        format!("failureCondition {src} is true"),
                    );
                }
                Ok(false) => {}
                Err(e) => return (MeasurementOutcome::Error, format!("failureCondition: {e}")),
            }
        }
        match (&self.success, &self.failure) {
            (Some((src, p)), failure) => match holds(p, src, result, values) {
                Ok(true) => (
                    MeasurementOutcome::Successful,
                    format!("successCondition {src} is true"),
                ),
                Ok(false) if failure.is_some() => (
                    MeasurementOutcome::Inconclusive,
                    format!("neither successCondition {src} nor failureCondition is true"),
                ),
                Ok(false) => (
                    MeasurementOutcome::Failed,
                    format!("successCondition {src} is false"),
                ),
                Err(e) => (MeasurementOutcome::Error, format!("successCondition: {e}")),
            },
            (None, Some((src, _))) => (
                MeasurementOutcome::Successful,
                format!("failureCondition {src} is false"),
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
        let e = Conditions::compile(Some("result + 1.0"), None).unwrap_err();
        assert!(e.message.contains("bool"), "{}", e.message);
    }

    #[test]
    fn values_are_formatted_for_people() {
        assert_eq!(format_value(3.0), "3");
        assert_eq!(format_value(0.031_27), "0.0313");
        assert_eq!(format_value(2.5), "2.5");
        assert_eq!(format_value(f64::NAN), "NaN");
    }
}
