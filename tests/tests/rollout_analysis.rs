//! Metric analysis of BlueGreenRollouts, for real: kube-rs controllers on the local API server,
//! the simulated AWS account's traffic answering GetMetricData, and a real Prometheus server
//! (Debian's `prometheus`) scraping the simulated load balancer. A release that is up but worse
//! (3 % 5xx, image tag `errors`) is rolled back by its metric gate; a healthy one passes after
//! `count` measurements; a bad condition is refused with its field named and no AWS call;
//! dry-run metrics never gate. Asserts states, counts and messages — never times.

use crds::rollout::{AnalysisPhase, MetricVerdict};
use e2e_tests::rollouts::*;
use e2e_tests::sandbox::Sandbox;
use ecs_operator::local::prometheus::PrometheusServer;

/// The CloudWatch dimension value of a target group: its ARN's resource part.
fn dimension(arn: &str) -> String {
    arn.rsplit(':').next().unwrap_or(arn).to_owned()
}

/// A CloudWatch error-rate metric of `name`-green, percent of requests answered 5xx over the
/// last two minutes (one datapoint). Unless `extra` says otherwise, the first measurement waits
/// three minutes into the phase: ALB counts are whole requests per minute, and a few seconds of
/// test traffic at 3 % 5xx can hold no 5xx at all — too small a sample to judge, in the
/// simulated account as on AWS.
fn cloudwatch_metric(sb: &Sandbox, name: &str, extra: &str) -> String {
    let green = dimension(&sb.sim.target_group_arn(&format!("{name}-green")).unwrap());
    let delay = if extra.contains("initialDelaySeconds") {
        ""
    } else {
        "        initialDelaySeconds: 180\n"
    };
    format!(
        r#"      - name: error-rate
        intervalSeconds: 60
        count: 3
        successCondition: result < 1.0
{delay}{extra}        provider:
          cloudWatch:
            lookbackSeconds: 120
            metricDataQueries:
              - id: errors
                returnData: false
                metricStat:
                  metric:
                    namespace: AWS/ApplicationELB
                    metricName: HTTPCode_Target_5XX_Count
                    dimensions: [{{name: TargetGroup, value: "{green}"}}]
                  period: 120
                  stat: Sum
              - id: requests
                returnData: false
                metricStat:
                  metric:
                    namespace: AWS/ApplicationELB
                    metricName: RequestCount
                    dimensions: [{{name: TargetGroup, value: "{green}"}}]
                  period: 120
                  stat: Sum
              - id: rate
                expression: 100 * errors / requests
"#
    )
}

fn analysis(metrics: &str) -> String {
    format!("  analysis:\n    metrics:\n{metrics}")
}

async fn start_native(sb: &Sandbox, name: &str, strategy: &str, extra: &str) {
    start_with(
        sb,
        name,
        &ecs_native_rollout(&sb.sim, name, strategy, extra),
    )
    .await;
}

/// Applies `rollout`, then the service at revision 1, and waits until it is Healthy there.
async fn start_with(sb: &Sandbox, name: &str, rollout: &str) {
    sb.apply(rollout).await.unwrap();
    sb.apply(&service_manifest(&sb.sim, name, &format!("repo/{name}:1")))
        .await
        .unwrap();
    wait_healthy_on(sb, name, ":1").await;
}

async fn release(sb: &Sandbox, name: &str, image: &str) {
    sb.apply(&service_manifest(&sb.sim, name, image))
        .await
        .unwrap();
}

#[tokio::test]
async fn a_cloudwatch_metric_rolls_back_a_release_that_is_up_but_worse() {
    let sb = Sandbox::start().await;
    start_native(
        &sb,
        "event",
        "BLUE_GREEN",
        &analysis(&cloudwatch_metric(&sb, "event", "")),
    )
    .await;
    release(&sb, "event", "repo/event:2-errors").await;
    let degraded = wait_degraded(&sb, "event").await;
    let status = degraded.status.unwrap();
    let reason = status.failure_reason.clone().unwrap();
    assert!(
        reason.contains("metric error-rate failed on test traffic: result "),
        "{reason}"
    );
    assert!(
        reason.contains("successCondition result < 1.0 is false"),
        "{reason}"
    );
    assert!(status.message.unwrap().contains("metric error-rate failed"));
    let metric = &status.analysis[0];
    assert_eq!(metric.verdict, MetricVerdict::Failed);
    let value: f64 = metric.measurements[0]
        .value
        .as_deref()
        .unwrap()
        .parse()
        .unwrap();
    // The failing value is above the condition's bound; how far depends on how many whole
    // requests the two-minute datapoint holds (seen: 1 in 4 once, under load).
    assert!(value >= 1.0, "above the 1 % bound, got {value}");
    assert!(live_revision(&sb, "event").ends_with(":1"));
    assert_eq!(sb.sim.call_count("ecs:StopServiceDeployment"), 1);
    assert_eq!(
        sb.sim.call_count("ecs:ContinueServiceDeployment"),
        0,
        "the gate never opened"
    );
    sb.shutdown().await;
}

