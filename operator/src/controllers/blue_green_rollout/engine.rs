//! What a BlueGreenRollout asks of AWS, rendered from its spec: the ECS service settings its
//! engine owns (CODE_DEPLOY controller, or the ECS-native strategy, hooks and
//! advancedConfiguration — also used by the EcsService controller to create and keep the
//! service), the CodeDeploy deployment group and deployment config, and the AppSpec of a
//! deployment. Pure functions.

use crds::BlueGreenRollout;
use crds::rollout::{
    AutoRollbackEvent, BlueGreenRolloutSpec, CodeDeployStrategy, EcsNativeStrategy,
    EcsNativeStrategyType, ReadyAction, TrafficRoutingType,
};
use sha2::{Digest, Sha256};

use super::machine::DEFAULT_PROGRESS_DEADLINE_SECS;
use aws::codedeploy::{
    AlarmSettings, AutoRollback, DeploymentConfigSpec, DeploymentGroupSpec, EcsServiceRef,
    ReadyOption, TargetGroupPair, TrafficRoutingConfig,
};
use aws::ecs::{
    AdvancedConfiguration, CanaryConfiguration, DeploymentConfiguration, DeploymentController,
    LifecycleHook, LinearConfiguration, ServiceConfig,
};

/// The stage where the operator's gates pause an ECS-native deployment.
pub const GATE_STAGE: &str = "POST_TEST_TRAFFIC_SHIFT";
/// Minutes a manual gate waits before the engine gives up (ECS PAUSE hook, CodeDeploy ready
/// wait).
pub const MANUAL_GATE_MINUTES: i32 = 1440;
/// The predefined all-at-once CodeDeploy config.
pub const ALL_AT_ONCE: &str = "CodeDeployDefault.ECSAllAtOnce";

/// The ECS service settings a rollout's engine owns.
#[derive(Debug, Clone, PartialEq)]
pub enum EngineSettings {
    /// deploymentController CODE_DEPLOY; task definition, network and load balancers change
    /// only through CodeDeploy deployments.
    CodeDeploy,
    /// deploymentConfiguration strategy, bake time, linear/canary, lifecycle hooks and the
    /// first load balancer's advancedConfiguration.
    EcsNative {
        /// The engine-owned part of deploymentConfiguration.
        deployment: Box<DeploymentConfiguration>,
        /// loadBalancers[0].advancedConfiguration.
        advanced: AdvancedConfiguration,
    },
}

impl EngineSettings {
    /// The deployment controller CreateService needs.
    pub fn deployment_controller(&self) -> Option<DeploymentController> {
        match self {
            EngineSettings::CodeDeploy => Some(DeploymentController::CodeDeploy),
            EngineSettings::EcsNative { .. } => None,
        }
    }

    /// Puts the engine's fields into a service configuration (the spec's own stay). The
    /// circuit breaker and deployment alarms are dropped: they belong to ROLLING.
    pub fn apply(&self, config: &mut ServiceConfig) {
        let dc = config
            .deployment_configuration
            .get_or_insert_with(DeploymentConfiguration::default);
        dc.deployment_circuit_breaker = None;
        dc.alarms = None;
        if let EngineSettings::EcsNative {
            deployment,
            advanced,
        } = self
        {
            dc.strategy = deployment.strategy.clone();
            dc.bake_time_in_minutes = deployment.bake_time_in_minutes;
            dc.linear_configuration = deployment.linear_configuration.clone();
            dc.canary_configuration = deployment.canary_configuration.clone();
            dc.lifecycle_hooks = deployment.lifecycle_hooks.clone();
            if let Some(lb) = config.load_balancers.first_mut() {
                lb.advanced_configuration = Some(advanced.clone());
            }
        }
    }

    /// The fields an UpdateService of a CODE_DEPLOY service may send: task definition,
    /// network, load balancers and platform version go through CodeDeploy instead.
    pub fn updatable(&self, config: &ServiceConfig) -> ServiceConfig {
        let mut config = config.clone();
        self.apply(&mut config);
        if *self == EngineSettings::CodeDeploy {
            config.network_configuration = None;
            config.load_balancers.clear();
            config.platform_version = None;
            config.capacity_provider_strategy.clear();
        }
        config
    }

