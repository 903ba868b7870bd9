//! The task timing model: when a launched task reaches PENDING, RUNNING and healthy, or fails,
//! and how long it takes to stop. Everything is decided at launch from the task definition, the
//! service configuration and a stable hash, so advancing time never needs per-second work.
//!
//! | phase | simulated seconds |
//! |---|---|
//! | PROVISIONING → PENDING | 3–6 s after launch |
//! | PENDING → RUNNING | 10–30 s after launch |
//! | healthy, behind a target group | RUNNING + 10 s |
//! | healthy, container health check | RUNNING + `interval` (default 30 s) |
//! | healthy, neither | at RUNNING |
//! | image tag contains `unhealthy` | never healthy; stopped as failed at RUNNING + 30 s (target group), RUNNING + startPeriod + interval × retries (container check), RUNNING + 5 s (no check: the essential container exits); never before launch + healthCheckGracePeriodSeconds |
//! | executionRoleArn/taskRoleArn not in the seed | stopped as failed at PENDING (ECS cannot assume the role) |
//! | stop, registered with a target group | the target group's deregistration delay |
//! | stop, otherwise | 5 s |

use crate::arn::stable_hash;
use crate::ecs::model::SimTask;
use crate::ecs::task_definitions::TaskDefRecord;
use crate::elb::ElbState;
use crate::network::IamState;
use crate::time::Secs;
use aws::ecs::ServiceConfig;

/// Fewest seconds from launch to PENDING.
pub const PROVISIONING_MIN_SECS: Secs = 3;
/// Fewest seconds from launch to RUNNING; the spread adds 0–20 s.
pub const RUNNING_MIN_SECS: Secs = 10;
/// Spread of the time to RUNNING.
const RUNNING_SPREAD_SECS: u64 = 21;
/// Seconds after RUNNING until a target group reports the task healthy.
pub const LB_HEALTHY_SECS: Secs = 10;
/// Seconds after RUNNING until a target group reports an unhealthy task unhealthy.
pub const LB_UNHEALTHY_SECS: Secs = 30;
/// Seconds after RUNNING until an unhealthy task's essential container exits (no health check).
pub const EXIT_SECS: Secs = 5;
/// Seconds to stop a task that is not draining from a target group.
pub const STOP_SECS: Secs = 5;
/// Docker health check defaults.
const HC_DEFAULT_INTERVAL: Secs = 30;
const HC_DEFAULT_RETRIES: Secs = 3;

/// What a launch of the service's current task definition will do, worked out once per
/// scheduling step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LaunchSpec {
    /// An essential container's image tag contains `unhealthy`.
    unhealthy: bool,
    /// A role of the task definition does not exist.
    role_missing: bool,
    /// Container health check: (interval, failure detection after RUNNING).
    container_check: Option<(Secs, Secs)>,
    /// Registered with target groups: their longest deregistration delay.
    lb_drain: Option<Secs>,
    /// healthCheckGracePeriodSeconds.
    grace: Secs,
}

impl LaunchSpec {
    /// Works out the launch of `td` in a service configured as `config`.
    pub fn new(td: &TaskDefRecord, config: &ServiceConfig, iam: &IamState, elb: &ElbState) -> Self {
        let def = &td.definition;
        let essential = || {
            def.container_definitions
                .iter()
                .filter(|c| c.essential.unwrap_or(true))
        };
        let unhealthy = essential().any(|c| image_tag(&c.image).contains("unhealthy"));
        let role_missing = [&def.execution_role_arn, &def.task_role_arn]
            .into_iter()
            .flatten()
            .any(|arn| !iam.role_exists(arn));
        let container_check = def
            .container_definitions
            .iter()
            .filter_map(|c| c.health_check.as_ref())
            .map(|hc| {
                let interval = hc.interval.map_or(HC_DEFAULT_INTERVAL, Secs::from);
                let retries = hc.retries.map_or(HC_DEFAULT_RETRIES, Secs::from);
                let start = hc.start_period.map_or(0, Secs::from);
                (interval, start + interval * retries)
            })
            .reduce(|a, b| (a.0.max(b.0), a.1.max(b.1)));
        let lb_drain = config
            .load_balancers
            .iter()
            .filter_map(|lb| lb.target_group_arn.as_deref())
            .map(|arn| {
                elb.target_group(arn)
                    .map_or(0, |tg| tg.deregistration_delay_seconds)
            })
            .max();
        Self {
            unhealthy,
            role_missing,
            container_check,
            lb_drain,
            grace: config
                .health_check_grace_period_seconds
                .map_or(0, Secs::from)
                .max(0),
        }
    }