#[tokio::test]
async fn a_healthy_release_passes_after_count_measurements() {
    let sb = Sandbox::start().await;
    start_native(
        &sb,
        "event",
        "BLUE_GREEN",
        &analysis(&cloudwatch_metric(&sb, "event", "")),
    )
    .await;
    let before = sb.sim.call_count("cloudwatch:GetMetricData");
    release(&sb, "event", "repo/event:2").await;
    let done = wait_healthy_on(&sb, "event", ":2").await;
    let status = done.status.unwrap();
    let metric = &status.analysis[0];
    assert_eq!(metric.verdict, MetricVerdict::Successful);
    assert_eq!((metric.measured, metric.successful), (3, 3));
    assert_eq!(
        sb.sim.call_count("cloudwatch:GetMetricData") - before,
        3,
        "one query per measurement, none on a resync"
    );
    assert_eq!(sb.sim.call_count("ecs:ContinueServiceDeployment"), 1);
    sb.shutdown().await;
}

#[tokio::test]
async fn a_canary_step_metric_rolls_back_while_traffic_shifts() {
    let sb = Sandbox::start().await;
    let metric = cloudwatch_metric(
        &sb,
        "event",
        "        phases: [Steps]\n        initialDelaySeconds: 20\n",
    );
    // Ten simulated minutes at 20 %: the metric fails inside the shift however slowly the
    // operator gets to measure it on a loaded machine.
    let rollout = ecs_native_rollout(&sb.sim, "event", "CANARY", &analysis(&metric))
        .replace("canaryBakeTimeInMinutes: 1", "canaryBakeTimeInMinutes: 10");
    start_with(&sb, "event", &rollout).await;
    release(&sb, "event", "repo/event:2-errors").await;
    let degraded = wait_degraded(&sb, "event").await;
    let reason = degraded.status.unwrap().failure_reason.unwrap();
    assert!(
        reason.contains("metric error-rate failed while production traffic shifted"),
        "{reason}"
    );
    assert!(live_revision(&sb, "event").ends_with(":1"));
    sb.shutdown().await;
}

#[tokio::test]
async fn a_dry_run_metric_reports_and_never_gates() {
    let sb = Sandbox::start().await;
    let metric = cloudwatch_metric(
        &sb,
        "event",
        "        dryRun: true\n        phases: [TestTraffic, Bake]\n        initialDelaySeconds: 0\n",
    );
    start_native(&sb, "event", "BLUE_GREEN", &analysis(&metric)).await;
    release(&sb, "event", "repo/event:2-errors").await;
    let done = wait_healthy_on(&sb, "event", ":2").await;
    let status = done.status.unwrap();
    let metric = &status.analysis[0];
    assert!(metric.dry_run);
    assert_eq!(metric.verdict, MetricVerdict::Failed, "{metric:?}");
    assert!(
        metric
            .measurements
            .iter()
            .any(|m| m.phase == AnalysisPhase::TestTraffic),
        "measured at the gate too: {metric:?}"
    );
    assert_eq!(sb.sim.call_count("ecs:StopServiceDeployment"), 0);
    sb.shutdown().await;
}

