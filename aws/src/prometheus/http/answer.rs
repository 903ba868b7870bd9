//! The Prometheus HTTP API's answer to an instant query (`{"status": …, "data": {"resultType":
//! …, "result": …}}`) turned into samples or a `QueryError`. Pure: bytes in, no I/O.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::prometheus::{QueryError, Sample};

/// The most of a non-Prometheus error body quoted in a message.
const QUOTE_CHARS: usize = 300;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Envelope {
    status: String,
    data: Option<Data>,
    error_type: Option<String>,
    error: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Data {
    result_type: String,
    result: serde_json::Value,
}

/// `[<unix time>, "<value>"]`.
type Point = (f64, String);

#[derive(Deserialize)]
struct VectorSample {
    #[serde(default)]
    metric: BTreeMap<String, String>,
    value: Option<Point>,
}

/// The samples of an answer with HTTP `status` and `body`.
pub(super) fn parse(status: http::StatusCode, body: &[u8]) -> Result<Vec<Sample>, QueryError> {
    let envelope = match serde_json::from_slice::<Envelope>(body) {
        Ok(envelope) => envelope,
        Err(_) if !status.is_success() => {
            return Err(error(
                status.as_str(),
                format!("HTTP {status}: {}", quote(body)),
            ));
        }
        Err(e) => {
            return Err(error(
                "bad_response",
                format!("not a Prometheus API answer ({e}): {}", quote(body)),
            ));
        }
    };
    match envelope.status.as_str() {
        "success" => {}
        "error" => {
            return Err(error(
                envelope.error_type.as_deref().unwrap_or(status.as_str()),
                envelope.error.unwrap_or_default(),
            ));
        }
        other => {
            return Err(error(
                "bad_response",
                format!("unknown answer status {other:?}"),
            ));
        }
    }
    let data = envelope
        .data
        .ok_or_else(|| error("bad_response", "a successful answer without data"))?;
    match data.result_type.as_str() {
        "vector" => vector(data.result),
        "scalar" => {
            let point: Point = serde_json::from_value(data.result)
                .map_err(|e| error("bad_response", format!("scalar result: {e}")))?;
            Ok(vec![Sample {
                labels: Vec::new(),
                value: value(&point.1)?,
            }])
        }
        "matrix" => Err(error(
            "unsupported_result",
            "range vector: use an instant query, e.g. wrap it in avg_over_time(...[5m]) or \
             rate(...[5m]) instead of ending it with a bare [5m] range",
        )),
        other => Err(error(
            "unsupported_result",
            format!("result type {other:?}: the query must return an instant vector or a scalar"),
        )),
    }
}

fn vector(result: serde_json::Value) -> Result<Vec<Sample>, QueryError> {
    let samples: Vec<VectorSample> = serde_json::from_value(result)
        .map_err(|e| error("bad_response", format!("vector result: {e}")))?;
    samples
        .into_iter()
        .map(|s| {
            let point = s.value.ok_or_else(|| {
                error(
                    "unsupported_result",
                    "a native histogram sample: reduce it to a float, e.g. with \
                     histogram_quantile(0.99, ...) or histogram_count(...)",
                )
            })?;
            Ok(Sample {
                labels: s.metric.into_iter().collect(),
                value: value(&point.1)?,
            })
        })
        .collect()
}

/// A sample value as Prometheus writes it: a decimal, `NaN`, `+Inf` or `-Inf`.
fn value(text: &str) -> Result<f64, QueryError> {
    match text {
        "NaN" => Ok(f64::NAN),
        "+Inf" | "Inf" => Ok(f64::INFINITY),
        "-Inf" => Ok(f64::NEG_INFINITY),
        _ => text.parse().map_err(|_| {
            error(
                "bad_response",
                format!("sample value {text:?} is not a number"),
            )
        }),
    }
}

/// The start of a body, on one line, for a message.
fn quote(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    match text.char_indices().nth(QUOTE_CHARS) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None if text.is_empty() => "(empty body)".to_owned(),
        None => text,
    }
}

