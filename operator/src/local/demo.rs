//! `ecs-operator local --demo-failure NAME`: once every object is Ready, releases a new revision
//! of the EcsService NAME whose image tag ends in `-smokefail` — its tasks start and pass their
//! health checks, but the simulated service answers 500 on the test listener — and reports when
//! its BlueGreenRollout rolled the release back by itself (HTTP check failed → Degraded, the
//! previous revision still serving).

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

/// The failing-release demo (inactive without `--demo-failure`).
#[derive(Debug)]
pub struct Demo {
    target: Option<Manifest>,
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
        Ok(Demo {
            target,
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
                let tagged = format!("{}-smokefail", image.as_str().unwrap_or_default());
                *image = serde_json::Value::String(tagged.clone());
                match manifests::apply(client, &failing).await {
                    Ok(()) => {
                        println!(
                            "Demo: releasing {tagged}: its tasks pass their health checks, but its smoke test answers 500 on the test listener. Watch {rollout_id} roll it back by itself."
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