    /// The engine-owned fields where `live` differs (API names).
    pub fn drift(&self, live: &ServiceConfig) -> Vec<&'static str> {
        let EngineSettings::EcsNative {
            deployment,
            advanced,
        } = self
        else {
            return Vec::new();
        };
        let l = live.deployment_configuration.clone().unwrap_or_default();
        let mut drift = Vec::new();
        let mut hooks = deployment.lifecycle_hooks.clone();
        let mut live_hooks = l.lifecycle_hooks.clone();
        let key = |h: &LifecycleHook| (h.target_type.clone(), h.hook_target_arn.clone());
        hooks.sort_by_key(key);
        live_hooks.sort_by_key(key);
        if l.strategy != deployment.strategy
            || l.bake_time_in_minutes != deployment.bake_time_in_minutes
            || l.linear_configuration != deployment.linear_configuration
            || l.canary_configuration != deployment.canary_configuration
            || live_hooks != hooks
        {
            drift.push("deploymentConfiguration.strategy");
        }
        let live_advanced = live
            .load_balancers
            .first()
            .and_then(|lb| lb.advanced_configuration.as_ref());
        if live_advanced != Some(advanced) {
            drift.push("loadBalancers[0].advancedConfiguration");
        }
        drift
    }
}

/// Whether the rollout has gates that must stop the engine on test traffic.
pub fn has_gates(spec: &BlueGreenRolloutSpec) -> bool {
    !spec.auto_promotion_enabled
        || spec.auto_promotion_seconds.unwrap_or(0) > 0
        || spec.analysis.as_ref().is_some_and(|a| {
            !a.http_checks.is_empty()
                // Dry-run ones too: measured at the gate, though they never hold it.
                || a.metrics.iter().any(|m| {
                    m.phases.is_empty()
                        || m.phases.contains(&crds::rollout::AnalysisPhase::TestTraffic)
                })
        })
}

/// The progress deadline in seconds.
pub fn progress_deadline(spec: &BlueGreenRolloutSpec) -> i64 {
    spec.progress_deadline_seconds
        .unwrap_or(DEFAULT_PROGRESS_DEADLINE_SECS)
}

/// The longest a gating metric may measure on test traffic: its initial delay and `count`
/// intervals (defaults as `analysis::plan` applies them).
fn test_traffic_analysis_secs(spec: &BlueGreenRolloutSpec) -> i64 {
    spec.analysis
        .iter()
        .flat_map(|a| &a.metrics)
        .filter(|m| {
            !m.dry_run
                && (m.phases.is_empty()
                    || m.phases
                        .contains(&crds::rollout::AnalysisPhase::TestTraffic))
        })
        .map(|m| {
            m.initial_delay_seconds.unwrap_or(0).max(0)
                + i64::from(m.count.unwrap_or(3).max(1)) * m.interval_seconds.unwrap_or(60).max(1)
        })
        .max()
        .unwrap_or(0)
}

/// Minutes the engine waits at the gate before giving up: the progress deadline, the
/// auto-promotion wait and the longest test-traffic analysis.
fn gate_minutes(spec: &BlueGreenRolloutSpec) -> i32 {
    if !spec.auto_promotion_enabled {
        return MANUAL_GATE_MINUTES;
    }
    let secs = progress_deadline(spec)
        + spec.auto_promotion_seconds.unwrap_or(0)
        + test_traffic_analysis_secs(spec);
    i32::try_from((secs + 59) / 60)
        .unwrap_or(MANUAL_GATE_MINUTES)
        .clamp(1, 2880)
}

/// The service settings of a rollout (None for an invalid strategy).
pub fn service_settings(rollout: &BlueGreenRollout) -> Option<EngineSettings> {
    let spec = &rollout.spec;
    match (&spec.strategy.code_deploy, &spec.strategy.ecs_native) {
        (Some(_), None) => Some(EngineSettings::CodeDeploy),
        (None, Some(native)) => Some(ecs_native_settings(spec, native)),
        _ => None,
    }
}

