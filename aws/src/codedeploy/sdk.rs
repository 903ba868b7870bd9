//! `SdkCodeDeploy`: the [`CodeDeployApi`] adapter over `aws_sdk_codedeploy`. It builds the ECS
//! blue/green deployment group (BLUE_GREEN with traffic control, TERMINATE the original task
//! set), sends AppSpecs inline, paginates ListDeployments and reads deployments back into the
//! operator's types. Nothing outside `aws/` sees an `aws_sdk_*` type.

use async_trait::async_trait;
use aws_config::SdkConfig;
use aws_sdk_codedeploy::Client;
use aws_sdk_codedeploy::types as sdk;

use crate::codedeploy::{
    AlarmSettings, ApplicationInfo, AutoRollback, CodeDeployApi, CreateDeploymentInput,
    DeploymentConfigSpec, DeploymentGroupInfo, DeploymentGroupSpec, DeploymentInfo,
    DeploymentStatus, EcsServiceRef, ReadyOption, Tag, TargetGroupPair, TrafficRoutingConfig,
};
use crate::error::{AwsError, AwsResult, ErrorKind};
use crate::sdk::aws_error;

fn incomplete(operation: &str) -> AwsError {
    AwsError::new(
        ErrorKind::Transient,
        "IncompleteResponse",
        format!("{operation} answered without its result"),
    )
}

/// AWS CodeDeploy through the AWS SDK.
#[derive(Debug, Clone)]
pub struct SdkCodeDeploy {
    client: Client,
}

impl SdkCodeDeploy {
    /// An adapter for the account, region and endpoint of `config`.
    pub fn new(config: &SdkConfig) -> Self {
        Self {
            client: Client::new(config),
        }
    }
}

fn tags_to_sdk(tags: Vec<Tag>) -> Option<Vec<sdk::Tag>> {
    (!tags.is_empty()).then(|| {
        tags.into_iter()
            .map(|t| sdk::Tag::builder().key(t.key).value(t.value).build())
            .collect()
    })
}

/// The members shared by CreateDeploymentGroup and UpdateDeploymentGroup.
struct GroupMembers {
    ecs: sdk::EcsService,
    lb: sdk::LoadBalancerInfo,
    blue_green: sdk::BlueGreenDeploymentConfiguration,
    style: sdk::DeploymentStyle,
    rollback: sdk::AutoRollbackConfiguration,
    alarms: sdk::AlarmConfiguration,
}

fn group_members(spec: &DeploymentGroupSpec) -> GroupMembers {
    let route = |arns: &[String]| {
        sdk::TrafficRoute::builder()
            .set_listener_arns(Some(arns.to_vec()))
            .build()
    };
    let pair = &spec.target_group_pair;
    let mut pair_info = sdk::TargetGroupPairInfo::builder()
        .set_target_groups(Some(
            pair.target_groups
                .iter()
                .map(|n| sdk::TargetGroupInfo::builder().name(n).build())
                .collect(),
        ))
        .prod_traffic_route(route(&pair.prod_listener_arns));
    if !pair.test_listener_arns.is_empty() {
        pair_info = pair_info.test_traffic_route(route(&pair.test_listener_arns));
    }
    GroupMembers {
        ecs: sdk::EcsService::builder()
            .cluster_name(&spec.ecs_service.cluster_name)
            .service_name(&spec.ecs_service.service_name)
            .build(),
        lb: sdk::LoadBalancerInfo::builder()
            .target_group_pair_info_list(pair_info.build())
            .build(),
        blue_green: sdk::BlueGreenDeploymentConfiguration::builder()
            .deployment_ready_option(
                sdk::DeploymentReadyOption::builder()
                    .action_on_timeout(sdk::DeploymentReadyAction::from(
                        spec.ready_option.action_on_timeout.as_str(),
                    ))
                    .wait_time_in_minutes(spec.ready_option.wait_time_in_minutes)
                    .build(),
            )
            .terminate_blue_instances_on_deployment_success(
                sdk::BlueInstanceTerminationOption::builder()
                    .action(sdk::InstanceAction::Terminate)
                    .termination_wait_time_in_minutes(spec.termination_wait_time_in_minutes)
                    .build(),
            )
            .build(),
        style: sdk::DeploymentStyle::builder()
            .deployment_type(sdk::DeploymentType::BlueGreen)
            .deployment_option(sdk::DeploymentOption::WithTrafficControl)
            .build(),
        rollback: sdk::AutoRollbackConfiguration::builder()
            .enabled(spec.auto_rollback.enabled)
            .set_events(Some(
                spec.auto_rollback
                    .events
                    .iter()
                    .map(|e| sdk::AutoRollbackEvent::from(e.as_str()))
                    .collect(),
            ))
            .build(),
        alarms: sdk::AlarmConfiguration::builder()
            .enabled(spec.alarms.enabled)
            .ignore_poll_alarm_failure(spec.alarms.ignore_poll_alarm_failure)
            .set_alarms(Some(
                spec.alarms
                    .alarms
                    .iter()
                    .map(|n| sdk::Alarm::builder().name(n).build())
                    .collect(),
            ))
            .build(),
    }
}

