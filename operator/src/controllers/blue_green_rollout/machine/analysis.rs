//! Metric analysis in the state machine: which metrics are due in which phase, what one
//! measurement does to a metric's counts and verdict, and what a verdict does to the release —
//! hold it at the gate, pause it there, or abort it. Dry-run metrics are counted and reported,
//! never acted on. Pure.
//!
//! A measurement is counted only when the status that carries it is written: one taken before a
//! crash whose status write was lost is simply taken again, so no verdict counts it twice.

use crds::rollout::{AnalysisPhase, MeasurementOutcome, MetricVerdict, ReleaseState};
use jiff::{SignedDuration, Timestamp};

use super::inputs::{EngineView, Gates, Inputs, Measurement, MetricSpec};
use super::memory::{MeasurementRecord, Memory, MetricProgress, Release};
use super::transition::{Reason, Transition};

/// Measurements kept per metric in the status.
pub const KEPT_MEASUREMENTS: usize = 3;

/// The analysis phase a release is in: test traffic at the gate, the production shift, the
/// bake. Releases started by `rollback` go back to a revision that served before: not analysed.
pub fn phase_of(release: &Release, engine: &EngineView) -> Option<AnalysisPhase> {
    if release.rollback {
        return None;
    }
    match (release.state, engine) {
        (ReleaseState::Verifying, EngineView::AtGate { .. }) if !release.promoted => {
            Some(AnalysisPhase::TestTraffic)
        }
        (ReleaseState::Promoting, EngineView::Shifting { .. }) => Some(AnalysisPhase::Steps),
        (ReleaseState::Baking, EngineView::Baking { .. }) => Some(AnalysisPhase::Bake),
        _ => None,
    }
}

/// The progress of `spec` in `phase`, if it is being measured in that phase already.
fn in_phase<'a>(
    analysis: &'a [MetricProgress],
    spec: &MetricSpec,
    phase: AnalysisPhase,
) -> Option<&'a MetricProgress> {
    analysis.iter().find(|p| {
        p.name == spec.name
            && p.phase == phase
            && p.phase_started_at.is_some()
            && p.dry_run == spec.dry_run
    })
}

/// When `spec` is next due in `phase`: `None` once it has a verdict (or passed its count on
/// test traffic).
fn next_due(
    spec: &MetricSpec,
    progress: Option<&MetricProgress>,
    now: Timestamp,
) -> Option<Timestamp> {
    let Some(p) = progress else {
        return Some(now + SignedDuration::from_secs(spec.initial_delay_secs));
    };
    if p.verdict != MetricVerdict::Running {
        return None;
    }
    let start =
        p.phase_started_at.unwrap_or(now) + SignedDuration::from_secs(spec.initial_delay_secs);
    let after_last = p
        .last_measured_at
        .map(|at| at + SignedDuration::from_secs(spec.interval_secs));
    Some(after_last.map_or(start, |t| t.max(start)))
}

/// The metrics due now (index in the gates, phase), for the observer to measure.
pub fn due_metrics(
    memory: &Memory,
    gates: &Gates,
    engine: &EngineView,
    now: Timestamp,
) -> Vec<(usize, AnalysisPhase)> {
    let Some(phase) = memory.release.as_ref().and_then(|r| phase_of(r, engine)) else {
        return Vec::new();
    };
    gates
        .metrics
        .iter()
        .enumerate()
        .filter(|(_, spec)| spec.phases.contains(&phase))
        .filter(|(_, spec)| {
            next_due(spec, in_phase(&memory.analysis, spec, phase), now).is_some_and(|t| t <= now)
        })
        .map(|(i, _)| (i, phase))
        .collect()
}

/// Whether every gating metric measured on test traffic passed its count.
pub fn test_traffic_passed(memory: &Memory, gates: &Gates) -> bool {
    gates
        .metrics
        .iter()
        .filter(|s| !s.dry_run && s.phases.contains(&AnalysisPhase::TestTraffic))
        .all(|s| {
            in_phase(&memory.analysis, s, AnalysisPhase::TestTraffic)
                .is_some_and(|p| p.verdict == MetricVerdict::Successful)
        })
}

/// The progress entry of `spec` for `phase`, created (or restarted for a new phase) as needed.
fn entry<'a>(
    analysis: &'a mut Vec<MetricProgress>,
    spec: &MetricSpec,
    phase: AnalysisPhase,
    now: Timestamp,
) -> &'a mut MetricProgress {
    let index = match analysis.iter().position(|p| p.name == spec.name) {
        Some(i) => i,
        None => {
            analysis.push(MetricProgress {
                name: spec.name.clone(),
                phase,
                verdict: MetricVerdict::Running,
                dry_run: spec.dry_run,
                phase_started_at: None,
                measured: 0,
                successful: 0,
                failed: 0,
                inconclusive: 0,
                consecutive_errors: 0,
                last_measured_at: None,
                measurements: Vec::new(),
            });
            analysis.len() - 1
        }
    };
    let p = &mut analysis[index];
    // A new phase, or the metric turned from dry run to gating (or back): counting starts over.
    if p.phase != phase || p.phase_started_at.is_none() || p.dry_run != spec.dry_run {
        p.phase = phase;
        p.verdict = MetricVerdict::Running;
        p.phase_started_at = Some(now);
        p.measured = 0;
        p.successful = 0;
        p.failed = 0;
        p.inconclusive = 0;
        p.consecutive_errors = 0;
        p.last_measured_at = None;
    }
    p.dry_run = spec.dry_run;
    p
}

