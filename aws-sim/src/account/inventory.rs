//! Everything the account holds, summarised for tests that compare two runs of the same
//! workflow (the kill-point suite): services and how many deployments each had, task
//! definition revisions with their content hash and owner, CodeDeploy resources and
//! deployments, scalable targets, alarms. Read outside the gate: not counted as calls.

use std::collections::BTreeMap;

use aws::ecs::Tag;

use super::SimAws;

/// The owner tag key (the operator's `ecs-operator.dev/owner`).
const OWNER_TAG: &str = "ecs-operator.dev/owner";
/// The content hash tag key (the operator's `ecs-operator.dev/content-hash`).
const CONTENT_HASH_TAG: &str = "ecs-operator.dev/content-hash";

/// One ECS service.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct ServiceItem {
    /// `cluster/name`.
    pub key: String,
    /// ACTIVE, DRAINING or INACTIVE.
    pub status: String,
    /// The PRIMARY deployment's task definition.
    pub task_definition: Option<String>,
    /// Desired count.
    pub desired_count: i32,
    /// Its owner tag.
    pub owner: Option<String>,
    /// ECS deployments the service has had (rolling and blue/green, rollbacks included).
    pub deployments_started: u64,
}

/// One task definition revision.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct RevisionItem {
    /// `family:revision`.
    pub key: String,
    /// ACTIVE or INACTIVE.
    pub status: String,
    /// Its content hash tag.
    pub content_hash: Option<String>,
    /// Its owner tag.
    pub owner: Option<String>,
}

/// What the account holds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Inventory {
    /// ECS services (any status).
    pub services: Vec<ServiceItem>,
    /// Task definition revisions (any status).
    pub revisions: Vec<RevisionItem>,
    /// CodeDeploy applications: name → owner tag.
    pub applications: BTreeMap<String, Option<String>>,
    /// CodeDeploy deployment groups: `application/group` → owner tag.
    pub deployment_groups: BTreeMap<String, Option<String>>,
    /// CodeDeploy deployments per `application/group` and creator (`user`, `codeDeployRollback`).
    pub code_deploy_deployments: BTreeMap<String, u64>,
    /// Scalable targets: resource id → (min, max, owner tag).
    pub scalable_targets: BTreeMap<String, (i32, i32, Option<String>)>,
    /// Scaling policies: `resource id/policy`.
    pub scaling_policies: Vec<String>,
    /// Alarms created by PutMetricAlarm (not the seeded ones).
    pub alarms: Vec<String>,
    /// The distinct messages SNS delivered, as `topic id` by their `id` attribute (a message
    /// published twice after a lost reply counts once: notifications are at least once).
    pub notifications: Vec<String>,
}

fn tag(tags: &[Tag], key: &str) -> Option<String> {
    tags.iter().find(|t| t.key == key).map(|t| t.value.clone())
}

impl SimAws {
    /// What the account holds now.
    pub fn inventory(&self) -> Inventory {
        self.with_world(|w, _| {
            let mut inv = Inventory::default();
            for (cluster, c) in &w.ecs.clusters {
                for s in c.services.values() {
                    inv.services.push(ServiceItem {
                        key: format!("{cluster}/{}", s.name),
                        status: s.status.to_owned(),
                        task_definition: s.deployments.first().map(|d| d.task_definition.clone()),
                        desired_count: s.desired_count,
                        owner: tag(&s.tags, OWNER_TAG),
                        deployments_started: s.next_deployment_seq,
                    });
                }
            }
            for (family, revisions) in w.ecs.task_definitions.families() {
                for r in revisions {
                    inv.revisions.push(RevisionItem {
                        key: format!("{family}:{}", r.revision),
                        status: r.status.to_owned(),
                        content_hash: tag(&r.tags, CONTENT_HASH_TAG),
                        owner: tag(&r.tags, OWNER_TAG),
                    });
                }
            }
            for (name, app) in &w.codedeploy.applications {
                inv.applications
                    .insert(name.clone(), tag(&app.tags, OWNER_TAG));
            }
            for ((app, group), g) in &w.codedeploy.groups {
                inv.deployment_groups
                    .insert(format!("{app}/{group}"), tag(&g.tags, OWNER_TAG));
            }
            for d in w.codedeploy.deployments.values() {
                *inv.code_deploy_deployments
                    .entry(format!("{}/{} by {}", d.application, d.group, d.creator))
                    .or_default() += 1;
            }
            for (id, t) in &w.autoscaling.targets {
                inv.scalable_targets
                    .insert(id.clone(), (t.min, t.max, tag(&t.tags, OWNER_TAG)));
                inv.scaling_policies
                    .extend(t.policies.keys().map(|p| format!("{id}/{p}")));
            }
            inv.alarms = w
                .alarms
                .alarms
                .iter()
                .filter(|(_, a)| a.definition.is_some())
                .map(|(name, _)| name.clone())
                .collect();
            let distinct: std::collections::BTreeSet<String> = (w.sns.delivered.iter())
                .map(|m| {
                    let id = m.attributes.get("id").map_or("-", String::as_str);
                    format!("{} {id}", m.topic)
                })
                .collect();
            inv.notifications = distinct.into_iter().collect();
            inv.services.sort();
            inv.revisions.sort();
            inv
        })
    }
}