fn group_from_sdk(g: sdk::DeploymentGroupInfo) -> DeploymentGroupInfo {
    let pair = g
        .load_balancer_info
        .and_then(|lb| lb.target_group_pair_info_list)
        .and_then(|l| l.into_iter().next());
    let listeners =
        |r: Option<sdk::TrafficRoute>| r.and_then(|r| r.listener_arns).unwrap_or_default();
    let target_group_pair = match pair {
        Some(p) => TargetGroupPair {
            target_groups: p
                .target_groups
                .unwrap_or_default()
                .into_iter()
                .filter_map(|t| t.name)
                .collect(),
            prod_listener_arns: listeners(p.prod_traffic_route),
            test_listener_arns: listeners(p.test_traffic_route),
        },
        None => TargetGroupPair::default(),
    };
    let blue_green = g.blue_green_deployment_configuration;
    let ready = blue_green
        .as_ref()
        .and_then(|b| b.deployment_ready_option.as_ref());
    let termination = blue_green
        .as_ref()
        .and_then(|b| b.terminate_blue_instances_on_deployment_success.as_ref());
    let (rollback_enabled, mut events) = match g.auto_rollback_configuration {
        Some(r) => (
            r.enabled,
            r.events
                .unwrap_or_default()
                .iter()
                .map(|e| e.as_str().to_owned())
                .collect::<Vec<_>>(),
        ),
        None => (false, Vec::new()),
    };
    events.sort();
    let (alarms_enabled, ignore_poll, alarm_names) = match g.alarm_configuration {
        Some(a) => (
            a.enabled,
            a.ignore_poll_alarm_failure,
            a.alarms
                .unwrap_or_default()
                .into_iter()
                .filter_map(|a| a.name)
                .collect(),
        ),
        None => (false, false, Vec::new()),
    };
    let (cluster_name, service_name) = g
        .ecs_services
        .unwrap_or_default()
        .into_iter()
        .next()
        .map(|e| (e.cluster_name, e.service_name))
        .unwrap_or_default();
    DeploymentGroupInfo {
        deployment_group_id: g.deployment_group_id.unwrap_or_default(),
        spec: DeploymentGroupSpec {
            application_name: g.application_name.unwrap_or_default(),
            deployment_group_name: g.deployment_group_name.unwrap_or_default(),
            service_role_arn: g.service_role_arn.unwrap_or_default(),
            deployment_config_name: g.deployment_config_name.unwrap_or_default(),
            ecs_service: EcsServiceRef {
                cluster_name: cluster_name.unwrap_or_default(),
                service_name: service_name.unwrap_or_default(),
            },
            target_group_pair,
            ready_option: ReadyOption {
                action_on_timeout: ready
                    .and_then(|r| r.action_on_timeout.as_ref())
                    .map(|a| a.as_str().to_owned())
                    .unwrap_or_else(|| "CONTINUE_DEPLOYMENT".to_owned()),
                wait_time_in_minutes: ready.map_or(0, |r| r.wait_time_in_minutes),
            },
            termination_wait_time_in_minutes: termination
                .map_or(0, |t| t.termination_wait_time_in_minutes),
            auto_rollback: AutoRollback {
                enabled: rollback_enabled,
                events,
            },
            alarms: AlarmSettings {
                enabled: alarms_enabled,
                ignore_poll_alarm_failure: ignore_poll,
                alarms: alarm_names,
            },
        },
    }
}

