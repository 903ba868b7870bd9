//! Normalises what each engine says about a deployment into the machine's [`EngineView`]:
//! a CodeDeploy deployment (with its rollback deployment) or an ECS service deployment (its
//! lifecycle stage and PAUSE hooks). Also the traffic split read from a listener rule. Pure.

use super::engine::GATE_STAGE;
use super::machine::EngineView;
use aws::codedeploy::{DeploymentInfo, DeploymentStatus as Cd};
use aws::ecs::{HookStatus, ServiceDeployment, ServiceDeploymentStatus as Sd};
use aws::elb::Rule;

/// A CodeDeploy deployment, `rollback` being its rollback deployment when it has one (and it
/// could be read). `canary_percent` is the production share of the new revision.
pub fn code_deploy(
    d: &DeploymentInfo,
    rollback: Option<&DeploymentInfo>,
    canary_percent: Option<i32>,
) -> EngineView {
    let reason = || {
        d.error_message
            .clone()
            .or_else(|| d.rollback_message.clone())
            .unwrap_or_else(|| {
                format!(
                    "the CodeDeploy deployment {} is {}",
                    d.deployment_id, d.status
                )
            })
    };
    match &d.status {
        Cd::Created | Cd::Queued => EngineView::Progressing {
            step: d.status.to_string(),
        },
        Cd::Ready => EngineView::AtGate { hook_id: None },
        Cd::Baking => EngineView::Baking { can_skip: true },
        Cd::InProgress if d.instance_termination_wait_time_started => {
            EngineView::Baking { can_skip: true }
        }
        Cd::InProgress if canary_percent.is_some_and(|p| p > 0) => EngineView::Shifting {
            step: "AllowTraffic".to_owned(),
        },
        Cd::InProgress => EngineView::Progressing {
            step: "InProgress".to_owned(),
        },
        Cd::Succeeded => EngineView::Succeeded,
        Cd::Stopped | Cd::Failed => match (&d.rollback_deployment_id, rollback) {
            (None, _) => EngineView::RolledBack { reason: reason() },
            (Some(_), None) => EngineView::RollingBack { reason: reason() },
            (Some(_), Some(r)) => match r.status {
                Cd::Succeeded => EngineView::RolledBack { reason: reason() },
                Cd::Failed | Cd::Stopped => EngineView::Failed {
                    reason: format!(
                        "{}; the rollback deployment {} is {} too",
                        reason(),
                        r.deployment_id,
                        r.status
                    ),
                },
                _ => EngineView::RollingBack { reason: reason() },
            },
        },
        Cd::Unknown(other) => EngineView::Progressing {
            step: other.clone(),
        },
    }
}

/// An ECS-native service deployment. The operator's gate is a PAUSE hook awaiting action at
/// POST_TEST_TRAFFIC_SHIFT.
pub fn ecs_native(sd: &ServiceDeployment) -> EngineView {
    let reason = || {
        sd.rollback_reason
            .clone()
            .or_else(|| sd.status_reason.clone())
            .unwrap_or_else(|| format!("the service deployment is {}", sd.status))
    };
    match &sd.status {
        Sd::Pending | Sd::InProgress => {
            let stage = sd
                .lifecycle_stage
                .clone()
                .unwrap_or_else(|| "PENDING".to_owned());
            let waiting = sd.lifecycle_hook_details.iter().find(|h| {
                h.target_type == "PAUSE"
                    && h.status == HookStatus::AwaitingAction
                    && h.lifecycle_stage.as_deref().is_none_or(|s| s == GATE_STAGE)
            });
            match (stage.as_str(), waiting) {
                (GATE_STAGE, Some(hook)) => EngineView::AtGate {
                    hook_id: Some(hook.hook_id.clone()),
                },
                ("PRODUCTION_TRAFFIC_SHIFT" | "POST_PRODUCTION_TRAFFIC_SHIFT", _) => {
                    EngineView::Shifting { step: stage }
                }
                ("BAKE_TIME" | "CLEAN_UP", _) => EngineView::Baking { can_skip: false },
                _ => EngineView::Progressing { step: stage },
            }
        }
        Sd::Successful => EngineView::Succeeded,
        Sd::StopRequested | Sd::RollbackRequested | Sd::RollbackInProgress => {
            EngineView::RollingBack { reason: reason() }
        }
        Sd::RollbackSuccessful | Sd::Stopped => EngineView::RolledBack { reason: reason() },
        Sd::RollbackFailed => EngineView::Failed { reason: reason() },
        Sd::Unknown(other) => EngineView::Progressing {
            step: other.clone(),
        },
    }
}

