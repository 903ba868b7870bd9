//! Reads what one reconcile of a BlueGreenRollout needs: the ECS service, the CodeDeploy
//! application, group and config (only until they were found in sync), the release's
//! deployment — found again by revision after a restart, so none is ever created twice —,
//! the production traffic split, the watched alarms, and the HTTP checks that are due. Never
//! writes to AWS.

use crate::controllers::runtime::ManagedKind;
use std::sync::Arc;

use jiff::{SignedDuration, Timestamp};

use super::machine::{self, EngineView, Memory};
use super::validate::{Engine, ValidatedSpec};
use super::view;
use aws::accounts::AwsClients;
use aws::codedeploy::{
    ACTIVE_DEPLOYMENT_STATUSES, ApplicationInfo, DeploymentGroupInfo, DeploymentInfo,
};
use aws::ecs::{Service, ServiceLookup, ServiceStatus};
use aws::elb::Rule;
use aws::{AwsError, AwsResult, ErrorKind};

/// Most recent service deployments looked at when finding a release's deployment again.
const SERVICE_DEPLOYMENT_SCAN: usize = 10;

/// Clock skew allowed between the operator and AWS when finding a release's deployment by
/// creation time (the revision must match as well).
const SKEW: SignedDuration = SignedDuration::from_secs(120);

/// The CodeDeploy resources as found (read only while not known to be in sync).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Setup {
    /// Whether they were read this reconcile.
    pub read: bool,
    /// The custom deployment config exists (None: none needed).
    pub config_exists: Option<bool>,
    /// The application.
    pub application: Option<ApplicationInfo>,
    /// The deployment group.
    pub group: Option<DeploymentGroupInfo>,
}

/// What one reconcile knows.
#[derive(Debug, Clone, PartialEq)]
pub struct Observed {
    /// The ECS service (absent while it does not exist).
    pub service: Option<Service>,
    /// CodeDeploy resources.
    pub setup: Setup,
    /// The release's deployment as the machine sees it.
    pub engine: EngineView,
    /// The id (CodeDeploy) or ARN (ECS) of the release's deployment, when found.
    pub deployment: Option<String>,
    /// The production rule the traffic split is read from.
    pub production_rule: Option<Rule>,
    /// The target group of the stable tasks (known, or read before traffic moved).
    pub stable_target_group: Option<String>,
    /// Watched alarms in ALARM.
    pub alarms_firing: Vec<String>,
    /// Watched alarms that do not exist.
    pub alarms_missing: Vec<String>,
    /// HTTP checks sent: (index, passed, what they got).
    pub probes: Vec<(usize, bool, String)>,
    /// Metrics measured (filled by the analysis after the observation): (index, phase, what
    /// it showed).
    pub measurements: Vec<(usize, crds::rollout::AnalysisPhase, machine::Measurement)>,
    /// With no release in flight: a service deployment of the stable revision waiting at the
    /// operator's gate (ECS started it for a configuration change): (ARN, hook id).
    pub stray_gate: Option<(String, String)>,
}

