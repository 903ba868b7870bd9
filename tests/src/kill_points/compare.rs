//! What a kill run is judged by: the outcome of a run (the AWS inventory, the identifiers and
//! conditions of every status, the writes made), how it differs from the clean run's, and the
//! invariants every run must hold by itself.

use std::collections::BTreeMap;

use aws_sim::Inventory;
use crds::{BlueGreenRollout, EcsService, NotificationPolicy, ReleaseGroup, ScalingPolicy};
use kube::api::Api;
use serde_json::Value;

use crate::sandbox::Sandbox;

/// What a run did and left.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// The AWS account at the end.
    pub inventory: Inventory,
    /// The identifiers and conditions of every object's status at the end.
    pub statuses: BTreeMap<String, Value>,
    /// The AWS mutations applied, in order.
    pub mutations: Vec<String>,
    /// The operator's Kubernetes writes (PATCH paths), in order.
    pub kube_writes: Vec<String>,
    /// Whether the strike happened (and the operator was replaced).
    pub struck: bool,
}

/// The status fields a kill run must leave as the clean run does. Ids AWS makes up at random
/// count only by presence.
const IDS: [&str; 16] = [
    "serviceArn",
    "taskDefinitionArn",
    "desiredTaskDefinitionArn",
    "lastGoodTaskDefinitionArn",
    "contentHash",
    "failedContentHash",
    "phase",
    "stableTaskDefinitionArn",
    "previousStableTaskDefinitionArn",
    "badContentHash",
    "codeDeploy",
    "scalableTargetArn",
    "resourceId",
    "release",
    "failure",
    "startedAt",
];

/// One object's status as compared: conditions (type, status, reason), the identifiers, and a
/// ReleaseGroup's members (name, phase, revisions). A rollout's `release` (its release in flight,
/// with times and ids AWS makes up) is not an identifier.
fn kept(kind: &str, status: Value) -> Value {
    let conditions: Vec<Value> = (status["conditions"].as_array().cloned())
        .unwrap_or_default()
        .into_iter()
        .map(|c| serde_json::json!([c["type"], c["status"], c["reason"]]))
        .collect();
    let mut ids = serde_json::Map::new();
    for field in IDS {
        if field == "release" && kind == "BlueGreenRollout" {
            continue;
        }
        if field == "startedAt" {
            ids.insert(field.into(), Value::Bool(!status[field].is_null()));
        } else if !status[field].is_null() {
            ids.insert(field.into(), status[field].clone());
        }
    }
    for field in ["deploymentId", "serviceDeploymentArn"] {
        ids.insert(field.into(), Value::Bool(!status[field].is_null()));
    }
    let members: Vec<Value> = (status["members"].as_array().cloned())
        .unwrap_or_default()
        .into_iter()
        .map(|m| serde_json::json!([m["name"], m["phase"], m["revision"], m["previousRevision"]]))
        .collect();
    if !members.is_empty() {
        ids.insert("members".into(), Value::Array(members));
    }
    if kind == "NotificationPolicy" {
        // What was told of each object (its moments, none still pending) and how many
        // deliveries were recorded: a resend after a lost reply is recorded once.
        let told: Vec<Value> = (status["objects"].as_array().cloned())
            .unwrap_or_default()
            .into_iter()
            .map(|o| {
                let moments: Vec<Value> = (o["notified"].as_array().cloned())
                    .unwrap_or_default()
                    .into_iter()
                    .map(|n| serde_json::json!([n["trigger"], n["pending"]]))
                    .collect();
                serde_json::json!([o["kind"], o["name"], o["stream"], moments])
            })
            .collect();
        ids.insert("told".into(), Value::Array(told));
        ids.insert("delivered".into(), status["delivered"].clone());
    }
    serde_json::json!({"conditions": conditions, "ids": ids})
}

async fn statuses_of<K>(sb: &Sandbox, kind: &str, out: &mut BTreeMap<String, Value>)
where
    K: kube::Resource<Scope = k8s_openapi::NamespaceResourceScope, DynamicType = ()>
        + Clone
        + serde::de::DeserializeOwned
        + std::fmt::Debug,
    K: serde::Serialize,
{
    let api: Api<K> = Api::namespaced(sb.client.clone(), "default");
    for obj in (api.list(&Default::default()).await.into_iter()).flat_map(|l| l.items) {
        let name = obj.meta().name.clone().unwrap_or_default();
        let status = serde_json::to_value(&obj).unwrap_or_default()["status"].clone();
        out.insert(format!("{kind}/{name}"), kept(kind, status));
    }
}

