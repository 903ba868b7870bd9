//! Metric analysis in the state machine: the gate holds until the metrics pass, failures and
//! query errors abort, inconclusive pauses at the gate and aborts after it, dry-run metrics
//! never gate, and measurements are due by interval and initial delay.

use super::tests::{at, cont, gate, in_state, inputs, reasons, state};
use super::*;
use crds::rollout::{
    AnalysisPhase as Ph, MeasurementOutcome as O, MetricVerdict as V, ReleaseState as S,
};

fn metric(name: &str, phases: &[Ph]) -> MetricSpec {
    MetricSpec {
        name: name.into(),
        phases: phases.to_vec(),
        interval_secs: 60,
        count: 2,
        failure_limit: 0,
        inconclusive_limit: 0,
        consecutive_error_limit: 1,
        initial_delay_secs: 0,
        dry_run: false,
    }
}

fn gates_with(metrics: Vec<MetricSpec>) -> Gates {
    Gates {
        auto_promotion_enabled: true,
        auto_promotion_seconds: 0,
        checks: Vec::new(),
        metrics,
        progress_deadline_secs: 600,
    }
}

fn measured(outcome: O, value: &str) -> Measurement {
    Measurement {
        outcome,
        value: Some(value.into()),
        message: Some(format!("condition said {outcome:?}")),
    }
}

/// Steps the machine at `now` with the given measurements of metric 0.
fn step_with(m: &Memory, g: &Gates, now: i64, engine: EngineView, got: &[(Ph, O)]) -> Transition {
    let mut i = inputs(now, engine);
    i.measurements = got
        .iter()
        .map(|(phase, o)| (0, *phase, measured(*o, "1.5")))
        .collect();
    step(m, g, &i)
}

#[test]
fn the_gate_holds_until_the_test_traffic_metric_passed_its_count() {
    let g = gates_with(vec![metric("errors", &[Ph::TestTraffic])]);
    let m = in_state(S::Verifying);
    assert_eq!(due_metrics(&m, &g, &gate(), at(0)), [(0, Ph::TestTraffic)]);
    let t = step_with(&m, &g, 0, gate(), &[(Ph::TestTraffic, O::Successful)]);
    assert_eq!(state(&t), Some(S::Verifying));
    assert_eq!(t.action, None);
    assert_eq!(t.next_check, Some(at(60)), "woken for the next measurement");
    assert!(due_metrics(&t.memory, &g, &gate(), at(30)).is_empty());
    assert_eq!(due_metrics(&t.memory, &g, &gate(), at(60)).len(), 1);
    let t = step_with(
        &t.memory,
        &g,
        60,
        gate(),
        &[(Ph::TestTraffic, O::Successful)],
    );
    assert_eq!(state(&t), Some(S::Promoting));
    assert_eq!(t.action, cont());
    assert_eq!(t.memory.analysis[0].verdict, V::Successful);
    assert_eq!(t.memory.analysis[0].measurements.len(), 2);
}

#[test]
fn a_failed_measurement_beyond_the_limit_aborts_naming_the_metric_and_value() {
    let g = gates_with(vec![metric("errors", &[Ph::TestTraffic])]);
    let t = step_with(
        &in_state(S::Verifying),
        &g,
        0,
        gate(),
        &[(Ph::TestTraffic, O::Failed)],
    );
    assert_eq!(state(&t), Some(S::Aborting));
    assert!(matches!(t.action, Some(Action::Stop { .. })));
    let reason = t
        .memory
        .release
        .as_ref()
        .unwrap()
        .abort_reason
        .clone()
        .unwrap();
    assert!(
        reason.contains("metric errors failed on test traffic: result 1.5"),
        "{reason}"
    );
    assert!(reason.contains("condition said Failed"), "{reason}");
    assert_eq!(reasons(&t), ["RolloutAborting"]);
}

#[test]
fn the_failure_limit_tolerates_that_many_failures() {
    let mut spec = metric("errors", &[Ph::TestTraffic]);
    spec.failure_limit = 1;
    let g = gates_with(vec![spec]);
    let t = step_with(
        &in_state(S::Verifying),
        &g,
        0,
        gate(),
        &[(Ph::TestTraffic, O::Failed)],
    );
    assert_eq!(state(&t), Some(S::Verifying));
    let t = step_with(&t.memory, &g, 60, gate(), &[(Ph::TestTraffic, O::Failed)]);
    assert_eq!(state(&t), Some(S::Aborting));
}

