//! CodeDeploy deployments on the world: at most one active per group; CreateDeployment starts
//! an ECS blue/green run on the group's service (`start_code_deploy_run`), GetDeployment and
//! ListDeployments read the run's progress, StopDeployment rolls it back (creating the rollback
//! deployment), ContinueDeployment answers the ready wait or ends the termination wait.

use crate::arn;
use crate::codedeploy::groups::cd_error;
use crate::codedeploy::{self, SimCdDeployment};
use crate::ecs::blue_green::start::start_code_deploy_run;
use crate::ecs::blue_green::{self, Controller, Failure, HookSpec, RunPlan, Shift, Stage};
use crate::ecs::engine::{next_event, schedule};
use crate::ecs::model::SimService;
use crate::time::Secs;
use crate::world::World;
use aws::codedeploy::{
    ACTIVE_DEPLOYMENT_STATUSES, CreateDeploymentInput, DeploymentGroupSpec, DeploymentInfo,
    DeploymentStatus, TrafficRoutingConfig,
};
use aws::ecs::TaskDefinitionStatus;
use aws::error::{AwsError, AwsResult};

fn deployment_missing(id: &str) -> AwsError {
    cd_error(
        "DeploymentDoesNotExistException",
        format!("The deployment {id} could not be found"),
    )
}

impl World {
    /// The deployment's progress now.
    pub(crate) fn cd_progress(&self, d: &SimCdDeployment) -> codedeploy::Progress {
        let run = self
            .cluster_name(&d.cluster)
            .and_then(|c| self.ecs.clusters[c].services.get(&d.service))
            .and_then(|s| s.bluegreen.as_ref());
        d.progress(run)
    }

    pub(crate) fn cd_get_deployment(&self, id: &str) -> AwsResult<DeploymentInfo> {
        let d = self
            .codedeploy
            .deployments
            .get(id)
            .ok_or_else(|| deployment_missing(id))?;
        let message = d.rollback_id.as_ref().map(|_| {
            self.cd_progress(d)
                .error
                .unwrap_or_else(|| "Rolled back".to_owned())
        });
        Ok(d.to_api(self.cd_progress(d), message))
    }

    pub(crate) fn cd_list_deployments(
        &self,
        app: &str,
        group: &str,
        statuses: &[DeploymentStatus],
        created_after: Option<jiff::Timestamp>,
    ) -> AwsResult<Vec<String>> {
        self.cd_get_group(app, group)?;
        let after = created_after.map_or(Secs::MIN, |t| t.as_second());
        Ok(self
            .codedeploy
            .of_group(app, group)
            .filter(|d| d.created_at >= after)
            .filter(|d| statuses.is_empty() || statuses.contains(&self.cd_progress(d).status))
            .map(|d| d.id.clone())
            .collect())
    }

    /// Creates the rollback deployment of every deployment whose run rolled back without one
    /// (failures and alarms roll back inside the ECS engine).
    pub(crate) fn cd_record_rollbacks(&mut self, now: Secs) {
        let needing: Vec<String> = self
            .codedeploy
            .deployments
            .values()
            .filter(|d| d.rollback_of.is_none() && d.rollback_id.is_none() && d.frozen.is_none())
            .filter(|d| {
                matches!(
                    self.cd_progress(d).status,
                    DeploymentStatus::Stopped | DeploymentStatus::Failed
                ) && self
                    .codedeploy
                    .groups
                    .get(&(d.application.clone(), d.group.clone()))
                    .is_some_and(|g| g.spec.auto_rollback.enabled)
            })
            .map(|d| d.id.clone())
            .collect();
        for id in needing {
            self.cd_add_rollback(&id, now);
        }
    }

    fn cd_add_rollback(&mut self, original: &str, now: Secs) {
        let Some(orig) = self.codedeploy.deployments.get(original).cloned() else {
            return;
        };
        let (seq, id) = self.codedeploy.next_id();
        let rollback = SimCdDeployment {
            seq,
            id: id.clone(),
            creator: "codeDeployRollback",
            rollback_of: Some(original.to_owned()),
            rollback_id: None,
            created_at: now,
            frozen: None,
            ..orig
        };
        self.codedeploy.deployments.insert(id.clone(), rollback);
        if let Some(o) = self.codedeploy.deployments.get_mut(original) {
            o.rollback_id = Some(id);
        }
    }

