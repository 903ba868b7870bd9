//! The BlueGreenRollout plan: first the engine's setup (CodeDeploy config, application and
//! deployment group created or brought back in sync, one call per reconcile; the ECS service
//! using the right controller and settings), then one step of the state machine, its action
//! turned into the engine's call. Pure: no IO, no clock.

use std::time::Duration;

use crds::rollout::ReleaseState;
use jiff::Timestamp;

use super::engine::{self, EngineSettings};
use super::machine::{self, Action, Inputs, Memory, Revision, Transition, Verb};
use super::observe::Observed;
use super::validate::{Engine, ValidatedSpec};
use crate::controllers::Settings;
use crate::controllers::ownership::{self, Claim};
use crate::controllers::runtime::Requeue;
use aws::codedeploy::{CreateDeploymentInput, DeploymentConfigSpec, DeploymentGroupSpec, Tag};
use aws::ecs::{DeploymentController, RolloutState, UpdateServiceInput};
use crds::common::OWNER_TAG;

/// One AWS mutation.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    /// CreateDeploymentConfig (custom traffic routing).
    CreateDeploymentConfig(DeploymentConfigSpec),
    /// CreateApplication.
    CreateApplication {
        /// Name.
        name: String,
        /// Owner tag.
        tags: Vec<Tag>,
    },
    /// CreateDeploymentGroup.
    CreateDeploymentGroup {
        /// The group.
        spec: Box<DeploymentGroupSpec>,
        /// Owner tag.
        tags: Vec<Tag>,
    },
    /// UpdateDeploymentGroup.
    UpdateDeploymentGroup(Box<DeploymentGroupSpec>),
    /// CreateDeployment with the generated AppSpec.
    CreateDeployment(CreateDeploymentInput),
    /// UpdateService to the new revision (ECS-native: starts the service deployment).
    UpdateServiceTaskDefinition(Box<UpdateServiceInput>),
    /// ContinueDeployment.
    ContinueDeployment {
        /// Deployment id.
        id: String,
        /// READY_WAIT or TERMINATION_WAIT.
        wait_type: &'static str,
    },
    /// ContinueServiceDeployment(CONTINUE).
    ContinueServiceDeployment {
        /// Service deployment ARN.
        arn: String,
        /// The PAUSE hook.
        hook_id: String,
    },
    /// StopDeployment with rollback.
    StopDeployment {
        /// Deployment id.
        id: String,
    },
    /// StopServiceDeployment(ROLLBACK).
    StopServiceDeployment {
        /// Service deployment ARN.
        arn: String,
    },
}

impl Step {
    /// Whether the step sets the engine up (CodeDeploy resources, the revision a deployment
    /// starts from): AWS refusing one stalls the rollout, while engine control steps are retried
    /// (the deployment may just have moved on).
    pub fn is_setup(&self) -> bool {
        matches!(
            self,
            Step::CreateDeploymentConfig(_)
                | Step::CreateApplication { .. }
                | Step::CreateDeploymentGroup { .. }
                | Step::UpdateDeploymentGroup(_)
                | Step::CreateDeployment(_)
                | Step::UpdateServiceTaskDefinition(_)
        )
    }

    /// Whether the step creates a CodeDeploy resource the rollout then owns.
    pub fn creates(&self) -> bool {
        matches!(
            self,
            Step::CreateApplication { .. } | Step::CreateDeploymentGroup { .. }
        )
    }

