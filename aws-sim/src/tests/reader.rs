//! The batched DescribeServices reader of the AWS layer against the simulator: how many calls
//! concurrent and sequential lookups cost, errors reaching every waiter, and reads that never go
//! back in time.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use aws::AwsResult;
use aws::clock::SimClock;
use aws::ecs::reader::ServiceReader;
use aws::ecs::{
    CreateServiceInput, EcsApi, Service, ServiceDeployment, ServiceLookup, ServiceRevision, Tag,
    TaskDefinition, TaskDefinitionInput, UpdateServiceInput,
};
use tokio::sync::Semaphore;

use crate::{SimAws, SimSeed};

/// The asker of most lookups here.
const ASKER: &str = "ecsservice";

/// A simulated account (`123456789012`, `eu-west-1`) with `clusters`, on a stopped clock.
fn simulated(clusters: &[&str]) -> (Arc<SimClock>, SimAws) {
    let clock = Arc::new(SimClock::new(jiff::Timestamp::UNIX_EPOCH, 0.0));
    let sim = SimAws::new(
        clock.clone(),
        SimSeed::minimal("123456789012", "eu-west-1", clusters),
    );
    (clock, sim)
}

/// A reader of `sim` that merges lookups arriving within `window_ms`.
fn reader_of(sim: &SimAws, window_ms: u64, clock: &Arc<SimClock>) -> Arc<ServiceReader> {
    ServiceReader::new(
        Arc::new(sim.clone()),
        Duration::from_millis(window_ms),
        clock.clone(),
    )
}

