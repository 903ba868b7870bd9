//! `SdkEcs`: the [`EcsApi`] adapter over `aws_sdk_ecs`. It batches (DescribeServices takes 10
//! names), paginates, keeps answers in the order asked, and translates ECS quirks (a missing
//! service comes back in `failures`, not as an error). The conversions live in the submodules;
//! nothing outside `aws/` sees an `aws_sdk_*` type.

mod common;
mod deployment_config;
mod service;
mod task_definition;

use async_trait::async_trait;
use aws_config::SdkConfig;
use aws_sdk_ecs::Client;
use aws_sdk_ecs::types as sdk;

use crate::ecs::{
    CreateServiceInput, DESCRIBE_SERVICES_BATCH, EcsApi, Service, ServiceDeployment, ServiceLookup,
    ServiceRevision, ServiceStatus, Tag, TaskDefinition, TaskDefinitionInput, UpdateServiceInput,
};
use crate::error::{AwsError, AwsResult, ErrorKind};
use crate::sdk::{aws_error, build_error};

/// Most ARNs one DescribeServiceDeployments or DescribeServiceRevisions call accepts.
pub const DESCRIBE_SERVICE_DEPLOYMENTS_BATCH: usize = 20;

/// Amazon ECS through the AWS SDK.
#[derive(Debug, Clone)]
pub struct SdkEcs {
    client: Client,
}

impl SdkEcs {
    /// An adapter for the account, region and endpoint of `config`.
    pub fn new(config: &SdkConfig) -> Self {
        Self {
            client: Client::new(config),
        }
    }
}

/// What DescribeServices said about the names of one call.
struct DescribeAnswer {
    services: Vec<Service>,
    /// `(arn, reason, detail)` of each failure.
    failures: Vec<(String, String, String)>,
}

/// The last path segment of a name or ARN (`…:service/cluster/name` → `name`).
fn short_name(name_or_arn: &str) -> &str {
    name_or_arn.rsplit('/').next().unwrap_or(name_or_arn)
}

/// One lookup per name, in the order asked. A name answered by neither `services` nor
/// `failures`, or failed for a reason other than MISSING, is an error.
fn lookups_in_order(names: &[String], answer: DescribeAnswer) -> AwsResult<Vec<ServiceLookup>> {
    let DescribeAnswer { services, failures } = answer;
    names
        .iter()
        .map(|name| {
            let found = services
                .iter()
                .filter(|s| s.service_arn == *name || s.service_name == short_name(name))
                // A deleted service may linger as INACTIVE next to its recreated namesake.
                .min_by_key(|s| s.status == ServiceStatus::Inactive);
            if let Some(service) = found {
                return Ok(ServiceLookup::Found(Box::new(service.clone())));
            }
            let failure = failures
                .iter()
                .find(|(arn, _, _)| arn == name || short_name(arn) == short_name(name));
            match failure {
                Some((_, reason, _)) if reason == "MISSING" => Ok(ServiceLookup::Missing),
                Some((arn, reason, detail)) => Err(AwsError::from_code(
                    reason,
                    format!("{arn}: {detail}"),
                    None,
                )),
                None => Err(AwsError::new(
                    ErrorKind::Transient,
                    "IncompleteResponse",
                    format!("DescribeServices said nothing about {name}"),
                )),
            }
        })
        .collect()
}

/// The revision number of a task definition ARN (`…:task-definition/family:17` → 17).
fn revision_of(arn: &str) -> Option<(&str, i64)> {
    let (family, revision) = short_name(arn).rsplit_once(':')?;
    Some((family, revision.parse().ok()?))
}

#[async_trait]
impl EcsApi for SdkEcs {
    async fn describe_services(
        &self,
        cluster: &str,
        names: &[String],
    ) -> AwsResult<Vec<ServiceLookup>> {
        let mut lookups = Vec::with_capacity(names.len());
        for chunk in names.chunks(DESCRIBE_SERVICES_BATCH) {
            let out = self
                .client
                .describe_services()
                .cluster(cluster)
                .set_services(Some(chunk.to_vec()))
                .include(sdk::ServiceField::Tags)
                .send()
                .await
                .map_err(aws_error)?;
            let answer = DescribeAnswer {
                services: out
                    .services
                    .unwrap_or_default()
                    .into_iter()
                    .map(service::service_from_sdk)
                    .collect(),
                failures: out
                    .failures
                    .unwrap_or_default()
                    .into_iter()
                    .map(|f| {
                        (
                            f.arn.unwrap_or_default(),
                            f.reason.unwrap_or_default(),
                            f.detail.unwrap_or_default(),
                        )
                    })
                    .collect(),
            };
            lookups.extend(lookups_in_order(chunk, answer)?);
        }
        Ok(lookups)
    }