fn not_found_is_none<T>(result: AwsResult<T>) -> AwsResult<Option<T>> {
    match result {
        Ok(v) => Ok(Some(v)),
        Err(e) if e.kind == ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

/// What the status already knows about the release.
#[derive(Debug, Clone, Copy, Default)]
pub struct Known<'a> {
    /// The CodeDeploy resources were found in sync for this generation.
    pub synced: bool,
    /// The release's deployment id or ARN.
    pub deployment: Option<&'a str>,
    /// The stable tasks' target group.
    pub stable_target_group: Option<&'a str>,
}

/// Reads AWS for one reconcile.
pub async fn observe(
    spec: &ValidatedSpec,
    memory: &Memory,
    known: Known<'_>,
    aws: &Arc<AwsClients>,
    now: Timestamp,
) -> Result<Observed, AwsError> {
    let Known {
        synced,
        deployment: known,
        stable_target_group,
    } = known;
    let service = match aws
        .services
        .describe(
            &spec.service.cluster,
            &spec.service.service_name,
            Default::default(),
            <crds::BlueGreenRollout as ManagedKind>::CONTROLLER,
        )
        .await
    {
        Ok(ServiceLookup::Found(s)) if s.status != ServiceStatus::Inactive => Some(*s),
        Ok(_) => None,
        Err(e) if e.kind == ErrorKind::NotFound => None,
        Err(e) => return Err(e),
    };
    let mut observed = Observed {
        service,
        setup: Setup::default(),
        engine: EngineView::None,
        deployment: known.map(str::to_owned),
        production_rule: None,
        stable_target_group: stable_target_group.map(str::to_owned),
        alarms_firing: Vec::new(),
        alarms_missing: Vec::new(),
        probes: Vec::new(),
        measurements: Vec::new(),
        stray_gate: None,
    };
    if let Engine::CodeDeploy(plan) = &spec.engine
        && !synced
    {
        let cd = &aws.codedeploy;
        observed.setup = Setup {
            read: true,
            config_exists: match &plan.config {
                Some(c) => Some(
                    not_found_is_none(cd.get_deployment_config(&c.deployment_config_name).await)?
                        .is_some(),
                ),
                None => None,
            },
            application: not_found_is_none(cd.get_application(&plan.application_name).await)?,
            group: not_found_is_none(
                cd.get_deployment_group(&plan.application_name, &plan.group.deployment_group_name)
                    .await,
            )?,
        };
        if observed.setup.group.is_none() {
            // No group, so no deployment either.
            return Ok(observed);
        }
    }
    let Some(release) = memory.release.as_ref() else {
        observed.deployment = None;
        if spec.engine == Engine::EcsNative {
            let stable = memory
                .stable
                .as_ref()
                .map(|s| s.task_definition_arn.as_str());
            observed.stray_gate = stray_gate(spec, aws, observed.service.as_ref(), stable).await?;
        }
        return Ok(observed);
    };
    let plan = match &spec.engine {
        Engine::CodeDeploy(plan) => Some(plan.as_ref()),
        Engine::EcsNative => None,
    };
    observed.production_rule = production_rule(spec, aws, plan).await?;
    if observed.stable_target_group.is_none()
        && matches!(
            release.state,
            crds::rollout::ReleaseState::Starting | crds::rollout::ReleaseState::Deploying
        )
    {
        observed.stable_target_group = observed
            .production_rule
            .as_ref()
            .and_then(view::serving_target_group);
    }
    let target = &release.target.task_definition_arn;
    match &spec.engine {
        Engine::CodeDeploy(plan) => {
            let (app, group) = (&plan.application_name, &plan.group.deployment_group_name);
            let id = match known {
                Some(id) => Some(id.to_owned()),
                None => adopt_code_deploy(aws, (app, group), target, release.started_at).await?,
            };
            if id.is_none() {
                let active = aws
                    .codedeploy
                    .list_deployments(app, group, &ACTIVE_DEPLOYMENT_STATUSES, None)
                    .await?;
                if let Some(deployment) = active.into_iter().next() {
                    observed.engine = EngineView::Busy { deployment };
                }
            }
            if let Some(id) = id {
                let canary = observed.canary_percent();
                match not_found_is_none(aws.codedeploy.get_deployment(&id).await)? {
                    Some(d) => {
                        let rollback = match &d.rollback_deployment_id {
                            Some(r) => not_found_is_none(aws.codedeploy.get_deployment(r).await)?,
                            None => None,
                        };
                        observed.engine = view::code_deploy(&d, rollback.as_ref(), canary);
                        observed.deployment = Some(id);
                    }
                    None => observed.deployment = None,
                }
            }
        }
        Engine::EcsNative => {
            match find_service_deployment(spec, aws, known, target, release.started_at).await? {
                Some(sd) => {
                    observed.engine = view::ecs_native(&sd);
                    observed.deployment = Some(sd.service_deployment_arn);
                }
                None => {
                    observed.deployment = None;
                    let sent = observed
                        .service
                        .as_ref()
                        .is_some_and(|s| s.task_definition.as_deref() == Some(target.as_str()));
                    if sent {
                        observed.engine = EngineView::Pending;
                    }
                }
            }
        }
    }
    if machine::watches_alarms(memory) && !spec.alarm_names.is_empty() {
        let alarms = aws.cloudwatch.describe_alarms(&spec.alarm_names).await?;
        observed.alarms_missing = spec
            .alarm_names
            .iter()
            .filter(|name| !alarms.iter().any(|a| &a.alarm_name == *name))
            .cloned()
            .collect();
        observed.alarms_firing = alarms
            .into_iter()
            .filter(|a| a.state_value == "ALARM")
            .map(|a| a.alarm_name)
            .collect();
    }
    if matches!(observed.engine, EngineView::AtGate { .. })
        && let Some(listener) = &spec.test_listener_arn
    {
        for index in machine::due_checks(memory, &spec.gates, now) {
            let check = &spec.gates.checks[index];
            let result = aws.probe.probe(listener, &check.path).await;
            let passed = result.status == Some(check.expected_status);
            observed.probes.push((index, passed, result.detail));
        }
    }
    Ok(observed)
}

impl Observed {
    /// Percent of production on the new revision, when the stable target group is known.
    pub fn canary_percent(&self) -> Option<i32> {
        let rule = self.production_rule.as_ref()?;
        Some(view::canary_percent(
            rule,
            self.stable_target_group.as_deref()?,
        ))
    }
}

/// A deployment of the group created since the release started for its revision (not a
/// rollback one): the one this release created before a restart.
async fn adopt_code_deploy(
    aws: &Arc<AwsClients>,
    (app, group): (&str, &str),
    target: &str,
    started_at: Timestamp,
) -> AwsResult<Option<String>> {
    let ids = aws
        .codedeploy
        .list_deployments(app, group, &[], Some(started_at - SKEW))
        .await?;
    let mut found: Vec<DeploymentInfo> = Vec::new();
    for id in ids {
        if let Some(d) = not_found_is_none(aws.codedeploy.get_deployment(&id).await)? {
            found.push(d);
        }
    }
    Ok(found
        .into_iter()
        .filter(|d| d.creator.as_deref() != Some("codeDeployRollback"))
        .filter(|d| {
            d.app_spec_content
                .as_deref()
                .is_some_and(|a| a.contains(target))
        })
        .filter(|d| d.complete_time.is_none_or(|c| c >= started_at))
        .max_by_key(|d| d.create_time)
        .map(|d| d.deployment_id))
}

/// The production listener rule the traffic split is read from.
async fn production_rule(
    spec: &ValidatedSpec,
    aws: &Arc<AwsClients>,
    plan: Option<&super::validate::CodeDeployPlan>,
) -> AwsResult<Option<Rule>> {
    match plan {
        None => Ok(not_found_is_none(
            aws.elb
                .describe_rules(std::slice::from_ref(&spec.production_route))
                .await,
        )?
        .and_then(|rules| rules.into_iter().next())),
        Some(plan) => {
            let names = &plan.group.target_group_pair.target_groups;
            let rules = match not_found_is_none(
                aws.elb
                    .describe_listener_rules(&spec.production_route)
                    .await,
            )? {
                Some(rules) => rules,
                None => return Ok(None),
            };
            let of_pair = |r: &Rule| {
                r.forward.iter().any(|t| {
                    aws::elb::target_group_name(&t.target_group_arn)
                        .is_some_and(|n| names.iter().any(|p| p == n))
                })
            };
            Ok(rules
                .iter()
                .find(|r| !r.is_default && of_pair(r))
                .or_else(|| rules.iter().find(|r| of_pair(r)))
                .cloned())
        }
    }
}

/// The service deployment of the release: the known one, or the newest one since the release
/// started whose target revision runs `target`.
async fn find_service_deployment(
    spec: &ValidatedSpec,
    aws: &Arc<AwsClients>,
    known: Option<&str>,
    target: &str,
    started_at: Timestamp,
) -> AwsResult<Option<aws::ecs::ServiceDeployment>> {
    if let Some(arn) = known {
        return Ok(aws
            .ecs
            .describe_service_deployments(&[arn.to_owned()])
            .await?
            .into_iter()
            .next());
    }
    let arns = match not_found_is_none(
        aws.ecs
            .list_service_deployments(&spec.service.cluster, &spec.service.service_name)
            .await,
    )? {
        Some(arns) if !arns.is_empty() => arns,
        _ => return Ok(None),
    };
    let recent: Vec<String> = arns.into_iter().take(SERVICE_DEPLOYMENT_SCAN).collect();
    let candidates: Vec<_> = aws
        .ecs
        .describe_service_deployments(&recent)
        .await?
        .into_iter()
        .filter(|sd| sd.created_at >= started_at - SKEW)
        // One that finished before the release started is an earlier release's.
        .filter(|sd| sd.finished_at.is_none_or(|f| f >= started_at))
        .collect();
    let revisions: Vec<String> = candidates
        .iter()
        .filter_map(|sd| sd.target_service_revision_arn.clone())
        .collect();
    if revisions.is_empty() {
        return Ok(None);
    }
    let described = aws.ecs.describe_service_revisions(&revisions).await?;
    Ok(candidates.into_iter().find(|sd| {
        sd.target_service_revision_arn.as_ref().is_some_and(|r| {
            described
                .iter()
                .any(|d| &d.service_revision_arn == r && d.task_definition == target)
        })
    }))
}

/// A service deployment of the live revision at the operator's gate while no release is in
/// flight: ECS redeploys the same revision after a configuration change (adding the
/// blue/green settings to an existing service, for one), and nothing else would answer it.
async fn stray_gate(
    spec: &ValidatedSpec,
    aws: &Arc<AwsClients>,
    service: Option<&Service>,
    stable: Option<&str>,
) -> AwsResult<Option<(String, String)>> {
    if service.is_none_or(|s| s.deployments.len() < 2) {
        return Ok(None);
    }
    let arns = aws
        .ecs
        .list_service_deployments(&spec.service.cluster, &spec.service.service_name)
        .await?;
    let Some(newest) = arns.into_iter().next() else {
        return Ok(None);
    };
    let Some(sd) = aws
        .ecs
        .describe_service_deployments(std::slice::from_ref(&newest))
        .await?
        .into_iter()
        .next()
    else {
        return Ok(None);
    };
    let EngineView::AtGate {
        hook_id: Some(hook_id),
    } = view::ecs_native(&sd)
    else {
        return Ok(None);
    };
    let Some(target) = sd.target_service_revision_arn.clone() else {
        return Ok(None);
    };
    let mut arns = vec![target.clone()];
    arns.extend(sd.source_service_revision_arns.iter().cloned());
    let revisions = aws.ecs.describe_service_revisions(&arns).await?;
    let task_definition = |arn: &str| {
        revisions
            .iter()
            .find(|r| r.service_revision_arn == arn)
            .map(|r| r.task_definition.as_str())
    };
    let Some(deploying) = task_definition(&target) else {
        return Ok(None);
    };
    // Only a redeployment of the revision already serving (a configuration change) passes the
    // gate without a release: the stable revision when the rollout knows it, else the one the
    // deployment replaces (a rollout just added to a running service may not have adopted a
    // stable revision before the redeployment started). Any other revision at the gate was
    // judged by nobody.
    let same_revision = match stable {
        Some(stable) => deploying == stable,
        None => {
            !sd.source_service_revision_arns.is_empty()
                && sd
                    .source_service_revision_arns
                    .iter()
                    .all(|arn| task_definition(arn) == Some(deploying))
        }
    };
    Ok(same_revision.then_some((sd.service_deployment_arn, hook_id)))
}
