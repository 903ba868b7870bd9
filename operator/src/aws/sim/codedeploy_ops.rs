//! CodeDeploy operations on the world, with the errors CodeDeploy answers: applications,
//! deployment groups (checked against IAM, ECS, ELBv2), deployment configs, and deployments —
//! at most one active per group; CreateDeployment starts an ECS blue/green run on the group's
//! service (`start_code_deploy_run`), StopDeployment rolls it back (creating the rollback
//! deployment), ContinueDeployment answers the ready wait or ends the termination wait.

use super::codedeploy::{SimApplication, SimCdDeployment, SimGroup};
use super::ecs_bluegreen::{self, Controller, Failure, HookSpec, RunPlan, Shift, Stage};
use super::ecs_bluegreen_start::start_code_deploy_run;
use super::ecs_engine::{next_event, schedule};
use super::ecs_model::{SERVICE_ACTIVE, SimService};
use super::world::{Secs, World};
use super::{arn, codedeploy};
use crate::aws::codedeploy::{
    ACTIVE_DEPLOYMENT_STATUSES, ApplicationInfo, CreateDeploymentInput, DeploymentConfigSpec,
    DeploymentGroupInfo, DeploymentGroupSpec, DeploymentInfo, Tag, TrafficRoutingConfig,
};
use crate::aws::error::{AwsError, AwsResult};

/// A CodeDeploy client error.
pub(crate) fn cd_error(code: &str, message: impl Into<String>) -> AwsError {
    AwsError::from_code(code, message, Some(400))
}

fn app_missing(name: &str) -> AwsError {
    cd_error(
        "ApplicationDoesNotExistException",
        format!("No application found for name: {name}"),
    )
}

fn group_missing(app: &str, group: &str) -> AwsError {
    cd_error(
        "DeploymentGroupDoesNotExistException",
        format!("No Deployment Group found for name: {group} in application {app}"),
    )
}

fn deployment_missing(id: &str) -> AwsError {
    cd_error(
        "DeploymentDoesNotExistException",
        format!("The deployment {id} could not be found"),
    )
}

impl World {
    pub(crate) fn cd_get_application(&self, name: &str) -> AwsResult<ApplicationInfo> {
        let app = self
            .codedeploy
            .applications
            .get(name)
            .ok_or_else(|| app_missing(name))?;
        Ok(ApplicationInfo {
            application_name: name.to_owned(),
            application_id: app.id.clone(),
            compute_platform: "ECS".to_owned(),
        })
    }

    pub(crate) fn cd_create_application(
        &mut self,
        name: &str,
        tags: Vec<Tag>,
    ) -> AwsResult<String> {
        if name.is_empty() || name.len() > 100 {
            return Err(cd_error(
                "InvalidApplicationNameException",
                "The application name must be 1-100 characters.",
            ));
        }
        if self.codedeploy.applications.contains_key(name) {
            return Err(cd_error(
                "ApplicationAlreadyExistsException",
                format!("The application {name} already exists."),
            ));
        }
        let id = uuid_like(&["application", name]);
        let app = SimApplication {
            id: id.clone(),
            tags,
        };
        self.codedeploy.applications.insert(name.to_owned(), app);
        Ok(id)
    }

    pub(crate) fn cd_delete_application(&mut self, name: &str) -> AwsResult<()> {
        self.codedeploy.applications.remove(name);
        self.codedeploy.groups.retain(|(app, _), _| app != name);
        Ok(())
    }

    pub(crate) fn cd_get_group(&self, app: &str, group: &str) -> AwsResult<DeploymentGroupInfo> {
        if !self.codedeploy.applications.contains_key(app) {
            return Err(app_missing(app));
        }
        let g = self
            .codedeploy
            .groups
            .get(&(app.to_owned(), group.to_owned()))
            .ok_or_else(|| group_missing(app, group))?;
        Ok(DeploymentGroupInfo {
            deployment_group_id: g.id.clone(),
            spec: g.spec.clone(),
        })
    }

    /// Checks a deployment group against the account (role, config, service, target groups,
    /// listeners, one group per service).
    fn cd_check_group(&self, spec: &DeploymentGroupSpec, current: Option<&str>) -> AwsResult<()> {
        if !self.iam.role_exists(&spec.service_role_arn) {
            return Err(cd_error(
                "InvalidRoleException",
                format!("Cannot assume role {}", spec.service_role_arn),
            ));
        }
        if !self
            .codedeploy
            .configs
            .contains_key(&spec.deployment_config_name)
        {
            return Err(cd_error(
                "DeploymentConfigDoesNotExistException",
                format!(
                    "No deployment configuration found for name: {}",
                    spec.deployment_config_name
                ),
            ));
        }
        self.cd_service(
            &spec.ecs_service.cluster_name,
            &spec.ecs_service.service_name,
        )?;
        let taken = self.codedeploy.groups.iter().any(|((app, name), g)| {
            g.spec.ecs_service == spec.ecs_service
                && !(app == &spec.application_name && Some(name.as_str()) == current)
        });
        if taken {
            return Err(cd_error(
                "ECSServiceMappingLimitExceededException",
                format!(
                    "The ECS service {} is already associated with another deployment group.",
                    spec.ecs_service.service_name
                ),
            ));
        }
        let pair = &spec.target_group_pair;
        if pair.target_groups.len() != 2 || pair.target_groups[0] == pair.target_groups[1] {
            return Err(cd_error(
                "InvalidTargetGroupPairException",
                "A target group pair needs two different target groups.",
            ));
        }
        for name in &pair.target_groups {
            let tg_arn = arn::target_group_arn(&self.region, &self.account_id, name);
            if self.elb.target_group(&tg_arn).is_none() {
                return Err(cd_error(
                    "InvalidTargetGroupPairException",
                    format!("Target group {name} does not exist."),
                ));
            }
        }
        let listeners = pair
            .prod_listener_arns
            .iter()
            .chain(&pair.test_listener_arns);
        for l in listeners {
            if self.elb_listener(l).is_none() {
                return Err(cd_error(
                    "InvalidTargetGroupPairException",
                    format!("Listener {l} does not exist."),
                ));
            }
        }
        if pair.prod_listener_arns.len() != 1 || pair.test_listener_arns.len() > 1 {
            return Err(cd_error(
                "InvalidTrafficRoutingConfigurationException",
                "Exactly one production listener and at most one test listener are supported.",
            ));
        }
        Ok(())
    }

