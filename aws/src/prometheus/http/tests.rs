//! `HttpPrometheus` on the wire against a local hyper server: what the request carries (path,
//! encoded query, bearer token, SigV4 signature) and what each kind of answer becomes.

use std::convert::Infallible;
use std::sync::{Arc, Mutex};

use aws_credential_types::Credentials;
use hyper_util::rt::TokioIo;

use super::*;

/// A server answering every request with one status and body, recording what it was sent.
struct Stub {
    address: String,
    seen: Arc<Mutex<Vec<http::request::Parts>>>,
}

impl Stub {
    async fn answering(status: u16, body: &'static str) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = format!("http://{}", listener.local_addr().unwrap());
        let seen: Arc<Mutex<Vec<http::request::Parts>>> = Arc::default();
        let record = seen.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let record = record.clone();
                let service = hyper::service::service_fn(move |request: http::Request<_>| {
                    let record = record.clone();
                    async move {
                        let (parts, _body): (_, hyper::body::Incoming) = request.into_parts();
                        record.lock().unwrap().push(parts);
                        let response = http::Response::builder()
                            .status(status)
                            .header(http::header::CONTENT_TYPE, "application/json")
                            .body(body.to_owned())
                            .unwrap();
                        Ok::<_, Infallible>(response)
                    }
                });
                tokio::spawn(
                    hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service),
                );
            }
        });
        Self { address, seen }
    }

    fn only_request(&self) -> http::request::Parts {
        let mut seen = self.seen.lock().unwrap();
        assert_eq!(seen.len(), 1, "one request");
        seen.pop().unwrap()
    }
}

fn query(address: &str, promql: &str) -> PrometheusQuery {
    PrometheusQuery {
        address: address.to_owned(),
        query: promql.to_owned(),
        sigv4: None,
        bearer_token: None,
        timeout_secs: 5,
    }
}

const VECTOR: &str = r#"{"status":"success","data":{"resultType":"vector","result":[
    {"metric":{"job":"api","code":"500"},"value":[1700000000.5,"0.02"]},
    {"metric":{"job":"api","code":"200"},"value":[1700000000.5,"NaN"]}]}}"#;

#[tokio::test]
async fn sends_the_encoded_query_with_the_bearer_token_and_parses_a_vector() {
    let stub = Stub::answering(200, VECTOR).await;
    let promql = r#"sum by (code) (rate(http_requests_total{job="api"}[5m])) / 2"#;
    let mut q = query(&format!("{}/", stub.address), promql);
    q.bearer_token = Some("s3cret-token".into());
    let samples = HttpPrometheus::new(None).query(&q).await.unwrap();

    let request = stub.only_request();
    assert_eq!(request.method, http::Method::GET);
    assert_eq!(request.uri.path(), "/api/v1/query");
    assert_eq!(
        request.uri.query(),
        Some(
            "query=sum%20by%20%28code%29%20%28rate%28http_requests_total%7Bjob%3D%22api%22%7D\
             %5B5m%5D%29%29%20%2F%202"
        )
    );
    assert_eq!(request.headers["authorization"], "Bearer s3cret-token");
    assert_eq!(samples.len(), 2);
    assert_eq!(
        samples[0].labels,
        vec![("code".into(), "500".into()), ("job".into(), "api".into())]
    );
    assert_eq!(samples[0].value, 0.02);
    assert!(samples[1].value.is_nan());
}

#[tokio::test]
async fn signs_with_sigv4_under_the_workspace_path() {
    let stub = Stub::answering(
        200,
        r#"{"status":"success","data":{"resultType":"scalar","result":[1700000000,"0.5"]}}"#,
    )
    .await;
    let credentials = Credentials::new("AKIDEXAMPLE", "wJalrXUtnFEMI", None, None, "test");
    let prometheus = HttpPrometheus::new(Some(SharedCredentialsProvider::new(credentials)));
    let mut q = query(&format!("{}/workspaces/ws-1", stub.address), "scalar(up)");
    q.sigv4 = Some(SigV4 {
        region: "eu-west-1".into(),
        service: "aps".into(),
    });
    let samples = prometheus.query(&q).await.unwrap();

    assert_eq!(
        samples,
        vec![Sample {
            labels: vec![],
            value: 0.5
        }]
    );
    let request = stub.only_request();
    assert_eq!(request.uri.path(), "/workspaces/ws-1/api/v1/query");
    let authorization = request.headers["authorization"].to_str().unwrap();
    assert!(
        authorization.starts_with("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/")
            && authorization.contains("/eu-west-1/aps/aws4_request"),
        "{authorization}"
    );
    assert!(request.headers.contains_key("x-amz-date"));
}