#[test]
fn inconclusive_on_test_traffic_pauses_for_promote_or_abort() {
    let g = gates_with(vec![metric("latency", &[Ph::TestTraffic])]);
    let t = step_with(
        &in_state(S::Verifying),
        &g,
        0,
        gate(),
        &[(Ph::TestTraffic, O::Inconclusive)],
    );
    assert_eq!(state(&t), Some(S::Paused));
    assert_eq!(t.action, None);
    assert_eq!(reasons(&t), ["AnalysisInconclusive"]);
    let r = t.memory.release.as_ref().unwrap();
    assert!(
        r.pause_reason
            .as_deref()
            .unwrap()
            .contains("latency was inconclusive")
    );
    assert!(
        due_metrics(&t.memory, &g, &gate(), at(600)).is_empty(),
        "paused: nothing is measured"
    );
    let mut i = inputs(10, gate());
    i.verbs = vec![Verb::Promote];
    let t = step(&t.memory, &g, &i);
    assert_eq!(state(&t), Some(S::Promoting));
    assert_eq!(t.action, cont());
    assert_eq!(t.memory.release.as_ref().unwrap().pause_reason, None);
}

#[test]
fn after_the_gate_a_failing_or_inconclusive_metric_aborts() {
    let g = gates_with(vec![metric("errors", &[Ph::Steps, Ph::Bake])]);
    let shifting = EngineView::Shifting {
        step: "PRODUCTION_TRAFFIC_SHIFT".into(),
    };
    let m = in_state(S::Promoting);
    assert_eq!(due_metrics(&m, &g, &shifting, at(0)), [(0, Ph::Steps)]);
    let t = step_with(&m, &g, 0, shifting.clone(), &[(Ph::Steps, O::Failed)]);
    assert_eq!(state(&t), Some(S::Aborting));
    assert!(matches!(t.action, Some(Action::Stop { .. })));

    let baking = EngineView::Baking { can_skip: false };
    let t = step_with(
        &in_state(S::Baking),
        &g,
        0,
        baking,
        &[(Ph::Bake, O::Inconclusive)],
    );
    assert_eq!(state(&t), Some(S::Aborting));
    let reason = t
        .memory
        .release
        .as_ref()
        .unwrap()
        .abort_reason
        .clone()
        .unwrap();
    assert!(reason.contains("cannot be held"), "{reason}");
}

#[test]
fn each_phase_counts_on_its_own() {
    let g = gates_with(vec![metric("errors", &[Ph::TestTraffic, Ph::Steps])]);
    let t = step_with(
        &in_state(S::Verifying),
        &g,
        0,
        gate(),
        &[(Ph::TestTraffic, O::Successful)],
    );
    let t = step_with(
        &t.memory,
        &g,
        60,
        gate(),
        &[(Ph::TestTraffic, O::Successful)],
    );
    assert_eq!(state(&t), Some(S::Promoting));
    let shifting = EngineView::Shifting {
        step: "PRODUCTION_TRAFFIC_SHIFT".into(),
    };
    let due = due_metrics(&t.memory, &g, &shifting, at(61));
    assert_eq!(due, [(0, Ph::Steps)], "the shift is measured at once");
    let t = step_with(&t.memory, &g, 61, shifting, &[(Ph::Steps, O::Successful)]);
    let p = &t.memory.analysis[0];
    assert_eq!((p.phase, p.measured, p.verdict), (Ph::Steps, 1, V::Running));
    assert_eq!(
        p.measurements.len(),
        3,
        "the newest measurements of every phase are kept"
    );
}

#[test]
fn queries_failing_in_a_row_beyond_the_limit_abort() {
    let g = gates_with(vec![metric("errors", &[Ph::TestTraffic])]);
    let t = step_with(
        &in_state(S::Verifying),
        &g,
        0,
        gate(),
        &[(Ph::TestTraffic, O::Error)],
    );
    assert_eq!(state(&t), Some(S::Verifying), "one error is tolerated");
    assert_eq!(
        t.memory.analysis[0].measured, 0,
        "an error is not a measurement"
    );
    let t = step_with(&t.memory, &g, 60, gate(), &[(Ph::TestTraffic, O::Error)]);
    assert_eq!(state(&t), Some(S::Aborting));
    assert!(
        t.memory
            .release
            .as_ref()
            .unwrap()
            .abort_reason
            .as_deref()
            .unwrap()
            .contains("could not be measured")
    );
}

