//! `ecs-operator local --demo-failure NAME`: once every object is Ready, releases a new revision
//! of the EcsService NAME that is bad, and reports when its BlueGreenRollout rolled the release
//! back by itself (Degraded, the previous revision still serving). How it is bad depends on the
//! rollout's gates: with metric analysis, the image tag ends in `-errors` — the release is up
//! and passes its smoke test, but answers 3 % of requests with 5xx instead of 0.1 %, which only
//! a metric gate sees; otherwise it ends in `-smokefail` — its tasks pass their health checks,
//! but the simulated service answers 500 on the test listener.

use std::collections::BTreeMap;

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
        Ok(Demo {
            target,
            failure,
            stage: Stage::Waiting,
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

    /// Objects the demo makes not Ready on purpose (once it released).
    pub fn excused(&self, id: &str) -> bool {
        self.stage != Stage::Waiting
            && self
                .ids()
                .is_some_and(|(service, rollout)| id == service || id == rollout)
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
                let Some(mut failing) = self.target.clone() else {
                    return;
                };
                let image = &mut failing.object["spec"]["taskDefinition"]["containerDefinitions"]
                    [0]["image"];
                let (suffix, what) = self.failure.describe();
                let tagged = format!("{}{suffix}", image.as_str().unwrap_or_default());
                *image = serde_json::Value::String(tagged.clone());
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

/// `metadata.<field>` of the demo's EcsService, `null` without one.
fn target_field(target: &Option<Manifest>, field: &str) -> serde_json::Value {
    target
        .as_ref()
        .map(|m| m.object["metadata"][field].clone())
        .unwrap_or(serde_json::Value::Null)
}