    async fn create_service(&self, input: CreateServiceInput) -> AwsResult<Service> {
        let req =
            service::create_request(self.client.create_service(), input).map_err(build_error)?;
        let out = req.send().await.map_err(aws_error)?;
        returned_service(out.service, "CreateService")
    }

    async fn update_service(&self, input: UpdateServiceInput) -> AwsResult<Service> {
        let req =
            service::update_request(self.client.update_service(), input).map_err(build_error)?;
        let out = req.send().await.map_err(aws_error)?;
        returned_service(out.service, "UpdateService")
    }

    async fn delete_service(
        &self,
        cluster: &str,
        service: &str,
        force: bool,
    ) -> AwsResult<Service> {
        let out = self
            .client
            .delete_service()
            .cluster(cluster)
            .service(service)
            .force(force)
            .send()
            .await
            .map_err(aws_error)?;
        returned_service(out.service, "DeleteService")
    }

    async fn register_task_definition(
        &self,
        input: TaskDefinitionInput,
    ) -> AwsResult<TaskDefinition> {
        let sent_tags = common::tags_to_sdk(input.tags.clone());
        let req = task_definition::register_request(self.client.register_task_definition(), input)
            .map_err(build_error)?;
        let out = req.send().await.map_err(aws_error)?;
        let td = out
            .task_definition
            .ok_or_else(|| incomplete("RegisterTaskDefinition", "taskDefinition"))?;
        // AWS echoes the tags; an emulator that does not still registered the ones sent.
        let tags = out.tags.or(Some(sent_tags));
        Ok(task_definition::task_definition_from_sdk(td, tags))
    }

    async fn describe_task_definition(&self, arn: &str) -> AwsResult<TaskDefinition> {
        let out = self
            .client
            .describe_task_definition()
            .task_definition(arn)
            .include(sdk::TaskDefinitionField::Tags)
            .send()
            .await
            .map_err(aws_error)?;
        let td = out
            .task_definition
            .ok_or_else(|| incomplete("DescribeTaskDefinition", "taskDefinition"))?;
        Ok(task_definition::task_definition_from_sdk(td, out.tags))
    }

    async fn list_task_definitions(&self, family: &str) -> AwsResult<Vec<String>> {
        let mut arns = Vec::new();
        let mut next_token = None;
        loop {
            let out = self
                .client
                .list_task_definitions()
                .family_prefix(family)
                .status(sdk::TaskDefinitionStatus::Active)
                .sort(sdk::SortOrder::Desc)
                .set_next_token(next_token)
                .send()
                .await
                .map_err(aws_error)?;
            arns.extend(out.task_definition_arns.unwrap_or_default());
            next_token = out.next_token.filter(|t| !t.is_empty());
            if next_token.is_none() {
                break;
            }
        }
        // familyPrefix is documented as the full family name; keep exactly that family, newest
        // first whatever order the pages came in.
        arns.retain(|arn| revision_of(arn).is_some_and(|(f, _)| f == family));
        arns.sort_by_key(|arn| std::cmp::Reverse(revision_of(arn).map(|(_, r)| r)));
        Ok(arns)
    }

    async fn deregister_task_definition(&self, arn: &str) -> AwsResult<()> {
        self.client
            .deregister_task_definition()
            .task_definition(arn)
            .send()
            .await
            .map_err(aws_error)?;
        Ok(())
    }

    async fn tag_resource(&self, arn: &str, tags: Vec<Tag>) -> AwsResult<()> {
        self.client
            .tag_resource()
            .resource_arn(arn)
            .set_tags(Some(common::tags_to_sdk(tags)))
            .send()
            .await
            .map_err(aws_error)?;
        Ok(())
    }

    async fn list_service_deployments(
        &self,
        cluster: &str,
        service: &str,
    ) -> AwsResult<Vec<String>> {
        let mut briefs = Vec::new();
        let mut next_token = None;
        loop {
            let out = self
                .client
                .list_service_deployments()
                .cluster(cluster)
                .service(service)
                .set_next_token(next_token)
                .send()
                .await
                .map_err(aws_error)?;
            briefs.extend(out.service_deployments.unwrap_or_default());
            next_token = out.next_token.filter(|t| !t.is_empty());
            if next_token.is_none() {
                break;
            }
        }
        briefs.sort_by_key(|b| std::cmp::Reverse(b.created_at));
        Ok(briefs
            .into_iter()
            .filter_map(|b| b.service_deployment_arn)
            .collect())
    }

