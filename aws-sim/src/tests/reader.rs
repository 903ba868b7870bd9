//! The batched DescribeServices reader of the AWS layer against the simulator: how many calls
//! concurrent and sequential lookups cost, and errors reaching every waiter.

use std::sync::Arc;
use std::time::Duration;

use aws::clock::SimClock;
use aws::ecs::ServiceLookup;
use aws::ecs::reader::ServiceReader;

use crate::{SimAws, SimSeed};

#[tokio::test]
async fn concurrent_lookups_share_calls_of_ten() {
    let clock = Arc::new(SimClock::new(jiff::Timestamp::UNIX_EPOCH, 0.0));
    let sim = SimAws::new(
        clock.clone(),
        SimSeed::minimal("123456789012", "eu-west-1", &["a", "b"]),
    );
    let reader = ServiceReader::new(
        Arc::new(sim.clone()),
        Duration::from_millis(20),
        clock.clone(),
    );
    let mut lookups = Vec::new();
    for i in 0..25 {
        for cluster in ["a", "b"] {
            let reader = reader.clone();
            lookups.push(tokio::spawn(async move {
                reader
                    .describe(cluster, &format!("svc-{i}"), Arc::default())
                    .await
            }));
        }
    }
    // The same name asked twice at once is looked up once.
    let dup = {
        let reader = reader.clone();
        tokio::spawn(async move { reader.describe("a", "svc-0", Arc::default()).await })
    };
    for lookup in lookups {
        assert_eq!(lookup.await.unwrap().unwrap(), ServiceLookup::Missing);
    }
    assert_eq!(dup.await.unwrap().unwrap(), ServiceLookup::Missing);
    // 25 names per cluster: 3 calls each.
    assert_eq!(sim.call_count("ecs:DescribeServices"), 6);
}

#[tokio::test]
async fn an_error_reaches_every_waiter() {
    let clock = Arc::new(SimClock::new(jiff::Timestamp::UNIX_EPOCH, 0.0));
    let sim = SimAws::new(
        clock.clone(),
        SimSeed::minimal("123456789012", "eu-west-1", &["a"]),
    );
    sim.inject_fault(crate::SimFault {
        operation: "ecs:DescribeServices".into(),
        count: 1,
        error: aws::AwsError::new(aws::ErrorKind::Transient, "ServerException", "boom"),
    });
    let reader = ServiceReader::new(
        Arc::new(sim.clone()),
        Duration::from_millis(20),
        clock.clone(),
    );
    let (a, b) = tokio::join!(
        reader.describe("a", "x", Arc::default()),
        reader.describe("a", "y", Arc::default())
    );
    assert_eq!(a.unwrap_err().code, "ServerException");
    assert_eq!(b.unwrap_err().code, "ServerException");
    assert_eq!(sim.call_count("ecs:DescribeServices"), 1);
}

#[tokio::test]
async fn lookups_one_at_a_time_cost_one_call_per_ten_services() {
    let clock = Arc::new(SimClock::new(jiff::Timestamp::UNIX_EPOCH, 0.0));
    let sim = SimAws::new(
        clock.clone(),
        SimSeed::minimal("123456789012", "eu-west-1", &["a"]),
    );
    let reader = ServiceReader::new(
        Arc::new(sim.clone()),
        Duration::from_millis(1),
        clock.clone(),
    );
    let names: Arc<Vec<String>> = Arc::new((0..35).map(|i| format!("svc-{i}")).collect());
    for name in names.iter() {
        reader.describe("a", name, names.clone()).await.unwrap();
    }
    assert_eq!(sim.call_count("ecs:DescribeServices"), 4);
    // The last call had room and read svc-0..4 ahead: one use each, then AWS again.
    reader.describe("a", "svc-1", names.clone()).await.unwrap();
    assert_eq!(sim.call_count("ecs:DescribeServices"), 4);
    reader.describe("a", "svc-1", names.clone()).await.unwrap();
    assert_eq!(sim.call_count("ecs:DescribeServices"), 5);
    // A read-ahead answer expires: after the time-to-live a lookup goes to AWS.
    clock.advance(Duration::from_secs(60));
    reader.describe("a", "svc-3", names.clone()).await.unwrap();
    assert_eq!(sim.call_count("ecs:DescribeServices"), 6);
}