#[tokio::test]
async fn concurrent_lookups_share_calls_of_ten() {
    let (clock, sim) = simulated(&["a", "b"]);
    let reader = reader_of(&sim, 20, &clock);
    let mut lookups = Vec::new();
    for i in 0..25 {
        for cluster in ["a", "b"] {
            let reader = reader.clone();
            lookups.push(tokio::spawn(async move {
                reader
                    .describe(cluster, &format!("svc-{i}"), Arc::default(), ASKER)
                    .await
            }));
        }
    }
    // The same name asked twice at once is looked up once.
    let dup = {
        let reader = reader.clone();
        tokio::spawn(async move { reader.describe("a", "svc-0", Arc::default(), ASKER).await })
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
    let (clock, sim) = simulated(&["a"]);
    sim.inject_fault(crate::SimFault {
        operation: "ecs:DescribeServices".into(),
        count: 1,
        error: aws::AwsError::new(aws::ErrorKind::Transient, "ServerException", "boom"),
    });
    let reader = reader_of(&sim, 20, &clock);
    let (a, b) = tokio::join!(
        reader.describe("a", "x", Arc::default(), ASKER),
        reader.describe("a", "y", Arc::default(), ASKER)
    );
    assert_eq!(a.unwrap_err().code, "ServerException");
    assert_eq!(b.unwrap_err().code, "ServerException");
    assert_eq!(sim.call_count("ecs:DescribeServices"), 1);
}

#[tokio::test]
async fn lookups_one_at_a_time_cost_one_call_per_ten_services() {
    let (clock, sim) = simulated(&["a"]);
    let reader = reader_of(&sim, 1, &clock);
    let names: Arc<Vec<String>> = Arc::new((0..35).map(|i| format!("svc-{i}")).collect());
    for name in names.iter() {
        reader
            .describe("a", name, names.clone(), ASKER)
            .await
            .unwrap();
    }
    assert_eq!(sim.call_count("ecs:DescribeServices"), 4);
    // The last call had room and read svc-0..4 ahead: one use each, then AWS again.
    reader
        .describe("a", "svc-1", names.clone(), ASKER)
        .await
        .unwrap();
    assert_eq!(sim.call_count("ecs:DescribeServices"), 4);
    reader
        .describe("a", "svc-1", names.clone(), ASKER)
        .await
        .unwrap();
    assert_eq!(sim.call_count("ecs:DescribeServices"), 5);
    // A read-ahead answer expires: after the time-to-live a lookup goes to AWS.
    clock.advance(Duration::from_secs(60));
    reader
        .describe("a", "svc-3", names.clone(), ASKER)
        .await
        .unwrap();
    assert_eq!(sim.call_count("ecs:DescribeServices"), 6);
}

/// The simulator behind a gate: the first `held` DescribeServices calls read AWS at once but
/// answer only once the test lets them (a reply slow on the wire).
struct SlowReplies {
    sim: SimAws,
    held: std::sync::atomic::AtomicUsize,
    release: Semaphore,
}

impl SlowReplies {
    fn new(sim: SimAws, held: usize) -> Arc<Self> {
        Arc::new(Self {
            sim,
            held: held.into(),
            release: Semaphore::new(0),
        })
    }
}

#[async_trait]
impl EcsApi for SlowReplies {
    async fn describe_services(
        &self,
        cluster: &str,
        names: &[String],
    ) -> AwsResult<Vec<ServiceLookup>> {
        let answer = self.sim.describe_services(cluster, names).await;
        let hold = self
            .held
            .fetch_update(
                std::sync::atomic::Ordering::SeqCst,
                std::sync::atomic::Ordering::SeqCst,
                |n| n.checked_sub(1),
            )
            .is_ok();
        if hold {
            self.release.acquire().await.expect("gate").forget();
        }
        answer
    }
    async fn create_service(&self, input: CreateServiceInput) -> AwsResult<Service> {
        self.sim.create_service(input).await
    }
    async fn update_service(&self, input: UpdateServiceInput) -> AwsResult<Service> {
        self.sim.update_service(input).await
    }
    async fn delete_service(
        &self,
        cluster: &str,
        service: &str,
        force: bool,
    ) -> AwsResult<Service> {
        self.sim.delete_service(cluster, service, force).await
    }
    async fn register_task_definition(
        &self,
        input: TaskDefinitionInput,
    ) -> AwsResult<TaskDefinition> {
        self.sim.register_task_definition(input).await
    }
    async fn describe_task_definition(&self, arn: &str) -> AwsResult<TaskDefinition> {
        self.sim.describe_task_definition(arn).await
    }
    async fn list_task_definitions(&self, family: &str) -> AwsResult<Vec<String>> {
        self.sim.list_task_definitions(family).await
    }
    async fn deregister_task_definition(&self, arn: &str) -> AwsResult<()> {
        self.sim.deregister_task_definition(arn).await
    }
    async fn tag_resource(&self, arn: &str, tags: Vec<Tag>) -> AwsResult<()> {
        self.sim.tag_resource(arn, tags).await
    }
    async fn list_service_deployments(
        &self,
        cluster: &str,
        service: &str,
    ) -> AwsResult<Vec<String>> {
        self.sim.list_service_deployments(cluster, service).await
    }
    async fn describe_service_deployments(
        &self,
        arns: &[String],
    ) -> AwsResult<Vec<ServiceDeployment>> {
        self.sim.describe_service_deployments(arns).await
    }
    async fn describe_service_revisions(&self, arns: &[String]) -> AwsResult<Vec<ServiceRevision>> {
        self.sim.describe_service_revisions(arns).await
    }
    async fn stop_service_deployment(&self, arn: &str, stop_type: &str) -> AwsResult<()> {
        self.sim.stop_service_deployment(arn, stop_type).await
    }
    async fn continue_service_deployment(
        &self,
        arn: &str,
        hook_id: &str,
        action: &str,
    ) -> AwsResult<()> {
        self.sim
            .continue_service_deployment(arn, hook_id, action)
            .await
    }
}

/// Two services `a` and `b` in cluster `c`, and a reader whose first DescribeServices reply is
/// held until the test releases it.
fn two_services_first_reply_slow() -> (SimAws, Arc<SlowReplies>, Arc<ServiceReader>) {
    let (clock, sim) = simulated(&["c"]);
    for name in ["a", "b"] {
        sim.create_foreign_service("c", name, Vec::new())
            .expect("service");
    }
    let slow = SlowReplies::new(sim.clone(), 1);
    let reader = ServiceReader::new(slow.clone(), Duration::from_millis(1), clock);
    (sim, slow, reader)
}

fn desired_count(lookup: ServiceLookup) -> i32 {
    match lookup {
        ServiceLookup::Found(s) => s.desired_count,
        ServiceLookup::Missing => panic!("the service is missing"),
    }
}

async fn set_desired_count(sim: &SimAws, name: &str, count: i32) {
    sim.update_service(UpdateServiceInput {
        cluster: "c".into(),
        service: name.into(),
        desired_count: Some(count),
        ..UpdateServiceInput::default()
    })
    .await
    .expect("update");
}

#[tokio::test]
async fn a_read_ahead_in_flight_while_the_operator_changes_the_service_is_never_used() {
    let (sim, slow, reader) = two_services_first_reply_slow();
    let names: Arc<Vec<String>> = Arc::new(vec!["a".into(), "b".into()]);
    // The lookup of a reads b ahead; its reply is slow.
    let first = {
        let (reader, names) = (reader.clone(), names.clone());
        tokio::spawn(async move { reader.describe("c", "a", names, ASKER).await })
    };
    while sim.call_count("ecs:DescribeServices") == 0 {
        tokio::task::yield_now().await;
    }
    // Meanwhile the operator changes b, and forgets what it read of it.
    set_desired_count(&sim, "b", 7).await;
    reader.forget("c", "b");
    slow.release.add_permits(1);
    first.await.expect("task").expect("lookup a");
    // The answer read ahead shows b before the change: b is read again.
    let b = reader
        .describe("c", "b", names.clone(), ASKER)
        .await
        .expect("lookup b");
    assert_eq!(desired_count(b), 7);
    assert_eq!(sim.call_count("ecs:DescribeServices"), 2);
}

#[tokio::test]
async fn a_read_ahead_older_than_an_answer_already_given_is_never_used() {
    let (sim, slow, reader) = two_services_first_reply_slow();
    let names: Arc<Vec<String>> = Arc::new(vec!["a".into(), "b".into()]);
    let first = {
        let (reader, names) = (reader.clone(), names.clone());
        tokio::spawn(async move { reader.describe("c", "a", names, ASKER).await })
    };
    while sim.call_count("ecs:DescribeServices") == 0 {
        tokio::task::yield_now().await;
    }
    // b changes in AWS (not by the operator), and b's own lookup sees it first.
    set_desired_count(&sim, "b", 7).await;
    let seen = reader
        .describe("c", "b", Arc::default(), ASKER)
        .await
        .expect("b");
    assert_eq!(desired_count(seen), 7);
    slow.release.add_permits(1);
    first.await.expect("task").expect("lookup a");
    // The slow reply read b before that: its next lookup must not go back in time.
    let b = reader
        .describe("c", "b", names.clone(), ASKER)
        .await
        .expect("lookup b");
    assert_eq!(desired_count(b), 7);
    assert_eq!(sim.call_count("ecs:DescribeServices"), 3);
}

#[tokio::test]
async fn an_answer_reaches_each_asker_once() {
    let (clock, sim) = simulated(&["c"]);
    sim.create_foreign_service("c", "a", Vec::new())
        .expect("service");
    let reader = reader_of(&sim, 1, &clock);
    reader
        .describe("c", "a", Arc::default(), ASKER)
        .await
        .unwrap();
    // The service's scaling policy and rollout read what its EcsService's lookup fetched.
    reader
        .describe("c", "a", Arc::default(), "scalingpolicy")
        .await
        .unwrap();
    reader
        .describe("c", "a", Arc::default(), "bluegreenrollout")
        .await
        .unwrap();
    assert_eq!(sim.call_count("ecs:DescribeServices"), 1);
    // An asker that looks again gets a newer answer.
    reader
        .describe("c", "a", Arc::default(), ASKER)
        .await
        .unwrap();
    assert_eq!(sim.call_count("ecs:DescribeServices"), 2);
    // The scaling policy has not had that one yet; after the time-to-live nobody gets it.
    reader
        .describe("c", "a", Arc::default(), "scalingpolicy")
        .await
        .unwrap();
    assert_eq!(sim.call_count("ecs:DescribeServices"), 2);
    clock.advance(Duration::from_secs(60));
    reader
        .describe("c", "a", Arc::default(), "bluegreenrollout")
        .await
        .unwrap();
    assert_eq!(sim.call_count("ecs:DescribeServices"), 3);
}
