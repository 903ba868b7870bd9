//! The simulated traffic as the metric analysis of a rollout reads it: GetMetricData over the
//! ALB metrics (error rates through metric math, weighted splits, latency percentiles, ECS
//! utilisation), its validation, results that do not depend on how often anyone calls, and
//! the Prometheus endpoint.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::*;
use crate::elb::answers::{DEFAULT_RULE_RPS, PRODUCTION_RULE_RPS};
use aws::cloudwatch::{
    CloudWatchApi, Dimension, GetMetricDataInput, Metric, MetricDataQuery, MetricDataResult,
    MetricStat,
};
use aws::error::AwsError;

/// The `TargetGroup` dimension of a seeded target group.
fn target_group(sim: &SimAws, name: &str) -> Dimension {
    let arn = sim.target_group_arn(name).expect("a seeded target group");
    Dimension {
        name: "TargetGroup".to_owned(),
        value: arn.rsplit(':').next().unwrap().to_owned(),
    }
}

/// A metric query that is not returned (an input of an expression).
fn metric(
    id: &str,
    namespace: &str,
    name: &str,
    stat: &str,
    dims: Vec<Dimension>,
) -> MetricDataQuery {
    MetricDataQuery {
        id: id.to_owned(),
        metric_stat: Some(MetricStat {
            metric: Metric {
                namespace: namespace.to_owned(),
                metric_name: name.to_owned(),
                dimensions: dims,
            },
            period: 60,
            stat: stat.to_owned(),
            unit: None,
        }),
        return_data: Some(false),
        ..MetricDataQuery::default()
    }
}

/// An ALB metric of a target group, returned.
fn alb(sim: &SimAws, id: &str, name: &str, stat: &str, tg: &str) -> MetricDataQuery {
    MetricDataQuery {
        return_data: None,
        ..metric(
            id,
            "AWS/ApplicationELB",
            name,
            stat,
            vec![target_group(sim, tg)],
        )
    }
}

/// An expression, returned.
fn expression(id: &str, text: &str) -> MetricDataQuery {
    MetricDataQuery {
        id: id.to_owned(),
        expression: Some(text.to_owned()),
        ..MetricDataQuery::default()
    }
}

/// GetMetricData over the last `minutes` minutes (the current, partial minute excluded).
async fn get(sim: &SimAws, minutes: i64, queries: Vec<MetricDataQuery>) -> Vec<MetricDataResult> {
    try_get(sim, minutes, queries).await.expect("GetMetricData")
}

async fn try_get(
    sim: &SimAws,
    minutes: i64,
    queries: Vec<MetricDataQuery>,
) -> Result<Vec<MetricDataResult>, AwsError> {
    let now = sim.now().as_second() / 60 * 60;
    sim.get_metric_data(GetMetricDataInput {
        queries,
        start_time: jiff::Timestamp::from_second(now - minutes * 60).unwrap(),
        end_time: jiff::Timestamp::from_second(now).unwrap(),
    })
    .await
}

/// Creates `name` behind `<name>-blue` with `image` and waits until its tasks are healthy.
fn healthy_service(sim: &SimAws, name: &str, image: &str) {
    create(sim, name, image, 2);
    for _ in 0..600 {
        if tasks(sim, name).healthy == 2 {
            return;
        }
        advance(sim, 1);
    }
    panic!("{name} never became healthy");
}

