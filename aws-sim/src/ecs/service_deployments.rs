//! ECS-native service deployment operations on the world: ListServiceDeployments,
//! DescribeServiceDeployments, DescribeServiceRevisions, StopServiceDeployment and
//! ContinueServiceDeployment. Rolling deployments appear as service deployments without
//! lifecycle stages or hooks; a blue/green run (`ecs_bluegreen`) adds both, rolls back on
//! StopServiceDeployment and answers its PAUSE hooks on ContinueServiceDeployment.

use crate::arn;
use crate::ecs::blue_green::start::decorate;
use crate::ecs::blue_green::{Failure, answer_hook, roll_back};
use crate::ecs::deployments::fail_primary;
use crate::ecs::engine::{advance_service, next_event, schedule};
use crate::ecs::errors::{
    cluster_not_found, conflict, invalid_parameter, service_deployment_not_found, service_not_found,
};
use crate::ecs::model::{SimService, sd_status};
use crate::time::Secs;
use crate::world::World;
use aws::ecs::{ServiceDeployment, ServiceRevision};
use aws::error::AwsResult;

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
                let (index, sd) = svc
                    .service_deployments
                    .iter()
                    .enumerate()
                    .find(|(_, sd)| &sd.arn == a)?;
                let mut api = svc.service_deployment_to_api(sd);
                decorate(svc, index, &mut api);
                Some(api)
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
        let run_owns = svc
            .bluegreen
            .as_ref()
            .is_some_and(|r| r.is_active() && r.sd_index == index);
        if run_owns {
            advance_service(svc, now, &env);
            let failure = Failure {
                stopped: true,
                reason: format!(
                    "Service deployment stopped by StopServiceDeployment ({stop_type})."
                ),
            };
            if !roll_back(svc, now, failure) {
                return Err(conflict(format!(
                    "The service deployment {sd_arn} is cleaning up and cannot be stopped."
                )));
            }
            schedule(svc, now, &env);
            let wake = next_event(svc);
            self.ecs.wake_at(wake);
            return Ok(());
        }
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

    /// ContinueServiceDeployment: answers a PAUSE hook of the blue/green run the service
    /// deployment belongs to (rolling deployments have no hooks to answer).
    pub(crate) fn ecs_continue_service_deployment(
        &mut self,
        now: Secs,
        sd_arn: &str,
        hook_id: &str,
        action: &str,
    ) -> AwsResult<()> {
        if !["CONTINUE", "ROLLBACK"].contains(&action) {
            return Err(invalid_parameter(format!(
                "Invalid action: {action}. Valid values are CONTINUE, ROLLBACK."
            )));
        }
        let (cluster, service) = self.service_key(sd_arn, "service-deployment/")?;
        let (clusters, env) = self.ecs_parts();
        let svc = clusters
            .get_mut(&cluster)
            .and_then(|c| c.services.get_mut(&service))
            .ok_or_else(|| service_deployment_not_found(sd_arn))?;
        let Some(index) = svc
            .service_deployments
            .iter()
            .position(|sd| sd.arn == sd_arn)
        else {
            return Err(service_deployment_not_found(sd_arn));
        };
        let not_awaiting = || {
            invalid_parameter(format!(
                "The lifecycle hook {hook_id} is not awaiting action for service deployment {sd_arn}."
            ))
        };
        if !svc
            .bluegreen
            .as_ref()
            .is_some_and(|r| r.is_active() && r.sd_index == index)
        {
            return Err(not_awaiting());
        }
        advance_service(svc, now, &env);
        answer_hook(svc, now, Some(hook_id), action == "CONTINUE").map_err(|_| not_awaiting())?;
        schedule(svc, now, &env);
        let wake = next_event(svc);
        self.ecs.wake_at(wake);
        Ok(())
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