#[tokio::test]
async fn a_bad_condition_is_refused_naming_the_field_before_any_aws_call() {
    let sb = Sandbox::start().await;
    let metric = cloudwatch_metric(&sb, "event", "").replace(
        "successCondition: result < 1.0",
        "successCondition: latency < 1.0",
    );
    sb.apply(&ecs_native_rollout(
        &sb.sim,
        "event",
        "BLUE_GREEN",
        &analysis(&metric),
    ))
    .await
    .unwrap();
    let stalled = wait_rollout(&sb, "event", "Stalled InvalidAnalysis", |r| {
        r.status.as_ref().is_some_and(|s| {
            s.conditions.iter().any(|c| {
                c.type_ == "Stalled" && c.status == "True" && c.reason == "InvalidAnalysis"
            })
        })
    })
    .await;
    let message = stalled.status.unwrap().message.unwrap_or_default();
    let stalled_message = stalled_message_of(&sb, "event").await;
    assert!(
        stalled_message.contains("spec.analysis.metrics[0] (error-rate).successCondition"),
        "{stalled_message} / {message}"
    );
    assert!(stalled_message.contains("latency"), "{stalled_message}");
    assert_eq!(sb.sim.call_count("cloudwatch:GetMetricData"), 0);
    assert_eq!(
        sb.sim.write_calls_of(""),
        0,
        "no AWS write for a refused rollout"
    );
    sb.shutdown().await;
}

async fn stalled_message_of(sb: &Sandbox, name: &str) -> String {
    let r = rollouts(sb).get(name).await.unwrap();
    r.status
        .unwrap()
        .conditions
        .into_iter()
        .find(|c| c.type_ == "Stalled")
        .map(|c| c.message)
        .unwrap_or_default()
}

#[tokio::test]
async fn a_prometheus_metric_on_a_real_server_rolls_back_a_worse_release() {
    let sb = Sandbox::start().await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let target = listener.local_addr().unwrap().to_string();
    let _endpoint = aws_sim::metrics_endpoint::serve(sb.sim.clone(), listener);
    let prometheus = PrometheusServer::start(&target, None)
        .await
        .expect("prometheus starts")
        .expect("the prometheus binary is installed: run scripts/install-test-tools");
    prometheus
        .wait_for_series(
            "sim_alb_requests_total{target_group=\"event-blue\"}",
            std::time::Duration::from_secs(30),
        )
        .await
        .unwrap();
    let metric = format!(
        r#"      - name: error-rate
        initialDelaySeconds: 60
        intervalSeconds: 60
        count: 3
        inconclusiveLimit: 2
        successCondition: result < 1.0
        provider:
          prometheus:
            address: "{}"
            query: >-
              100 * sum(rate(sim_alb_target_responses_total{{target_group="event-green",code="5xx"}}[10s]))
              / sum(rate(sim_alb_requests_total{{target_group="event-green"}}[10s]))
"#,
        prometheus.address
    );
    start_native(&sb, "event", "BLUE_GREEN", &analysis(&metric)).await;
    release(&sb, "event", "repo/event:2-errors").await;
    let degraded = wait_degraded(&sb, "event").await;
    let status = degraded.status.unwrap();
    let reason = status.failure_reason.unwrap();
    assert!(
        reason.contains("metric error-rate failed on test traffic"),
        "{reason}"
    );
    let value: f64 = status.analysis[0].measurements[0]
        .value
        .as_deref()
        .unwrap()
        .parse()
        .unwrap();
    assert!((2.0..4.0).contains(&value), "about 3 % 5xx, got {value}");
    assert!(live_revision(&sb, "event").ends_with(":1"));
    assert_eq!(sb.sim.call_count("ecs:StopServiceDeployment"), 1);
    sb.shutdown().await;
}

#[tokio::test]
async fn codedeploy_holds_at_the_ready_wait_until_the_metric_passed() {
    let sb = Sandbox::start().await;
    let extra = analysis(&cloudwatch_metric(&sb, "ticket", ""));
    sb.apply(&code_deploy_rollout(&sb.sim, "ticket", &extra))
        .await
        .unwrap();
    sb.apply(&service_manifest(&sb.sim, "ticket", "repo/ticket:1"))
        .await
        .unwrap();
    wait_healthy_on(&sb, "ticket", ":1").await;
    release(&sb, "ticket", "repo/ticket:2-errors").await;
    let degraded = wait_degraded(&sb, "ticket").await;
    let reason = degraded.status.unwrap().failure_reason.unwrap();
    assert!(reason.contains("metric error-rate failed"), "{reason}");
    assert_eq!(sb.sim.call_count("codedeploy:StopDeployment"), 1);
    assert_eq!(sb.sim.call_count("codedeploy:ContinueDeployment"), 0);
    sb.shutdown().await;
}
