//! Wire check of `SdkCloudWatch::get_metric_data` without a network: moto cannot answer
//! CloudWatch (the SDK speaks Smithy RPC v2 CBOR), so the SDK is given a `StaticReplayClient`
//! with two canned CBOR pages. Checked: each request is `POST
//! /service/GraniteServiceVersion20100801/operation/GetMetricData` with `smithy-protocol:
//! rpc-v2-cbor`; its CBOR body (decoded with minicbor) carries the MetricDataQueries (Id,
//! MetricStat → Metric → Namespace, MetricName, Dimensions; Period, Stat; Expression,
//! ReturnData, Label), StartTime/EndTime as epoch-second timestamps (tag 1), ScanBy
//! TimestampDescending, and no NextToken on the first page but the first answer's NextToken on
//! the second; and the two answers (Timestamps, Values, StatusCode, a query's datapoints split
//! over both pages) parse into one `MetricDataResult` per query.

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::Credentials;
use aws_credential_types::provider::SharedCredentialsProvider;
use aws_smithy_http_client::test_util::{ReplayEvent, StaticReplayClient};
use aws_smithy_types::body::SdkBody;
use minicbor::data::{IanaTag, Tag, Type};

use crate::cloudwatch::sdk::SdkCloudWatch;
use crate::cloudwatch::{
    CloudWatchApi, Dimension, GetMetricDataInput, Metric, MetricDataQuery, MetricStat,
};

/// A decoded CBOR item, enough of the data model to compare the SDK's bodies.
#[derive(Debug, Clone, PartialEq)]
enum Cbor {
    Map(Vec<(String, Cbor)>),
    Array(Vec<Cbor>),
    Text(String),
    Int(i64),
    Float(f64),
    Bool(bool),
    Tagged(u64, Box<Cbor>),
}

