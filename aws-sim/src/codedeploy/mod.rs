//! CodeDeploy state of the simulated account: applications, ECS blue/green deployment groups,
//! deployment configs (the predefined ECS ones and custom ones) and deployments. A deployment's
//! progress is not stored here: it is the ECS blue/green run of its service (`ecs_bluegreen`),
//! read through `view`; once a newer deployment starts the older one's view is frozen.

pub(crate) mod api;
pub(crate) mod appspec;
pub(crate) mod deployments;
pub(crate) mod groups;

use std::collections::BTreeMap;

use crate::ecs::blue_green::model::{BlueGreenRun, Controller, Stage};
use crate::time::{Secs, to_timestamp};
use aws::codedeploy::{
    DeploymentGroupSpec, DeploymentInfo, DeploymentStatus, Tag, TrafficRoutingConfig,
};

/// The predefined ECS deployment configs.
pub(crate) fn predefined_configs() -> BTreeMap<String, TrafficRoutingConfig> {
    let linear = |percentage, interval_minutes| TrafficRoutingConfig::TimeBasedLinear {
        percentage,
        interval_minutes,
    };
    let canary = |percentage, interval_minutes| TrafficRoutingConfig::TimeBasedCanary {
        percentage,
        interval_minutes,
    };
    [
        (
            "CodeDeployDefault.ECSAllAtOnce",
            TrafficRoutingConfig::AllAtOnce,
        ),
        (
            "CodeDeployDefault.ECSLinear10PercentEvery1Minutes",
            linear(10, 1),
        ),
        (
            "CodeDeployDefault.ECSLinear10PercentEvery3Minutes",
            linear(10, 3),
        ),
        (
            "CodeDeployDefault.ECSCanary10Percent5Minutes",
            canary(10, 5),
        ),
        (
            "CodeDeployDefault.ECSCanary10Percent15Minutes",
            canary(10, 15),
        ),
    ]
    .into_iter()
    .map(|(name, routing)| (name.to_owned(), routing))
    .collect()
}

/// An application.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SimApplication {
    /// Id.
    pub id: String,
    /// Tags.
    pub tags: Vec<Tag>,
}

/// A deployment group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SimGroup {
    /// Id.
    pub id: String,
    /// Configuration.
    pub spec: DeploymentGroupSpec,
    /// Tags.
    pub tags: Vec<Tag>,
}

/// What GetDeployment shows of a deployment's progress.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Progress {
    /// Status.
    pub status: DeploymentStatus,
    /// errorInformation.message.
    pub error: Option<String>,
    /// instanceTerminationWaitTimeStarted.
    pub termination_wait_started: bool,
    /// completeTime.
    pub completed_at: Option<Secs>,
}

/// A deployment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SimCdDeployment {
    /// Creation order.
    pub seq: u64,
    /// `d-…`.
    pub id: String,
    /// Application.
    pub application: String,
    /// Deployment group.
    pub group: String,
    /// Deployment config name.
    pub config_name: String,
    /// The AppSpec as given.
    pub app_spec: String,
    /// `user` or `codeDeployRollback`.
    pub creator: &'static str,
    /// The ECS cluster and service.
    pub cluster: String,
    /// Service name.
    pub service: String,
    /// The deployment this one rolls back (rollback deployments).
    pub rollback_of: Option<String>,
    /// The deployment that rolls this one back.
    pub rollback_id: Option<String>,
    /// Created.
    pub created_at: Secs,
    /// Progress fixed once a newer deployment of the group started (or the service vanished).
    pub frozen: Option<Progress>,
}

