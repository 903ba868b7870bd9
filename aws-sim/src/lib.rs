//! The simulated AWS account behind `ecs-operator local` and the controller tests: stateful,
//! deterministic, with time taken from a `SimClock` (faster than the wall clock, or moved by
//! hand). Implements the AWS traits (`EcsApi`, `CodeDeployApi`, `ElbApi`, `CloudWatchApi`,
//! `AutoScalingApi`, `LookupApi`, and the HTTP `TestTrafficProbe`), enforces the token
//! buckets, counts every call, injects faults and latency on request. Simulates the client
//! traffic through its load balancers, which GetMetricData and a Prometheus exposition report.
//! Never talks to AWS; its only socket is the `/metrics` endpoint a caller may start
//! (`metrics_endpoint`).
//!
//! Layout, from the bottom up:
//! - data: `time` (simulated seconds), `arn`, `seed` (what exists at start), and one state
//!   module per AWS service: `network` (EC2, IAM), `secrets` (Secrets Manager and SSM
//!   parameters, names only), `elb`, `cloudwatch::alarms`, `cloudwatch::metrics` (load and
//!   utilisation samples), `cloudwatch::alb_metrics` (recorded traffic), `ecs::model` (with
//!   `ecs::task_definitions`, `ecs::errors`, `ecs::tags`, and the blue/green run data in
//!   `ecs::blue_green::model`), `autoscaling`, `codedeploy` (a deployment's progress is its
//!   service's blue/green run).
//! - the ECS engines, which move that data through time: `ecs::tasks` (task timing),
//!   `ecs::engine` (events and strategy dispatch; what it reads from the rest of the account is
//!   `ecs::env`), `ecs::deployments` (deployment records), `ecs::rolling` (ROLLING),
//!   `ecs::blue_green` (runs through the lifecycle stages, hooks, traffic, rollback) and
//!   `ecs::blue_green::start` (how runs start, the listener weights and target groups they hold).
//! - the traffic model: `elb::traffic` (what each target group receives and answers at one
//!   moment) and `cloudwatch::recording` (integrates it over the stretches between events).
//! - `world`: all the state, advanced lazily to the clock's now, metrics recorded on the way.
//! - the operations on the world (`impl World`): ECS in `ecs::services` and
//!   `ecs::service_deployments` (checked by `ecs::validate`); CodeDeploy in `codedeploy::groups`
//!   and `codedeploy::deployments` (AppSpecs read by `codedeploy::appspec`); Application Auto
//!   Scaling in `autoscaling::targets`, and what it does each minute in `autoscaling::engine` and
//!   `autoscaling::steps`.
//! - the call path: `throttle` and `gate` (counts, faults, token buckets), and `account`:
//!   `SimAws`, the handle every caller holds, with reads and changes outside the API in
//!   `account::inspect` and `account::setup`; `scope` marks the code that runs inside the
//!   simulator, so a benchmark can count its memory and CPU apart from the operator's.
//! - `organization`: `SimAccounts`, several accounts on one clock, the STS that lets the
//!   operator into them, and the factory that gives each identity its account's clients.
//! - the AWS traits on `SimAws`: `ecs::api`, `codedeploy::api`, `elb::api` (ELBv2 reads and the
//!   effective listener weights), `cloudwatch::api` (GetMetricData in `cloudwatch::metric_data`,
//!   `cloudwatch::metric_series` and `cloudwatch::math`), `autoscaling::api`, `lookup` (the
//!   reads that check what a spec names: clusters, subnets, security groups, roles, secrets,
//!   parameters), `sns` (the seeded topics and Publish), and `elb::probe` (HTTP checks
//!   through listeners).
//! - outside the AWS traits: `cloudwatch::exposition` (the traffic in the Prometheus text
//!   format) and `metrics_endpoint` (serving it).
//! - this root: the module declarations and the public API's re-exports.
//!
//! Extension: another AWS service goes in sibling modules with its own state field in `World`
//! and, when it acts on its own, its own step in `World::advance`.

mod account;
pub mod arn;
mod autoscaling;
mod cloudwatch;
mod codedeploy;
mod ecs;
mod elb;
mod gate;
mod kill;
mod lookup;
pub mod metrics_endpoint;
mod network;
mod organization;
pub mod scope;
mod secrets;
pub mod seed;
mod sns;
pub mod throttle;
mod time;
mod world;

#[cfg(test)]
mod tests;

pub use account::SimAws;
pub use account::inspect::ServiceSummary;
pub use account::inventory::{Inventory, RevisionItem, ServiceItem};
pub use autoscaling::api::ActivityRecord;
pub use autoscaling::engine::{SCALE_IN_DATAPOINTS, SCALE_OUT_DATAPOINTS};
pub use cloudwatch::alarms::{ALARM_ALARM, ALARM_INSUFFICIENT_DATA, ALARM_OK};
pub use ecs::blue_green::model::LAMBDA_HOOK_SECS;
pub use ecs::engine::DRAIN_MIN_SECS;
pub use ecs::tasks::{
    EXIT_SECS, LB_HEALTHY_SECS, LB_UNHEALTHY_SECS, PROVISIONING_MIN_SECS, RUNNING_MIN_SECS,
    STOP_SECS,
};
pub use elb::answers::{
    DEFAULT_RULE_RPS, ERRORS_IMAGE_PPM, HEALTHY_IMAGE_PPM, LATENCY_SHAPE_MS, PRODUCTION_RULE_RPS,
    SLOW_FACTOR, SMOKE_FAIL_IMAGE_PPM, TEST_RULE_RPS,
};
pub use elb::probe::{NO_TARGET_STATUS, SMOKE_FAIL_STATUS};
pub use gate::SimFault;
pub use kill::{KillMode, KillPoint};
pub use organization::SimAccounts;
pub use seed::{SeedError, SeedParameter, SeedSecret, SeedTrust, SimSeed};
pub use sns::PublishedMessage;
