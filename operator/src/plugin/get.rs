//! `kubectl ecs get [NAME] [--watch]`: one row per EcsService with its rollout (phase, state,
//! traffic split), scaling (min–max, current desired count) and release (its ReleaseGroup, the
//! release id and its phase in it), then one row per ReleaseGroup and one per
//! NotificationPolicy (its receivers, deliveries and failing receivers). `--watch` prints
//! service rows again whenever they change.

use std::collections::BTreeMap;
use std::time::Duration;

use crds::common::RELEASE_GROUP_LABEL;
use crds::{BlueGreenRollout, EcsService, NotificationPolicy, ReleaseGroup, ScalingPolicy};
use kube::ResourceExt;
use kube::api::{Api, ListParams};

use super::exit::EXIT_OK;

/// How often `--watch` reads.
const WATCH_POLL: Duration = Duration::from_secs(1);

/// One row of the table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    /// Namespace.
    pub namespace: String,
    /// EcsService name.
    pub name: String,
    /// Ready condition.
    pub ready: String,
    /// desired/running.
    pub tasks: String,
    /// `family:revision` running.
    pub revision: String,
    /// Rollout phase and release state.
    pub rollout: String,
    /// stable/canary percent.
    pub traffic: String,
    /// min–max (desired).
    pub scaling: String,
    /// Each metric's newest value and verdict.
    pub analysis: String,
    /// `group@release phase` while the service is in a ReleaseGroup.
    pub release: String,
}

const HEADER: [&str; 10] = [
    "NAMESPACE",
    "NAME",
    "READY",
    "TASKS",
    "REVISION",
    "ROLLOUT",
    "TRAFFIC",
    "SCALING",
    "ANALYSIS",
    "RELEASE",
];

impl Row {
    fn cells(&self) -> [&str; 10] {
        [
            &self.namespace,
            &self.name,
            &self.ready,
            &self.tasks,
            &self.revision,
            &self.rollout,
            &self.traffic,
            &self.scaling,
            &self.analysis,
            &self.release,
        ]
    }
}

/// The RELEASE cell of `svc`: its group, the release id it carries and its phase there.
fn release_cell(svc: &EcsService, groups: &[ReleaseGroup]) -> String {
    let Some(group) = (svc.metadata.labels.as_ref()).and_then(|l| l.get(RELEASE_GROUP_LABEL))
    else {
        return "-".to_owned();
    };
    let status = groups
        .iter()
        .find(|g| g.namespace() == svc.namespace() && g.name_any() == *group)
        .and_then(|g| g.status.as_ref());
    let member = status.and_then(|s| s.members.iter().find(|m| m.name == svc.name_any()));
    match member {
        Some(m) => format!(
            "{group}@{} {:?}",
            m.release.as_deref().unwrap_or("-"),
            m.phase
        ),
        None => format!("{group} Pending"),
    }
}

/// The READY cell: the Ready condition's status, `-` before the operator wrote one.
fn ready_cell(conditions: &[k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition]) -> String {
    (conditions.iter())
        .find(|c| c.type_ == "Ready")
        .map_or("-", |c| c.status.as_str())
        .to_owned()
}

/// One row per ReleaseGroup: namespace, name, Ready, release, phase, the failed member and why.
pub fn group_rows(groups: &[ReleaseGroup]) -> Vec<[String; 6]> {
    groups
        .iter()
        .map(|g| {
            let status = g.status.clone().unwrap_or_default();
            let ready = ready_cell(&status.conditions);
            let failed = status
                .failure
                .as_ref()
                .map_or_else(|| "-".to_owned(), |f| format!("{}: {}", f.member, f.reason));
            [
                g.namespace().unwrap_or_default(),
                g.name_any(),
                ready,
                status.release.unwrap_or_else(|| "-".to_owned()),
                status
                    .phase
                    .map_or_else(|| "Pending".to_owned(), |p| format!("{p:?}")),
                failed,
            ]
        })
        .collect()
}

/// The ReleaseGroup table as text, columns padded, with its header.
pub fn render_groups(rows: &[[String; 6]]) -> String {
    let header = [
        "NAMESPACE",
        "RELEASEGROUP",
        "READY",
        "RELEASE",
        "PHASE",
        "FAILED",
    ];
    render_table(header, rows)
}