fn ecs_native_settings(spec: &BlueGreenRolloutSpec, native: &EcsNativeStrategy) -> EngineSettings {
    let strategy = match native.strategy {
        EcsNativeStrategyType::BlueGreen => "BLUE_GREEN",
        EcsNativeStrategyType::Linear => "LINEAR",
        EcsNativeStrategyType::Canary => "CANARY",
    };
    let mut hooks: Vec<LifecycleHook> = native
        .lifecycle_hooks
        .iter()
        .flatten()
        .map(|h| LifecycleHook {
            target_type: "AWS_LAMBDA".to_owned(),
            hook_target_arn: Some(h.hook_target_arn.clone()),
            role_arn: Some(h.role_arn.clone()),
            lifecycle_stages: h.lifecycle_stages.clone(),
            ..LifecycleHook::default()
        })
        .collect();
    if has_gates(spec) {
        hooks.push(LifecycleHook {
            target_type: "PAUSE".to_owned(),
            lifecycle_stages: vec![GATE_STAGE.to_owned()],
            timeout_in_minutes: Some(gate_minutes(spec)),
            timeout_action: Some("ROLLBACK".to_owned()),
            ..LifecycleHook::default()
        });
    }
    let deployment = DeploymentConfiguration {
        strategy: Some(strategy.to_owned()),
        bake_time_in_minutes: Some(native.bake_time_in_minutes),
        linear_configuration: (native.strategy == EcsNativeStrategyType::Linear)
            .then_some(native.linear_configuration.as_ref())
            .flatten()
            .map(|l| LinearConfiguration {
                step_percent: l.step_percent,
                step_bake_time_in_minutes: l.step_bake_time_in_minutes,
            }),
        canary_configuration: (native.strategy == EcsNativeStrategyType::Canary)
            .then_some(native.canary_configuration.as_ref())
            .flatten()
            .map(|c| CanaryConfiguration {
                canary_percent: c.canary_percent,
                canary_bake_time_in_minutes: c.canary_bake_time_in_minutes,
            }),
        lifecycle_hooks: hooks,
        ..DeploymentConfiguration::default()
    };
    let a = &native.advanced_configuration;
    EngineSettings::EcsNative {
        deployment: Box::new(deployment),
        advanced: AdvancedConfiguration {
            alternate_target_group_arn: a.alternate_target_group_arn.clone(),
            production_listener_rule: a.production_listener_rule.clone(),
            test_listener_rule: a.test_listener_rule.clone(),
            role_arn: a.role_arn.clone(),
        },
    }
}

/// The CodeDeploy deployment config a strategy uses, and the custom one to create (None when
/// it names an existing or predefined config).
pub fn deployment_config(cd: &CodeDeployStrategy) -> (String, Option<DeploymentConfigSpec>) {
    if let Some(name) = &cd.deployment_config_name {
        return (name.clone(), None);
    }
    let Some(routing) = &cd.traffic_routing else {
        return (ALL_AT_ONCE.to_owned(), None);
    };
    let (name, traffic_routing) = match (
        routing.type_,
        &routing.time_based_canary,
        &routing.time_based_linear,
    ) {
        (TrafficRoutingType::TimeBasedCanary, Some(c), _) => (
            format!(
                "ecs-operator.Canary{}Percent{}Minutes",
                c.canary_percentage, c.canary_interval
            ),
            TrafficRoutingConfig::TimeBasedCanary {
                percentage: c.canary_percentage,
                interval_minutes: c.canary_interval,
            },
        ),
        (TrafficRoutingType::TimeBasedLinear, _, Some(l)) => (
            format!(
                "ecs-operator.Linear{}PercentEvery{}Minutes",
                l.linear_percentage, l.linear_interval
            ),
            TrafficRoutingConfig::TimeBasedLinear {
                percentage: l.linear_percentage,
                interval_minutes: l.linear_interval,
            },
        ),
        _ => return (ALL_AT_ONCE.to_owned(), None),
    };
    let spec = DeploymentConfigSpec {
        deployment_config_name: name.clone(),
        traffic_routing,
    };
    (name, Some(spec))
}