#[tokio::test]
async fn sigv4_without_credentials_sends_nothing() {
    let stub = Stub::answering(200, VECTOR).await;
    let mut q = query(&stub.address, "up");
    q.sigv4 = Some(SigV4 {
        region: "eu-west-1".into(),
        service: "aps".into(),
    });
    let e = HttpPrometheus::new(None).query(&q).await.unwrap_err();
    assert_eq!(e.code, "sigv4");
    assert!(stub.seen.lock().unwrap().is_empty());
}

#[tokio::test]
async fn a_prometheus_error_keeps_its_type_and_message() {
    let stub = Stub::answering(
        400,
        r#"{"status":"error","errorType":"bad_data","error":"1:5: parse error: unclosed left parenthesis"}"#,
    )
    .await;
    let e = HttpPrometheus::new(None)
        .query(&query(&stub.address, "sum("))
        .await
        .unwrap_err();
    assert_eq!(
        e,
        QueryError {
            code: "bad_data".into(),
            message: "1:5: parse error: unclosed left parenthesis".into()
        }
    );
}

#[tokio::test]
async fn a_range_vector_is_refused() {
    let stub = Stub::answering(
        200,
        r#"{"status":"success","data":{"resultType":"matrix","result":[{"metric":{},"values":[[1,"1"]]}]}}"#,
    )
    .await;
    let e = HttpPrometheus::new(None)
        .query(&query(&stub.address, "up[5m]"))
        .await
        .unwrap_err();
    assert_eq!(e.code, "unsupported_result");
    assert!(e.message.starts_with("range vector: use an instant query"));
}

#[tokio::test]
async fn a_proxy_error_is_its_http_status() {
    let stub = Stub::answering(502, "upstream connect error").await;
    let e = HttpPrometheus::new(None)
        .query(&query(&stub.address, "up"))
        .await
        .unwrap_err();
    assert_eq!(e.code, "502");
    assert!(e.message.contains("upstream connect error"), "{e}");
}

#[tokio::test]
async fn nothing_listening_is_unreachable_and_the_token_stays_secret() {
    let address = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}", listener.local_addr().unwrap())
    };
    let mut q = query(&address, "up");
    q.bearer_token = Some("s3cret-token".into());
    let e = HttpPrometheus::new(None).query(&q).await.unwrap_err();
    assert_eq!(e.code, "unreachable");
    assert!(e.message.starts_with(&address), "{e}");
    assert!(!e.to_string().contains("s3cret"), "{e}");
}

#[tokio::test]
async fn a_server_that_never_answers_times_out() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = format!("http://{}", listener.local_addr().unwrap());
    // Accepted and held open, never answered.
    let _held = tokio::spawn(async move {
        let mut open = Vec::new();
        while let Ok((stream, _)) = listener.accept().await {
            open.push(stream);
        }
    });
    let mut q = query(&address, "up");
    q.timeout_secs = 1;
    let e = HttpPrometheus::new(None).query(&q).await.unwrap_err();
    assert_eq!(e.code, "timeout");
}

#[tokio::test]
async fn addresses_that_are_not_http_urls_are_refused() {
    for address in ["prometheus:9090", "ftp://prometheus", "http://"] {
        let e = HttpPrometheus::new(None)
            .query(&query(address, "up"))
            .await
            .unwrap_err();
        assert_eq!(e.code, "bad_address", "{address}: {e}");
    }
}

#[tokio::test]
async fn sigv4_and_a_bearer_token_together_are_refused() {
    let credentials = Credentials::new("AKIDEXAMPLE", "wJalrXUtnFEMI", None, None, "test");
    let mut q = query("http://127.0.0.1:1", "up");
    q.bearer_token = Some("s3cret-token".into());
    q.sigv4 = Some(SigV4 {
        region: "eu-west-1".into(),
        service: "aps".into(),
    });
    let e = HttpPrometheus::new(Some(SharedCredentialsProvider::new(credentials)))
        .query(&q)
        .await
        .unwrap_err();
    assert_eq!(e.code, "config");
}
