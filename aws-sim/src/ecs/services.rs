//! ECS service operations on the world: DescribeServices, CreateService, UpdateService,
//! DeleteService and TagResource, with the errors AWS answers. Validation rules live in
//! `ecs_validate`, deployment behaviour in `ecs_engine`/`ecs_rollout`/`ecs_deploy`; this module sequences them.

use crate::arn;
use crate::ecs::deployments::{Cause, start_deployment};
use crate::ecs::engine::{advance_service, next_event, schedule};
use crate::ecs::errors::{
    cluster_not_found, code_deploy_controlled, invalid_parameter, not_idempotent,
    resource_not_found, scaled_above_zero, service_not_active, service_not_found, still_draining,
    task_definition_inactive, task_definition_not_found,
};
use crate::ecs::model::{SERVICE_ACTIVE, SERVICE_DRAINING, SimService};
use crate::ecs::tags::{merge_tags, validate_tags};
use crate::ecs::task_definitions::{TD_ACTIVE, TaskDefRecord};
use crate::ecs::validate::{
    code_deploy_refuses, fill_defaults, needs_new_deployment, validate_service,
};
use crate::time::Secs;
use crate::world::World;
use aws::ecs::{
    CreateServiceInput, DESCRIBE_SERVICES_BATCH, DeploymentController, Service, ServiceConfig,
    ServiceLookup, Tag, UpdateServiceInput,
};
use aws::error::AwsResult;

impl World {
    /// DescribeServices (include TAGS): one lookup per name, MISSING for unknown names.
    pub(crate) fn ecs_describe_services(
        &self,
        now: Secs,
        cluster: &str,
        names: &[String],
    ) -> AwsResult<Vec<ServiceLookup>> {
        if names.is_empty() {
            return Err(invalid_parameter("Services cannot be empty."));
        }
        if names.len() > DESCRIBE_SERVICES_BATCH {
            return Err(invalid_parameter(format!(
                "services can have at most {DESCRIBE_SERVICES_BATCH} items."
            )));
        }
        let cluster = self.cluster_name(cluster).ok_or_else(cluster_not_found)?;
        let services = &self.ecs.clusters[cluster].services;
        Ok(names
            .iter()
            .map(|n| match services.get(arn::name_from_arn(n)) {
                Some(svc) => ServiceLookup::Found(Box::new(svc.to_api(now))),
                None => ServiceLookup::Missing,
            })
            .collect())
    }

    /// CreateService.
    pub(crate) fn ecs_create_service(
        &mut self,
        now: Secs,
        input: CreateServiceInput,
    ) -> AwsResult<Service> {
        let cluster = self
            .cluster_name(&input.cluster)
            .ok_or_else(cluster_not_found)?
            .to_owned();
        let name = input.service_name.clone();
        let name_ok = !name.is_empty()
            && name.len() <= 255
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if !name_ok {
            return Err(invalid_parameter(
                "Service name must be 1-255 letters (uppercase and lowercase), numbers, hyphens and underscores.",
            ));
        }
        if let Some(existing) = self.ecs.clusters[&cluster].services.get(&name) {
            match existing.status {
                SERVICE_ACTIVE => {
                    let same_token =
                        input.client_token.is_some() && existing.client_token == input.client_token;
                    return if same_token {
                        Ok(existing.to_api(now))
                    } else {
                        Err(not_idempotent())
                    };
                }
                SERVICE_DRAINING => return Err(still_draining()),
                _ => {}
            }
        }
        let controller = input.deployment_controller.clone().unwrap_or_default();
        if let DeploymentController::Unknown(_) = controller {
            return Err(invalid_parameter(format!(
                "Invalid deployment controller type: {controller}."
            )));
        }
        if input.desired_count < 0 {
            return Err(invalid_parameter("desiredCount can't be less than 0."));
        }
        let td = self.usable_task_definition(&input.task_definition)?;
        let td_arn = td.arn.clone();
        let mut config = input.config;
        fill_defaults(&mut config);
        validate_service(&config, td, &self.network, &self.elb)?;
        validate_tags(&input.tags)?;

        let (clusters, env) = self.ecs_parts();
        let cluster_state = clusters.get_mut(&cluster).ok_or_else(cluster_not_found)?;
        let mut svc = SimService {
            arn: arn::service_arn(env.region, env.account, &cluster, &name),
            name: name.clone(),
            cluster: cluster.clone(),
            cluster_arn: cluster_state.arn.clone(),
            status: SERVICE_ACTIVE,
            desired_count: input.desired_count,
            config,
            deployment_controller: controller,
            tags: input.tags,
            client_token: input.client_token,
            created_at: now,
            deleted_at: None,
            deployments: Vec::new(),
            tasks: Vec::new(),
            service_deployments: Vec::new(),
            revisions: Default::default(),
            last_completed: None,
            cursor: now,
            next_deployment_seq: 1,
            next_task_seq: 1,
            bluegreen: None,
        };
        start_deployment(&mut svc, now, &env, &td_arn, Cause::Update);
        schedule(&mut svc, now, &env);
        let (api, wake) = (svc.to_api(now), next_event(&svc));
        cluster_state.services.insert(name, svc);
        self.ecs.wake_at(wake);
        Ok(api)
    }

