//! The release in flight, state by state: what the engine view and the gates (alarms, HTTP
//! checks, auto-promotion, progress deadline) make of it. Pure.

use crds::rollout::ReleaseState;
use jiff::SignedDuration;

use super::analysis;
use super::inputs::{EngineView, Gates, Inputs};
use super::memory::{CheckProgress, StateExt, short};
use super::transition::{Action, Reason, Transition};

/// Advances the release in flight by one step.
pub(super) fn advance(t: &mut Transition, gates: &Gates, inputs: &Inputs) {
    let now = inputs.now;
    // What the engine says first: finished deployments end the release in any state.
    match &inputs.engine {
        EngineView::Succeeded => return t.succeed(now),
        EngineView::RolledBack { reason } | EngineView::Failed { reason } => {
            let reason = t
                .release_mut()
                .abort_reason
                .clone()
                .unwrap_or_else(|| reason.clone());
            return t.fail(reason, now);
        }
        EngineView::RollingBack { reason } => {
            let r = t.release_mut();
            r.stop_sent = true;
            if r.state != ReleaseState::Aborting {
                t.abort(reason.clone(), now);
            }
            return;
        }
        _ => {}
    }
    record_step(t, inputs);
    supersede(t, inputs);
    check_gates(t, gates, inputs);
    if t.release_mut().state == ReleaseState::Verifying {
        count_probes(t, gates, inputs);
    }
    analysis::record(t, gates, inputs);
    let state = t.release_mut().state;
    match state {
        ReleaseState::Starting => starting(t, inputs),
        ReleaseState::Deploying => deploying(t, inputs),
        ReleaseState::Verifying => verifying(t, gates, inputs),
        ReleaseState::Paused => follow(t, inputs, state),
        ReleaseState::Promoting => promoting(t, inputs),
        ReleaseState::Baking => baking(t, inputs),
        ReleaseState::Aborting => aborting(t, inputs),
    }
    let deadline = t
        .memory
        .release
        .as_ref()
        .filter(|r| r.state.has_deadline())
        .map(|r| r.progressed_at + SignedDuration::from_secs(gates.progress_deadline_secs));
    if let Some(deadline) = deadline {
        t.due_at(deadline);
    }
    if t.memory.release.is_some() {
        analysis::schedule(t, gates, &inputs.engine, now);
    }
}

/// A newer revision published while the release has not passed its gate replaces it: the
/// release is rolled back (not as a failure) and the newer revision released next. Past the
/// gate, production already moves to the release's revision: it finishes first.
fn supersede(t: &mut Transition, inputs: &Inputs) {
    let Some(desired) = &inputs.desired else {
        return;
    };
    let r = t.release_mut();
    let before_gate = matches!(
        r.state,
        ReleaseState::Starting
            | ReleaseState::Deploying
            | ReleaseState::Verifying
            | ReleaseState::Paused
    );
    if r.rollback || !before_gate || desired.task_definition_arn == r.target.task_definition_arn {
        return;
    }
    r.superseded = true;
    let reason = format!(
        "superseded by {}, published before this release passed its gate",
        short(&desired.task_definition_arn)
    );
    t.abort(reason, inputs.now);
}

/// Engine step changes count as progress.
fn record_step(t: &mut Transition, inputs: &Inputs) {
    let step = inputs.engine.step();
    let r = t.release_mut();
    if step.is_some() && r.step != step {
        r.step = step;
        r.progressed_at = inputs.now;
    }
}

/// Alarms and the progress deadline abort a release that is not aborting yet.
fn check_gates(t: &mut Transition, gates: &Gates, inputs: &Inputs) {
    let now = inputs.now;
    let r = t.release_mut();
    if r.state == ReleaseState::Aborting {
        return;
    }
    let watched = !matches!(r.state, ReleaseState::Starting);
    if watched && !inputs.alarms_firing.is_empty() {
        let reason = format!("alarm {} is in ALARM", inputs.alarms_firing.join(", "));
        return t.abort(reason, now);
    }
    if watched && !inputs.alarms_missing.is_empty() {
        let reason = format!(
            "CloudWatch has no alarm named {}, so the release cannot be guarded by it; create the alarm or remove it from the rollout's alarms",
            inputs.alarms_missing.join(", ")
        );
        return t.abort(reason, now);
    }
    let stalled_for = now.duration_since(r.progressed_at).as_secs();
    if r.state.has_deadline() && stalled_for > gates.progress_deadline_secs {
        let reason = format!(
            "no progress for {stalled_for}s (progressDeadlineSeconds {}) in {:?}",
            gates.progress_deadline_secs, r.state
        );
        t.abort(reason, now);
    }
}

fn starting(t: &mut Transition, inputs: &Inputs) {
    if let EngineView::Busy { deployment } = &inputs.engine {
        // Wait for it (the progress deadline still runs).
        let step = format!("waiting for deployment {deployment}");
        let r = t.release_mut();
        if r.step.as_deref() != Some(step.as_str()) {
            r.step = Some(step);
        }
        return;
    }
    if inputs.engine.is_active() || inputs.engine == EngineView::Pending {
        // The deployment exists already (created before a restart): adopt it.
        t.enter(ReleaseState::Deploying, inputs.now);
        return deploying(t, inputs);
    }
    let target = t.release_mut().target.task_definition_arn.clone();
    t.action = Some(Action::StartDeployment {
        task_definition_arn: target,
    });
    t.enter(ReleaseState::Deploying, inputs.now);
}