fn routing_to_sdk(r: TrafficRoutingConfig) -> sdk::TrafficRoutingConfig {
    match r {
        TrafficRoutingConfig::AllAtOnce => sdk::TrafficRoutingConfig::builder()
            .r#type(sdk::TrafficRoutingType::AllAtOnce)
            .build(),
        TrafficRoutingConfig::TimeBasedCanary {
            percentage,
            interval_minutes,
        } => sdk::TrafficRoutingConfig::builder()
            .r#type(sdk::TrafficRoutingType::TimeBasedCanary)
            .time_based_canary(
                sdk::TimeBasedCanary::builder()
                    .canary_percentage(percentage)
                    .canary_interval(interval_minutes)
                    .build(),
            )
            .build(),
        TrafficRoutingConfig::TimeBasedLinear {
            percentage,
            interval_minutes,
        } => sdk::TrafficRoutingConfig::builder()
            .r#type(sdk::TrafficRoutingType::TimeBasedLinear)
            .time_based_linear(
                sdk::TimeBasedLinear::builder()
                    .linear_percentage(percentage)
                    .linear_interval(interval_minutes)
                    .build(),
            )
            .build(),
    }
}

fn routing_from_sdk(r: Option<sdk::TrafficRoutingConfig>) -> TrafficRoutingConfig {
    let Some(r) = r else {
        return TrafficRoutingConfig::AllAtOnce;
    };
    match (r.r#type, r.time_based_canary, r.time_based_linear) {
        (Some(sdk::TrafficRoutingType::TimeBasedCanary), Some(c), _) => {
            TrafficRoutingConfig::TimeBasedCanary {
                percentage: c.canary_percentage,
                interval_minutes: c.canary_interval,
            }
        }
        (Some(sdk::TrafficRoutingType::TimeBasedLinear), _, Some(l)) => {
            TrafficRoutingConfig::TimeBasedLinear {
                percentage: l.linear_percentage,
                interval_minutes: l.linear_interval,
            }
        }
        _ => TrafficRoutingConfig::AllAtOnce,
    }
}

fn deployment_from_sdk(d: sdk::DeploymentInfo) -> DeploymentInfo {
    let (rollback_deployment_id, rollback_triggering_deployment_id, rollback_message) =
        match d.rollback_info {
            Some(r) => (
                r.rollback_deployment_id,
                r.rollback_triggering_deployment_id,
                r.rollback_message,
            ),
            None => (None, None, None),
        };
    let time = |t: Option<aws_smithy_types::DateTime>| {
        t.and_then(|t| jiff::Timestamp::from_second(t.secs()).ok())
    };
    DeploymentInfo {
        deployment_id: d.deployment_id.unwrap_or_default(),
        application_name: d.application_name.unwrap_or_default(),
        deployment_group_name: d.deployment_group_name.unwrap_or_default(),
        deployment_config_name: d.deployment_config_name.unwrap_or_default(),
        status: d.status.map(|s| s.as_str().into()).unwrap_or_default(),
        error_message: d.error_information.and_then(|e| e.message),
        creator: d.creator.map(|c| c.as_str().to_owned()),
        app_spec_content: d
            .revision
            .and_then(|r| r.app_spec_content)
            .and_then(|a| a.content),
        instance_termination_wait_time_started: d.instance_termination_wait_time_started,
        rollback_deployment_id,
        rollback_triggering_deployment_id,
        rollback_message,
        create_time: time(d.create_time),
        complete_time: time(d.complete_time),
    }
}

