//! `ecs-operator local --demo-failure NAME`: once every object is Ready, releases a new revision
//! of the EcsService NAME that is bad, and reports when its BlueGreenRollout rolled the release
//! back by itself (Degraded, the previous revision still serving). How it is bad depends on the
//! rollout's gates: with metric analysis, the image tag ends in `-errors` — the release is up
//! and passes its smoke test, but answers 3 % of requests with 5xx instead of 0.1 %, which only
//! a metric gate sees; otherwise it ends in `-smokefail` — its tasks pass their health checks,
//! but the simulated service answers 500 on the test listener.
//!
//! When NAME is a member of a ReleaseGroup, the demo is a release of the whole group: every
//! member gets a new image and a new `ecs-operator.dev/release` id, NAME's image being the bad
//! one, and the demo reports when the group has rolled the members released before it back.

use std::collections::BTreeMap;

use crds::common::{RELEASE_ANNOTATION, RELEASE_GROUP_LABEL};
use serde_json::Value;

use super::manifests::{self, Manifest};
use super::progress::ObjectState;

/// Where the demo stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    /// Waiting for everything to be Ready.
    Waiting,
    /// The failing revision was applied.
    Released,
    /// The rollout rolled it back.
    RolledBack,
}

/// How the demo's release is bad.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Failure {
    /// 500 on the smoke test (`-smokefail`).
    SmokeTest,
    /// Slightly more 5xx, seen only by metric analysis (`-errors`).
    ErrorRate,
}

impl Failure {
    /// The image tag suffix and what the release does, for the progress line.
    fn describe(self) -> (&'static str, &'static str) {
        match self {
            Failure::SmokeTest => (
                "-smokefail",
                "its tasks pass their health checks, but its smoke test answers 500 on the test listener",
            ),
            Failure::ErrorRate => (
                "-errors",
                "it is up and passes its smoke test, but answers 3 % of requests with 5xx instead of 0.1 %, which only its metric gate sees",
            ),
        }
    }
}

/// The failing-release demo (inactive without `--demo-failure`).
#[derive(Debug)]
pub struct Demo {
    target: Option<Manifest>,
    failure: Failure,
    stage: Stage,
    group: Option<Group>,
}

/// The ReleaseGroup the demo's EcsService belongs to, and its members' manifests.
#[derive(Debug)]
struct Group {
    /// `ReleaseGroup namespace/name`.
    id: String,
    members: Vec<Manifest>,
}

impl Group {
    /// The group of `target` among `manifests`, when its label names one they contain.
    fn of(target: &Manifest, manifests: &[Manifest]) -> Option<Group> {
        let namespace = &target.object["metadata"]["namespace"];
        let name = target.object["metadata"]["labels"][RELEASE_GROUP_LABEL].as_str()?;
        manifests.iter().find(|m| {
            m.object["kind"] == "ReleaseGroup"
                && m.object["metadata"]["name"] == name
                && m.object["metadata"]["namespace"] == *namespace
        })?;
        let members = (manifests.iter())
            .filter(|m| {
                m.object["kind"] == "EcsService"
                    && m.object["metadata"]["namespace"] == *namespace
                    && m.object["metadata"]["labels"][RELEASE_GROUP_LABEL] == name
            })
            .cloned()
            .collect();
        Some(Group {
            id: format!(
                "ReleaseGroup {}/{name}",
                namespace.as_str().unwrap_or("default")
            ),
            members,
        })
    }
}

/// The image of an EcsService manifest's first container.
fn image(manifest: &mut Manifest) -> &mut Value {
    &mut manifest.object["spec"]["taskDefinition"]["containerDefinitions"][0]["image"]
}

/// `id` of an object of the manifests: `Kind namespace/name`.
fn object_id(kind: &str, manifest: &Manifest) -> String {
    let ns = manifest.object["metadata"]["namespace"]
        .as_str()
        .unwrap_or("default");
    let name = manifest.object["metadata"]["name"]
        .as_str()
        .unwrap_or_default();
    format!("{kind} {ns}/{name}")
}

impl Demo {
    /// A demo of the EcsService `name` among `manifests` (none when `name` is None).
    pub fn new(name: Option<&str>, manifests: &[Manifest]) -> anyhow::Result<Demo> {
        let target = match name {
            None => None,
            Some(name) => Some(
                manifests
                    .iter()
                    .find(|m| {
                        m.object["kind"] == "EcsService" && m.object["metadata"]["name"] == name
                    })
                    .cloned()
                    .ok_or_else(|| {
                        anyhow::anyhow!(
                            "--demo-failure {name}: no EcsService {name} in the manifests"
                        )
                    })?,
            ),
        };
        let has_metrics = |m: &Manifest| {
            m.object["kind"] == "BlueGreenRollout"
                && m.object["metadata"]["namespace"] == target_field(&target, "namespace")
                && m.object["spec"]["serviceRef"]["name"] == target_field(&target, "name")
                && m.object["spec"]["analysis"]["metrics"]
                    .as_array()
                    .is_some_and(|metrics| {
                        metrics
                            .iter()
                            .any(|metric| metric["dryRun"] != serde_json::Value::Bool(true))
                    })
        };
        let failure = if target.is_some() && manifests.iter().any(has_metrics) {
            Failure::ErrorRate
        } else {
            Failure::SmokeTest
        };
        let group = target.as_ref().and_then(|t| Group::of(t, manifests));
        Ok(Demo {
            target,
            failure,
            stage: Stage::Waiting,
            group,
        })
    }

    fn ids(&self) -> Option<(String, String)> {
        let m = self.target.as_ref()?;
        let ns = m.object["metadata"]["namespace"]
            .as_str()
            .unwrap_or("default");
        let name = m.object["metadata"]["name"].as_str().unwrap_or_default();
        Some((
            format!("EcsService {ns}/{name}"),
            format!("BlueGreenRollout {ns}/{name}"),
        ))
    }