/// The production share of everything but `stable_target_group` on `rule` (percent).
pub fn canary_percent(rule: &Rule, stable_target_group: &str) -> i32 {
    if rule.forward.is_empty() {
        return 0;
    }
    100 - rule.percent_to(stable_target_group)
}

/// The target group that takes most of a rule's traffic.
pub fn serving_target_group(rule: &Rule) -> Option<String> {
    rule.forward
        .iter()
        .filter(|t| t.weight > 0)
        .max_by_key(|t| t.weight)
        .map(|t| t.target_group_arn.clone())
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws::ecs::LifecycleHookDetail;

    fn info(status: &str) -> DeploymentInfo {
        DeploymentInfo {
            deployment_id: "d-1".into(),
            status: status.into(),
            ..DeploymentInfo::default()
        }
    }

    #[test]
    fn code_deploy_statuses_map_to_views() {
        assert_eq!(
            code_deploy(&info("Ready"), None, None),
            EngineView::AtGate { hook_id: None }
        );
        assert!(matches!(
            code_deploy(&info("InProgress"), None, Some(0)),
            EngineView::Progressing { .. }
        ));
        assert!(matches!(
            code_deploy(&info("InProgress"), None, Some(10)),
            EngineView::Shifting { .. }
        ));
        let waiting = DeploymentInfo {
            instance_termination_wait_time_started: true,
            ..info("InProgress")
        };
        assert_eq!(
            code_deploy(&waiting, None, Some(100)),
            EngineView::Baking { can_skip: true }
        );
        assert_eq!(
            code_deploy(&info("Succeeded"), None, None),
            EngineView::Succeeded
        );
        let stopped = DeploymentInfo {
            rollback_deployment_id: Some("d-2".into()),
            error_message: Some("alarm".into()),
            ..info("Stopped")
        };
        assert_eq!(
            code_deploy(&stopped, None, None),
            EngineView::RollingBack {
                reason: "alarm".into()
            }
        );
        let mut rb = info("InProgress");
        assert_eq!(
            code_deploy(&stopped, Some(&rb), None),
            EngineView::RollingBack {
                reason: "alarm".into()
            }
        );
        rb.status = "Succeeded".into();
        assert_eq!(
            code_deploy(&stopped, Some(&rb), None),
            EngineView::RolledBack {
                reason: "alarm".into()
            }
        );
        rb.status = "Failed".into();
        assert!(matches!(
            code_deploy(&stopped, Some(&rb), None),
            EngineView::Failed { .. }
        ));
    }

    #[test]
    fn ecs_service_deployments_map_to_views() {
        let sd = |status: &str, stage: &str, hooks: Vec<LifecycleHookDetail>| ServiceDeployment {
            status: status.into(),
            lifecycle_stage: Some(stage.into()),
            lifecycle_hook_details: hooks,
            ..ServiceDeployment::default()
        };
        let pause = LifecycleHookDetail {
            hook_id: "h".into(),
            target_type: "PAUSE".into(),
            status: "AWAITING_ACTION".into(),
            lifecycle_stage: None,
            expires_at: None,
        };
        assert_eq!(
            ecs_native(&sd("IN_PROGRESS", GATE_STAGE, vec![pause.clone()])),
            EngineView::AtGate {
                hook_id: Some("h".into())
            }
        );
        assert!(matches!(
            ecs_native(&sd("IN_PROGRESS", GATE_STAGE, vec![])),
            EngineView::Progressing { .. }
        ));
        assert!(matches!(
            ecs_native(&sd("IN_PROGRESS", "PRODUCTION_TRAFFIC_SHIFT", vec![])),
            EngineView::Shifting { .. }
        ));
        assert_eq!(
            ecs_native(&sd("IN_PROGRESS", "BAKE_TIME", vec![])),
            EngineView::Baking { can_skip: false }
        );
        assert_eq!(
            ecs_native(&sd("SUCCESSFUL", "CLEAN_UP", vec![])),
            EngineView::Succeeded
        );
        assert!(matches!(
            ecs_native(&sd("ROLLBACK_IN_PROGRESS", "SCALE_UP", vec![])),
            EngineView::RollingBack { .. }
        ));
        assert!(matches!(
            ecs_native(&sd("ROLLBACK_SUCCESSFUL", "SCALE_UP", vec![])),
            EngineView::RolledBack { .. }
        ));
        assert!(matches!(
            ecs_native(&sd("ROLLBACK_FAILED", "SCALE_UP", vec![])),
            EngineView::Failed { .. }
        ));
    }
}
