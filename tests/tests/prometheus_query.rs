//! `HttpPrometheus` against a real Prometheus (`prometheus` on PATH, from
//! `scripts/install-test-tools`) scraping a static exposition: an instant vector with its
//! labels, a scalar, and a query Prometheus refuses. A missing binary fails the test, never
//! skips it.

use std::convert::Infallible;
use std::time::Duration;

use aws::prometheus::http::HttpPrometheus;
use aws::prometheus::{PrometheusApi, PrometheusQuery, Sample};
use ecs_operator::local::prometheus::PrometheusServer;
use hyper_util::rt::TokioIo;

const EXPOSITION: &str = "\
# HELP demo_ratio A ratio.
# TYPE demo_ratio gauge
demo_ratio 0.25
# HELP demo_requests_total Requests by status code.
# TYPE demo_requests_total counter
demo_requests_total{code=\"200\"} 90
demo_requests_total{code=\"500\"} 10
";

/// Serves `EXPOSITION` on every path; the `host:port` it listens on.
async fn serve_exposition() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a local port");
    let target = listener.local_addr().expect("its address").to_string();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let service = hyper::service::service_fn(|_request| async {
                let response = http::Response::builder()
                    .header(http::header::CONTENT_TYPE, "text/plain; version=0.0.4")
                    .body(EXPOSITION.to_owned())
                    .expect("a response");
                Ok::<_, Infallible>(response)
            });
            tokio::spawn(
                hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service),
            );
        }
    });
    target
}

fn query(address: &str, promql: &str) -> PrometheusQuery {
    PrometheusQuery {
        address: address.to_owned(),
        query: promql.to_owned(),
        sigv4: None,
        bearer_token: None,
        timeout_secs: 10,
    }
}

#[tokio::test]
async fn a_real_prometheus_answers_vectors_scalars_and_errors() {
    let target = serve_exposition().await;
    let server = PrometheusServer::start(&target, None)
        .await
        .expect("prometheus starts")
        .unwrap_or_else(|| {
            panic!(
                "prometheus is not on PATH: run scripts/install-test-tools (this test never skips)"
            )
        });
    server
        .wait_for_series("demo_requests_total", Duration::from_secs(30))
        .await
        .expect("the first scrape lands");
    let prometheus = HttpPrometheus::new(None);

    let mut vector = prometheus
        .query(&query(&server.address, "demo_requests_total"))
        .await
        .expect("an instant vector");
    vector.sort_by(|a, b| a.labels.cmp(&b.labels));
    let labels = |code: &str| -> Vec<(String, String)> {
        [
            ("__name__", "demo_requests_total"),
            ("code", code),
            ("instance", target.as_str()),
            ("job", "sandbox"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
    };
    assert_eq!(
        vector,
        vec![
            Sample {
                labels: labels("200"),
                value: 90.0
            },
            Sample {
                labels: labels("500"),
                value: 10.0
            },
        ]
    );

    let scalar = prometheus
        .query(&query(&server.address, "scalar(demo_ratio)"))
        .await
        .expect("a scalar");
    assert_eq!(
        scalar,
        vec![Sample {
            labels: vec![],
            value: 0.25
        }]
    );

    let refused = prometheus
        .query(&query(&server.address, "sum(demo_ratio"))
        .await
        .expect_err("a parse error");
    assert_eq!(refused.code, "bad_data", "{refused}");
    assert!(!refused.message.is_empty());
}