    /// Whether `--exit-when-ready` must wait for the demo before deciding.
    pub fn pending(&self) -> bool {
        self.target.is_some() && self.stage != Stage::RolledBack
    }

    /// Objects the demo makes not Ready on purpose (once it released): the bad service and its
    /// rollout, and with a group, the group and every member it rolled back.
    pub fn excused(&self, id: &str) -> bool {
        let in_group = self.group.as_ref().is_some_and(|g| {
            g.id == id || (g.members.iter()).any(|m| object_id("EcsService", m) == id)
        });
        self.stage != Stage::Waiting
            && (in_group
                || self
                    .ids()
                    .is_some_and(|(service, rollout)| id == service || id == rollout))
    }

    /// Advances the demo with the latest object states.
    pub async fn tick(&mut self, client: &kube::Client, states: &BTreeMap<String, ObjectState>) {
        let Some((_, rollout_id)) = self.ids() else {
            return;
        };
        match self.stage {
            Stage::Waiting => {
                let all_ready = !states.is_empty() && states.values().all(|s| s.ready);
                if !all_ready {
                    return;
                }
                if let Some(group) = &self.group {
                    if self.release_group(client, group).await {
                        self.stage = Stage::Released;
                    }
                    return;
                }
                let Some(mut failing) = self.target.clone() else {
                    return;
                };
                let image = image(&mut failing);
                let (suffix, what) = self.failure.describe();
                let tagged = format!("{}{suffix}", image.as_str().unwrap_or_default());
                *image = Value::String(tagged.clone());
                match manifests::apply(client, &failing).await {
                    Ok(()) => {
                        println!(
                            "Demo: releasing {tagged}: {what}. Watch {rollout_id} roll it back by itself."
                        );
                        self.stage = Stage::Released;
                    }
                    Err(error) => println!("Demo: could not release the failing revision: {error}"),
                }
            }
            Stage::Released if self.group.is_some() => {
                let group = self
                    .group
                    .as_ref()
                    .map(|g| g.id.clone())
                    .unwrap_or_default();
                // Stalled with a failure recorded: the release ended (a member merely stalled
                // leaves no failure).
                if !states.get(&group).is_some_and(|s| s.stalled) {
                    return;
                }
                if let Some(failed) = self.failed_member(client).await {
                    let others: Vec<&str> = (self.group.iter())
                        .flat_map(|g| g.members.iter())
                        .filter_map(|m| m.object["metadata"]["name"].as_str())
                        .filter(|name| *name != failed)
                        .collect();
                    println!(
                        "Demo: {group} rolled the release back: {failed} failed, and {} run the revision they ran before it. A new release id releases again.",
                        others.join(", ")
                    );
                    self.stage = Stage::RolledBack;
                }
            }
            Stage::Released => {
                if let Some(state) = states.get(&rollout_id).filter(|s| s.stalled) {
                    println!(
                        "Demo: {rollout_id} rolled the release back by itself ({}); the previous revision serves production. `kubectl ecs retry` would release it again.",
                        state.summary
                    );
                    self.stage = Stage::RolledBack;
                }
            }
            Stage::RolledBack => {}
        }
    }
}

impl Demo {
    /// The member whose failure ended the group's release, as the group's status says.
    async fn failed_member(&self, client: &kube::Client) -> Option<String> {
        let target = self.target.as_ref()?;
        let namespace = target.object["metadata"]["namespace"].as_str()?;
        let group = target.object["metadata"]["labels"][RELEASE_GROUP_LABEL].as_str()?;
        let api: kube::Api<crds::ReleaseGroup> = kube::Api::namespaced(client.clone(), namespace);
        let group = api.get(group).await.ok()?;
        Some(group.status?.failure?.member)
    }

    /// Releases every member of `group` with a new release id and image; the demo's service gets
    /// the bad image. Whether every member was applied.
    async fn release_group(&self, client: &kube::Client, group: &Group) -> bool {
        let target = self
            .target
            .as_ref()
            .map(|t| t.object["metadata"]["name"].clone());
        let (suffix, what) = self.failure.describe();
        let mut release = None;
        for member in &group.members {
            let mut next = member.clone();
            let annotations = &mut next.object["metadata"]["annotations"];
            let id = format!(
                "{}-demo",
                annotations[RELEASE_ANNOTATION]
                    .as_str()
                    .unwrap_or("release")
            );
            annotations[RELEASE_ANNOTATION] = Value::String(id.clone());
            release.get_or_insert(id);
            let bad = Some(&next.object["metadata"]["name"]) == target.as_ref();
            let image = image(&mut next);
            let tag = if bad { suffix } else { "-demo" };
            *image = Value::String(format!("{}{tag}", image.as_str().unwrap_or_default()));
            if let Err(error) = manifests::apply(client, &next).await {
                println!("Demo: could not release {}: {error}", next.describe());
                return false;
            }
        }
        let name = target
            .and_then(|t| t.as_str().map(str::to_owned))
            .unwrap_or_default();
        println!(
            "Demo: releasing {} of the {} members of {} in dependsOn order; {name}'s new image is bad: {what}. Watch the group roll back the members released before it.",
            release.unwrap_or_default(),
            group.members.len(),
            group.id,
        );
        true
    }
}

/// `metadata.<field>` of the demo's EcsService, `null` without one.
fn target_field(target: &Option<Manifest>, field: &str) -> serde_json::Value {
    target
        .as_ref()
        .map(|m| m.object["metadata"][field].clone())
        .unwrap_or(serde_json::Value::Null)
}