/// One row per NotificationPolicy: namespace, name, Ready, its receivers, notifications
/// delivered, and the receivers failing now (with their last error).
pub fn policy_rows(policies: &[NotificationPolicy]) -> Vec<[String; 6]> {
    policies
        .iter()
        .map(|p| {
            let status = p.status.clone().unwrap_or_default();
            let ready = ready_cell(&status.conditions);
            let receivers: Vec<&str> = (p.spec.receivers.iter()).map(|r| r.name.as_str()).collect();
            let failing: Vec<String> = (status.receivers.iter())
                .filter(|r| r.consecutive_failures > 0)
                .map(|r| format!("{}: {}", r.name, r.last_error.as_deref().unwrap_or("-")))
                .collect();
            [
                p.namespace().unwrap_or_default(),
                p.name_any(),
                ready,
                receivers.join(","),
                status.delivered.to_string(),
                if failing.is_empty() {
                    "-".to_owned()
                } else {
                    failing.join("; ")
                },
            ]
        })
        .collect()
}

/// The NotificationPolicy table as text, columns padded, with its header.
pub fn render_policies(rows: &[[String; 6]]) -> String {
    let header = [
        "NAMESPACE",
        "NOTIFICATIONPOLICY",
        "READY",
        "RECEIVERS",
        "DELIVERED",
        "FAILING",
    ];
    render_table(header, rows)
}

/// A table of six columns as text: the header, then the rows, columns padded.
fn render_table(header: [&str; 6], rows: &[[String; 6]]) -> String {
    let mut widths = header.map(str::len);
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.len());
        }
    }
    let line = |cells: Vec<&str>| {
        let padded: Vec<String> = (cells.iter().zip(widths))
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        padded.join("   ").trim_end().to_owned()
    };
    let mut out = vec![line(header.to_vec())];
    out.extend(
        rows.iter()
            .map(|r| line(r.iter().map(String::as_str).collect())),
    );
    out.join("\n")
}

/// The rows for these objects (pure).
pub fn rows(
    services: &[EcsService],
    rollouts: &[BlueGreenRollout],
    scaling: &[ScalingPolicy],
    groups: &[ReleaseGroup],
) -> Vec<Row> {
    services
        .iter()
        .map(|svc| {
            let namespace = svc.namespace().unwrap_or_default();
            let name = svc.name_any();
            let same = |ns: Option<String>, target: &str| {
                ns.as_deref() == Some(namespace.as_str()) && target == name
            };
            let status = svc.status.clone().unwrap_or_default();
            let ready = ready_cell(&status.conditions);
            let rollout = rollouts
                .iter()
                .find(|r| same(r.namespace(), &r.spec.service_ref.name));
            let (rollout_cell, traffic) = match rollout.and_then(|r| r.status.as_ref()) {
                Some(s) => {
                    let phase = s
                        .phase
                        .map_or_else(|| "Pending".to_owned(), |p| format!("{p:?}"));
                    let state = s
                        .release
                        .as_ref()
                        .map(|r| format!(" ({:?})", r.state))
                        .unwrap_or_default();
                    let traffic = s
                        .traffic_weights
                        .as_ref()
                        .map_or_else(|| "-".to_owned(), |w| format!("{}/{}", w.stable, w.canary));
                    (format!("{phase}{state}"), traffic)
                }
                None if rollout.is_some() => ("Pending".to_owned(), "-".to_owned()),
                None => ("-".to_owned(), "-".to_owned()),
            };
            let scaling_cell = scaling
                .iter()
                .find(|p| same(p.namespace(), &p.spec.service_ref.name))
                .map_or_else(
                    || "-".to_owned(),
                    |p| {
                        let current = p
                            .status
                            .as_ref()
                            .and_then(|s| s.current_desired_count)
                            .map(|c| format!(" ({c})"))
                            .unwrap_or_default();
                        format!("{}-{}{current}", p.spec.min_capacity, p.spec.max_capacity)
                    },
                );
            Row {
                namespace,
                name,
                ready,
                tasks: format!(
                    "{}/{}",
                    status.running_count.unwrap_or(0),
                    status.desired_count.unwrap_or(0)
                ),
                revision: status
                    .task_definition_arn
                    .as_deref()
                    .map(|a| a.rsplit('/').next().unwrap_or(a).to_owned())
                    .unwrap_or_else(|| "-".to_owned()),
                rollout: rollout_cell,
                traffic,
                scaling: scaling_cell,
                analysis: rollout
                    .and_then(|r| r.status.as_ref())
                    .map(analysis_cell)
                    .unwrap_or_else(|| "-".to_owned()),
                release: release_cell(svc, groups),
            }
        })
        .collect()
}