    /// The AWS operation, for events, logs and errors.
    pub fn name(&self) -> &'static str {
        match self {
            Step::CreateDeploymentConfig(_) => "CreateDeploymentConfig",
            Step::CreateApplication { .. } => "CreateApplication",
            Step::CreateDeploymentGroup { .. } => "CreateDeploymentGroup",
            Step::UpdateDeploymentGroup(_) => "UpdateDeploymentGroup",
            Step::CreateDeployment(_) => "CreateDeployment",
            Step::UpdateServiceTaskDefinition(_) => "UpdateService",
            Step::ContinueDeployment { .. } => "ContinueDeployment",
            Step::ContinueServiceDeployment { .. } => "ContinueServiceDeployment",
            Step::StopDeployment { .. } => "StopDeployment",
            Step::StopServiceDeployment { .. } => "StopServiceDeployment",
        }
    }

    /// The call in one line, for dry runs and diffs.
    pub fn summary(&self) -> String {
        let name = self.name();
        match self {
            Step::CreateDeploymentConfig(config) => {
                format!("{name} {}", config.deployment_config_name)
            }
            Step::CreateApplication { name: app, .. } => format!("{name} {app}"),
            Step::CreateDeploymentGroup { spec, .. } => format!(
                "{name} {} in application {}",
                spec.deployment_group_name, spec.application_name
            ),
            Step::UpdateDeploymentGroup(spec) => format!(
                "{name} {} in application {}",
                spec.deployment_group_name, spec.application_name
            ),
            Step::CreateDeployment(input) => format!(
                "{name} of group {} in application {}",
                input.deployment_group_name, input.application_name
            ),
            Step::UpdateServiceTaskDefinition(input) => format!(
                "{name} {} to {} (starts an ECS blue/green deployment)",
                input.service,
                input
                    .task_definition
                    .as_deref()
                    .unwrap_or("the same revision")
            ),
            Step::ContinueDeployment { id, wait_type } => format!("{name} {id} ({wait_type})"),
            Step::ContinueServiceDeployment { arn, .. } => format!("{name} {arn}"),
            Step::StopDeployment { id } => format!("{name} {id} with rollback"),
            Step::StopServiceDeployment { arn } => format!("{name} {arn} (ROLLBACK)"),
        }
    }
}