    /// UpdateService.
    pub(crate) fn ecs_update_service(
        &mut self,
        now: Secs,
        input: UpdateServiceInput,
    ) -> AwsResult<Service> {
        let cluster = self
            .cluster_name(&input.cluster)
            .ok_or_else(cluster_not_found)?
            .to_owned();
        let name = arn::name_from_arn(&input.service).to_owned();
        let svc = self.ecs.clusters[&cluster]
            .services
            .get(&name)
            .ok_or_else(service_not_found)?;
        if svc.status != SERVICE_ACTIVE {
            return Err(service_not_active());
        }
        let current_td = svc.task_definition().unwrap_or_default().to_owned();
        let new_td = match &input.task_definition {
            Some(reference) => self.usable_task_definition(reference)?,
            None => self
                .ecs
                .task_definitions
                .resolve(&current_td)
                .ok_or_else(task_definition_not_found)?,
        };
        let new_td_arn = new_td.arn.clone();
        let mut config = match &input.config {
            Some(new) => merge_update(&svc.config, new),
            None => svc.config.clone(),
        };
        fill_defaults(&mut config);
        validate_service(&config, new_td, &self.network, &self.elb)?;
        if input.desired_count.is_some_and(|d| d < 0) {
            return Err(invalid_parameter("desiredCount can't be less than 0."));
        }
        let td_changed = new_td_arn != current_td;
        let redeploy =
            td_changed || input.force_new_deployment || needs_new_deployment(&svc.config, &config);
        if svc.deployment_controller == DeploymentController::CodeDeploy
            && (td_changed
                || input.force_new_deployment
                || code_deploy_refuses(&svc.config, &config))
        {
            return Err(code_deploy_controlled());
        }

        let (clusters, env) = self.ecs_parts();
        let svc = clusters
            .get_mut(&cluster)
            .and_then(|c| c.services.get_mut(&name))
            .ok_or_else(service_not_found)?;
        advance_service(svc, now, &env);
        svc.config = config;
        if let Some(desired) = input.desired_count {
            svc.desired_count = desired;
        }
        if redeploy {
            start_deployment(svc, now, &env, &new_td_arn, Cause::Update);
        }
        schedule(svc, now, &env);
        let (api, wake) = (svc.to_api(now), next_event(svc));
        self.ecs.wake_at(wake);
        Ok(api)
    }

    /// DeleteService: ACTIVE → DRAINING (tasks stop) → INACTIVE.
    pub(crate) fn ecs_delete_service(
        &mut self,
        now: Secs,
        cluster: &str,
        service: &str,
        force: bool,
    ) -> AwsResult<Service> {
        let cluster = self
            .cluster_name(cluster)
            .ok_or_else(cluster_not_found)?
            .to_owned();
        let name = arn::name_from_arn(service).to_owned();
        let (clusters, env) = self.ecs_parts();
        let svc = clusters
            .get_mut(&cluster)
            .and_then(|c| c.services.get_mut(&name))
            .ok_or_else(service_not_found)?;
        if svc.status != SERVICE_ACTIVE {
            return Err(service_not_active());
        }
        if svc.desired_count > 0 && !force {
            return Err(scaled_above_zero());
        }
        advance_service(svc, now, &env);
        svc.status = SERVICE_DRAINING;
        svc.desired_count = 0;
        svc.deleted_at = Some(now);
        schedule(svc, now, &env);
        let (api, wake) = (svc.to_api(now), next_event(svc));
        self.ecs.wake_at(wake);
        Ok(api)
    }

