//! What the ECS deployment engines read from the rest of the account while they move a service:
//! task definitions, IAM roles, target groups and alarms (`EcsEnv`), borrowed from the world.

use crate::cloudwatch::alarms::AlarmState;
use crate::ecs::task_definitions::TaskDefinitions;
use crate::elb::ElbState;
use crate::network::IamState;

/// What the engine reads from the rest of the account.
#[derive(Debug, Clone, Copy)]
pub(crate) struct EcsEnv<'a> {
    /// Region.
    pub region: &'a str,
    /// Account id.
    pub account: &'a str,
    /// Task definitions (what a launch runs).
    pub task_definitions: &'a TaskDefinitions,
    /// IAM roles (task and execution roles must exist).
    pub iam: &'a IamState,
    /// Target groups (deregistration delay).
    pub elb: &'a ElbState,
    /// Alarms (deployment alarms).
    pub alarms: &'a AlarmState,
}