    pub(crate) fn cd_create_deployment(
        &mut self,
        now: Secs,
        input: CreateDeploymentInput,
    ) -> AwsResult<String> {
        let group = self
            .cd_get_group(&input.application_name, &input.deployment_group_name)?
            .spec;
        if let Some(active) = self
            .codedeploy
            .of_group(&input.application_name, &input.deployment_group_name)
            .find(|d| ACTIVE_DEPLOYMENT_STATUSES.contains(&self.cd_progress(d).status))
        {
            return Err(cd_error(
                "DeploymentLimitExceededException",
                format!(
                    "The Deployment Group '{}' for Application '{}' has an active Deployment: {}",
                    input.deployment_group_name, input.application_name, active.id
                ),
            ));
        }
        let app_spec = crate::codedeploy::appspec::parse(&input.app_spec_content)
            .map_err(|m| cd_error("InvalidRevisionException", m))?;
        let svc = self.cd_service(
            &group.ecs_service.cluster_name,
            &group.ecs_service.service_name,
        )?;
        let cluster = svc.cluster.clone();
        let td = self
            .ecs
            .task_definitions
            .resolve(&app_spec.task_definition)
            .filter(|td| td.status == TaskDefinitionStatus::Active.as_str())
            .ok_or_else(|| {
                cd_error(
                    "InvalidRevisionException",
                    format!(
                        "Task definition {} is not ACTIVE.",
                        app_spec.task_definition
                    ),
                )
            })?;
        let td_arn = td.arn.clone();
        let plan = self.cd_run_plan(&group)?;
        let pair: Vec<String> = group
            .target_group_pair
            .target_groups
            .iter()
            .map(|n| arn::target_group_arn(&self.region, &self.account_id, n))
            .collect();
        // Older deployments of the group keep their final state from now on.
        let frozen: Vec<(String, codedeploy::Progress)> = self
            .codedeploy
            .deployments
            .values()
            .filter(|d| d.cluster == cluster && d.service == group.ecs_service.service_name)
            .filter(|d| d.frozen.is_none())
            .map(|d| (d.id.clone(), self.cd_progress(d)))
            .collect();
        for (id, progress) in frozen {
            if let Some(d) = self.codedeploy.deployments.get_mut(&id) {
                d.frozen = Some(progress);
            }
        }
        let (seq, id) = self.codedeploy.next_id();
        let plan = RunPlan {
            controller: Controller::CodeDeploy {
                deployment_id: id.clone(),
            },
            ..plan
        };
        let (clusters, env) = self.ecs_parts();
        let svc = clusters
            .get_mut(&cluster)
            .and_then(|c| c.services.get_mut(&group.ecs_service.service_name))
            .ok_or_else(|| cd_error("InvalidECSServiceException", "The ECS service vanished."))?;
        start_code_deploy_run(svc, now, &env, &td_arn, plan, [&pair[0], &pair[1]])
            .map_err(|m| cd_error("InvalidTargetGroupPairException", m))?;
        let wake = next_event(svc);
        self.ecs.wake_at(wake);
        let record = SimCdDeployment {
            seq,
            id: id.clone(),
            application: input.application_name,
            group: input.deployment_group_name,
            config_name: group.deployment_config_name.clone(),
            app_spec: input.app_spec_content,
            creator: "user",
            cluster,
            service: group.ecs_service.service_name.clone(),
            rollback_of: None,
            rollback_id: None,
            created_at: now,
            frozen: None,
        };
        self.codedeploy.deployments.insert(id.clone(), record);
        Ok(id)
    }

