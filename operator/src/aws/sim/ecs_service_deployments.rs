//! ECS-native service deployment operations on the world: ListServiceDeployments,
//! DescribeServiceDeployments, DescribeServiceRevisions, StopServiceDeployment and
//! ContinueServiceDeployment. Rolling deployments appear as service deployments without
//! lifecycle stages or hooks; the blue/green strategies will add both.

use super::arn;
use super::ecs_engine::{advance_service, next_event, schedule};
use super::ecs_errors::{
    cluster_not_found, conflict, invalid_parameter, service_deployment_not_found, service_not_found,
};
use super::ecs_model::{SimService, sd_status};
use super::ecs_rollout::fail_primary;
use super::world::{Secs, World};
use crate::aws::ecs::{ServiceDeployment, ServiceRevision};
use crate::aws::error::AwsResult;

/// Most ARNs DescribeServiceDeployments and DescribeServiceRevisions accept.
const DESCRIBE_BATCH: usize = 20;

impl World {
    /// ListServiceDeployments of a service, newest first.
    pub(crate) fn ecs_list_service_deployments(
        &self,
        cluster: &str,
        service: &str,
    ) -> AwsResult<Vec<String>> {
        let cluster = self.cluster_name(cluster).ok_or_else(cluster_not_found)?;
        let svc = self.ecs.clusters[cluster]
            .services
            .get(arn::name_from_arn(service))
            .ok_or_else(service_not_found)?;
        Ok(svc
            .service_deployments
            .iter()
            .rev()
            .map(|sd| sd.arn.clone())
            .collect())
    }

    /// DescribeServiceDeployments; unknown ARNs are left out (AWS lists them in `failures`).
    pub(crate) fn ecs_describe_service_deployments(
        &self,
        arns: &[String],
    ) -> AwsResult<Vec<ServiceDeployment>> {
        check_batch(arns, "serviceDeploymentArns")?;
        Ok(arns
            .iter()
            .filter_map(|a| {
                let svc = self.service_of(a, "service-deployment/")?;
                let sd = svc.service_deployments.iter().find(|sd| &sd.arn == a)?;
                Some(svc.service_deployment_to_api(sd))
            })
            .collect())
    }

    /// DescribeServiceRevisions; unknown ARNs are left out.
    pub(crate) fn ecs_describe_service_revisions(
        &self,
        arns: &[String],
    ) -> AwsResult<Vec<ServiceRevision>> {
        check_batch(arns, "serviceRevisionArns")?;
        Ok(arns
            .iter()
            .filter_map(|a| self.service_of(a, "service-revision/")?.revision_to_api(a))
            .collect())
    }

    /// StopServiceDeployment: ROLLBACK goes back to the last completed revision, ABORT stops
    /// launching and leaves the tasks as they are.
    pub(crate) fn ecs_stop_service_deployment(
        &mut self,
        now: Secs,
        sd_arn: &str,
        stop_type: &str,
    ) -> AwsResult<()> {
        if !["ROLLBACK", "ABORT"].contains(&stop_type) {
            return Err(invalid_parameter(format!(
                "Invalid stopType: {stop_type}. Valid values are ABORT, ROLLBACK."
            )));
        }
        let (cluster, service) = self.service_key(sd_arn, "service-deployment/")?;
        let (clusters, env) = self.ecs_parts();
        let svc = clusters
            .get_mut(&cluster)
            .and_then(|c| c.services.get_mut(&service))
            .ok_or_else(|| service_deployment_not_found(sd_arn))?;
        let index = svc
            .service_deployments
            .iter()
            .position(|sd| sd.arn == sd_arn)
            .ok_or_else(|| service_deployment_not_found(sd_arn))?;
        let primary_owns = svc.primary().is_some_and(|p| p.sd_index == index);
        if svc.service_deployments[index].status != sd_status::IN_PROGRESS || !primary_owns {
            return Err(conflict(format!(
                "The service deployment {sd_arn} is not in progress and cannot be stopped."
            )));
        }
        advance_service(svc, now, &env);
        let reason = format!("Service deployment stopped by StopServiceDeployment ({stop_type}).");
        let rollback = stop_type == "ROLLBACK";
        fail_primary(svc, now, &env, reason, rollback, "stop request");
        if rollback && svc.service_deployments[index].status == sd_status::STOPPED {
            // Nothing to roll back to: AWS refuses rather than stopping.
            svc.service_deployments[index].status = sd_status::ROLLBACK_FAILED;
        }
        schedule(svc, now, &env);
        let wake = next_event(svc);
        self.ecs.wake_at(wake);
        Ok(())
    }

    /// ContinueServiceDeployment: rolling deployments have no lifecycle hooks to answer.
    pub(crate) fn ecs_continue_service_deployment(
        &mut self,
        sd_arn: &str,
        hook_id: &str,
        action: &str,
    ) -> AwsResult<()> {
        if !["CONTINUE", "ROLLBACK"].contains(&action) {
            return Err(invalid_parameter(format!(
                "Invalid action: {action}. Valid values are CONTINUE, ROLLBACK."
            )));
        }
        let svc = self
            .service_of(sd_arn, "service-deployment/")
            .ok_or_else(|| service_deployment_not_found(sd_arn))?;
        if !svc.service_deployments.iter().any(|sd| sd.arn == sd_arn) {
            return Err(service_deployment_not_found(sd_arn));
        }
        Err(invalid_parameter(format!(
            "The lifecycle hook {hook_id} is not awaiting action for service deployment {sd_arn}."
        )))
    }

    /// (cluster, service) named by a service-deployment or service-revision ARN.
    fn service_key(&self, resource_arn: &str, kind: &str) -> AwsResult<(String, String)> {
        let prefix = format!("arn:aws:ecs:{}:{}:{kind}", self.region, self.account_id);
        let rest = resource_arn
            .strip_prefix(prefix.as_str())
            .ok_or_else(|| invalid_parameter(format!("Invalid ARN: {resource_arn}")))?;
        let mut parts = rest.split('/');
        match (parts.next(), parts.next(), parts.next(), parts.next()) {
            (Some(cluster), Some(service), Some(_id), None) => {
                Ok((cluster.to_owned(), service.to_owned()))
            }
            _ => Err(invalid_parameter(format!("Invalid ARN: {resource_arn}"))),
        }
    }

    /// The service a service-deployment or service-revision ARN belongs to.
    fn service_of(&self, resource_arn: &str, kind: &str) -> Option<&SimService> {
        let (cluster, service) = self.service_key(resource_arn, kind).ok()?;
        self.ecs.clusters.get(&cluster)?.services.get(&service)
    }
}

fn check_batch(arns: &[String], member: &str) -> AwsResult<()> {
    if arns.is_empty() {
        return Err(invalid_parameter(format!("{member} cannot be empty.")));
    }
    if arns.len() > DESCRIBE_BATCH {
        return Err(invalid_parameter(format!(
            "{member} can have at most {DESCRIBE_BATCH} items."
        )));
    }
    Ok(())
}