/// The deployment group of a CodeDeploy strategy for `cluster`/`service_name`.
pub fn deployment_group(
    spec: &BlueGreenRolloutSpec,
    cd: &CodeDeployStrategy,
    names: (&str, &str),
    target: (&str, &str),
) -> DeploymentGroupSpec {
    let (application_name, deployment_group_name) = names;
    let (cluster_name, service_name) = target;
    let pair = &cd.target_group_pair_info;
    let gated = has_gates(spec);
    let ready = cd.deployment_ready_option.as_ref();
    let action = ready.and_then(|r| r.action_on_timeout).unwrap_or(if gated {
        ReadyAction::StopDeployment
    } else {
        ReadyAction::ContinueDeployment
    });
    let ready_option = match action {
        ReadyAction::StopDeployment => ReadyOption {
            action_on_timeout: "STOP_DEPLOYMENT".to_owned(),
            wait_time_in_minutes: ready
                .and_then(|r| r.wait_time_in_minutes)
                .unwrap_or_else(|| gate_minutes(spec)),
        },
        ReadyAction::ContinueDeployment => ReadyOption {
            action_on_timeout: "CONTINUE_DEPLOYMENT".to_owned(),
            wait_time_in_minutes: 0,
        },
    };
    let rollback = cd.auto_rollback_configuration.clone();
    let mut events: Vec<AutoRollbackEvent> = rollback
        .as_ref()
        .and_then(|r| r.events.clone())
        .unwrap_or_else(|| {
            vec![
                AutoRollbackEvent::DeploymentFailure,
                AutoRollbackEvent::DeploymentStopOnAlarm,
                AutoRollbackEvent::DeploymentStopOnRequest,
            ]
        });
    events.sort();
    events.dedup();
    let alarms = cd.alarm_configuration.clone().unwrap_or_default();
    DeploymentGroupSpec {
        application_name: application_name.to_owned(),
        deployment_group_name: deployment_group_name.to_owned(),
        service_role_arn: cd.service_role_arn.clone(),
        deployment_config_name: deployment_config(cd).0,
        ecs_service: EcsServiceRef {
            cluster_name: cluster_name.to_owned(),
            service_name: service_name.to_owned(),
        },
        target_group_pair: TargetGroupPair {
            target_groups: pair.target_groups.iter().map(|t| t.name.clone()).collect(),
            prod_listener_arns: pair.prod_traffic_route.listener_arns.clone(),
            test_listener_arns: pair
                .test_traffic_route
                .as_ref()
                .map(|r| r.listener_arns.clone())
                .unwrap_or_default(),
        },
        ready_option,
        termination_wait_time_in_minutes: cd.termination_wait_time_in_minutes,
        auto_rollback: AutoRollback {
            enabled: rollback.as_ref().is_none_or(|r| r.enabled),
            events: events
                .iter()
                .map(|e| {
                    serde_json::to_value(e)
                        .ok()
                        .and_then(|v| v.as_str().map(str::to_owned))
                        .unwrap_or_default()
                })
                .collect(),
        },
        alarms: AlarmSettings {
            enabled: alarms.enabled && !alarms.alarms.is_empty(),
            ignore_poll_alarm_failure: alarms.ignore_poll_alarm_failure.unwrap_or(false),
            alarms: alarms.alarms.iter().map(|a| a.name.clone()).collect(),
        },
    }
}

/// The AppSpec of a deployment of `task_definition_arn` (YAML).
pub fn app_spec(task_definition_arn: &str, container_name: &str, container_port: i32) -> String {
    format!(
        "version: 0.0\nResources:\n  - TargetService:\n      Type: AWS::ECS::Service\n      Properties:\n        TaskDefinition: \"{task_definition_arn}\"\n        LoadBalancerInfo:\n          ContainerName: \"{container_name}\"\n          ContainerPort: {container_port}\n"
    )
}

/// A short hash of anything serializable (what was last found in sync).
pub fn hash_of<T: serde::Serialize>(value: &T) -> String {
    let json = serde_json::to_string(value).unwrap_or_default();
    hex::encode(&Sha256::digest(json.as_bytes())[..8])
}