#[tokio::test]
async fn an_errors_image_answers_three_percent_5xx_at_the_usual_latency() {
    let sim = sim();
    healthy_service(&sim, "auth", "registry/auth:2.0-errors");
    advance(&sim, 120);
    let start_minute = sim.now().as_second() / 60;
    advance(&sim, 10 * 60);
    let results = get(
        &sim,
        sim.now().as_second() / 60 - start_minute,
        vec![
            MetricDataQuery {
                return_data: Some(false),
                ..alb(
                    &sim,
                    "errors",
                    "HTTPCode_Target_5XX_Count",
                    "Sum",
                    "auth-blue",
                )
            },
            MetricDataQuery {
                return_data: Some(false),
                ..alb(&sim, "requests", "RequestCount", "Sum", "auth-blue")
            },
            expression("rate", "100 * errors / requests"),
            alb(&sim, "p99", "TargetResponseTime", "p99", "auth-blue"),
            alb(&sim, "elb", "HTTPCode_ELB_5XX_Count", "Sum", "auth-blue"),
        ],
    )
    .await;
    let ids: Vec<&str> = results.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(
        ids,
        ["rate", "p99", "elb"],
        "unreturned inputs are left out"
    );
    let rate = &results[0];
    assert_eq!(rate.values.len(), 10, "{rate:?}");
    assert!(
        rate.timestamps.windows(2).all(|w| w[0] > w[1]),
        "newest first"
    );
    assert!(
        rate.values.iter().all(|v| (2.9..=3.1).contains(v)),
        "{rate:?}"
    );
    assert_eq!(rate.status_code, "Complete");
    assert_eq!(rate.label.as_deref(), Some("rate"));
    assert!(
        results[1].values.iter().all(|v| *v == 0.120),
        "{:?}",
        results[1]
    );
    assert!(
        results[2].values.iter().all(|v| *v == 0.0),
        "{:?}",
        results[2]
    );
}

#[tokio::test]
async fn a_target_group_without_healthy_tasks_answers_503_and_smokefail_500() {
    let sim = sim();
    healthy_service(&sim, "event", "registry/event:2.0-smokefail");
    advance(&sim, 120 + 5 * 60);
    let results = get(
        &sim,
        5,
        vec![
            alb(
                &sim,
                "t5xx",
                "HTTPCode_Target_5XX_Count",
                "Sum",
                "event-blue",
            ),
            alb(
                &sim,
                "t2xx",
                "HTTPCode_Target_2XX_Count",
                "Sum",
                "event-blue",
            ),
            alb(&sim, "down", "HTTPCode_ELB_5XX_Count", "Sum", "ticket-blue"),
            alb(&sim, "reqs", "RequestCount", "Sum", "ticket-blue"),
            alb(&sim, "none", "TargetResponseTime", "Average", "ticket-blue"),
        ],
    )
    .await;
    let per_minute = (2 * PRODUCTION_RULE_RPS * 60) as f64;
    assert_eq!(results[0].values, [per_minute; 5]);
    assert_eq!(results[1].values, [0.0; 5]);
    assert_eq!(results[2].values, [per_minute; 5]);
    assert_eq!(results[3].values, [per_minute; 5]);
    assert!(results[4].values.is_empty(), "no target answered");
}

#[tokio::test]
async fn weights_of_ninety_and_ten_split_the_requests_nine_to_one() {
    let mut seed = SimSeed::event_booking();
    for listener in &mut seed.load_balancers[0].listeners {
        listener.default_target_group = "event-blue".to_owned();
        let rule = &mut listener.rules[0];
        rule.target_groups[0].weight = 90;
        rule.target_groups
            .push(crate::seed::SeedWeightedTargetGroup {
                name: "auth-green".to_owned(),
                weight: 10,
            });
    }
    let sim = SimAws::new(frozen_clock(), seed);
    advance(&sim, 30 * 60);
    let results = get(
        &sim,
        20,
        vec![
            alb(&sim, "blue", "RequestCount", "Sum", "auth-blue"),
            alb(&sim, "green", "RequestCount", "Sum", "auth-green"),
            expression("ratio", "blue / green"),
        ],
    )
    .await;
    assert_eq!(results[0].values, [(2 * 18 * 60) as f64; 20]);
    assert_eq!(results[1].values, [(2 * 2 * 60) as f64; 20]);
    assert_eq!(results[2].values, [9.0; 20]);
    let default_rule = (2 * DEFAULT_RULE_RPS * 60) as f64;
    let event = get(
        &sim,
        1,
        vec![alb(&sim, "e", "RequestCount", "Sum", "event-blue")],
    )
    .await;
    assert_eq!(
        event[0].values,
        [(2 * PRODUCTION_RULE_RPS * 60) as f64 + default_rule]
    );
}

