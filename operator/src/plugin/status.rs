//! `kubectl ecs status NAME`: follows a rollout, printing each new message, until it is
//! Healthy with its EcsService Ready (exit 0), Degraded (exit 1) or the timeout passes (exit 2).

use std::time::{Duration, Instant};

use crds::rollout::RolloutPhase;
use crds::{BlueGreenRollout, EcsService};
use kube::ResourceExt;
use kube::api::Api;

use super::exit::{EXIT_DEGRADED, EXIT_OK, EXIT_TIMEOUT};
use super::verbs::find;

/// How often the rollout is read.
const POLL: Duration = Duration::from_millis(500);

/// What a rollout and its EcsService say, as `status` decides on it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Released and serving; the EcsService runs its desired revision.
    Healthy,
    /// Rolled back.
    Degraded,
    /// Still moving (or paused).
    Waiting,
}

/// The verdict for a rollout and its service (pure).
pub fn verdict(rollout: &BlueGreenRollout, service: Option<&EcsService>) -> Verdict {
    let Some(status) = rollout.status.as_ref() else {
        return Verdict::Waiting;
    };
    let current = status.observed_generation == rollout.metadata.generation;
    let in_flight = status.release.is_some();
    match status.phase {
        Some(RolloutPhase::Degraded) if current && !in_flight => Verdict::Degraded,
        Some(RolloutPhase::Healthy) if current && !in_flight && service_ready(service) => {
            Verdict::Healthy
        }
        _ => Verdict::Waiting,
    }
}

fn service_ready(service: Option<&EcsService>) -> bool {
    let Some(service) = service else {
        return false;
    };
    let Some(status) = service.status.as_ref() else {
        return false;
    };
    status.observed_generation == service.metadata.generation
        && status
            .conditions
            .iter()
            .any(|c| c.type_ == "Ready" && c.status == "True")
}

/// Follows the rollout `name` until it settles or `timeout` passes; the exit code.
pub async fn run(
    client: &kube::Client,
    namespace: &str,
    name: &str,
    timeout: Duration,
) -> anyhow::Result<i32> {
    let first = find(client, namespace, name).await?;
    let rollout_name = first.name_any();
    let rollouts: Api<BlueGreenRollout> = Api::namespaced(client.clone(), namespace);
    let services: Api<EcsService> = Api::namespaced(client.clone(), namespace);
    let deadline = Instant::now() + timeout;
    let mut last_message = None;
    loop {
        let rollout = rollouts.get(&rollout_name).await?;
        let service = services.get_opt(&rollout.spec.service_ref.name).await?;
        let status = rollout.status.clone().unwrap_or_default();
        let message = format!(
            "{}: {}",
            status
                .phase
                .map_or_else(|| "Pending".to_owned(), |p| format!("{p:?}")),
            status.message.clone().unwrap_or_default()
        );
        let analysis = status
            .analysis
            .iter()
            .map(|m| {
                let last = m.measurements.first().map_or_else(String::new, |x| {
                    format!(
                        "; last {:?} {}{}",
                        x.outcome,
                        x.value.as_deref().unwrap_or("-"),
                        x.message
                            .as_deref()
                            .map(|why| format!(" ({why})"))
                            .unwrap_or_default()
                    )
                });
                format!(
                    "\n  metric {} {:?} in {:?}: {} measured, {} passed, {} failed, {} inconclusive{last}{}",
                    m.name,
                    m.verdict,
                    m.phase,
                    m.measured,
                    m.successful,
                    m.failed,
                    m.inconclusive,
                    if m.dry_run { " (dry run)" } else { "" }
                )
            })
            .collect::<String>();
        let message = format!("{message}{analysis}");
        if last_message.as_ref() != Some(&message) {
            println!("{message}");
            last_message = Some(message);
        }
        match verdict(&rollout, service.as_ref()) {
            Verdict::Healthy => {
                println!("bluegreenrollout/{rollout_name} is healthy");
                return Ok(EXIT_OK);
            }
            Verdict::Degraded => {
                println!("bluegreenrollout/{rollout_name} is degraded");
                return Ok(EXIT_DEGRADED);
            }
            Verdict::Waiting => {}
        }
        if Instant::now() >= deadline {
            println!(
                "timed out after {}s waiting for bluegreenrollout/{rollout_name}",
                timeout.as_secs()
            );
            return Ok(EXIT_TIMEOUT);
        }
        tokio::time::sleep(POLL).await;
    }
}