impl SimCdDeployment {
    /// The progress of the deployment, given the run of its service.
    pub fn progress(&self, run: Option<&BlueGreenRun>) -> Progress {
        if let Some(frozen) = &self.frozen {
            return frozen.clone();
        }
        let run = run.filter(|r| match &r.plan.controller {
            Controller::CodeDeploy { deployment_id } => {
                Some(deployment_id) == self.rollback_of.as_ref().or(Some(&self.id))
            }
            Controller::EcsNative => false,
        });
        let Some(run) = run else {
            return Progress {
                status: DeploymentStatus::Failed,
                error: Some("The ECS service no longer runs this deployment.".to_owned()),
                termination_wait_started: false,
                completed_at: None,
            };
        };
        let in_progress = |status, termination_wait_started| Progress {
            status,
            error: None,
            termination_wait_started,
            completed_at: None,
        };
        if self.rollback_of.is_some() {
            return match run.stage {
                Stage::RolledBack => Progress {
                    completed_at: run.finished_at,
                    ..in_progress(DeploymentStatus::Succeeded, false)
                },
                _ => in_progress(DeploymentStatus::InProgress, false),
            };
        }
        match run.stage {
            Stage::PostTestTrafficShift if run.awaiting_hook().is_some() => {
                in_progress(DeploymentStatus::Ready, false)
            }
            Stage::BakeTime | Stage::CleanUp => in_progress(DeploymentStatus::InProgress, true),
            Stage::Done => Progress {
                completed_at: run.finished_at,
                ..in_progress(DeploymentStatus::Succeeded, true)
            },
            Stage::RollingBack | Stage::RolledBack => {
                let failure = run.failure.clone();
                Progress {
                    status: if failure.as_ref().is_some_and(|f| f.stopped) {
                        DeploymentStatus::Stopped
                    } else {
                        DeploymentStatus::Failed
                    },
                    error: failure.map(|f| f.reason),
                    termination_wait_started: false,
                    completed_at: Some(run.stage_since),
                }
            }
            _ => in_progress(DeploymentStatus::InProgress, false),
        }
    }

    /// The GetDeployment view.
    pub fn to_api(&self, progress: Progress, rollback_message: Option<String>) -> DeploymentInfo {
        DeploymentInfo {
            deployment_id: self.id.clone(),
            application_name: self.application.clone(),
            deployment_group_name: self.group.clone(),
            deployment_config_name: self.config_name.clone(),
            status: progress.status,
            error_message: progress.error,
            creator: Some(self.creator.to_owned()),
            app_spec_content: Some(self.app_spec.clone()),
            instance_termination_wait_time_started: progress.termination_wait_started,
            rollback_deployment_id: self.rollback_id.clone(),
            rollback_triggering_deployment_id: self.rollback_of.clone(),
            rollback_message,
            create_time: Some(to_timestamp(self.created_at)),
            complete_time: progress.completed_at.map(to_timestamp),
        }
    }
}

/// All CodeDeploy state of the account.
#[derive(Debug, Clone)]
pub(crate) struct CodeDeployState {
    /// Applications by name.
    pub applications: BTreeMap<String, SimApplication>,
    /// Deployment groups by (application, name).
    pub groups: BTreeMap<(String, String), SimGroup>,
    /// Deployment configs by name (predefined ones included).
    pub configs: BTreeMap<String, TrafficRoutingConfig>,
    /// Deployments by id.
    pub deployments: BTreeMap<String, SimCdDeployment>,
    /// Next creation sequence number.
    pub next_seq: u64,
}

impl Default for CodeDeployState {
    fn default() -> Self {
        Self {
            applications: BTreeMap::new(),
            groups: BTreeMap::new(),
            configs: predefined_configs(),
            deployments: BTreeMap::new(),
            next_seq: 1,
        }
    }
}

impl CodeDeployState {
    /// Deployments of a group, newest first.
    pub fn of_group<'a>(
        &'a self,
        application: &'a str,
        group: &'a str,
    ) -> impl Iterator<Item = &'a SimCdDeployment> + 'a {
        let mut found: Vec<&SimCdDeployment> = self
            .deployments
            .values()
            .filter(|d| d.application == application && d.group == group)
            .collect();
        found.sort_by_key(|d| std::cmp::Reverse(d.seq));
        found.into_iter()
    }

    /// A new deployment id (`d-` and nine characters), derived from the sequence.
    pub fn next_id(&mut self) -> (u64, String) {
        let seq = self.next_seq;
        self.next_seq += 1;
        const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
        let mut state = crate::arn::stable_hash(&["codedeploy-deployment", &seq.to_string()]);
        let tail: String = (0..9)
            .map(|_| {
                state = crate::arn::splitmix(state);
                char::from(ALPHABET[(state % ALPHABET.len() as u64) as usize])
            })
            .collect();
        (seq, format!("d-{tail}"))
    }
}