#[tokio::test]
async fn periods_dimension_sets_and_ecs_utilisation() {
    let sim = sim();
    healthy_service(&sim, "auth", "registry/auth:1.0");
    assert!(sim.set_service_load(CLUSTER, "auth", 60.0, 30.0));
    advance(&sim, 20 * 60);
    let lb_arn = sim.with_world(|w, _| w.elb.load_balancers.keys().next().unwrap().clone());
    let lb = Dimension {
        name: "LoadBalancer".to_owned(),
        value: lb_arn.split_once("loadbalancer/").unwrap().1.to_owned(),
    };
    let mut five = alb(&sim, "five", "RequestCount", "Sum", "auth-blue");
    five.metric_stat.as_mut().unwrap().period = 300;
    let mut both = alb(&sim, "both", "RequestCount", "Sum", "auth-blue");
    both.metric_stat
        .as_mut()
        .unwrap()
        .metric
        .dimensions
        .push(lb.clone());
    let ecs_dims = vec![
        Dimension {
            name: "ServiceName".to_owned(),
            value: "auth".to_owned(),
        },
        Dimension {
            name: "ClusterName".to_owned(),
            value: CLUSTER.to_owned(),
        },
    ];
    let cpu = MetricDataQuery {
        return_data: None,
        ..metric("cpu", "AWS/ECS", "CPUUtilization", "Average", ecs_dims)
    };
    let mut other = alb(&sim, "other", "RequestCount", "Sum", "auth-blue");
    other
        .metric_stat
        .as_mut()
        .unwrap()
        .metric
        .dimensions
        .push(Dimension {
            name: "AvailabilityZone".to_owned(),
            value: "eu-west-1a".to_owned(),
        });
    let results = get(&sim, 10, vec![five, both, cpu, other]).await;
    let per_minute = (2 * (PRODUCTION_RULE_RPS + DEFAULT_RULE_RPS) * 60) as f64;
    assert_eq!(results[0].values, [5.0 * per_minute; 2]);
    assert_eq!(results[1].values, [per_minute; 10]);
    assert_eq!(results[2].values.len(), 10, "{:?}", results[2]);
    assert!(
        results[2].values.iter().all(|v| (v - 60.0).abs() < 1e-9),
        "{:?}",
        results[2]
    );
    assert!(
        results[3].values.is_empty(),
        "an unknown dimension set has no data"
    );
}

#[tokio::test]
async fn requests_cloudwatch_refuses_are_refused_alike() {
    let sim = sim();
    let ok = || alb(&sim, "m", "RequestCount", "Sum", "auth-blue");
    let with_stat = |f: &dyn Fn(&mut MetricStat)| {
        let mut q = ok();
        f(q.metric_stat.as_mut().unwrap());
        q
    };
    let cases: Vec<(Vec<MetricDataQuery>, &str, &str)> = vec![
        (vec![], "ValidationError", "must not be empty"),
        (vec![ok(); 501], "ValidationError", "greater than 500"),
        (
            vec![MetricDataQuery {
                id: "Bad-id".to_owned(),
                ..ok()
            }],
            "ValidationError",
            "MetricDataQueries.member.1.Id is not matching the expected pattern",
        ),
        (
            vec![ok(), ok()],
            "ValidationError",
            "MetricDataQueries.member.2.Id is not unique",
        ),
        (
            vec![MetricDataQuery {
                expression: Some("m".to_owned()),
                ..ok()
            }],
            "ValidationError",
            "mutually exclusive",
        ),
        (
            vec![MetricDataQuery {
                metric_stat: None,
                ..ok()
            }],
            "ValidationError",
            "Exactly one of",
        ),
        (
            vec![with_stat(&|s| s.period = 90)],
            "InvalidParameterValue",
            "MetricStat.Period must be a multiple of 60",
        ),
        (
            vec![with_stat(&|s| s.stat = "Median".to_owned())],
            "ValidationError",
            "is not a valid statistic",
        ),
        (
            vec![ok(), expression("e", "FILL(m, 0)")],
            "ValidationError",
            "Error in expression e: the function FILL is not supported by the simulator",
        ),
        (
            vec![ok(), expression("e", "m / n")],
            "ValidationError",
            "Unrecognized metric id n",
        ),
        (
            vec![expression("a", "b + 1"), expression("b", "a * 2")],
            "ValidationError",
            "circular reference",
        ),
    ];
    for (queries, code, message) in cases {
        let err = try_get(&sim, 5, queries.clone()).await.expect_err(message);
        assert_eq!(
            (err.code.as_str(), err.http_status),
            (code, Some(400)),
            "{err:?}"
        );
        assert!(err.message.contains(message), "{message}: {}", err.message);
    }
    let now = sim.now();
    let err = sim
        .get_metric_data(GetMetricDataInput {
            queries: vec![ok()],
            start_time: now,
            end_time: now,
        })
        .await
        .unwrap_err();
    assert!(err.message.contains("StartTime must not equal"), "{err:?}");
}

