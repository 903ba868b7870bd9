//! Task definitions of the simulated account: families with revisions counting from 1 (never
//! reused), ACTIVE/INACTIVE, tags, and the validation RegisterTaskDefinition does (Fargate
//! network mode, cpu/memory combinations, execution role needs).

use std::collections::BTreeMap;

use crate::arn;
use crate::ecs::errors::client_exception;
use crate::ecs::tags::validate_tags;
use crate::time::{Secs, to_timestamp};
use aws::ecs::{Tag, TaskDefinition, TaskDefinitionInput};
use aws::error::AwsResult;

/// Task definition status ACTIVE.
pub const TD_ACTIVE: &str = "ACTIVE";
/// Task definition status INACTIVE (deregistered).
pub const TD_INACTIVE: &str = "INACTIVE";
/// Largest task definition AWS accepts, in bytes.
const MAX_TASK_DEFINITION_BYTES: usize = 64 * 1024;

/// One registered revision.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct TaskDefRecord {
    /// ARN with revision.
    pub arn: String,
    /// Revision number.
    pub revision: i32,
    /// ACTIVE or INACTIVE.
    pub status: &'static str,
    /// Content as registered (tags kept apart: they can change).
    pub definition: TaskDefinitionInput,
    /// Tags.
    pub tags: Vec<Tag>,
    /// Registered.
    pub registered_at: Secs,
}

impl TaskDefRecord {
    /// The API view.
    pub fn to_api(&self) -> TaskDefinition {
        TaskDefinition {
            task_definition_arn: self.arn.clone(),
            family: self.definition.family.clone(),
            revision: self.revision,
            status: self.status.into(),
            definition: self.definition.clone(),
            tags: self.tags.clone(),
            registered_at: Some(to_timestamp(self.registered_at)),
        }
    }
}

/// Every family and its revisions (revision N at index N − 1).
#[derive(Debug, Clone, Default)]
pub(crate) struct TaskDefinitions {
    families: BTreeMap<String, Vec<TaskDefRecord>>,
}

impl TaskDefinitions {
    /// Every family with its revisions, oldest first.
    pub fn families(&self) -> impl Iterator<Item = (&String, &Vec<TaskDefRecord>)> {
        self.families.iter()
    }

    /// RegisterTaskDefinition.
    pub fn register(
        &mut self,
        region: &str,
        account: &str,
        mut input: TaskDefinitionInput,
        now: Secs,
    ) -> AwsResult<TaskDefinition> {
        validate(&input)?;
        fill_defaults(&mut input);
        let tags = std::mem::take(&mut input.tags);
        let revisions = self.families.entry(input.family.clone()).or_default();
        let revision = i32::try_from(revisions.len() + 1).unwrap_or(i32::MAX);
        let record = TaskDefRecord {
            arn: arn::task_definition_arn(region, account, &input.family, revision),
            revision,
            status: TD_ACTIVE,
            definition: input,
            tags,
            registered_at: now,
        };
        let api = record.to_api();
        revisions.push(record);
        Ok(api)
    }

    /// A revision by ARN or `family:revision`, or the latest ACTIVE one by `family`.
    pub fn resolve(&self, reference: &str) -> Option<&TaskDefRecord> {
        let reference = reference
            .split_once(":task-definition/")
            .map_or(reference, |(_, r)| r);
        match reference.rsplit_once(':') {
            Some((family, revision)) => {
                let revision: usize = revision.parse().ok()?;
                self.families.get(family)?.get(revision.checked_sub(1)?)
            }
            None => self
                .families
                .get(reference)?
                .iter()
                .rev()
                .find(|r| r.status == TD_ACTIVE),
        }
    }

    /// DescribeTaskDefinition (any status).
    pub fn describe(&self, reference: &str) -> AwsResult<TaskDefinition> {
        self.resolve(reference)
            .map(TaskDefRecord::to_api)
            .ok_or_else(|| client_exception("Unable to describe task definition."))
    }

    /// DeregisterTaskDefinition: ACTIVE → INACTIVE (idempotent); the revision number stays used.
    pub fn deregister(&mut self, reference: &str) -> AwsResult<TaskDefinition> {
        let name = reference
            .split_once(":task-definition/")
            .map_or(reference, |(_, r)| r);
        let Some((family, revision)) = name.rsplit_once(':') else {
            return Err(client_exception(
                "A task definition revision must be specified (family:revision or full ARN).",
            ));
        };
        let record = revision
            .parse::<usize>()
            .ok()
            .and_then(|r| r.checked_sub(1))
            .and_then(|i| self.families.get_mut(family)?.get_mut(i))
            .ok_or_else(|| client_exception("The specified task definition does not exist."))?;
        record.status = TD_INACTIVE;
        Ok(record.to_api())
    }