fn deploying(t: &mut Transition, inputs: &Inputs) {
    match &inputs.engine {
        EngineView::None => {
            // The deployment is gone (or was never created): start it again.
            t.event(
                Reason::DeploymentMissing,
                "the engine shows no deployment for the release; starting it again",
                true,
            );
            t.enter(ReleaseState::Starting, inputs.now);
        }
        EngineView::AtGate { .. } => {
            if t.release_mut().promoted {
                t.enter(ReleaseState::Promoting, inputs.now);
                promoting(t, inputs);
            } else {
                t.enter(ReleaseState::Verifying, inputs.now);
                t.release_mut().checks.clear();
                t.event(
                    Reason::GateReached,
                    "the new revision serves test traffic",
                    false,
                );
            }
        }
        _ => follow(t, inputs, ReleaseState::Deploying),
    }
}

/// Follows the engine past the gate when it moved on by itself (a person continued it, or
/// the engine has no gate).
fn follow(t: &mut Transition, inputs: &Inputs, state: ReleaseState) {
    match inputs.engine {
        EngineView::Shifting { .. } if state != ReleaseState::Promoting => {
            t.enter(ReleaseState::Promoting, inputs.now);
        }
        EngineView::Baking { .. } => {
            t.enter(ReleaseState::Baking, inputs.now);
            baking(t, inputs);
        }
        _ => {}
    }
}

/// Counts the HTTP checks sent this reconcile; a failed one aborts the release.
fn count_probes(t: &mut Transition, gates: &Gates, inputs: &Inputs) {
    if !matches!(inputs.engine, EngineView::AtGate { .. }) {
        return;
    }
    let now = inputs.now;
    let r = t.release_mut();
    r.checks
        .resize(gates.checks.len(), CheckProgress::default());
    let mut failed = None;
    for (index, passed, detail) in &inputs.probes {
        let (Some(progress), Some(spec)) = (r.checks.get_mut(*index), gates.checks.get(*index))
        else {
            continue;
        };
        progress.last_checked_at = Some(now);
        progress.last_result = Some(detail.clone());
        if *passed {
            progress.passed += 1;
            r.progressed_at = now;
        } else if failed.is_none() {
            failed = Some(format!(
                "HTTP check {} failed: {detail} (expected {})",
                spec.path, spec.expected_status
            ));
        }
    }
    if let Some(reason) = failed {
        t.abort(reason, now);
    }
}

fn verifying(t: &mut Transition, gates: &Gates, inputs: &Inputs) {
    let now = inputs.now;
    let EngineView::AtGate { hook_id } = &inputs.engine else {
        return follow(t, inputs, ReleaseState::Verifying);
    };
    let metrics_passed = analysis::test_traffic_passed(&t.memory, gates);
    let r = t.release_mut();
    let done = metrics_passed
        && gates
            .checks
            .iter()
            .zip(&r.checks)
            .all(|(spec, p)| p.passed >= spec.count);
    if !done {
        // The next attempt of each unfinished check.
        let next = gates
            .checks
            .iter()
            .zip(&r.checks)
            .filter(|(spec, p)| p.passed < spec.count)
            .map(|(spec, p)| {
                p.last_checked_at
                    .map_or(now, |at| at + SignedDuration::from_secs(spec.interval_secs))
            })
            .min();
        if let Some(at) = next {
            t.due_at(at);
        }
        return;
    }
    if !gates.auto_promotion_enabled {
        t.enter(ReleaseState::Paused, now);
        t.event(
            Reason::WaitingForPromotion,
            "checks and metrics passed; `kubectl ecs promote` moves production traffic",
            false,
        );
        return;
    }
    let measured = t
        .memory
        .analysis
        .iter()
        .filter(|p| p.phase == crds::rollout::AnalysisPhase::TestTraffic && !p.dry_run)
        .filter_map(|p| p.last_measured_at)
        .max();
    let r = t.release_mut();
    let checks_done = r
        .checks
        .iter()
        .filter_map(|p| p.last_checked_at)
        .chain(measured)
        .max()
        .unwrap_or(r.state_since)
        .max(r.state_since);
    let promote_at = checks_done + SignedDuration::from_secs(gates.auto_promotion_seconds);
    if now < promote_at {
        return t.due_at(promote_at);
    }
    t.enter(ReleaseState::Promoting, now);
    t.action = Some(Action::Continue {
        hook_id: hook_id.clone(),
    });
}

fn promoting(t: &mut Transition, inputs: &Inputs) {
    match &inputs.engine {
        EngineView::AtGate { hook_id } => {
            t.action = Some(Action::Continue {
                hook_id: hook_id.clone(),
            });
        }
        _ => follow(t, inputs, ReleaseState::Promoting),
    }
}

fn baking(t: &mut Transition, inputs: &Inputs) {
    let EngineView::Baking { can_skip } = inputs.engine else {
        return;
    };
    let r = t.release_mut();
    if r.full && can_skip && !r.bake_skipped {
        r.bake_skipped = true;
        t.action = Some(Action::SkipBake);
    }
}

fn aborting(t: &mut Transition, inputs: &Inputs) {
    let now = inputs.now;
    match &inputs.engine {
        EngineView::None | EngineView::Busy { .. } => {
            let reason = t
                .release_mut()
                .abort_reason
                .clone()
                .unwrap_or_else(|| "aborted".to_owned());
            t.fail(reason, now);
        }
        engine if engine.is_active() || *engine == EngineView::Pending => {
            let r = t.release_mut();
            if !r.stop_sent && *engine != EngineView::Pending {
                r.stop_sent = true;
                let reason = r
                    .abort_reason
                    .clone()
                    .unwrap_or_else(|| "aborted".to_owned());
                t.action = Some(Action::Stop { reason });
            }
        }
        _ => {}
    }
}