/// The decision of one reconcile.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    /// At most one AWS mutation.
    pub step: Option<Step>,
    /// The machine's step (None while the engine is being set up).
    pub transition: Option<Transition>,
    /// Why nothing can start yet (reported as Reconciling).
    pub waiting: Option<(&'static str, String)>,
    /// Why nothing can happen until a person acts (reported as Stalled).
    pub stalled: Option<(&'static str, String)>,
    /// The CodeDeploy resources were found in sync: the hash to remember.
    pub synced_hash: Option<String>,
}

/// The hash of the CodeDeploy resources a spec asks for.
pub fn code_deploy_hash(spec: &ValidatedSpec) -> Option<String> {
    match &spec.engine {
        Engine::CodeDeploy(plan) => Some(engine::hash_of(&(&plan.group, &plan.config))),
        Engine::EcsNative => None,
    }
}

/// Plans one reconcile.
pub fn plan(
    spec: &ValidatedSpec,
    memory: &Memory,
    observed: &Observed,
    desired: Option<Revision>,
    verbs: Vec<Verb>,
    now: jiff::Timestamp,
) -> Plan {
    let mut plan = Plan {
        step: None,
        transition: None,
        waiting: None,
        stalled: None,
        synced_hash: None,
    };
    if let Some(step) = setup_step(spec, observed, &mut plan) {
        plan.step = Some(step);
        return plan;
    }
    if plan.stalled.is_some() {
        return plan;
    }
    let live = settled_revision(observed);
    if plan.waiting.is_none()
        && memory.stable.is_none()
        && memory.release.is_none()
        && live.is_none()
    {
        plan.waiting = Some((
            "WaitingForInitialDeployment",
            format!(
                "EcsService {} is still deploying the service's first revision; releases start once it completes",
                spec.service.object
            ),
        ));
    }
    let ready_to_start = plan.waiting.is_none();
    if ready_to_start && desired.is_none() {
        plan.waiting = Some((
            "WaitingForRevision",
            format!(
                "waiting for EcsService {} to register and publish its revision",
                spec.service.object
            ),
        ));
    }
    let inputs = Inputs {
        now,
        desired: desired.filter(|_| ready_to_start),
        live,
        engine: observed.engine.clone(),
        alarms_firing: observed.alarms_firing.clone(),
        alarms_missing: observed.alarms_missing.clone(),
        probes: observed.probes.clone(),
        measurements: observed.measurements.clone(),
        verbs,
    };
    let transition = machine::step(memory, &spec.gates, &inputs);
    plan.step = transition
        .action
        .as_ref()
        .and_then(|a| engine_step(spec, observed, a));
    if plan.step.is_none()
        && transition.memory.release.is_none()
        && let Some((arn, hook_id)) = &observed.stray_gate
    {
        // Not a release: the same revision redeployed for a configuration change.
        plan.step = Some(Step::ContinueServiceDeployment {
            arn: arn.clone(),
            hook_id: hook_id.clone(),
        });
    }
    plan.transition = Some(transition);
    plan
}

/// The revision the ECS service runs once no deployment of it is in progress: the one a
/// rollout adopts as stable (before that, nothing serves production for certain).
fn settled_revision(observed: &Observed) -> Option<String> {
    let service = observed.service.as_ref()?;
    let deploying = service
        .deployments
        .iter()
        .any(|d| d.rollout_state == Some(RolloutState::InProgress));
    if deploying {
        return None;
    }
    service.task_definition.clone()
}

/// CodeDeploy resources to create or correct, and whether the ECS service is ready for the
/// engine. Sets `waiting`/`stalled`/`synced_hash` on the way.
fn setup_step(spec: &ValidatedSpec, observed: &Observed, plan: &mut Plan) -> Option<Step> {
    let Some(service) = observed.service.as_ref() else {
        plan.waiting = Some((
            "WaitingForService",
            format!(
                "ECS service {} does not exist yet; EcsService {} creates it",
                spec.service.service_name, spec.service.object
            ),
        ));
        return None;
    };
    match ownership::claim(service.tag(OWNER_TAG), &spec.service.owner) {
        Claim::Ours => {}
        Claim::Untagged if spec.service.adopts => {
            plan.waiting = Some((
                "WaitingForService",
                format!(
                    "waiting for EcsService {} to adopt ECS service {}",
                    spec.service.object, spec.service.service_name
                ),
            ));
            return None;
        }
        Claim::Untagged => {
            plan.stalled = Some((
                "ServiceNotOwned",
                format!(
                    "ECS service {} is not managed by ecs-operator (no owner tag) and EcsService {} does not adopt it; the rollout never acts on it",
                    spec.service.service_name, spec.service.object
                ),
            ));
            return None;
        }
        Claim::Theirs(other) => {
            plan.stalled = Some((
                "OwnedByAnotherObject",
                format!(
                    "ECS service {} belongs to {other}, not to EcsService {}; the rollout never acts on another object's service",
                    spec.service.service_name, spec.service.owner
                ),
            ));
            return None;
        }
    }
    let wants_code_deploy = spec.settings == EngineSettings::CodeDeploy;
    let has_code_deploy = service.deployment_controller == DeploymentController::CodeDeploy;
    if wants_code_deploy != has_code_deploy {
        let message = if wants_code_deploy {
            format!(
                "ECS service {} uses the {} deployment controller; CodeDeploy needs CODE_DEPLOY, which ECS only sets at creation: delete and re-create EcsService {} with this rollout in place, or use strategy.ecsNative",
                spec.service.service_name, service.deployment_controller, spec.service.object
            )
        } else {
            format!(
                "ECS service {} uses the CODE_DEPLOY deployment controller; strategy.ecsNative needs ECS: use strategy.codeDeploy or re-create the service",
                spec.service.service_name
            )
        };
        plan.stalled = Some(("WrongDeploymentController", message));
        return None;
    }
    let Engine::CodeDeploy(cd) = &spec.engine else {
        let drift = spec.settings.drift(&service.config);
        if !drift.is_empty() {
            plan.waiting = Some((
                "WaitingForServiceSettings",
                format!(
                    "waiting for EcsService {} to apply {}",
                    spec.service.object,
                    drift.join(", ")
                ),
            ));
        }
        return None;
    };
    let setup = &observed.setup;
    if !setup.read {
        return None;
    }
    if let (Some(config), Some(false)) = (&cd.config, setup.config_exists) {
        return Some(Step::CreateDeploymentConfig(config.clone()));
    }
    if setup.application.is_none() {
        return Some(Step::CreateApplication {
            name: cd.application_name.clone(),
            tags: cd.tags.clone(),
        });
    }
    let Some(group) = &setup.group else {
        return Some(Step::CreateDeploymentGroup {
            spec: Box::new(cd.group.clone()),
            tags: cd.tags.clone(),
        });
    };
    if group.spec.ecs_service != cd.group.ecs_service {
        plan.stalled = Some((
            "DeploymentGroupTaken",
            format!(
                "CodeDeploy deployment group {}/{} deploys ECS service {}/{}, not this rollout's; name another group in strategy.codeDeploy.deploymentGroupName",
                cd.application_name,
                cd.group.deployment_group_name,
                group.spec.ecs_service.cluster_name,
                group.spec.ecs_service.service_name
            ),
        ));
        return None;
    }
    if normalized(&group.spec) != normalized(&cd.group) {
        return Some(Step::UpdateDeploymentGroup(Box::new(cd.group.clone())));
    }
    plan.synced_hash = code_deploy_hash(spec);
    None
}

/// A group as compared: list orders do not matter.
fn normalized(spec: &DeploymentGroupSpec) -> DeploymentGroupSpec {
    let mut spec = spec.clone();
    spec.auto_rollback.events.sort();
    spec.alarms.alarms.sort();
    spec
}

/// The engine call of a machine action.
fn engine_step(spec: &ValidatedSpec, observed: &Observed, action: &Action) -> Option<Step> {
    let deployment = observed.deployment.clone();
    match (&spec.engine, action) {
        (
            Engine::CodeDeploy(cd),
            Action::StartDeployment {
                task_definition_arn,
            },
        ) => Some(Step::CreateDeployment(CreateDeploymentInput {
            application_name: cd.application_name.clone(),
            deployment_group_name: cd.group.deployment_group_name.clone(),
            app_spec_content: engine::app_spec(
                task_definition_arn,
                &spec.service.container_name,
                spec.service.container_port,
            ),
            description: Some(format!(
                "ecs-operator: {} releases {}",
                spec.owner,
                machine::short(task_definition_arn)
            )),
        })),
        (
            Engine::EcsNative,
            Action::StartDeployment {
                task_definition_arn,
            },
        ) => Some(Step::UpdateServiceTaskDefinition(Box::new(
            UpdateServiceInput {
                cluster: spec.service.cluster.clone(),
                service: spec.service.service_name.clone(),
                task_definition: Some(task_definition_arn.clone()),
                ..UpdateServiceInput::default()
            },
        ))),
        (Engine::CodeDeploy(_), Action::Continue { .. }) => Some(Step::ContinueDeployment {
            id: deployment?,
            wait_type: "READY_WAIT",
        }),
        (Engine::EcsNative, Action::Continue { hook_id }) => {
            Some(Step::ContinueServiceDeployment {
                arn: deployment?,
                hook_id: hook_id.clone()?,
            })
        }
        (Engine::CodeDeploy(_), Action::SkipBake) => Some(Step::ContinueDeployment {
            id: deployment?,
            wait_type: "TERMINATION_WAIT",
        }),
        (Engine::EcsNative, Action::SkipBake) => None,
        (Engine::CodeDeploy(_), Action::Stop { .. }) => {
            Some(Step::StopDeployment { id: deployment? })
        }
        (Engine::EcsNative, Action::Stop { .. }) => {
            Some(Step::StopServiceDeployment { arn: deployment? })
        }
    }
}

/// Whether the release in flight waits on AWS (poll) rather than on a person.
pub fn polls(memory: &Memory) -> bool {
    memory
        .release
        .as_ref()
        .is_some_and(|r| r.state != ReleaseState::Paused)
}

/// When the rollout is looked at again: AWS cannot be watched, so every rollout is requeued —
/// at once after a step or a turn of the release, at the poll interval while AWS moves, at
/// the wait interval while it waits on a person or another object, at the resync otherwise;
/// never later than the machine's next due time (a check, the auto-promotion, a deadline).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Wake {
    /// The kind of wait.
    pub requeue: Requeue,
    /// Something falls due then, whatever AWS does.
    pub at: Option<Timestamp>,
}

impl Wake {
    /// The delay, in the clock's time.
    pub fn delay(&self, settings: &Settings, now: Timestamp) -> Duration {
        let mut wait = self.requeue.delay(settings).unwrap_or(settings.resync);
        if let Some(at) = self.at {
            let until = at.duration_since(now).as_secs().max(1);
            wait = wait.min(Duration::from_secs(until.unsigned_abs()));
        }
        wait
    }
}

/// When to look again after `plan`, the memory being `memory` afterwards.
pub fn wake(plan: &Plan, memory: &Memory) -> Wake {
    let moved_on = plan
        .transition
        .as_ref()
        .is_some_and(|t| t.events.iter().any(|e| e.reason.moves_on()));
    let requeue = if plan.step.is_some() || moved_on {
        Requeue::Soon
    } else if polls(memory) {
        Requeue::Poll
    } else if plan.waiting.is_some() || memory.release.is_some() {
        Requeue::Wait
    } else {
        Requeue::Idle
    };
    Wake {
        requeue,
        at: plan.transition.as_ref().and_then(|t| t.next_check),
    }
}

#[cfg(test)]
#[path = "plan_tests.rs"]
mod tests;
