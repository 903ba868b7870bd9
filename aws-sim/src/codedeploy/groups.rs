//! CodeDeploy operations on the world, with the errors CodeDeploy answers: applications,
//! deployment groups (checked against IAM, ECS, ELBv2) and deployment configs. Deployments are
//! `codedeploy_deployments`.

use crate::arn;
use crate::codedeploy::{SimApplication, SimGroup};
use crate::ecs::model::{SERVICE_ACTIVE, SimService};
use crate::world::World;
use aws::codedeploy::{
    ApplicationInfo, DeploymentConfigSpec, DeploymentGroupInfo, DeploymentGroupSpec, Tag,
    TrafficRoutingConfig,
};
use aws::ecs::DeploymentController;
use aws::error::{AwsError, AwsResult};

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

    pub(crate) fn cd_list_groups(&self, app: &str) -> AwsResult<Vec<String>> {
        if !self.codedeploy.applications.contains_key(app) {
            return Err(app_missing(app));
        }
        Ok(self
            .codedeploy
            .groups
            .keys()
            .filter(|(a, _)| a == app)
            .map(|(_, group)| group.clone())
            .collect())
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
    pub(crate) fn cd_service(&self, cluster: &str, service: &str) -> AwsResult<&SimService> {
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
        if svc.deployment_controller != DeploymentController::CodeDeploy {
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
}

/// A UUID-shaped id derived from `parts`.
pub(crate) fn uuid_like(parts: &[&str]) -> String {
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
