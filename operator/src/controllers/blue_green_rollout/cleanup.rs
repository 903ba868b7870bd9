//! Deletion of a BlueGreenRollout: with deletionPolicy Delete, the CodeDeploy deployment group
//! the rollout created is deleted once no deployment of it runs, then the application it created
//! once no other group is left in it. What the rollout did not create (as its status records)
//! is never touched; with Retain nothing is.

use crds::BlueGreenRollout;
use crds::common::DeletionPolicy;

use crate::controllers::runtime::finalizer::Cleanup;
use aws::codedeploy::{ACTIVE_DEPLOYMENT_STATUSES, CodeDeployApi};
use aws::{AwsError, AwsResult, ErrorKind};

fn ok_if_gone(result: AwsResult<()>) -> AwsResult<()> {
    match result {
        Err(e) if e.kind == ErrorKind::NotFound => Ok(()),
        other => other,
    }
}

/// Deletes what the rollout created, in order: group, then application.
pub async fn cleanup(
    obj: &BlueGreenRollout,
    codedeploy: &dyn CodeDeployApi,
) -> Result<Cleanup, AwsError> {
    let created = obj.status.as_ref().and_then(|s| s.code_deploy.as_ref());
    let Some(created) = created.filter(|_| obj.spec.deletion_policy == DeletionPolicy::Delete)
    else {
        return Ok(Cleanup::Done(Vec::new()));
    };
    let (app, group) = (
        created.application_name.as_str(),
        created.deployment_group_name.as_str(),
    );
    let mut events = Vec::new();
    if created.created_deployment_group {
        let running = match codedeploy
            .list_deployments(app, group, &ACTIVE_DEPLOYMENT_STATUSES, None)
            .await
        {
            Ok(ids) => ids,
            Err(e) if e.kind == ErrorKind::NotFound => Vec::new(),
            Err(e) => return Err(e),
        };
        if let Some(id) = running.first() {
            return Ok(Cleanup::Waiting(format!(
                "deployment {id} of CodeDeploy deployment group {app}/{group} is still running; the group is deleted once it has finished"
            )));
        }
        ok_if_gone(codedeploy.delete_deployment_group(app, group).await)?;
        events.push((
            "DeploymentGroupDeleted",
            format!("deleted CodeDeploy deployment group {app}/{group}"),
        ));
    }
    if created.created_application {
        let remaining = match codedeploy.list_deployment_groups(app).await {
            Ok(groups) => groups,
            Err(e) if e.kind == ErrorKind::NotFound => return Ok(Cleanup::Done(events)),
            Err(e) => return Err(e),
        };
        if remaining.is_empty() {
            ok_if_gone(codedeploy.delete_application(app).await)?;
            events.push((
                "ApplicationDeleted",
                format!("deleted CodeDeploy application {app}"),
            ));
        } else {
            events.push((
                "ApplicationRetained",
                format!(
                    "kept CodeDeploy application {app}: it still holds deployment groups {}",
                    remaining.join(", ")
                ),
            ));
        }
    }
    Ok(Cleanup::Done(events))
}
