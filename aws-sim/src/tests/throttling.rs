//! Token buckets on the simulated clock, call counting, fault injection and latency.

use super::*;
use crate::SimFault;
use crate::ecs::api::DESCRIBE_SERVICES;
use aws::ecs::EcsApi;
use aws::error::{AwsError, ErrorKind};

fn describe(sim: &SimAws) -> AwsResult<Vec<aws::ecs::ServiceLookup>> {
    sim.call_now(&DESCRIBE_SERVICES, |w, now| {
        w.ecs_describe_services(now, CLUSTER, &["auth".to_owned()])
    })
}

#[test]
fn service_read_bucket_throttles_at_burst_plus_one_and_refills_on_sim_time() {
    let sim = sim();
    for i in 0..100 {
        describe(&sim).unwrap_or_else(|e| panic!("call {i}: {e}"));
    }
    let err = describe(&sim).unwrap_err();
    assert_eq!(
        (err.code.as_str(), err.kind),
        ("ThrottlingException", ErrorKind::Throttled)
    );
    assert_eq!(err.message, "Rate exceeded");
    advance(&sim, 1);
    for i in 0..20 {
        describe(&sim).unwrap_or_else(|e| panic!("refilled call {i}: {e}"));
    }
    assert!(describe(&sim).is_err(), "20 per second, no more");
    assert_eq!(
        sim.call_count("ecs:DescribeServices"),
        122,
        "throttled calls count too"
    );
}

#[test]
fn modify_bucket_is_separate_and_slower() {
    let sim = sim();
    create(&sim, "auth", "registry/auth:1", 1);
    let scale = |n| {
        update(
            &sim,
            UpdateServiceInput {
                cluster: CLUSTER.to_owned(),
                service: "auth".to_owned(),
                desired_count: Some(n),
                ..UpdateServiceInput::default()
            },
        )
    };
    // CreateService took one token of 50.
    for n in 0..49 {
        scale(n % 3).unwrap();
    }
    assert_eq!(scale(1).unwrap_err().kind, ErrorKind::Throttled);
    assert!(describe(&sim).is_ok(), "reads have their own bucket");
    advance(&sim, 1);
    for _ in 0..5 {
        scale(1).unwrap();
    }
    assert_eq!(scale(1).unwrap_err().kind, ErrorKind::Throttled);
    assert_eq!(
        sim.write_calls(),
        2 + 49 + 1 + 5 + 1,
        "register, create, updates (throttled included)"
    );
}

#[test]
fn throttling_can_be_switched_off() {
    let sim = sim();
    sim.set_throttling(false);
    for _ in 0..500 {
        describe(&sim).unwrap();
    }
    sim.set_throttling(true);
    assert!(
        describe(&sim).is_ok(),
        "switching on starts with full buckets"
    );
}

#[test]
fn faults_fail_the_next_calls_of_one_operation() {
    let sim = sim();
    let err = AwsError::from_code("ServerException", "Service unavailable.", Some(500));
    sim.inject_fault(SimFault::new("ecs:DescribeServices", 2, err.clone()));
    assert_eq!(describe(&sim).unwrap_err(), err);
    assert_eq!(describe(&sim).unwrap_err(), err);
    assert!(describe(&sim).is_ok());
    assert_eq!(sim.calls()["ecs:DescribeServices"], 3);
    sim.reset_calls();
    assert!(sim.calls().is_empty());
}

#[tokio::test]
async fn latency_is_added_to_every_call() {
    // Latency is simulated time: on a clock running 10× the wall, 200 ms take 20 ms of wall.
    let clock = Arc::new(SimClock::new(jiff::Timestamp::UNIX_EPOCH, 10.0));
    let sim = SimAws::new(clock, SimSeed::minimal("123456789012", "eu-west-1", &["c"]));
    sim.set_latency(Duration::from_millis(200));
    let started = std::time::Instant::now();
    let err = sim
        .describe_services("nope", &["a".to_owned()])
        .await
        .unwrap_err();
    assert_eq!(err.code, "ClusterNotFoundException");
    assert!(started.elapsed() >= Duration::from_millis(20));
    assert_eq!(sim.call_count("DescribeServices"), 1);
}