    /// The ACTIVE CODE_DEPLOY service of a group.
    fn cd_service(&self, cluster: &str, service: &str) -> AwsResult<&SimService> {
        let svc = self
            .cluster_name(cluster)
            .and_then(|c| self.ecs.clusters[c].services.get(service))
            .filter(|s| s.status == SERVICE_ACTIVE)
            .ok_or_else(|| {
                cd_error(
                    "InvalidECSServiceException",
                    format!("The ECS service {service} in cluster {cluster} does not exist."),
                )
            })?;
        if svc.deployment_controller != "CODE_DEPLOY" {
            return Err(cd_error(
                "InvalidECSServiceException",
                format!(
                    "The ECS service {service} does not use the CODE_DEPLOY deployment controller."
                ),
            ));
        }
        Ok(svc)
    }

    pub(crate) fn cd_create_group(
        &mut self,
        spec: DeploymentGroupSpec,
        tags: Vec<Tag>,
    ) -> AwsResult<String> {
        if !self
            .codedeploy
            .applications
            .contains_key(&spec.application_name)
        {
            return Err(app_missing(&spec.application_name));
        }
        let key = (
            spec.application_name.clone(),
            spec.deployment_group_name.clone(),
        );
        if self.codedeploy.groups.contains_key(&key) {
            return Err(cd_error(
                "DeploymentGroupAlreadyExistsException",
                format!("The deployment group {} already exists.", key.1),
            ));
        }
        self.cd_check_group(&spec, None)?;
        let id = uuid_like(&["deployment-group", &key.0, &key.1]);
        let group = SimGroup {
            id: id.clone(),
            spec,
            tags,
        };
        self.codedeploy.groups.insert(key, group);
        Ok(id)
    }

    pub(crate) fn cd_update_group(&mut self, spec: DeploymentGroupSpec) -> AwsResult<()> {
        self.cd_get_group(&spec.application_name, &spec.deployment_group_name)?;
        self.cd_check_group(&spec, Some(&spec.deployment_group_name))?;
        let key = (
            spec.application_name.clone(),
            spec.deployment_group_name.clone(),
        );
        if let Some(g) = self.codedeploy.groups.get_mut(&key) {
            g.spec = spec;
        }
        Ok(())
    }

    pub(crate) fn cd_delete_group(&mut self, app: &str, group: &str) -> AwsResult<()> {
        if !self.codedeploy.applications.contains_key(app) {
            return Err(app_missing(app));
        }
        self.codedeploy
            .groups
            .remove(&(app.to_owned(), group.to_owned()));
        Ok(())
    }

    pub(crate) fn cd_get_config(&self, name: &str) -> AwsResult<DeploymentConfigSpec> {
        let routing = self.codedeploy.configs.get(name).ok_or_else(|| {
            cd_error(
                "DeploymentConfigDoesNotExistException",
                format!("No deployment configuration found for name: {name}"),
            )
        })?;
        Ok(DeploymentConfigSpec {
            deployment_config_name: name.to_owned(),
            traffic_routing: *routing,
        })
    }

    pub(crate) fn cd_create_config(&mut self, spec: DeploymentConfigSpec) -> AwsResult<String> {
        let name = spec.deployment_config_name.clone();
        if name.starts_with("CodeDeployDefault.") {
            return Err(cd_error(
                "InvalidDeploymentConfigNameException",
                "The CodeDeployDefault. prefix is reserved.",
            ));
        }
        if self.codedeploy.configs.contains_key(&name) {
            return Err(cd_error(
                "DeploymentConfigAlreadyExistsException",
                format!("A deployment configuration named {name} already exists."),
            ));
        }
        let (pct, interval) = match spec.traffic_routing {
            TrafficRoutingConfig::AllAtOnce => (1, 1),
            TrafficRoutingConfig::TimeBasedCanary {
                percentage,
                interval_minutes,
            }
            | TrafficRoutingConfig::TimeBasedLinear {
                percentage,
                interval_minutes,
            } => (percentage, interval_minutes),
        };
        if !(1..=99).contains(&pct) || interval < 1 {
            return Err(cd_error(
                "InvalidTrafficRoutingConfigurationException",
                "The percentage must be 1-99 and the interval at least 1 minute.",
            ));
        }
        self.codedeploy
            .configs
            .insert(name.clone(), spec.traffic_routing);
        Ok(uuid_like(&["deployment-config", &name]))
    }

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
        statuses: &[&str],
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
                matches!(self.cd_progress(d).status, "Stopped" | "Failed")
                    && self
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
        let app_spec = super::codedeploy_appspec::parse(&input.app_spec_content)
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
            .filter(|td| td.status == "ACTIVE")
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
            if ecs_bluegreen::roll_back(svc, now, failure) {
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
                    ecs_bluegreen::answer_hook(svc, now, None, true)
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

/// A UUID-shaped id derived from `parts`.
fn uuid_like(parts: &[&str]) -> String {
    let a = arn::stable_hash(parts);
    let b = arn::splitmix(a);
    let hex = format!("{a:016x}{b:016x}");
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}