/// The same scene (a service deployed, then a new image that makes errors), advanced in one
/// jump or second by second with calls in between.
async fn scene(step_secs: u64) -> Vec<MetricDataResult> {
    let sim = sim();
    sim.set_throttling(false);
    create(&sim, "auth", "registry/auth:1.0", 2);
    let queries = || {
        vec![
            alb(&sim, "reqs", "RequestCount", "Sum", "auth-blue"),
            alb(
                &sim,
                "t5xx",
                "HTTPCode_Target_5XX_Count",
                "Sum",
                "auth-blue",
            ),
            alb(&sim, "elb", "HTTPCode_ELB_5XX_Count", "Sum", "auth-blue"),
            alb(&sim, "p90", "TargetResponseTime", "p90", "auth-blue"),
        ]
    };
    let walk = async |secs: u64| {
        let mut left = secs;
        while left > 0 {
            let step = step_secs.min(left);
            advance(&sim, step);
            left -= step;
            if step_secs < 60 {
                let _ = try_get(&sim, 1, queries()).await;
            }
        }
    };
    walk(600).await;
    deploy_image(&sim, "auth", "registry/auth:2.0-errors-slow");
    walk(900).await;
    get(&sim, 25, queries()).await
}

#[tokio::test]
async fn results_do_not_depend_on_how_often_anyone_calls() {
    let (once, often) = (scene(1500).await, scene(1).await);
    assert_eq!(once, scene(300).await);
    assert_eq!(once, often);
    assert!(once.iter().all(|r| !r.values.is_empty()), "{once:?}");
}

/// GET of `path` on the endpoint: (status line, body).
async fn http_get(addr: std::net::SocketAddr, path: &str) -> (String, String) {
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let request = format!("GET {path} HTTP/1.1\r\nHost: sim\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).await.unwrap();
    let (head, body) = answer.split_once("\r\n\r\n").unwrap();
    (head.lines().next().unwrap().to_owned(), body.to_owned())
}

/// The value of the sample whose line starts with `series`.
fn sample(body: &str, series: &str) -> u64 {
    let line = body
        .lines()
        .find(|l| l.starts_with(series))
        .unwrap_or_else(|| panic!("no {series} in\n{body}"));
    line.rsplit(' ').next().unwrap().parse().unwrap()
}

#[tokio::test]
async fn the_metrics_endpoint_serves_counters_that_grow() {
    let sim = sim();
    healthy_service(&sim, "auth", "registry/auth:1.0");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = crate::metrics_endpoint::serve(sim.clone(), listener);
    let (status, body) = http_get(addr, "/metrics").await;
    assert_eq!(status, "HTTP/1.1 200 OK");
    for line in [
        "# TYPE sim_alb_requests_total counter",
        "# TYPE sim_alb_target_responses_total counter",
        "# TYPE sim_alb_elb_5xx_total counter",
        "# TYPE sim_alb_target_response_time_seconds histogram",
        "sim_alb_target_response_time_seconds_bucket{target_group=\"auth-blue\",le=\"+Inf\"}",
    ] {
        assert!(body.contains(line), "{line} in\n{body}");
    }
    let requests = "sim_alb_requests_total{load_balancer=\"app/event-booking-alb/";
    let ok = "sim_alb_target_responses_total{target_group=\"auth-blue\",code=\"2xx\"}";
    let before = (sample(&body, requests), sample(&body, ok));
    sim.clock().advance(Duration::from_secs(60));
    let (_, body) = http_get(addr, "/metrics").await;
    let after = (sample(&body, requests), sample(&body, ok));
    assert!(
        after.0 >= before.0 + 60 * PRODUCTION_RULE_RPS,
        "{before:?} → {after:?}"
    );
    assert!(after.1 > before.1, "{before:?} → {after:?}");
    assert_eq!(http_get(addr, "/other").await.0, "HTTP/1.1 404 Not Found");
    server.abort();
}
