//! The analysis memory as the status keeps it (`status.analysis`), and back: whole seconds,
//! the newest measurements first.

use crds::rollout::{MeasurementStatus, MetricStatus};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

use super::super::machine::{KEPT_MEASUREMENTS, MeasurementRecord, MetricProgress};

/// The memory of `status.analysis`.
pub fn from_status(status: &[MetricStatus]) -> Vec<MetricProgress> {
    status
        .iter()
        .map(|m| MetricProgress {
            name: m.name.clone(),
            phase: m.phase,
            verdict: m.verdict,
            dry_run: m.dry_run,
            phase_started_at: m.phase_started_at.as_ref().map(|t| t.0),
            measured: m.measured,
            successful: m.successful,
            failed: m.failed,
            inconclusive: m.inconclusive,
            consecutive_errors: m.consecutive_errors,
            last_measured_at: m.last_measured_at.as_ref().map(|t| t.0),
            measurements: m
                .measurements
                .iter()
                .map(|r| MeasurementRecord {
                    at: r.at.0,
                    phase: r.phase,
                    outcome: r.outcome,
                    value: r.value.clone(),
                    message: r.message.clone(),
                })
                .collect(),
        })
        .collect()
}

/// `status.analysis` of the memory.
pub fn to_status(memory: &[MetricProgress]) -> Vec<MetricStatus> {
    memory
        .iter()
        .map(|m| MetricStatus {
            name: m.name.clone(),
            phase: m.phase,
            verdict: m.verdict,
            dry_run: m.dry_run,
            phase_started_at: m.phase_started_at.map(Time),
            measured: m.measured,
            successful: m.successful,
            failed: m.failed,
            inconclusive: m.inconclusive,
            consecutive_errors: m.consecutive_errors,
            last_measured_at: m.last_measured_at.map(Time),
            measurements: m
                .measurements
                .iter()
                .take(KEPT_MEASUREMENTS)
                .map(|r| MeasurementStatus {
                    at: Time(r.at),
                    phase: r.phase,
                    outcome: r.outcome,
                    value: r.value.clone(),
                    message: r.message.clone(),
                })
                .collect(),
        })
        .collect()
}