    /// ListTaskDefinitions of a family: ACTIVE ARNs, newest first.
    pub fn list_active(&self, family: &str) -> Vec<String> {
        self.families
            .get(family)
            .map(|revs| {
                revs.iter()
                    .rev()
                    .filter(|r| r.status == TD_ACTIVE)
                    .map(|r| r.arn.clone())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Every revision of a family (any status), oldest first.
    pub fn revisions(&self, family: &str) -> Vec<TaskDefinition> {
        self.families
            .get(family)
            .map(|revs| revs.iter().map(TaskDefRecord::to_api).collect())
            .unwrap_or_default()
    }

    /// Tags of a revision, mutably.
    pub fn tags_mut(&mut self, reference: &str) -> Option<&mut Vec<Tag>> {
        let arn = self.resolve(reference)?.arn.clone();
        let (family, _) = arn.split_once(":task-definition/")?.1.rsplit_once(':')?;
        self.families
            .get_mut(family)?
            .iter_mut()
            .find(|r| r.arn == arn)
            .map(|r| &mut r.tags)
    }
}

/// The checks RegisterTaskDefinition makes, with AWS's messages.
fn validate(input: &TaskDefinitionInput) -> AwsResult<()> {
    let family_ok = !input.family.is_empty()
        && input.family.len() <= 255
        && input
            .family
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if !family_ok {
        return Err(client_exception(
            "Family must be 1-255 letters (uppercase and lowercase), numbers, hyphens and underscores.",
        ));
    }
    let containers = &input.container_definitions;
    if containers.is_empty() {
        return Err(client_exception("Container list cannot be empty."));
    }
    if containers.len() > 10 {
        return Err(client_exception(
            "Too many containers: a task definition can have at most 10.",
        ));
    }
    let mut names: Vec<&str> = containers.iter().map(|c| c.name.as_str()).collect();
    names.sort_unstable();
    if names.windows(2).any(|w| w[0] == w[1]) {
        return Err(client_exception(
            "Container names must be unique within a task definition.",
        ));
    }
    if !containers.iter().any(|c| c.essential.unwrap_or(true)) {
        return Err(client_exception(
            "Task definition must have at least one essential container.",
        ));
    }
    if let Some(mode) = &input.network_mode
        && !["awsvpc", "bridge", "host", "none"].contains(&mode.as_str())
    {
        return Err(client_exception(format!("Invalid networkMode: {mode}.")));
    }
    for compat in &input.requires_compatibilities {
        if !["EC2", "FARGATE", "EXTERNAL", "MANAGED_INSTANCES"].contains(&compat.as_str()) {
            return Err(client_exception(format!(
                "Invalid requiresCompatibilities value: {compat}."
            )));
        }
    }
    let has_secrets = containers
        .iter()
        .any(|c| c.secrets.as_ref().is_some_and(|s| !s.is_empty()));
    if has_secrets && input.execution_role_arn.is_none() {
        return Err(client_exception(
            "When you are specifying container secrets, you must also specify a value for 'executionRoleArn'.",
        ));
    }
    if input
        .requires_compatibilities
        .iter()
        .any(|c| c == "FARGATE")
    {
        validate_fargate(input)?;
    } else if input.memory.is_none()
        && let Some(c) = containers
            .iter()
            .find(|c| c.memory.is_none() && c.memory_reservation.is_none())
    {
        return Err(client_exception(format!(
            "Invalid setting for container '{}'. At least one of 'memory' or 'memoryReservation' must be specified.",
            c.name
        )));
    }
    validate_tags(&input.tags).map_err(|e| client_exception(e.message))?;
    let size = serde_json::to_vec(input).map_or(0, |v| v.len());
    if size > MAX_TASK_DEFINITION_BYTES {
        return Err(client_exception(format!(
            "Actual task definition size ({size} bytes) exceeds the limit of {MAX_TASK_DEFINITION_BYTES} bytes."
        )));
    }
    Ok(())
}

fn validate_fargate(input: &TaskDefinitionInput) -> AwsResult<()> {
    if input.network_mode.as_deref() != Some("awsvpc") {
        return Err(client_exception(
            "Fargate only supports network mode ‘awsvpc’.",
        ));
    }
    let Some(cpu) = &input.cpu else {
        return Err(client_exception(
            "Fargate requires that 'cpu' be defined at the task level.",
        ));
    };
    let Some(memory) = &input.memory else {
        return Err(client_exception(
            "Fargate requires that 'memory' be defined at the task level.",
        ));
    };
    let (cpu_units, memory_mib) = (parse_cpu(cpu), parse_memory(memory));
    let valid = match (cpu_units, memory_mib) {
        (Some(c), Some(m)) => fargate_combination_exists(c, m),
        _ => false,
    };
    if !valid {
        return Err(client_exception(format!(
            "No Fargate configuration exists for given values: {} CPU, {} memory. See the Amazon ECS documentation for the valid values.",
            cpu_units.map_or_else(|| cpu.clone(), |c| c.to_string()),
            memory_mib.map_or_else(|| memory.clone(), |m| m.to_string()),
        )));
    }
    let uses_awslogs = input.container_definitions.iter().any(|c| {
        c.log_configuration
            .as_ref()
            .is_some_and(|l| l.log_driver == "awslogs")
    });
    if uses_awslogs && input.execution_role_arn.is_none() {
        return Err(client_exception(
            "Fargate requires task definition to have execution role ARN to support log driver awslogs.",
        ));
    }
    let uses_ecr = input
        .container_definitions
        .iter()
        .any(|c| c.image.contains(".dkr.ecr."));
    if uses_ecr && input.execution_role_arn.is_none() {
        return Err(client_exception(
            "Fargate requires task definition to have execution role ARN to support ECR images.",
        ));
    }
    Ok(())
}

/// What AWS fills into a registered task definition: cpu and memory as plain numbers ("1 vCPU"
/// → "1024"), `essential: true`, port mappings with protocol `tcp` and, in awsvpc mode, hostPort =
/// containerPort, container health checks with interval 30, timeout 5 and retries 3.
fn fill_defaults(input: &mut TaskDefinitionInput) {
    if let Some(cpu) = input.cpu.as_deref().and_then(parse_cpu) {
        input.cpu = Some(cpu.to_string());
    }
    if let Some(memory) = input.memory.as_deref().and_then(parse_memory) {
        input.memory = Some(memory.to_string());
    }
    let awsvpc = input.network_mode.as_deref() == Some("awsvpc");
    for c in &mut input.container_definitions {
        c.essential.get_or_insert(true);
        for p in c.port_mappings.iter_mut().flatten() {
            p.protocol.get_or_insert_with(|| "tcp".to_owned());
            if awsvpc {
                p.host_port.get_or_insert(p.container_port);
            }
        }
        if let Some(hc) = &mut c.health_check {
            hc.interval.get_or_insert(30);
            hc.timeout.get_or_insert(5);
            hc.retries.get_or_insert(3);
        }
    }
}

/// Whether Fargate offers `cpu` units with `memory` MiB.
pub(crate) fn fargate_combination_exists(cpu: i64, memory: i64) -> bool {
    let range =
        |lo: i64, hi: i64, step: i64| memory >= lo && memory <= hi && (memory - lo) % step == 0;
    match cpu {
        256 => [512, 1024, 2048].contains(&memory),
        512 => range(1024, 4096, 1024),
        1024 => range(2048, 8192, 1024),
        2048 => range(4096, 16384, 1024),
        4096 => range(8192, 30720, 1024),
        8192 => range(16384, 61440, 4096),
        16384 => range(32768, 122_880, 8192),
        _ => false,
    }
}

/// Task CPU as units: "256", "1 vCPU", "0.25 vcpu".
fn parse_cpu(cpu: &str) -> Option<i64> {
    parse_with_unit(cpu, "vcpu")
}

/// Task memory in MiB: "512", "2 GB", "0.5GB".
fn parse_memory(memory: &str) -> Option<i64> {
    parse_with_unit(memory, "gb")
}

fn parse_with_unit(value: &str, unit: &str) -> Option<i64> {
    let lower = value.trim().to_ascii_lowercase();
    match lower.strip_suffix(unit) {
        Some(number) => {
            let n: f64 = number.trim().parse().ok()?;
            let scaled = n * 1024.0;
            (scaled.fract() == 0.0 && scaled > 0.0).then_some(scaled as i64)
        }
        None => lower.parse().ok().filter(|n| *n > 0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fargate_sizes_parse_and_combine_like_aws() {
        assert_eq!(parse_cpu("1 vCPU"), Some(1024));
        assert_eq!(parse_cpu("0.25 vcpu"), Some(256));
        assert_eq!(parse_memory("2 GB"), Some(2048));
        assert_eq!(parse_memory("512"), Some(512));
        assert_eq!(parse_memory("lots"), None);
        assert!(fargate_combination_exists(256, 512));
        assert!(!fargate_combination_exists(256, 4096));
        assert!(fargate_combination_exists(1024, 3072));
        assert!(!fargate_combination_exists(8192, 17408));
        assert!(fargate_combination_exists(8192, 20480));
        assert!(!fargate_combination_exists(300, 1024));
    }
}