/// What must not differ between runs: every object's conditions and identifiers.
pub async fn statuses(sb: &Sandbox) -> BTreeMap<String, Value> {
    let mut out = BTreeMap::new();
    statuses_of::<EcsService>(sb, "EcsService", &mut out).await;
    statuses_of::<BlueGreenRollout>(sb, "BlueGreenRollout", &mut out).await;
    statuses_of::<ScalingPolicy>(sb, "ScalingPolicy", &mut out).await;
    statuses_of::<ReleaseGroup>(sb, "ReleaseGroup", &mut out).await;
    statuses_of::<NotificationPolicy>(sb, "NotificationPolicy", &mut out).await;
    out
}

/// How a kill run differs from the clean run (empty when it does not).
pub fn differences(clean: &Outcome, run: &Outcome) -> Vec<String> {
    let mut out = Vec::new();
    let (a, b) = (&clean.inventory, &run.inventory);
    let pairs = [
        (
            "ECS services",
            format!("{:?}", a.services),
            format!("{:?}", b.services),
        ),
        (
            "task definition revisions",
            format!("{:?}", a.revisions),
            format!("{:?}", b.revisions),
        ),
        (
            "CodeDeploy applications",
            format!("{:?}", a.applications),
            format!("{:?}", b.applications),
        ),
        (
            "CodeDeploy deployment groups",
            format!("{:?}", a.deployment_groups),
            format!("{:?}", b.deployment_groups),
        ),
        (
            "CodeDeploy deployments",
            format!("{:?}", a.code_deploy_deployments),
            format!("{:?}", b.code_deploy_deployments),
        ),
        (
            "scalable targets",
            format!("{:?}", a.scalable_targets),
            format!("{:?}", b.scalable_targets),
        ),
        (
            "scaling policies",
            format!("{:?}", a.scaling_policies),
            format!("{:?}", b.scaling_policies),
        ),
        (
            "alarms",
            format!("{:?}", a.alarms),
            format!("{:?}", b.alarms),
        ),
        (
            "SNS notifications",
            format!("{:?}", without_times(&a.notifications)),
            format!("{:?}", without_times(&b.notifications)),
        ),
    ];
    for (what, clean, kill) in pairs {
        if clean != kill {
            out.push(format!("{what}: clean {clean} / kill run {kill}"));
        }
    }
    for (key, clean) in &clean.statuses {
        match run.statuses.get(key) {
            Some(kill) if kill == clean => {}
            Some(kill) => out.push(format!("{key} status: clean {clean} / kill run {kill}")),
            None => out.push(format!("{key} missing")),
        }
    }
    for key in run.statuses.keys() {
        if !clean.statuses.contains_key(key) {
            out.push(format!("{key} left behind"));
        }
    }
    out
}

/// Notification ids without the time their release started (`…/auth:2@<started>/…`), which
/// differs from run to run.
fn without_times(ids: &[String]) -> Vec<String> {
    let part = |p: &str| match p.split_once('@') {
        Some((key, at)) if at.parse::<jiff::Timestamp>().is_ok() => format!("{key}@<started>"),
        _ => p.to_owned(),
    };
    ids.iter()
        .map(|id| id.split('/').map(part).collect::<Vec<_>>().join("/"))
        .collect()
}

/// Invariants every run must hold by itself: one revision per content, nothing owned by a
/// deleted object left in AWS.
pub fn invariants(run: &Outcome) -> Vec<String> {
    let mut out = Vec::new();
    let mut by_content: BTreeMap<(&str, &str), Vec<&str>> = BTreeMap::new();
    for r in &run.inventory.revisions {
        if let (Some(hash), Some(owner)) = (&r.content_hash, &r.owner) {
            by_content
                .entry((owner.as_str(), hash.as_str()))
                .or_default()
                .push(r.key.as_str());
        }
    }
    for ((owner, hash), revisions) in by_content {
        if revisions.len() > 1 {
            out.push(format!(
                "{owner} registered one content ({hash}) {} times: {revisions:?}",
                revisions.len()
            ));
        }
    }
    out
}
