//! The plan's calls in words, for dry runs and `kubectl ecs diff`: one line per AWS call, and
//! the call that would follow a RegisterTaskDefinition.

use crds::ecs_service::EcsServiceStatus;

use super::observe::Observed;
use super::plan::{Plan, Step, plan, short_arn};
use super::validate::ValidatedSpec;

impl Step {
    /// The call in one line, for dry runs and diffs.
    pub fn summary(&self) -> String {
        match self {
            Step::RegisterTaskDefinition(td) => {
                let images: Vec<&str> = td
                    .container_definitions
                    .iter()
                    .map(|c| c.image.as_str())
                    .collect();
                format!(
                    "RegisterTaskDefinition {} (a new revision; images {})",
                    td.family,
                    images.join(", ")
                )
            }
            Step::CreateService(input) => format!(
                "CreateService {} in cluster {} on {}, desiredCount {}",
                input.service_name,
                input.cluster,
                short_arn(&input.task_definition),
                input.desired_count
            ),
            Step::UpdateService { input, why } => {
                format!("UpdateService {}: {}", input.service, why.join(", "))
            }
            Step::AdoptService { arn, .. } => {
                format!("TagResource {arn} with the owner tag (adopting the service)")
            }
            Step::DeregisterTaskDefinitions(arns) => {
                let short: Vec<&str> = arns.iter().map(|a| short_arn(a)).collect();
                format!("DeregisterTaskDefinition {}", short.join(", "))
            }
        }
    }
}

/// The calls a dry run lists for `first`: its step and, after a RegisterTaskDefinition, the
/// call that would deploy the new revision (planned as if it were registered).
pub fn calls(
    spec: &ValidatedSpec,
    prev: &EcsServiceStatus,
    observed: &Observed,
    first: &Plan,
) -> Vec<String> {
    let Some(step) = &first.step else {
        return Vec::new();
    };
    let mut calls = vec![step.summary()];
    if let Step::RegisterTaskDefinition(td) = step {
        let registered = Observed {
            desired_revision: Some(format!("task-definition/{}:(new)", td.family)),
            ..observed.clone()
        };
        if let Some(next) = plan(spec, prev, &registered).step {
            calls.push(next.summary());
        }
    }
    calls
}