    /// Plans the life of task `seq` of deployment `deployment`, launched at `now`.
    pub fn launch(&self, service_arn: &str, seq: u64, deployment: u64, now: Secs) -> SimTask {
        let jitter = stable_hash(&[service_arn, &seq.to_string(), "task"]);
        let pending_at = now + PROVISIONING_MIN_SECS + (jitter % 4) as Secs;
        let running_at = now + RUNNING_MIN_SECS + ((jitter >> 16) % RUNNING_SPREAD_SECS) as Secs;
        let running_at = running_at.max(pending_at + 1);
        let mut task = SimTask {
            seq,
            deployment,
            launched_at: now,
            pending_at,
            running_at: Some(running_at),
            healthy_at: None,
            fails_at: None,
            stop_done_at: None,
            drain_secs: self.lb_drain.unwrap_or(0),
        };
        if self.role_missing {
            task.running_at = None;
            task.fails_at = Some(pending_at);
            return task;
        }
        let lb = self.lb_drain.is_some();
        if self.unhealthy {
            let detect = match (lb, self.container_check) {
                (false, None) => EXIT_SECS,
                (true, None) => LB_UNHEALTHY_SECS,
                (false, Some((_, c))) => c,
                (true, Some((_, c))) => c.min(LB_UNHEALTHY_SECS),
            };
            let checked = lb || self.container_check.is_some();
            let grace_end = if checked { now + self.grace } else { 0 };
            task.fails_at = Some((running_at + detect).max(grace_end).max(running_at + 1));
        } else {
            let lb_delay = if lb { LB_HEALTHY_SECS } else { 0 };
            let hc_delay = self.container_check.map_or(0, |(interval, _)| interval);
            task.healthy_at = Some(running_at + lb_delay.max(hc_delay));
        }
        task
    }
}

/// Starts stopping `task` at `now` (no-op when already stopping).
pub(crate) fn stop(task: &mut SimTask, now: Secs) {
    if task.stop_done_at.is_some() {
        return;
    }
    let registered = task.drain_secs > 0 && task.running_at.is_some_and(|r| r <= now);
    let secs = if registered {
        task.drain_secs
    } else {
        STOP_SECS
    };
    task.stop_done_at = Some(now + secs.max(1));
    task.fails_at = None;
}

/// The tag of an image reference (`repo:tag`, `registry:5000/repo:tag`, `repo@sha256:…`);
/// empty when there is none.
fn image_tag(image: &str) -> &str {
    let image = image.split('@').next().unwrap_or(image);
    match image.rsplit_once(':') {
        Some((_, tag)) if !tag.contains('/') => tag,
        _ => "",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn image_tags_are_found() {
        assert_eq!(image_tag("nginx:1.27-unhealthy"), "1.27-unhealthy");
        assert_eq!(image_tag("registry:5000/team/app"), "");
        assert_eq!(image_tag("registry:5000/team/app:v2"), "v2");
        assert_eq!(image_tag("app@sha256:abc"), "");
        assert_eq!(image_tag("unhealthy/app:v1"), "v1");
    }

    #[test]
    fn stopping_a_task_that_never_registered_is_quick() {
        let mut task = SimTask {
            seq: 0,
            deployment: 0,
            launched_at: 0,
            pending_at: 3,
            running_at: Some(20),
            healthy_at: Some(30),
            fails_at: None,
            stop_done_at: None,
            drain_secs: 300,
        };
        let mut early = task.clone();
        stop(&mut early, 5);
        assert_eq!(early.stop_done_at, Some(5 + STOP_SECS));
        stop(&mut task, 40);
        assert_eq!(task.stop_done_at, Some(340));
    }
}