#[async_trait]
impl CodeDeployApi for SdkCodeDeploy {
    async fn get_application(&self, name: &str) -> AwsResult<ApplicationInfo> {
        let out = self
            .client
            .get_application()
            .application_name(name)
            .send()
            .await
            .map_err(aws_error)?;
        let app = out
            .application
            .ok_or_else(|| incomplete("GetApplication"))?;
        Ok(ApplicationInfo {
            application_name: app.application_name.unwrap_or_default(),
            application_id: app.application_id.unwrap_or_default(),
            compute_platform: app
                .compute_platform
                .map(|c| c.as_str().to_owned())
                .unwrap_or_default(),
        })
    }

    async fn create_application(&self, name: &str, tags: Vec<Tag>) -> AwsResult<String> {
        let out = self
            .client
            .create_application()
            .application_name(name)
            .compute_platform(sdk::ComputePlatform::Ecs)
            .set_tags(tags_to_sdk(tags))
            .send()
            .await
            .map_err(aws_error)?;
        Ok(out.application_id.unwrap_or_default())
    }

    async fn get_deployment_group(
        &self,
        application: &str,
        group: &str,
    ) -> AwsResult<DeploymentGroupInfo> {
        let out = self
            .client
            .get_deployment_group()
            .application_name(application)
            .deployment_group_name(group)
            .send()
            .await
            .map_err(aws_error)?;
        let info = out
            .deployment_group_info
            .ok_or_else(|| incomplete("GetDeploymentGroup"))?;
        Ok(group_from_sdk(info))
    }

    async fn create_deployment_group(
        &self,
        spec: DeploymentGroupSpec,
        tags: Vec<Tag>,
    ) -> AwsResult<String> {
        let m = group_members(&spec);
        let out = self
            .client
            .create_deployment_group()
            .application_name(spec.application_name)
            .deployment_group_name(spec.deployment_group_name)
            .deployment_config_name(spec.deployment_config_name)
            .service_role_arn(spec.service_role_arn)
            .ecs_services(m.ecs)
            .load_balancer_info(m.lb)
            .blue_green_deployment_configuration(m.blue_green)
            .deployment_style(m.style)
            .auto_rollback_configuration(m.rollback)
            .alarm_configuration(m.alarms)
            .set_tags(tags_to_sdk(tags))
            .send()
            .await
            .map_err(aws_error)?;
        Ok(out.deployment_group_id.unwrap_or_default())
    }

    async fn update_deployment_group(&self, spec: DeploymentGroupSpec) -> AwsResult<()> {
        let m = group_members(&spec);
        self.client
            .update_deployment_group()
            .application_name(spec.application_name)
            .current_deployment_group_name(spec.deployment_group_name)
            .deployment_config_name(spec.deployment_config_name)
            .service_role_arn(spec.service_role_arn)
            .ecs_services(m.ecs)
            .load_balancer_info(m.lb)
            .blue_green_deployment_configuration(m.blue_green)
            .deployment_style(m.style)
            .auto_rollback_configuration(m.rollback)
            .alarm_configuration(m.alarms)
            .send()
            .await
            .map_err(aws_error)?;
        Ok(())
    }

    async fn delete_deployment_group(&self, application: &str, group: &str) -> AwsResult<()> {
        self.client
            .delete_deployment_group()
            .application_name(application)
            .deployment_group_name(group)
            .send()
            .await
            .map_err(aws_error)?;
        Ok(())
    }

    async fn delete_application(&self, name: &str) -> AwsResult<()> {
        self.client
            .delete_application()
            .application_name(name)
            .send()
            .await
            .map_err(aws_error)?;
        Ok(())
    }

    async fn list_deployment_groups(&self, application: &str) -> AwsResult<Vec<String>> {
        let mut groups = Vec::new();
        let mut next_token = None;
        loop {
            let out = self
                .client
                .list_deployment_groups()
                .application_name(application)
                .set_next_token(next_token)
                .send()
                .await
                .map_err(aws_error)?;
            groups.extend(out.deployment_groups.unwrap_or_default());
            // Some endpoints echo an empty token on the last page.
            next_token = out.next_token.filter(|t| !t.is_empty());
            if next_token.is_none() {
                return Ok(groups);
            }
        }
    }