    /// TagResource of a cluster, service or task definition revision.
    pub(crate) fn ecs_tag_resource(&mut self, arn: &str, tags: Vec<Tag>) -> AwsResult<()> {
        if tags.is_empty() {
            return Err(invalid_parameter("Tags cannot be empty."));
        }
        validate_tags(&tags)?;
        let prefix = format!("arn:aws:ecs:{}:{}:", self.region, self.account_id);
        let resource = arn
            .strip_prefix(prefix.as_str())
            .ok_or_else(|| invalid_parameter(format!("Invalid resource ARN: {arn}")))?;
        let current: &mut Vec<Tag> = if let Some(rest) = resource.strip_prefix("service/") {
            let (cluster, name) = rest.split_once('/').ok_or_else(resource_not_found)?;
            let svc = self
                .ecs
                .clusters
                .get_mut(cluster)
                .ok_or_else(cluster_not_found)?
                .services
                .get_mut(name)
                .ok_or_else(resource_not_found)?;
            &mut svc.tags
        } else if let Some(name) = resource.strip_prefix("cluster/") {
            &mut self
                .ecs
                .clusters
                .get_mut(name)
                .ok_or_else(cluster_not_found)?
                .tags
        } else if resource.starts_with("task-definition/") {
            self.ecs
                .task_definitions
                .tags_mut(arn)
                .ok_or_else(resource_not_found)?
        } else {
            return Err(invalid_parameter(format!("Invalid resource ARN: {arn}")));
        };
        let mut merged = current.clone();
        merge_tags(&mut merged, tags);
        validate_tags(&merged)?;
        *current = merged;
        Ok(())
    }

    /// The task definition a service may run: must exist and be ACTIVE.
    fn usable_task_definition(&self, reference: &str) -> AwsResult<&TaskDefRecord> {
        let td = self
            .ecs
            .task_definitions
            .resolve(reference)
            .ok_or_else(task_definition_not_found)?;
        if td.status != TD_ACTIVE {
            return Err(task_definition_inactive());
        }
        Ok(td)
    }
}

/// The configuration after an UpdateService that sends `new`: like ECS, a member the request
/// leaves out (`None`, an empty list, a false flag — what the SDK adapter does not send) keeps
/// its current value.
fn merge_update(old: &ServiceConfig, new: &ServiceConfig) -> ServiceConfig {
    fn keep_list<T: Clone>(n: &[T], o: &[T]) -> Vec<T> {
        if n.is_empty() { o.to_vec() } else { n.to_vec() }
    }
    ServiceConfig {
        launch_type: new.launch_type.clone().or_else(|| old.launch_type.clone()),
        capacity_provider_strategy: if new.capacity_provider_strategy.is_empty()
            && new.launch_type.is_none()
        {
            old.capacity_provider_strategy.clone()
        } else {
            new.capacity_provider_strategy.clone()
        },
        platform_version: new
            .platform_version
            .clone()
            .or_else(|| old.platform_version.clone()),
        network_configuration: new
            .network_configuration
            .clone()
            .or_else(|| old.network_configuration.clone()),
        load_balancers: keep_list(&new.load_balancers, &old.load_balancers),
        service_registries: keep_list(&new.service_registries, &old.service_registries),
        health_check_grace_period_seconds: new
            .health_check_grace_period_seconds
            .or(old.health_check_grace_period_seconds),
        deployment_configuration: new
            .deployment_configuration
            .clone()
            .or_else(|| old.deployment_configuration.clone()),
        enable_execute_command: new.enable_execute_command || old.enable_execute_command,
        enable_ecs_managed_tags: new.enable_ecs_managed_tags || old.enable_ecs_managed_tags,
        propagate_tags: new
            .propagate_tags
            .clone()
            .or_else(|| old.propagate_tags.clone()),
    }
}
