//! The kill-point driver: runs a workflow (a list of stages: something a person does, then the
//! state it must lead to) against a fresh sandbox, once cleanly, then once per kill point —
//! every AWS mutation and every Kubernetes write the operator made in the clean run, in each
//! fault mode — crashing the operator there and starting a fresh one with empty memory against
//! the same API server and simulated account. A kill run must end like the clean run: the same
//! end state, the same AWS inventory (no second deployment, no second revision for the same
//! content, nothing left behind or leaked) and the same identifiers in every status.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use aws_sim::{KillMode, KillPoint, SimAws};
use crds::{BlueGreenRollout, EcsService, NotificationPolicy, ReleaseGroup, ScalingPolicy};
use kube::api::{Api, DeleteParams, Patch, PatchParams};
use local_apiserver::Hang;
use serde_json::Value;

use crate::sandbox::Sandbox;

mod compare;

use compare::statuses;
pub use compare::{Outcome, differences, invariants};

/// Renders a manifest (ARNs come from the seeded account).
pub type Render = fn(&SimAws) -> String;

/// What a person (or GitOps) does.
pub enum Act {
    /// Server-side apply of the rendered manifest (one or more YAML documents, in order).
    Apply(Render),
    /// Deletes an object of the default namespace (`ecsservices`, `bluegreenrollouts`,
    /// `scalingpolicies`).
    Delete(&'static str, &'static str),
    /// Requests a rollout verb (`promote`, `abort`, `retry`, `rollback`).
    Verb(&'static str, &'static str),
    /// Creates an ECS service the operator did not create (untagged), on EcsService-ready
    /// infrastructure: (cluster, name).
    ForeignService(&'static str, &'static str),
    /// Registers a scalable target the operator did not register (untagged):
    /// (resource id, min, max).
    ForeignScalableTarget(&'static str, i32, i32),
    /// Nothing: only wait.
    Nothing,
}

/// The state a stage leads to.
#[derive(Debug, Clone, Copy)]
pub enum Until {
    /// The EcsService is Ready for its generation, its service on a revision ending so.
    ServiceReadyOn(&'static str, &'static str),
    /// The EcsService reports its deployment failed (Degraded) for its generation.
    ServiceDegraded(&'static str),
    /// The BlueGreenRollout is Healthy and Ready with a stable revision ending so.
    RolloutHealthyOn(&'static str, &'static str),
    /// The BlueGreenRollout waits for `promote`.
    RolloutPaused(&'static str),
    /// The BlueGreenRollout rolled back (Degraded, nothing in flight).
    RolloutDegraded(&'static str),
    /// The BlueGreenRollout rolled back to a stable revision ending so.
    RolloutRolledBackTo(&'static str, &'static str),
    /// The ScalingPolicy is Ready for its generation.
    PolicyReady(&'static str),
    /// The ReleaseGroup follows the release and it is in the phase: (group, release, phase).
    GroupPhase(&'static str, &'static str, &'static str),
    /// The NotificationPolicy is Ready for its generation: every moment it saw delivered.
    NotificationsDelivered(&'static str),
    /// The object is gone from the API server: (plural, name).
    Gone(&'static str, &'static str),
    /// Nothing to wait for.
    Nothing,
}

/// One step of a workflow.
pub struct Stage {
    /// What is done.
    pub act: Act,
    /// What it must lead to.
    pub until: Until,
}

/// A workflow of one or more controllers.
pub struct Workflow {
    /// Its name in the report.
    pub name: &'static str,
    /// Its stages, in order.
    pub stages: Vec<Stage>,
}

/// Where a kill run crashes the operator.
#[derive(Debug, Clone)]
pub enum Strike {
    /// At an AWS mutation.
    Aws(KillPoint),
    /// At a Kubernetes write: the `occurrence`-th PATCH of `path`; applied (reply lost) or not.
    Kube {
        /// Request path.
        path: String,
        /// Which write to it, from 1.
        occurrence: usize,
        /// Applied before the crash.
        applied: bool,
    },
}

impl std::fmt::Display for Strike {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Strike::Aws(k) => write!(f, "{} #{} {:?}", k.operation, k.occurrence, k.mode),
            Strike::Kube {
                path,
                occurrence,
                applied,
            } => {
                let mode = if *applied { "LoseReply" } else { "FailBefore" };
                write!(f, "PATCH {path} #{occurrence} {mode}")
            }
        }
    }
}

/// Timing of the sandbox's controllers in kill runs (simulated seconds).
fn settings() -> ecs_operator::controllers::Settings {
    ecs_operator::controllers::Settings {
        resync: Duration::from_secs(60),
        poll: Duration::from_secs(10),
        wait_poll: Duration::from_secs(10),
        dry_run: false,
    }
}

/// How fast simulated time runs in kill runs.
const SPEED: f64 = 100.0;
/// How long one stage may take (wall time).
const STAGE_TIMEOUT: Duration = Duration::from_secs(120);
/// How long the account must see no mutation for a run to count as settled (wall time).
const SETTLED: Duration = Duration::from_millis(1000);

/// The field manager of the test's own writes: its PATCHes are never kill points.
const TEST_MANAGER: &str = "kubectl";

/// Runs `workflow` once; with `strike`, the operator is crashed there and replaced.
pub async fn run(workflow: &Workflow, strike: Option<&Strike>) -> Result<Outcome, String> {
    let mut sb = Sandbox::start_at_speed(settings(), &[], SPEED).await;
    match strike {
        Some(Strike::Aws(point)) => sb.sim.arm_kill_point(point.clone()),
        Some(Strike::Kube {
            path,
            occurrence,
            applied,
        }) => sb.server.arm_hang(Hang {
            method: http::Method::PATCH,
            path: path.clone(),
            unless_query_contains: Some(format!("fieldManager={TEST_MANAGER}")),
            skip: occurrence - 1,
            apply: *applied,
        }),
        None => {}
    }
    let mut replaced = false;
    let result = stages(&mut sb, workflow, &mut replaced).await;
    let outcome = match result {
        Ok(()) => {
            settle(&mut sb, &mut replaced).await;
            Ok(Outcome {
                inventory: sb.sim.inventory(),
                statuses: statuses(&sb).await,
                mutations: sb.sim.mutation_log(),
                kube_writes: kube_writes(&sb),
                struck: replaced,
            })
        }
        Err(e) => Err(e),
    };
    sb.shutdown().await;
    outcome
}

async fn stages(sb: &mut Sandbox, workflow: &Workflow, replaced: &mut bool) -> Result<(), String> {
    for (i, stage) in workflow.stages.iter().enumerate() {
        act(sb, &stage.act)
            .await
            .map_err(|e| format!("stage {i}: {e}"))?;
        let deadline = Instant::now() + STAGE_TIMEOUT;
        loop {
            replace_if_struck(sb, replaced).await;
            if holds(sb, stage.until).await {
                break;
            }
            if Instant::now() > deadline {
                return Err(format!(
                    "stage {i}: timed out waiting for {:?}; statuses: {}",
                    stage.until,
                    serde_json::to_string(&statuses(sb).await).unwrap_or_default()
                ));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    Ok(())
}

/// After a strike the operator is dead at that line: kill it for real, start a fresh one.
async fn replace_if_struck(sb: &mut Sandbox, replaced: &mut bool) {
    if !*replaced && (sb.sim.has_struck() || sb.server.hang_struck()) {
        sb.kill_operator().await;
        sb.start_operator();
        *replaced = true;
    }
}

/// Waits until neither an AWS mutation nor an operator write to Kubernetes happened for a while
/// (clean-ups after the last state, and status catching up with a service that settles).
async fn settle(sb: &mut Sandbox, replaced: &mut bool) {
    let activity = |sb: &Sandbox| (sb.sim.mutation_log().len(), kube_writes(sb).len());
    let mut seen = activity(sb);
    let mut quiet_since = Instant::now();
    let deadline = Instant::now() + STAGE_TIMEOUT;
    while quiet_since.elapsed() < SETTLED && Instant::now() < deadline {
        replace_if_struck(sb, replaced).await;
        tokio::time::sleep(Duration::from_millis(50)).await;
        let now = activity(sb);
        if now != seen {
            seen = now;
            quiet_since = Instant::now();
        }
    }
}

async fn act(sb: &Sandbox, act: &Act) -> anyhow::Result<()> {
    match act {
        Act::Apply(render) => sb.apply(&render(&sb.sim)).await,
        Act::Delete(plural, name) => {
            let params = DeleteParams::default();
            match *plural {
                "ecsservices" => drop(api::<EcsService>(sb).delete(name, &params).await?),
                "bluegreenrollouts" => {
                    drop(api::<BlueGreenRollout>(sb).delete(name, &params).await?)
                }
                _ => drop(api::<ScalingPolicy>(sb).delete(name, &params).await?),
            }
            Ok(())
        }
        Act::Verb(rollout, verb) => {
            let patch = serde_json::json!({"metadata": {"annotations": {
                format!("ecs-operator.dev/{verb}-requested-at"): jiff::Timestamp::now().to_string()
            }}});
            let params = PatchParams {
                field_manager: Some(TEST_MANAGER.into()),
                ..PatchParams::default()
            };
            api::<BlueGreenRollout>(sb)
                .patch(rollout, &params, &Patch::Merge(&patch))
                .await?;
            Ok(())
        }
        Act::ForeignService(cluster, name) => {
            sb.sim
                .create_foreign_service(cluster, name, Vec::new())
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            Ok(())
        }
        Act::ForeignScalableTarget(id, min, max) => {
            sb.sim
                .create_foreign_scalable_target(id, *min, *max)
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            Ok(())
        }
        Act::Nothing => Ok(()),
    }
}

fn api<K>(sb: &Sandbox) -> Api<K>
where
    K: kube::Resource<Scope = k8s_openapi::NamespaceResourceScope, DynamicType = ()>
        + Clone
        + serde::de::DeserializeOwned
        + std::fmt::Debug,
{
    Api::namespaced(sb.client.clone(), "default")
}

fn conditions_true(status: &Value, generation: Option<i64>, type_: &str) -> bool {
    status["observedGeneration"].as_i64() == generation
        && status["conditions"].as_array().is_some_and(|cs| {
            cs.iter()
                .any(|c| c["type"] == type_ && c["status"] == "True")
        })
}

async fn holds(sb: &Sandbox, until: Until) -> bool {
    match until {
        Until::ServiceReadyOn(name, revision) => {
            let Ok(svc) = api::<EcsService>(sb).get(name).await else {
                return false;
            };
            let status = serde_json::to_value(&svc.status).unwrap_or_default();
            conditions_true(&status, svc.metadata.generation, "Ready")
                && status["taskDefinitionArn"]
                    .as_str()
                    .is_some_and(|a| a.ends_with(revision))
        }
        Until::ServiceDegraded(name) => {
            let Ok(svc) = api::<EcsService>(sb).get(name).await else {
                return false;
            };
            let status = serde_json::to_value(&svc.status).unwrap_or_default();
            conditions_true(&status, svc.metadata.generation, "Degraded")
        }
        Until::RolloutHealthyOn(name, revision) => rollout(sb, name).await.is_some_and(|(r, s)| {
            s["phase"] == "Healthy"
                && conditions_true(&s, r.metadata.generation, "Ready")
                && s["stableTaskDefinitionArn"]
                    .as_str()
                    .is_some_and(|a| a.ends_with(revision))
        }),
        Until::RolloutPaused(name) => rollout(sb, name)
            .await
            .is_some_and(|(_, s)| s["phase"] == "Paused"),
        Until::RolloutDegraded(name) => rollout(sb, name)
            .await
            .is_some_and(|(_, s)| s["phase"] == "Degraded" && s["release"].is_null()),
        Until::RolloutRolledBackTo(name, revision) => {
            rollout(sb, name).await.is_some_and(|(_, s)| {
                s["phase"] == "Degraded"
                    && s["release"].is_null()
                    && s["stableTaskDefinitionArn"]
                        .as_str()
                        .is_some_and(|a| a.ends_with(revision))
            })
        }
        Until::PolicyReady(name) => {
            let Ok(p) = api::<ScalingPolicy>(sb).get(name).await else {
                return false;
            };
            let status = serde_json::to_value(&p.status).unwrap_or_default();
            conditions_true(&status, p.metadata.generation, "Ready")
        }
        Until::GroupPhase(name, release, phase) => {
            let Ok(g) = api::<ReleaseGroup>(sb).get(name).await else {
                return false;
            };
            let status = serde_json::to_value(&g.status).unwrap_or_default();
            status["observedGeneration"].as_i64() == g.metadata.generation
                && status["release"] == release
                && status["phase"] == phase
        }
        Until::NotificationsDelivered(name) => {
            let Ok(p) = api::<NotificationPolicy>(sb).get(name).await else {
                return false;
            };
            let status = serde_json::to_value(&p.status).unwrap_or_default();
            conditions_true(&status, p.metadata.generation, "Ready")
        }
        Until::Nothing => true,
        Until::Gone(plural, name) => match plural {
            "ecsservices" => gone::<EcsService>(sb, name).await,
            "bluegreenrollouts" => gone::<BlueGreenRollout>(sb, name).await,
            _ => gone::<ScalingPolicy>(sb, name).await,
        },
    }
}

async fn gone<K>(sb: &Sandbox, name: &str) -> bool
where
    K: kube::Resource<Scope = k8s_openapi::NamespaceResourceScope, DynamicType = ()>
        + Clone
        + serde::de::DeserializeOwned
        + std::fmt::Debug,
{
    api::<K>(sb).get_opt(name).await.is_ok_and(|o| o.is_none())
}

async fn rollout(sb: &Sandbox, name: &str) -> Option<(BlueGreenRollout, Value)> {
    let r = api::<BlueGreenRollout>(sb).get(name).await.ok()?;
    let status = serde_json::to_value(r.status.as_ref()?).ok()?;
    Some((r, status))
}

/// The operator's PATCHes (status and finalizer writes), in order.
fn kube_writes(sb: &Sandbox) -> Vec<String> {
    sb.server
        .requests()
        .into_iter()
        .filter(|r| {
            r.method == "PATCH"
                && !r.query.contains(&format!("fieldManager={TEST_MANAGER}"))
                && r.path.contains("/apis/ecs-operator.dev/")
        })
        .map(|r| r.path)
        .collect()
}

/// Every kill point of a clean run: each AWS mutation and each Kubernetes write, in both modes.
pub fn kill_points(clean: &Outcome) -> Vec<Strike> {
    let mut out = Vec::new();
    let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
    for op in &clean.mutations {
        let n = seen.entry(op.as_str()).or_default();
        *n += 1;
        for mode in [KillMode::FailBefore, KillMode::LoseReply] {
            out.push(Strike::Aws(KillPoint {
                operation: op.clone(),
                occurrence: *n,
                mode,
            }));
        }
    }
    let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
    for path in &clean.kube_writes {
        let n = seen.entry(path.as_str()).or_default();
        *n += 1;
        for applied in [false, true] {
            out.push(Strike::Kube {
                path: path.clone(),
                occurrence: *n,
                applied,
            });
        }
    }
    out
}