    async fn get_deployment_config(&self, name: &str) -> AwsResult<DeploymentConfigSpec> {
        let out = self
            .client
            .get_deployment_config()
            .deployment_config_name(name)
            .send()
            .await
            .map_err(aws_error)?;
        let info = out
            .deployment_config_info
            .ok_or_else(|| incomplete("GetDeploymentConfig"))?;
        Ok(DeploymentConfigSpec {
            deployment_config_name: info.deployment_config_name.unwrap_or_default(),
            traffic_routing: routing_from_sdk(info.traffic_routing_config),
        })
    }

    async fn create_deployment_config(&self, spec: DeploymentConfigSpec) -> AwsResult<String> {
        let out = self
            .client
            .create_deployment_config()
            .deployment_config_name(spec.deployment_config_name)
            .compute_platform(sdk::ComputePlatform::Ecs)
            .traffic_routing_config(routing_to_sdk(spec.traffic_routing))
            .send()
            .await
            .map_err(aws_error)?;
        Ok(out.deployment_config_id.unwrap_or_default())
    }

    async fn create_deployment(&self, input: CreateDeploymentInput) -> AwsResult<String> {
        let revision = sdk::RevisionLocation::builder()
            .revision_type(sdk::RevisionLocationType::AppSpecContent)
            .app_spec_content(
                sdk::AppSpecContent::builder()
                    .content(input.app_spec_content)
                    .build(),
            )
            .build();
        let out = self
            .client
            .create_deployment()
            .application_name(input.application_name)
            .deployment_group_name(input.deployment_group_name)
            .revision(revision)
            .set_description(input.description)
            .send()
            .await
            .map_err(aws_error)?;
        Ok(out.deployment_id.unwrap_or_default())
    }

    async fn get_deployment(&self, id: &str) -> AwsResult<DeploymentInfo> {
        let out = self
            .client
            .get_deployment()
            .deployment_id(id)
            .send()
            .await
            .map_err(aws_error)?;
        let info = out
            .deployment_info
            .ok_or_else(|| incomplete("GetDeployment"))?;
        Ok(deployment_from_sdk(info))
    }

    async fn list_deployments(
        &self,
        application: &str,
        group: &str,
        statuses: &[DeploymentStatus],
        created_after: Option<jiff::Timestamp>,
    ) -> AwsResult<Vec<String>> {
        let mut ids = Vec::new();
        let mut next: Option<String> = None;
        let range = created_after.map(|t| {
            sdk::TimeRange::builder()
                .start(aws_smithy_types::DateTime::from_secs(t.as_second()))
                .build()
        });
        loop {
            let out = self
                .client
                .list_deployments()
                .application_name(application)
                .deployment_group_name(group)
                .set_include_only_statuses((!statuses.is_empty()).then(|| {
                    statuses
                        .iter()
                        .map(|s| sdk::DeploymentStatus::from(s.as_str()))
                        .collect()
                }))
                .set_create_time_range(range.clone())
                .set_next_token(next.take())
                .send()
                .await
                .map_err(aws_error)?;
            ids.extend(out.deployments.unwrap_or_default());
            match out.next_token {
                Some(token) if !token.is_empty() => next = Some(token),
                _ => return Ok(ids),
            }
        }
    }

    async fn stop_deployment(&self, id: &str, auto_rollback_enabled: bool) -> AwsResult<()> {
        self.client
            .stop_deployment()
            .deployment_id(id)
            .auto_rollback_enabled(auto_rollback_enabled)
            .send()
            .await
            .map_err(aws_error)?;
        Ok(())
    }

    async fn continue_deployment(&self, id: &str, wait_type: &str) -> AwsResult<()> {
        self.client
            .continue_deployment()
            .deployment_id(id)
            .deployment_wait_type(sdk::DeploymentWaitType::from(wait_type))
            .send()
            .await
            .map_err(aws_error)?;
        Ok(())
    }
}