/// Each metric of the last analysis as `name=value verdict` (`-` without metrics).
pub fn analysis_cell(status: &crds::rollout::BlueGreenRolloutStatus) -> String {
    if status.analysis.is_empty() {
        return "-".to_owned();
    }
    status
        .analysis
        .iter()
        .map(|m| {
            let value = m
                .measurements
                .first()
                .and_then(|x| x.value.as_deref())
                .unwrap_or("-");
            let dry = if m.dry_run { " (dry run)" } else { "" };
            format!("{}={value} {:?}{dry}", m.name, m.verdict)
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The table as text, columns padded; `header` first when asked.
pub fn render(rows: &[Row], header: bool) -> String {
    let mut widths = HEADER.map(str::len);
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row.cells()) {
            *w = (*w).max(cell.len());
        }
    }
    let line = |cells: [&str; 10]| {
        let padded: Vec<String> = cells
            .iter()
            .zip(widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        padded.join("   ").trim_end().to_owned()
    };
    let mut out: Vec<String> = Vec::new();
    if header {
        out.push(line(HEADER));
    }
    out.extend(rows.iter().map(|r| line(r.cells())));
    out.join("\n")
}

async fn list<K>(client: &kube::Client, namespace: Option<&str>) -> anyhow::Result<Vec<K>>
where
    K: kube::Resource<Scope = k8s_openapi::NamespaceResourceScope, DynamicType = ()>
        + Clone
        + serde::de::DeserializeOwned
        + std::fmt::Debug,
{
    let api: Api<K> = match namespace {
        Some(ns) => Api::namespaced(client.clone(), ns),
        None => Api::all(client.clone()),
    };
    Ok(api.list(&ListParams::default()).await?.items)
}

async fn snapshot(
    client: &kube::Client,
    namespace: Option<&str>,
    name: Option<&str>,
) -> anyhow::Result<Snapshot> {
    let services: Vec<EcsService> = list(client, namespace).await?;
    let rollouts: Vec<BlueGreenRollout> = list(client, namespace).await?;
    // ScalingPolicies, ReleaseGroups and NotificationPolicies are optional: an API server
    // without their CRDs still lists services.
    let scaling: Vec<ScalingPolicy> = list(client, namespace).await.unwrap_or_default();
    let mut groups: Vec<ReleaseGroup> = list(client, namespace).await.unwrap_or_default();
    let mut policies: Vec<NotificationPolicy> = list(client, namespace).await.unwrap_or_default();
    let mut rows = rows(&services, &rollouts, &scaling, &groups);
    if let Some(name) = name {
        rows.retain(|r| r.name == name);
        groups.clear();
        policies.clear();
    }
    rows.sort_by(|a, b| (&a.namespace, &a.name).cmp(&(&b.namespace, &b.name)));
    groups.sort_by_key(|g| (g.namespace(), g.name_any()));
    policies.sort_by_key(|p| (p.namespace(), p.name_any()));
    Ok(Snapshot {
        rows,
        groups,
        policies,
    })
}

/// What one look at the cluster found.
struct Snapshot {
    /// One row per EcsService.
    rows: Vec<Row>,
    /// The ReleaseGroups.
    groups: Vec<ReleaseGroup>,
    /// The NotificationPolicies.
    policies: Vec<NotificationPolicy>,
}

/// Prints the table (and, with `watch`, every changed row until interrupted).
pub async fn run(
    client: &kube::Client,
    namespace: Option<&str>,
    name: Option<&str>,
    watch: bool,
) -> anyhow::Result<i32> {
    let Snapshot {
        rows,
        groups,
        policies,
    } = snapshot(client, namespace, name).await?;
    if rows.is_empty() && !watch {
        match namespace {
            Some(ns) => println!("No EcsServices found in {ns} namespace."),
            None => println!("No EcsServices found."),
        }
        return Ok(EXIT_OK);
    }
    println!("{}", render(&rows, true));
    if !groups.is_empty() {
        println!("\n{}", render_groups(&group_rows(&groups)));
    }
    if !policies.is_empty() {
        println!("\n{}", render_policies(&policy_rows(&policies)));
    }
    if !watch {
        return Ok(EXIT_OK);
    }
    let mut last: BTreeMap<(String, String), Row> = rows
        .into_iter()
        .map(|r| ((r.namespace.clone(), r.name.clone()), r))
        .collect();
    loop {
        tokio::select! {
            () = tokio::time::sleep(WATCH_POLL) => {}
            _ = tokio::signal::ctrl_c() => return Ok(EXIT_OK),
        }
        let rows = snapshot(client, namespace, name).await?.rows;
        let changed: Vec<Row> = rows
            .iter()
            .filter(|r| last.get(&(r.namespace.clone(), r.name.clone())) != Some(r))
            .cloned()
            .collect();
        if !changed.is_empty() {
            println!("{}", render(&changed, false));
        }
        last = rows
            .into_iter()
            .map(|r| ((r.namespace.clone(), r.name.clone()), r))
            .collect();
    }
}

#[cfg(test)]
#[path = "get_tests.rs"]
mod tests;