#[test]
fn dry_run_metrics_are_reported_and_never_gate() {
    let mut spec = metric("errors", &[Ph::TestTraffic]);
    spec.dry_run = true;
    let g = gates_with(vec![spec]);
    let t = step_with(
        &in_state(S::Verifying),
        &g,
        0,
        gate(),
        &[(Ph::TestTraffic, O::Failed)],
    );
    assert_eq!(
        state(&t),
        Some(S::Promoting),
        "the gate does not wait for a dry-run metric"
    );
    assert_eq!(t.action, cont());
    assert_eq!(reasons(&t), ["DryRunVerdict"]);
    assert_eq!(t.memory.analysis[0].verdict, V::Failed);
}

#[test]
fn the_initial_delay_counts_from_the_phase_start() {
    let mut spec = metric("errors", &[Ph::TestTraffic]);
    spec.initial_delay_secs = 120;
    let g = gates_with(vec![spec]);
    let m = in_state(S::Verifying);
    assert!(due_metrics(&m, &g, &gate(), at(0)).is_empty());
    let t = step_with(&m, &g, 0, gate(), &[]);
    assert_eq!(t.next_check, Some(at(120)));
    assert!(due_metrics(&t.memory, &g, &gate(), at(119)).is_empty());
    assert_eq!(due_metrics(&t.memory, &g, &gate(), at(120)).len(), 1);
}

#[test]
fn a_measurement_whose_status_write_was_lost_is_taken_again_and_counted_once() {
    let g = gates_with(vec![metric("errors", &[Ph::TestTraffic])]);
    let m = in_state(S::Verifying);
    // The first reconcile measured, but its status never landed: the next one starts from
    // the same memory, finds the metric due again and counts one measurement.
    let _lost = step_with(&m, &g, 0, gate(), &[(Ph::TestTraffic, O::Successful)]);
    assert_eq!(due_metrics(&m, &g, &gate(), at(5)).len(), 1);
    let t = step_with(&m, &g, 5, gate(), &[(Ph::TestTraffic, O::Successful)]);
    assert_eq!(t.memory.analysis[0].successful, 1);
}

#[test]
fn rollback_releases_are_not_analysed() {
    let g = gates_with(vec![metric("errors", &[Ph::Steps])]);
    let mut m = in_state(S::Promoting);
    m.release.as_mut().unwrap().rollback = true;
    let shifting = EngineView::Shifting {
        step: "PRODUCTION_TRAFFIC_SHIFT".into(),
    };
    assert!(due_metrics(&m, &g, &shifting, at(0)).is_empty());
}

#[test]
fn a_new_release_starts_with_no_analysis() {
    let g = gates_with(vec![metric("errors", &[Ph::TestTraffic])]);
    let t = step_with(
        &in_state(S::Verifying),
        &g,
        0,
        gate(),
        &[(Ph::TestTraffic, O::Failed)],
    );
    assert!(!t.memory.analysis.is_empty());
    let mut m = t.memory.clone();
    m.release = None;
    let t = step(&m, &g, &inputs(100, EngineView::None));
    assert_eq!(reasons(&t), ["ReleaseStarted"]);
    assert!(t.memory.analysis.is_empty());
}

#[test]
fn a_failed_http_check_is_not_hidden_by_a_metric_pausing_in_the_same_step() {
    let mut g = gates_with(vec![metric("latency", &[Ph::TestTraffic])]);
    g.checks = super::tests::gates().checks;
    let mut i = inputs(0, gate());
    i.probes = vec![(0, false, "500".into())];
    i.measurements = vec![(0, Ph::TestTraffic, measured(O::Inconclusive, "1.5"))];
    let t = step(&in_state(S::Verifying), &g, &i);
    assert_eq!(state(&t), Some(S::Aborting));
    assert!(matches!(t.action, Some(Action::Stop { .. })));
}

#[test]
fn a_metric_turned_from_dry_run_to_gating_starts_counting_again() {
    let mut spec = metric("errors", &[Ph::TestTraffic]);
    spec.dry_run = true;
    let t = step_with(
        &in_state(S::Verifying),
        &gates_with(vec![spec.clone()]),
        0,
        gate(),
        &[(Ph::TestTraffic, O::Failed)],
    );
    spec.dry_run = false;
    let g = gates_with(vec![spec]);
    let mut m = t.memory.clone();
    m.release.as_mut().unwrap().state = S::Verifying;
    assert_eq!(
        due_metrics(&m, &g, &gate(), at(1)).len(),
        1,
        "due again, as a gating metric"
    );
}