impl Cbor {
    /// The member `key` of a map.
    fn get(&self, key: &str) -> Option<&Cbor> {
        match self {
            Cbor::Map(pairs) => pairs.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// The member at a path of map keys; panics with the path when it is absent.
    fn at(&self, path: &[&str]) -> &Cbor {
        path.iter().fold(self, |item, key| {
            item.get(key)
                .unwrap_or_else(|| panic!("no {key} in {path:?} of {self:?}"))
        })
    }

    /// The text of a text item.
    fn text(&self) -> &str {
        match self {
            Cbor::Text(s) => s,
            other => panic!("not text: {other:?}"),
        }
    }

    /// The items of an array.
    fn items(&self) -> &[Cbor] {
        match self {
            Cbor::Array(items) => items,
            other => panic!("not an array: {other:?}"),
        }
    }

    /// An integer item as i64.
    fn int(&self) -> i64 {
        match self {
            Cbor::Int(n) => *n,
            other => panic!("not an integer: {other:?}"),
        }
    }

    /// Epoch seconds of a tag-1 timestamp (integer or float content).
    fn epoch_seconds(&self) -> f64 {
        match self {
            Cbor::Tagged(1, inner) => match **inner {
                Cbor::Int(n) => n as f64,
                Cbor::Float(f) => f,
                ref other => panic!("timestamp content {other:?}"),
            },
            other => panic!("not a timestamp: {other:?}"),
        }
    }
}

/// Whether a definite (`Some(n)`) or indefinite (`None`) container of `len` items is complete
/// after `seen` of them.
fn container_done(d: &minicbor::Decoder<'_>, len: Option<u64>, seen: usize) -> bool {
    match len {
        Some(n) => seen as u64 == n,
        None => d.datatype().expect("an item or break") == Type::Break,
    }
}

/// Decodes one CBOR item (definite or indefinite lengths).
fn decode(d: &mut minicbor::Decoder<'_>) -> Cbor {
    match d.datatype().expect("a CBOR item") {
        Type::Map | Type::MapIndef => {
            let len = d.map().expect("map");
            let mut pairs = Vec::new();
            while !container_done(d, len, pairs.len()) {
                let key = d.str().expect("a text key").to_owned();
                pairs.push((key, decode(d)));
            }
            if len.is_none() {
                d.skip().expect("break");
            }
            Cbor::Map(pairs)
        }
        Type::Array | Type::ArrayIndef => {
            let len = d.array().expect("array");
            let mut items = Vec::new();
            while !container_done(d, len, items.len()) {
                items.push(decode(d));
            }
            if len.is_none() {
                d.skip().expect("break");
            }
            Cbor::Array(items)
        }
        Type::String => Cbor::Text(d.str().expect("text").to_owned()),
        Type::StringIndef => Cbor::Text(
            d.str_iter()
                .expect("text chunks")
                .map(|chunk| chunk.expect("a text chunk"))
                .collect(),
        ),
        Type::U8
        | Type::U16
        | Type::U32
        | Type::U64
        | Type::I8
        | Type::I16
        | Type::I32
        | Type::I64 => Cbor::Int(d.i64().expect("integer")),
        Type::F16 | Type::F32 | Type::F64 => Cbor::Float(d.f64().expect("float")),
        Type::Bool => Cbor::Bool(d.bool().expect("bool")),
        Type::Tag => {
            let tag = d.tag().expect("tag").as_u64();
            Cbor::Tagged(tag, Box::new(decode(d)))
        }
        other => panic!("unexpected CBOR type {other} in the request body"),
    }
}

/// Decodes a whole body, which must be exactly one item.
fn decode_body(body: &[u8]) -> Cbor {
    let mut d = minicbor::Decoder::new(body);
    let item = decode(&mut d);
    assert_eq!(d.position(), body.len(), "trailing bytes after the body");
    item
}

/// One result of a canned answer: id, (epoch seconds, value) datapoints, status code.
type CannedResult<'a> = (&'a str, &'a [(i64, f64)], &'a str);

/// One page of a GetMetricData answer in CBOR.
fn answer_page(results: &[CannedResult<'_>], next_token: Option<&str>) -> Vec<u8> {
    let mut e = minicbor::Encoder::new(Vec::new());
    e.map(1 + u64::from(next_token.is_some())).unwrap();
    e.str("MetricDataResults").unwrap();
    e.array(results.len() as u64).unwrap();
    for (id, points, status) in results {
        e.map(4).unwrap();
        e.str("Id").unwrap().str(id).unwrap();
        e.str("Timestamps").unwrap();
        e.array(points.len() as u64).unwrap();
        for (t, _) in *points {
            e.tag(Tag::from(IanaTag::Timestamp)).unwrap();
            e.f64(*t as f64).unwrap();
        }
        e.str("Values").unwrap();
        e.array(points.len() as u64).unwrap();
        for (_, v) in *points {
            e.f64(*v).unwrap();
        }
        e.str("StatusCode").unwrap().str(status).unwrap();
    }
    if let Some(token) = next_token {
        e.str("NextToken").unwrap().str(token).unwrap();
    }
    e.into_writer()
}

/// An HTTP 200 RPC v2 CBOR answer with `body`.
fn cbor_response(body: Vec<u8>) -> http::Response<SdkBody> {
    http::Response::builder()
        .status(200)
        .header("smithy-protocol", "rpc-v2-cbor")
        .header("content-type", "application/cbor")
        .body(SdkBody::from(body))
        .expect("a valid response")
}

/// A placeholder for the expected request (the test reads the actual ones instead).
fn any_request() -> http::Request<SdkBody> {
    http::Request::builder()
        .uri("https://monitoring.eu-west-1.amazonaws.com/")
        .body(SdkBody::empty())
        .expect("a valid request")
}

/// `SdkCloudWatch` over `client`, with static credentials and no retries.
fn cloudwatch(client: StaticReplayClient) -> SdkCloudWatch {
    let config = SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("eu-west-1"))
        .credentials_provider(SharedCredentialsProvider::new(Credentials::new(
            "AKIDTEST", "secret", None, None, "test",
        )))
        .retry_config(aws_config::retry::RetryConfig::disabled())
        .http_client(client)
        .build();
    SdkCloudWatch::new(&config)
}

/// The analysis queries a rollout sends: two ALB metrics and an error rate over them.
fn analysis_queries() -> Vec<MetricDataQuery> {
    let alb = |id: &str, name: &str| MetricDataQuery {
        id: id.to_owned(),
        metric_stat: Some(MetricStat {
            metric: Metric {
                namespace: "AWS/ApplicationELB".to_owned(),
                metric_name: name.to_owned(),
                dimensions: vec![Dimension {
                    name: "TargetGroup".to_owned(),
                    value: "targetgroup/auth-green/0123456789abcdef".to_owned(),
                }],
            },
            period: 60,
            stat: "Sum".to_owned(),
            unit: None,
        }),
        return_data: Some(false),
        ..MetricDataQuery::default()
    };
    vec![
        alb("errors", "HTTPCode_Target_5XX_Count"),
        alb("requests", "RequestCount"),
        MetricDataQuery {
            id: "rate".to_owned(),
            expression: Some("100 * errors / requests".to_owned()),
            label: Some("error rate".to_owned()),
            ..MetricDataQuery::default()
        },
    ]
}

#[tokio::test]
async fn get_metric_data_sends_rpc_v2_cbor_and_follows_next_token() {
    let first: &[(i64, f64)] = &[(1_700_000_120, 2.5), (1_700_000_060, 3.0)];
    let second: &[(i64, f64)] = &[(1_700_000_000, 1.0)];
    let client = StaticReplayClient::new(vec![
        ReplayEvent::new(
            any_request(),
            cbor_response(answer_page(
                &[("rate", first, "PartialData")],
                Some("page-2"),
            )),
        ),
        ReplayEvent::new(
            any_request(),
            cbor_response(answer_page(&[("rate", second, "Complete")], None)),
        ),
    ]);
    let start = jiff::Timestamp::from_second(1_699_999_800).unwrap();
    let end = jiff::Timestamp::from_second(1_700_000_400).unwrap();
    let results = cloudwatch(client.clone())
        .get_metric_data(GetMetricDataInput {
            queries: analysis_queries(),
            start_time: start,
            end_time: end,
        })
        .await
        .expect("both pages parse");

    assert_eq!(results.len(), 1, "{results:?}");
    let rate = &results[0];
    assert_eq!(rate.id, "rate");
    assert_eq!(rate.status_code, "Complete");
    assert_eq!(rate.values, [2.5, 3.0, 1.0]);
    let seconds: Vec<i64> = rate.timestamps.iter().map(|t| t.as_second()).collect();
    assert_eq!(seconds, [1_700_000_120, 1_700_000_060, 1_700_000_000]);

    let requests: Vec<_> = client.actual_requests().collect();
    assert_eq!(requests.len(), 2, "one request per page");
    for (page, request) in requests.iter().enumerate() {
        assert_eq!(request.method(), "POST");
        let uri: http::Uri = request.uri().parse().expect("a URI");
        assert_eq!(
            uri.path(),
            "/service/GraniteServiceVersion20100801/operation/GetMetricData"
        );
        assert_eq!(
            request.headers().get("smithy-protocol"),
            Some("rpc-v2-cbor")
        );
        assert_eq!(
            request.headers().get("content-type"),
            Some("application/cbor")
        );
        let body = decode_body(request.body().bytes().expect("an in-memory body"));
        assert_eq!(body.at(&["StartTime"]).epoch_seconds(), 1_699_999_800.0);
        assert_eq!(body.at(&["EndTime"]).epoch_seconds(), 1_700_000_400.0);
        assert_eq!(body.at(&["ScanBy"]).text(), "TimestampDescending");
        match page {
            0 => assert_eq!(body.get("NextToken"), None),
            _ => assert_eq!(body.at(&["NextToken"]).text(), "page-2"),
        }
        let queries = body.at(&["MetricDataQueries"]).items();
        assert_eq!(queries.len(), 3);
        let errors = &queries[0];
        assert_eq!(errors.at(&["Id"]).text(), "errors");
        assert_eq!(errors.at(&["ReturnData"]), &Cbor::Bool(false));
        assert_eq!(errors.at(&["MetricStat", "Period"]).int(), 60);
        assert_eq!(errors.at(&["MetricStat", "Stat"]).text(), "Sum");
        let metric = errors.at(&["MetricStat", "Metric"]);
        assert_eq!(metric.at(&["Namespace"]).text(), "AWS/ApplicationELB");
        assert_eq!(
            metric.at(&["MetricName"]).text(),
            "HTTPCode_Target_5XX_Count"
        );
        let dimensions = metric.at(&["Dimensions"]).items();
        assert_eq!(dimensions.len(), 1);
        assert_eq!(dimensions[0].at(&["Name"]).text(), "TargetGroup");
        assert_eq!(
            dimensions[0].at(&["Value"]).text(),
            "targetgroup/auth-green/0123456789abcdef"
        );
        assert_eq!(queries[1].at(&["Id"]).text(), "requests");
        let rate = &queries[2];
        assert_eq!(rate.at(&["Id"]).text(), "rate");
        assert_eq!(rate.at(&["Expression"]).text(), "100 * errors / requests");
        assert_eq!(rate.at(&["Label"]).text(), "error rate");
        assert_eq!(rate.get("MetricStat"), None);
        assert_eq!(rate.get("ReturnData"), None, "unset means true");
    }
}