/// Counts one measurement and returns the metric's new verdict.
fn count(
    p: &mut MetricProgress,
    spec: &MetricSpec,
    m: &Measurement,
    now: Timestamp,
) -> MetricVerdict {
    match m.outcome {
        MeasurementOutcome::Successful => p.successful += 1,
        MeasurementOutcome::Failed => p.failed += 1,
        MeasurementOutcome::Inconclusive => p.inconclusive += 1,
        MeasurementOutcome::Error => p.consecutive_errors += 1,
    }
    if m.outcome == MeasurementOutcome::Error {
        // A query that could not be run is not a measurement.
    } else {
        p.measured += 1;
        p.consecutive_errors = 0;
    }
    p.last_measured_at = Some(now);
    p.measurements.insert(
        0,
        MeasurementRecord {
            at: now,
            phase: p.phase,
            outcome: m.outcome,
            value: m.value.clone(),
            message: m.message.clone(),
        },
    );
    p.measurements.truncate(KEPT_MEASUREMENTS);
    p.verdict = if p.failed > spec.failure_limit {
        MetricVerdict::Failed
    } else if p.consecutive_errors > spec.consecutive_error_limit {
        MetricVerdict::Error
    } else if p.inconclusive > spec.inconclusive_limit {
        MetricVerdict::Inconclusive
    } else if p.phase == AnalysisPhase::TestTraffic && p.successful >= spec.count {
        MetricVerdict::Successful
    } else {
        MetricVerdict::Running
    };
    p.verdict
}

/// What a verdict says, for messages: the metric, its value and the condition.
fn describe(spec: &MetricSpec, p: &MetricProgress, m: &Measurement) -> String {
    let value = m.value.as_deref().unwrap_or("no value");
    let what = m.message.as_deref().unwrap_or("");
    let phase = match p.phase {
        AnalysisPhase::TestTraffic => "on test traffic",
        AnalysisPhase::Steps => "while production traffic shifted",
        AnalysisPhase::Bake => "during the bake",
    };
    match p.verdict {
        MetricVerdict::Failed => format!(
            "metric {} failed {phase}: result {value} ({what}); {} of {} measurements failed (failureLimit {})",
            spec.name, p.failed, p.measured, spec.failure_limit
        ),
        MetricVerdict::Error => format!(
            "metric {} could not be measured {phase} {} times in a row (consecutiveErrorLimit {}): {what}",
            spec.name, p.consecutive_errors, spec.consecutive_error_limit
        ),
        MetricVerdict::Inconclusive => format!(
            "metric {} was inconclusive {phase}: result {value} ({what}); {} of {} measurements inconclusive (inconclusiveLimit {})",
            spec.name, p.inconclusive, p.measured, spec.inconclusive_limit
        ),
        MetricVerdict::Successful | MetricVerdict::Running => {
            format!("metric {} {phase}: result {value}", spec.name)
        }
    }
}

/// Counts this reconcile's measurements and acts on the verdicts they reach: a failed (or
/// unmeasurable) gating metric aborts the release; an inconclusive one pauses it at the gate,
/// or aborts it past the gate, where no engine can be held.
pub(super) fn record(t: &mut Transition, gates: &Gates, inputs: &Inputs) {
    let now = inputs.now;
    for (index, phase, m) in &inputs.measurements {
        let Some(spec) = gates.metrics.get(*index) else {
            continue;
        };
        let p = entry(&mut t.memory.analysis, spec, *phase, now);
        let before = p.verdict;
        let verdict = count(p, spec, m, now);
        let message = describe(spec, p, m);
        if m.outcome == MeasurementOutcome::Successful && !spec.dry_run {
            t.release_mut().progressed_at = now;
        }
        if verdict == before
            || matches!(verdict, MetricVerdict::Running | MetricVerdict::Successful)
        {
            continue;
        }
        if spec.dry_run {
            t.event(Reason::DryRunVerdict, format!("dry run: {message}"), false);
            continue;
        }
        match verdict {
            MetricVerdict::Inconclusive if *phase == AnalysisPhase::TestTraffic => {
                pause(t, message, now);
            }
            MetricVerdict::Inconclusive => t.abort(
                format!("{message}; after the gate a release cannot be held, so it is rolled back"),
                now,
            ),
            _ => t.abort(message, now),
        }
    }
}

/// Pauses the release at the gate for `promote` or `abort`.
fn pause(t: &mut Transition, message: String, now: Timestamp) {
    if t.release_mut().state != ReleaseState::Verifying {
        return;
    }
    t.enter(ReleaseState::Paused, now);
    t.release_mut().pause_reason = Some(message.clone());
    t.event(
        Reason::AnalysisInconclusive,
        format!("{message}; `kubectl ecs promote` continues, `kubectl ecs abort` rolls back"),
        true,
    );
}

/// After the step: starts the metrics of the phase the release is now in and asks to be woken
/// for the next measurement due.
pub(super) fn schedule(t: &mut Transition, gates: &Gates, engine: &EngineView, now: Timestamp) {
    let Some(phase) = t.memory.release.as_ref().and_then(|r| phase_of(r, engine)) else {
        return;
    };
    let mut due = None::<Timestamp>;
    for spec in gates.metrics.iter().filter(|s| s.phases.contains(&phase)) {
        let p = entry(&mut t.memory.analysis, spec, phase, now);
        if let Some(at) = next_due(spec, Some(p), now) {
            due = Some(due.map_or(at, |d: Timestamp| d.min(at)));
        }
    }
    if let Some(at) = due {
        t.due_at(at.max(now));
    }
}