    /// The run plan of a deployment of `group` (target groups are fixed at start).
    fn cd_run_plan(&self, group: &DeploymentGroupSpec) -> AwsResult<RunPlan> {
        let routing = self
            .cd_get_config(&group.deployment_config_name)?
            .traffic_routing;
        let shift = match routing {
            TrafficRoutingConfig::AllAtOnce => Shift::AllAtOnce,
            TrafficRoutingConfig::TimeBasedCanary {
                percentage,
                interval_minutes,
            } => Shift::Canary {
                percent: f64::from(percentage),
                interval: i64::from(interval_minutes) * 60,
            },
            TrafficRoutingConfig::TimeBasedLinear {
                percentage,
                interval_minutes,
            } => Shift::Linear {
                percent: f64::from(percentage),
                interval: i64::from(interval_minutes) * 60,
            },
        };
        let tgs: Vec<String> = group
            .target_group_pair
            .target_groups
            .iter()
            .map(|n| arn::target_group_arn(&self.region, &self.account_id, n))
            .collect();
        let tg_refs: Vec<&str> = tgs.iter().map(String::as_str).collect();
        let rules_of = |listeners: &[String]| -> Vec<String> {
            listeners
                .iter()
                .filter_map(|l| self.elb_rules(l))
                .flatten()
                .filter(|r| r.forwards_to_any(&tg_refs))
                .map(|r| r.rule_arn)
                .collect()
        };
        let ready = &group.ready_option;
        let hooks = (ready.action_on_timeout == "STOP_DEPLOYMENT")
            .then(|| HookSpec {
                stage: Stage::PostTestTrafficShift,
                pause: true,
                timeout_secs: i64::from(ready.wait_time_in_minutes.max(0)) * 60,
                rollback_on_timeout: true,
            })
            .into_iter()
            .collect();
        Ok(RunPlan {
            controller: Controller::EcsNative,
            blue_tg: String::new(),
            green_tg: String::new(),
            prod_rules: rules_of(&group.target_group_pair.prod_listener_arns),
            test_rules: rules_of(&group.target_group_pair.test_listener_arns),
            shift,
            bake_secs: i64::from(group.termination_wait_time_in_minutes.max(0)) * 60,
            hooks,
            alarms: if group.alarms.enabled {
                group.alarms.alarms.clone()
            } else {
                Vec::new()
            },
        })
    }

    /// The service running deployment `id`, mutably, with the engine's view of the account.
    fn cd_with_run<T>(
        &mut self,
        now: Secs,
        id: &str,
        f: impl FnOnce(&mut SimService) -> AwsResult<T>,
    ) -> AwsResult<T> {
        let d = self
            .codedeploy
            .deployments
            .get(id)
            .ok_or_else(|| deployment_missing(id))?;
        if !ACTIVE_DEPLOYMENT_STATUSES.contains(&self.cd_progress(d).status)
            || d.rollback_of.is_some()
        {
            return Err(cd_error(
                "DeploymentAlreadyCompletedException",
                format!("The deployment {id} has already completed."),
            ));
        }
        let (cluster, service) = (d.cluster.clone(), d.service.clone());
        let (clusters, env) = self.ecs_parts();
        let svc = clusters
            .get_mut(&cluster)
            .and_then(|c| c.services.get_mut(&service))
            .ok_or_else(|| deployment_missing(id))?;
        let out = f(svc)?;
        schedule(svc, now, &env);
        let wake = next_event(svc);
        self.ecs.wake_at(wake);
        Ok(out)
    }

    pub(crate) fn cd_stop_deployment(
        &mut self,
        now: Secs,
        id: &str,
        auto_rollback: bool,
    ) -> AwsResult<()> {
        self.cd_with_run(now, id, |svc| {
            let failure = Failure {
                stopped: true,
                reason: "The deployment was stopped by StopDeployment.".to_owned(),
            };
            if blue_green::roll_back(svc, now, failure) {
                Ok(())
            } else {
                Err(cd_error(
                    "DeploymentAlreadyCompletedException",
                    format!("The deployment {id} is terminating the original task set and cannot be stopped."),
                ))
            }
        })?;
        if auto_rollback {
            self.cd_add_rollback(id, now);
        }
        Ok(())
    }

    pub(crate) fn cd_continue_deployment(
        &mut self,
        now: Secs,
        id: &str,
        wait_type: &str,
    ) -> AwsResult<()> {
        self.cd_with_run(now, id, |svc| {
            let stage = svc.bluegreen.as_ref().map(|r| r.stage);
            match wait_type {
                "READY_WAIT" if stage == Some(Stage::PostTestTrafficShift) => {
                    blue_green::answer_hook(svc, now, None, true)
                        .map_err(|m| cd_error("DeploymentIsNotInReadyStateException", m))
                }
                "TERMINATION_WAIT" if stage == Some(Stage::BakeTime) => {
                    if let Some(run) = svc.bluegreen.as_mut() {
                        run.skip_bake = true;
                    }
                    Ok(())
                }
                "READY_WAIT" | "TERMINATION_WAIT" => Err(cd_error(
                    "DeploymentIsNotInReadyStateException",
                    format!("The deployment {id} is not waiting for {wait_type}."),
                )),
                other => Err(cd_error(
                    "InvalidDeploymentWaitTypeException",
                    format!("Invalid deploymentWaitType: {other}"),
                )),
            }
        })
    }
}
