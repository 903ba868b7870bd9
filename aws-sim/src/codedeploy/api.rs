//! `impl CodeDeployApi for SimAws`: each operation passes the gate (count, faults, one token
//! bucket for all of CodeDeploy), advances the world, records the rollback deployments of runs
//! that rolled back on their own, then runs the world's operation.

use async_trait::async_trait;

use crate::account::SimAws;
use crate::gate::Operation;
use crate::time::Secs;
use crate::world::World;
use aws::codedeploy::{
    ApplicationInfo, CodeDeployApi, CreateDeploymentInput, DeploymentConfigSpec,
    DeploymentGroupInfo, DeploymentGroupSpec, DeploymentInfo, DeploymentStatus, Tag,
};
use aws::error::AwsResult;

const fn op(key: &'static str, mutating: bool) -> Operation {
    Operation { key, mutating }
}

const GET_APPLICATION: Operation = op("codedeploy:GetApplication", false);
const CREATE_APPLICATION: Operation = op("codedeploy:CreateApplication", true);
const DELETE_APPLICATION: Operation = op("codedeploy:DeleteApplication", true);
const LIST_DEPLOYMENT_GROUPS: Operation = op("codedeploy:ListDeploymentGroups", false);
const GET_DEPLOYMENT_GROUP: Operation = op("codedeploy:GetDeploymentGroup", false);
const CREATE_DEPLOYMENT_GROUP: Operation = op("codedeploy:CreateDeploymentGroup", true);
const UPDATE_DEPLOYMENT_GROUP: Operation = op("codedeploy:UpdateDeploymentGroup", true);
const DELETE_DEPLOYMENT_GROUP: Operation = op("codedeploy:DeleteDeploymentGroup", true);
const GET_DEPLOYMENT_CONFIG: Operation = op("codedeploy:GetDeploymentConfig", false);
const CREATE_DEPLOYMENT_CONFIG: Operation = op("codedeploy:CreateDeploymentConfig", true);
const CREATE_DEPLOYMENT: Operation = op("codedeploy:CreateDeployment", true);
const GET_DEPLOYMENT: Operation = op("codedeploy:GetDeployment", false);
const LIST_DEPLOYMENTS: Operation = op("codedeploy:ListDeployments", false);
const STOP_DEPLOYMENT: Operation = op("codedeploy:StopDeployment", true);
const CONTINUE_DEPLOYMENT: Operation = op("codedeploy:ContinueDeployment", true);

impl SimAws {
    async fn cd<T: Clone>(
        &self,
        op: &Operation,
        f: impl FnOnce(&mut World, Secs) -> AwsResult<T>,
    ) -> AwsResult<T> {
        self.call(op, |w, now| {
            w.cd_record_rollbacks(now);
            f(w, now)
        })
        .await
    }
}

#[async_trait]
impl CodeDeployApi for SimAws {
    async fn get_application(&self, name: &str) -> AwsResult<ApplicationInfo> {
        self.cd(&GET_APPLICATION, |w, _| w.cd_get_application(name))
            .await
    }

    async fn create_application(&self, name: &str, tags: Vec<Tag>) -> AwsResult<String> {
        self.cd(&CREATE_APPLICATION, |w, _| {
            w.cd_create_application(name, tags)
        })
        .await
    }

    async fn get_deployment_group(
        &self,
        application: &str,
        group: &str,
    ) -> AwsResult<DeploymentGroupInfo> {
        self.cd(&GET_DEPLOYMENT_GROUP, |w, _| {
            w.cd_get_group(application, group)
        })
        .await
    }

    async fn create_deployment_group(
        &self,
        spec: DeploymentGroupSpec,
        tags: Vec<Tag>,
    ) -> AwsResult<String> {
        self.cd(&CREATE_DEPLOYMENT_GROUP, |w, _| {
            w.cd_create_group(spec, tags)
        })
        .await
    }

    async fn update_deployment_group(&self, spec: DeploymentGroupSpec) -> AwsResult<()> {
        self.cd(&UPDATE_DEPLOYMENT_GROUP, |w, _| w.cd_update_group(spec))
            .await
    }

    async fn delete_deployment_group(&self, application: &str, group: &str) -> AwsResult<()> {
        self.cd(&DELETE_DEPLOYMENT_GROUP, |w, _| {
            w.cd_delete_group(application, group)
        })
        .await
    }

    async fn delete_application(&self, name: &str) -> AwsResult<()> {
        self.cd(&DELETE_APPLICATION, |w, _| w.cd_delete_application(name))
            .await
    }

    async fn list_deployment_groups(&self, application: &str) -> AwsResult<Vec<String>> {
        self.cd(&LIST_DEPLOYMENT_GROUPS, |w, _| {
            w.cd_list_groups(application)
        })
        .await
    }

    async fn get_deployment_config(&self, name: &str) -> AwsResult<DeploymentConfigSpec> {
        self.cd(&GET_DEPLOYMENT_CONFIG, |w, _| w.cd_get_config(name))
            .await
    }

    async fn create_deployment_config(&self, spec: DeploymentConfigSpec) -> AwsResult<String> {
        self.cd(&CREATE_DEPLOYMENT_CONFIG, |w, _| w.cd_create_config(spec))
            .await
    }

    async fn create_deployment(&self, input: CreateDeploymentInput) -> AwsResult<String> {
        self.cd(&CREATE_DEPLOYMENT, |w, now| {
            w.cd_create_deployment(now, input)
        })
        .await
    }

    async fn get_deployment(&self, id: &str) -> AwsResult<DeploymentInfo> {
        self.cd(&GET_DEPLOYMENT, |w, _| w.cd_get_deployment(id))
            .await
    }

    async fn list_deployments(
        &self,
        application: &str,
        group: &str,
        statuses: &[DeploymentStatus],
        created_after: Option<jiff::Timestamp>,
    ) -> AwsResult<Vec<String>> {
        self.cd(&LIST_DEPLOYMENTS, |w, _| {
            w.cd_list_deployments(application, group, statuses, created_after)
        })
        .await
    }

    async fn stop_deployment(&self, id: &str, auto_rollback_enabled: bool) -> AwsResult<()> {
        self.cd(&STOP_DEPLOYMENT, |w, now| {
            w.cd_stop_deployment(now, id, auto_rollback_enabled)
        })
        .await
    }

    async fn continue_deployment(&self, id: &str, wait_type: &str) -> AwsResult<()> {
        self.cd(&CONTINUE_DEPLOYMENT, |w, now| {
            w.cd_continue_deployment(now, id, wait_type)
        })
        .await
    }
}
