//! `deploymentConfiguration` conversions (rolling, and ECS-native blue/green, linear, canary with
//! lifecycle hooks) between the operator's types and `aws_sdk_ecs`.

use aws_sdk_ecs::types as sdk;
use aws_smithy_types::error::operation::BuildError;

use crate::ecs::{
    CanaryConfiguration, CircuitBreaker, DeploymentAlarms, DeploymentConfiguration, LifecycleHook,
    LinearConfiguration,
};

/// The SDK form. Lifecycle hooks are sent as `[]` when there are none and the strategy is
/// BLUE_GREEN, LINEAR or CANARY, so removing the last hook from the spec removes it in AWS;
/// with ROLLING (or no strategy) an empty list is omitted.
pub(super) fn deployment_configuration_to_sdk(
    d: DeploymentConfiguration,
) -> Result<sdk::DeploymentConfiguration, BuildError> {
    let DeploymentConfiguration {
        strategy,
        maximum_percent,
        minimum_healthy_percent,
        deployment_circuit_breaker,
        alarms,
        bake_time_in_minutes,
        linear_configuration,
        canary_configuration,
        lifecycle_hooks,
    } = d;
    let staged = matches!(
        strategy.as_deref(),
        Some("BLUE_GREEN" | "LINEAR" | "CANARY")
    );
    let hooks = (staged || !lifecycle_hooks.is_empty())
        .then(|| lifecycle_hooks.into_iter().map(hook_to_sdk).collect());
    let alarms = alarms
        .map(|a| {
            let DeploymentAlarms {
                alarm_names,
                enable,
                rollback,
            } = a;
            sdk::DeploymentAlarms::builder()
                .set_alarm_names(Some(alarm_names))
                .enable(enable)
                .rollback(rollback)
                .build()
        })
        .transpose()?;
    Ok(sdk::DeploymentConfiguration::builder()
        .set_strategy(strategy.as_deref().map(sdk::DeploymentStrategy::from))
        .set_maximum_percent(maximum_percent)
        .set_minimum_healthy_percent(minimum_healthy_percent)
        .set_deployment_circuit_breaker(deployment_circuit_breaker.map(
            |CircuitBreaker { enable, rollback }| {
                sdk::DeploymentCircuitBreaker::builder()
                    .enable(enable)
                    .rollback(rollback)
                    .build()
            },
        ))
        .set_alarms(alarms)
        .set_bake_time_in_minutes(bake_time_in_minutes)
        .set_linear_configuration(linear_configuration.map(
            |LinearConfiguration {
                 step_percent,
                 step_bake_time_in_minutes,
             }| {
                sdk::LinearConfiguration::builder()
                    .step_percent(step_percent)
                    .step_bake_time_in_minutes(step_bake_time_in_minutes)
                    .build()
            },
        ))
        .set_canary_configuration(canary_configuration.map(
            |CanaryConfiguration {
                 canary_percent,
                 canary_bake_time_in_minutes,
             }| {
                sdk::CanaryConfiguration::builder()
                    .canary_percent(canary_percent)
                    .canary_bake_time_in_minutes(canary_bake_time_in_minutes)
                    .build()
            },
        ))
        .set_lifecycle_hooks(hooks)
        .build())
}

/// The operator's form, as AWS reports it.
pub(super) fn deployment_configuration_from_sdk(
    d: sdk::DeploymentConfiguration,
) -> DeploymentConfiguration {
    DeploymentConfiguration {
        strategy: d.strategy.map(|s| s.as_str().to_owned()),
        maximum_percent: d.maximum_percent,
        minimum_healthy_percent: d.minimum_healthy_percent,
        deployment_circuit_breaker: d.deployment_circuit_breaker.map(|c| CircuitBreaker {
            enable: c.enable,
            rollback: c.rollback,
        }),
        alarms: d.alarms.map(|a| DeploymentAlarms {
            alarm_names: a.alarm_names,
            enable: a.enable,
            rollback: a.rollback,
        }),
        bake_time_in_minutes: d.bake_time_in_minutes,
        linear_configuration: d.linear_configuration.map(|l| LinearConfiguration {
            step_percent: l.step_percent.unwrap_or_default(),
            step_bake_time_in_minutes: l.step_bake_time_in_minutes.unwrap_or_default(),
        }),
        canary_configuration: d.canary_configuration.map(|c| CanaryConfiguration {
            canary_percent: c.canary_percent.unwrap_or_default(),
            canary_bake_time_in_minutes: c.canary_bake_time_in_minutes.unwrap_or_default(),
        }),
        lifecycle_hooks: d
            .lifecycle_hooks
            .unwrap_or_default()
            .into_iter()
            .map(hook_from_sdk)
            .collect(),
    }
}

fn hook_to_sdk(h: LifecycleHook) -> sdk::DeploymentLifecycleHook {
    let LifecycleHook {
        target_type,
        hook_target_arn,
        role_arn,
        lifecycle_stages,
        timeout_in_minutes,
        timeout_action,
    } = h;
    let timeout = (timeout_in_minutes.is_some() || timeout_action.is_some()).then(|| {
        sdk::DeploymentLifecycleHookTimeoutConfiguration::builder()
            .set_timeout_in_minutes(timeout_in_minutes)
            .set_action(
                timeout_action
                    .as_deref()
                    .map(sdk::DeploymentLifecycleHookAction::from),
            )
            .build()
    });
    sdk::DeploymentLifecycleHook::builder()
        .target_type(sdk::DeploymentLifecycleHookTargetType::from(
            target_type.as_str(),
        ))
        .set_hook_target_arn(hook_target_arn)
        .set_role_arn(role_arn)
        .set_lifecycle_stages(Some(
            lifecycle_stages
                .iter()
                .map(|s| sdk::DeploymentLifecycleHookStage::from(s.as_str()))
                .collect(),
        ))
        .set_timeout_configuration(timeout)
        .build()
}

fn hook_from_sdk(h: sdk::DeploymentLifecycleHook) -> LifecycleHook {
    let (timeout_in_minutes, timeout_action) = match h.timeout_configuration {
        Some(t) => (
            t.timeout_in_minutes,
            t.action.map(|a| a.as_str().to_owned()),
        ),
        None => (None, None),
    };
    LifecycleHook {
        target_type: h
            .target_type
            .map(|t| t.as_str().to_owned())
            .unwrap_or_default(),
        hook_target_arn: h.hook_target_arn,
        role_arn: h.role_arn,
        lifecycle_stages: h
            .lifecycle_stages
            .unwrap_or_default()
            .iter()
            .map(|s| s.as_str().to_owned())
            .collect(),
        timeout_in_minutes,
        timeout_action,
    }
}
