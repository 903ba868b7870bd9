//! A thousand services over an hour of simulated time: lazy, event-driven advancing keeps it fast.

use super::*;

const SERVICES: usize = 1000;

fn name(i: usize) -> String {
    format!("svc-{i:04}")
}

#[test]
fn a_thousand_services_deploy_and_roll_over_an_hour() {
    let sim = sim();
    sim.set_throttling(false);
    for i in 0..SERVICES {
        create(&sim, &name(i), "registry/app:1.0", 2);
    }
    // Large jumps and small steps mixed: a minute, then an hour in 10-minute jumps.
    advance(&sim, 60);
    let summary = sim.snapshot();
    assert_eq!(summary.len(), SERVICES);
    assert!(
        summary
            .iter()
            .all(|s| s.rollout_state.as_ref().map(|s| s.as_str()) == Some("COMPLETED"))
    );
    assert_eq!(
        summary.iter().map(|s| s.running_count).sum::<i32>(),
        2 * SERVICES as i32
    );

    for i in 0..SERVICES {
        deploy_image(&sim, &name(i), "registry/app:2.0");
    }
    for _ in 0..6 {
        advance(&sim, 600);
        assert_eq!(sim.snapshot().len(), SERVICES);
    }
    let summary = sim.snapshot();
    let done = summary
        .iter()
        .filter(|s| {
            s.rollout_state.as_ref().map(|s| s.as_str()) == Some("COMPLETED")
                && s.deployments == 1
                && s.task_definition
                    .as_deref()
                    .is_some_and(|t| t.ends_with(":2"))
        })
        .count();
    assert_eq!(done, SERVICES);
    assert_eq!(
        summary.iter().map(|s| s.running_count).sum::<i32>(),
        2 * SERVICES as i32
    );
    assert_eq!(summary.iter().map(|s| s.pending_count).sum::<i32>(), 0);
}

#[test]
fn stepping_second_by_second_through_a_rollout_of_many_services() {
    let sim = sim();
    sim.set_throttling(false);
    for i in 0..200 {
        create(&sim, &name(i), "registry/app:1.0", 3);
    }
    for _ in 0..120 {
        advance(&sim, 1);
        sim.snapshot();
    }
    assert!(
        sim.snapshot()
            .iter()
            .all(|s| s.rollout_state.as_ref().map(|s| s.as_str()) == Some("COMPLETED"))
    );
}