    async fn describe_service_deployments(
        &self,
        arns: &[String],
    ) -> AwsResult<Vec<ServiceDeployment>> {
        let mut deployments = Vec::with_capacity(arns.len());
        for chunk in arns.chunks(DESCRIBE_SERVICE_DEPLOYMENTS_BATCH) {
            let out = self
                .client
                .describe_service_deployments()
                .set_service_deployment_arns(Some(chunk.to_vec()))
                .send()
                .await
                .map_err(aws_error)?;
            deployments.extend(
                out.service_deployments
                    .unwrap_or_default()
                    .into_iter()
                    .map(service::service_deployment_from_sdk),
            );
        }
        Ok(deployments)
    }

    async fn describe_service_revisions(&self, arns: &[String]) -> AwsResult<Vec<ServiceRevision>> {
        let mut revisions = Vec::with_capacity(arns.len());
        for chunk in arns.chunks(DESCRIBE_SERVICE_DEPLOYMENTS_BATCH) {
            let out = self
                .client
                .describe_service_revisions()
                .set_service_revision_arns(Some(chunk.to_vec()))
                .send()
                .await
                .map_err(aws_error)?;
            revisions.extend(
                out.service_revisions
                    .unwrap_or_default()
                    .into_iter()
                    .map(service::service_revision_from_sdk),
            );
        }
        Ok(revisions)
    }

    async fn stop_service_deployment(&self, arn: &str, stop_type: &str) -> AwsResult<()> {
        self.client
            .stop_service_deployment()
            .service_deployment_arn(arn)
            .stop_type(sdk::StopServiceDeploymentStopType::from(stop_type))
            .send()
            .await
            .map_err(aws_error)?;
        Ok(())
    }

    async fn continue_service_deployment(
        &self,
        arn: &str,
        hook_id: &str,
        action: &str,
    ) -> AwsResult<()> {
        self.client
            .continue_service_deployment()
            .service_deployment_arn(arn)
            .hook_id(hook_id)
            .action(sdk::DeploymentLifecycleHookAction::from(action))
            .send()
            .await
            .map_err(aws_error)?;
        Ok(())
    }
}

fn returned_service(service: Option<sdk::Service>, operation: &str) -> AwsResult<Service> {
    service
        .map(service::service_from_sdk)
        .ok_or_else(|| incomplete(operation, "service"))
}

fn incomplete(operation: &str, member: &str) -> AwsError {
    AwsError::new(
        ErrorKind::Transient,
        "IncompleteResponse",
        format!("{operation} answered without {member}"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn service(name: &str, status: &str) -> Service {
        Service {
            service_arn: format!("arn:aws:ecs:eu-west-1:1:service/c/{name}"),
            service_name: name.to_owned(),
            status: status.into(),
            ..Service::default()
        }
    }

    fn names(n: &[&str]) -> Vec<String> {
        n.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn lookups_follow_the_order_asked_and_report_missing() {
        let answer = DescribeAnswer {
            services: vec![service("b", "ACTIVE"), service("a", "ACTIVE")],
            failures: vec![(
                "arn:aws:ecs:eu-west-1:1:service/c/gone".into(),
                "MISSING".into(),
                String::new(),
            )],
        };
        let got = lookups_in_order(&names(&["a", "gone", "b"]), answer).unwrap();
        let summary: Vec<_> = got
            .iter()
            .map(|l| match l {
                ServiceLookup::Found(s) => s.service_name.clone(),
                ServiceLookup::Missing => "-".into(),
            })
            .collect();
        assert_eq!(summary, ["a", "-", "b"]);
    }

    #[test]
    fn an_arn_matches_its_service_and_active_wins_over_inactive() {
        let answer = DescribeAnswer {
            services: vec![service("a", "INACTIVE"), service("a", "ACTIVE")],
            failures: vec![],
        };
        let arn = "arn:aws:ecs:eu-west-1:1:service/c/a".to_owned();
        let got = lookups_in_order(&[arn], answer).unwrap();
        assert!(matches!(&got[0], ServiceLookup::Found(s) if s.status == ServiceStatus::Active));
    }

    #[test]
    fn unexplained_names_and_other_failures_are_errors() {
        let empty = DescribeAnswer {
            services: vec![],
            failures: vec![],
        };
        let err = lookups_in_order(&names(&["a"]), empty).unwrap_err();
        assert_eq!(err.kind, ErrorKind::Transient);
        let throttled = DescribeAnswer {
            services: vec![],
            failures: vec![("a".into(), "ThrottlingException".into(), String::new())],
        };
        let err = lookups_in_order(&names(&["a"]), throttled).unwrap_err();
        assert_eq!(err.kind, ErrorKind::Throttled);
    }

    #[test]
    fn revisions_parse_from_arns() {
        let arn = "arn:aws:ecs:eu-west-1:1:task-definition/web:17";
        assert_eq!(revision_of(arn), Some(("web", 17)));
        assert_eq!(revision_of("web"), None);
    }
}