fn error(code: &str, message: impl Into<String>) -> QueryError {
    QueryError {
        code: code.to_owned(),
        message: message.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const OK: http::StatusCode = http::StatusCode::OK;

    #[test]
    fn vector_labels_are_sorted_and_special_values_parse() {
        let body = br#"{"status":"success","data":{"resultType":"vector","result":[
            {"metric":{"job":"api","code":"500"},"value":[1700000000.5,"0.125"]},
            {"metric":{"job":"api","code":"200"},"value":[1700000000.5,"NaN"]},
            {"metric":{},"value":[1700000000.5,"+Inf"]},
            {"metric":{},"value":[1700000000.5,"-Inf"]},
            {"metric":{},"value":[1700000000.5,"1e3"]}]}}"#;
        let samples = parse(OK, body).unwrap();
        assert_eq!(
            samples[0].labels,
            vec![("code".into(), "500".into()), ("job".into(), "api".into())]
        );
        assert_eq!(samples[0].value, 0.125);
        assert!(samples[1].value.is_nan());
        assert_eq!(samples[2].value, f64::INFINITY);
        assert_eq!(samples[3].value, f64::NEG_INFINITY);
        assert_eq!(samples[4].value, 1000.0);
    }

    #[test]
    fn an_empty_vector_is_no_samples() {
        let body = br#"{"status":"success","data":{"resultType":"vector","result":[]}}"#;
        assert_eq!(parse(OK, body), Ok(vec![]));
    }

    #[test]
    fn a_scalar_is_one_sample_without_labels() {
        let body = br#"{"status":"success","data":{"resultType":"scalar","result":[1.5,"-Inf"]}}"#;
        let samples = parse(OK, body).unwrap();
        assert_eq!(samples.len(), 1);
        assert!(samples[0].labels.is_empty());
        assert_eq!(samples[0].value, f64::NEG_INFINITY);
    }

    #[test]
    fn refusals_and_failures_have_codes() {
        let cases: &[(u16, &str, &str, &str)] = &[
            (
                400,
                r#"{"status":"error","errorType":"bad_data","error":"parse error"}"#,
                "bad_data",
                "parse error",
            ),
            (
                200,
                r#"{"status":"success","data":{"resultType":"matrix","result":[]}}"#,
                "unsupported_result",
                "range vector: use an instant query",
            ),
            (
                200,
                r#"{"status":"success","data":{"resultType":"string","result":[1,"x"]}}"#,
                "unsupported_result",
                "\"string\"",
            ),
            (
                200,
                r#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"histogram":[1,{}]}]}}"#,
                "unsupported_result",
                "native histogram",
            ),
            (
                403,
                r#"{"message":"not authorized to perform aps:QueryMetrics"}"#,
                "403",
                "aps:QueryMetrics",
            ),
            (502, "<html>Bad Gateway</html>", "502", "Bad Gateway"),
            (
                200,
                "<html>login</html>",
                "bad_response",
                "not a Prometheus",
            ),
            (
                200,
                r#"{"status":"success","data":{"resultType":"scalar","result":[1,"many"]}}"#,
                "bad_response",
                "\"many\"",
            ),
        ];
        for (status, body, code, message) in cases {
            let status = http::StatusCode::from_u16(*status).unwrap();
            let e = parse(status, body.as_bytes()).unwrap_err();
            assert_eq!(e.code, *code, "{body}");
            assert!(e.message.contains(message), "{body}: {}", e.message);
        }
    }

    #[test]
    fn long_bodies_are_cut_in_messages() {
        let body = "x".repeat(5000);
        let e = parse(http::StatusCode::BAD_GATEWAY, body.as_bytes()).unwrap_err();
        assert!(e.message.len() < 400, "{}", e.message);
        let e = parse(http::StatusCode::BAD_GATEWAY, b"").unwrap_err();
        assert!(e.message.ends_with("(empty body)"));
    }
}
