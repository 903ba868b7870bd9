//! Table-driven tests of the ScalingPolicy plan: every spec field → the AWS call it causes,
//! nothing when AWS matches, ownership, the service missing, duplicates, and scale-in
//! suspension during rollouts.

use super::*;
use crate::controllers::ownership::{Refusal, ServiceAccess};
use crate::controllers::scaling_policy::observe::ServiceTarget;
use crate::controllers::scaling_policy::validate::validate;
use aws::autoscaling::{PolicyAlarm, ScalableTarget, ScalingPolicy as AwsPolicy};
use aws::autoscaling::{PolicyConfiguration, ScheduledAction};
use aws::ecs::{Deployment, Service};
use crds::ScalingPolicy;
use crds::scaling::AlarmStatus;

const ID: &str = "service/event-booking/auth";
const ARN: &str = "arn:aws:application-autoscaling:eu-west-1:123456789012:scalable-target/0e1";

fn object(extra: &str) -> ScalingPolicy {
    let yaml = format!(
        r#"
apiVersion: ecs-operator.dev/v1alpha1
kind: ScalingPolicy
metadata: {{name: auth, namespace: shop, generation: 1}}
spec:
  serviceRef: {{name: auth}}
  minCapacity: 2
  maxCapacity: 10
  targetTrackingPolicies:
    - policyName: cpu
      targetValue: 70
      predefinedMetricSpecification: {{predefinedMetricType: ECSServiceAverageCPUUtilization}}
      scaleOutCooldown: 60
      scaleInCooldown: 300
    - policyName: memory
      targetValue: 80
      predefinedMetricSpecification: {{predefinedMetricType: ECSServiceAverageMemoryUtilization}}
      scaleOutCooldown: 60
      scaleInCooldown: 300
{extra}
"#
    );
    serde_saphyr::from_str(&yaml).expect("fixture parses")
}

fn spec(extra: &str) -> ValidatedSpec {
    validate(&object(extra)).expect("fixture is valid")
}

fn service(deployments: Vec<Deployment>) -> Service {
    Service {
        service_name: "auth".into(),
        status: "ACTIVE".into(),
        desired_count: 3,
        deployments,
        ..Service::default()
    }
}

fn deployment(status: &str, state: &str) -> Deployment {
    Deployment {
        id: format!("ecs-svc/{status}"),
        status: status.into(),
        rollout_state: Some(state.into()),
        ..Deployment::default()
    }
}

fn target(min: i32, max: i32) -> ScalableTarget {
    ScalableTarget {
        resource_id: ID.into(),
        scalable_target_arn: Some(ARN.into()),
        min_capacity: min,
        max_capacity: max,
        ..ScalableTarget::default()
    }
}

fn aws_policies(spec: &ValidatedSpec) -> Vec<AwsPolicy> {
    spec.policies
        .iter()
        .map(|p| AwsPolicy {
            policy_name: p.name.clone(),
            policy_arn: format!("arn:policy/{}", p.name),
            resource_id: ID.into(),
            configuration: p.configuration.clone(),
            alarms: vec![PolicyAlarm {
                alarm_name: format!("TargetTracking-{ID}-AlarmHigh"),
                alarm_arn: "arn:alarm".into(),
            }],
        })
        .collect()
}

fn aws_actions(spec: &ValidatedSpec) -> Vec<ScheduledAction> {
    spec.scheduled_actions
        .iter()
        .map(|a| ScheduledAction {
            resource_id: ID.into(),
            scheduled_action_arn: "arn:sa".into(),
            ..a.clone()
        })
        .collect()
}

/// AWS exactly as the spec asks, owned by the status.
fn in_sync(spec: &ValidatedSpec) -> Observed {
    Observed {
        access: ServiceAccess::Granted,
        target: Some(ServiceTarget {
            resource_id: ID.into(),
            cluster: "event-booking".into(),
            service_name: "auth".into(),
            region: None,
        }),
        service: Some(service(vec![deployment("PRIMARY", "COMPLETED")])),
        scalable_target: Some(target(spec.min_capacity, spec.max_capacity)),
        owner: None,
        policies: aws_policies(spec),
        scheduled_actions: aws_actions(spec),
        ..Observed::default()
    }
}

fn owned_status(spec: &ValidatedSpec) -> ScalingPolicyStatus {
    ScalingPolicyStatus {
        scalable_target_arn: Some(ARN.into()),
        resource_id: Some(ID.into()),
        applied_capacity: Some(CapacityStatus {
            min_capacity: spec.min_capacity,
            max_capacity: spec.max_capacity,
        }),
        ..ScalingPolicyStatus::default()
    }
}

fn cond<'a>(plan: &'a Plan, type_: &str) -> &'a Desired {
    plan.report
        .conditions
        .iter()
        .find(|c| c.type_ == type_)
        .unwrap_or_else(|| panic!("no {type_} in {:?}", plan.report.conditions))
}

fn names(plan: &Plan) -> Vec<&'static str> {
    plan.steps.iter().map(super::Step::name).collect()
}

#[test]
fn a_new_policy_registers_the_target_then_puts_every_policy_and_action() {
    let s = spec(
        "  scheduledActions:\n    - {scheduledActionName: night, schedule: 'cron(0 20 * * ? *)', scalableTargetAction: {minCapacity: 1, maxCapacity: 4}}",
    );
    let observed = Observed {
        scalable_target: None,
        policies: vec![],
        scheduled_actions: vec![],
        ..in_sync(&s)
    };
    let p = plan(&s, &ScalingPolicyStatus::default(), &observed);
    assert_eq!(
        names(&p),
        [
            "RegisterScalableTarget",
            "PutScalingPolicy",
            "PutScalingPolicy",
            "PutScheduledAction"
        ]
    );
    let Step::RegisterTarget { input, .. } = &p.steps[0] else {
        panic!("{:?}", p.steps)
    };
    assert_eq!(
        (input.min_capacity, input.max_capacity),
        (Some(2), Some(10))
    );
    assert_eq!(input.tags[0].value, "shop/auth");
    assert!(!input.suspended_state.unwrap().dynamic_scaling_in_suspended);
    let Step::PutScheduledAction(a) = &p.steps[3] else {
        panic!()
    };
    assert_eq!(a.resource_id, ID);
    assert_eq!(p.report.resource_id.as_deref(), Some(ID));
    assert_eq!(p.report.requeue, Requeue::Soon);
    assert_eq!(cond(&p, "Reconciling").reason, "Creating");
    assert!(!cond(&p, "Ready").status);
}

#[test]
fn nothing_differs_nothing_is_sent_and_ready_says_the_range() {
    let s = spec("");
    let p = plan(&s, &owned_status(&s), &in_sync(&s));
    assert!(p.steps.is_empty(), "{:?}", p.steps);
    assert!(cond(&p, "Ready").status);
    assert_eq!(cond(&p, "Ready").reason, "Active");
    assert!(
        cond(&p, "Ready")
            .message
            .contains("between 2 and 10 (desired 3)")
    );
    assert_eq!(p.report.requeue, Requeue::Idle);
}

#[test]
fn each_spec_field_change_is_one_call() {
    let base = spec("");
    let observed = in_sync(&base);
    let status = owned_status(&base);
    let replace = |from: &str, to: &str| {
        let yaml = serde_saphyr::to_string(&object(""))
            .unwrap()
            .replace(from, to);
        validate(&serde_saphyr::from_str::<ScalingPolicy>(&yaml).unwrap()).unwrap()
    };
    let cases: Vec<(ValidatedSpec, Vec<&str>)> = vec![
        (
            replace("minCapacity: 2", "minCapacity: 3"),
            vec!["RegisterScalableTarget"],
        ),
        (
            replace("maxCapacity: 10", "maxCapacity: 12"),
            vec!["RegisterScalableTarget"],
        ),
        (
            replace("targetValue: 70.0", "targetValue: 60.0"),
            vec!["PutScalingPolicy"],
        ),
        (
            replace("scaleOutCooldown: 60", "scaleOutCooldown: 90"),
            vec!["PutScalingPolicy", "PutScalingPolicy"],
        ),
        (
            replace("scaleInCooldown: 300", "scaleInCooldown: 600"),
            vec!["PutScalingPolicy", "PutScalingPolicy"],
        ),
        (
            replace("policyName: memory", "policyName: mem80"),
            vec!["DeleteScalingPolicy", "PutScalingPolicy"],
        ),
        (
            replace(
                "ECSServiceAverageMemoryUtilization",
                "ECSServiceAverageCPUUtilization",
            ),
            vec!["PutScalingPolicy"],
        ),
        (spec("      disableScaleIn: true"), vec!["PutScalingPolicy"]),
        (
            spec(
                "  stepPolicies:\n    - policyName: burst\n      adjustmentType: ChangeInCapacity\n      stepAdjustments: [{metricIntervalLowerBound: 0, scalingAdjustment: 2}]\n      alarm: {metricName: CPUUtilization, namespace: AWS/ECS, threshold: 90, comparisonOperator: GreaterThanThreshold}",
            ),
            vec!["PutScalingPolicy", "PutMetricAlarm"],
        ),
        (
            spec(
                "  scheduledActions:\n    - {scheduledActionName: am, schedule: 'cron(0 8 ? * MON-FRI *)', timezone: Europe/Berlin, scalableTargetAction: {minCapacity: 4}}",
            ),
            vec!["PutScheduledAction"],
        ),
    ];
    for (changed, expected) in cases {
        let p = plan(&changed, &status, &observed);
        assert_eq!(names(&p), expected, "{:?}", p.steps);
        assert_eq!(cond(&p, "Reconciling").reason, "Updating");
    }
}

#[test]
fn scheduled_action_fields_each_cause_a_put_and_a_removed_one_a_delete() {
    let base = spec(
        "  scheduledActions:\n    - {scheduledActionName: am, schedule: 'cron(0 8 * * ? *)', timezone: Europe/Berlin, startTime: '2026-01-01T00:00:00Z', endTime: '2027-01-01T00:00:00Z', scalableTargetAction: {minCapacity: 4, maxCapacity: 12}}",
    );
    let observed = in_sync(&base);
    let status = owned_status(&base);
    assert!(plan(&base, &status, &observed).steps.is_empty());
    let edits: [fn(&mut ScheduledAction); 6] = [
        |a| a.schedule = "cron(0 9 * * ? *)".into(),
        |a| a.timezone = Some("UTC".into()),
        |a| a.start_time = None,
        |a| a.end_time = Some("2028-01-01T00:00:00Z".parse().unwrap()),
        |a| a.min_capacity = Some(5),
        |a| a.max_capacity = None,
    ];
    for edit in edits {
        let mut changed = base.clone();
        edit(&mut changed.scheduled_actions[0]);
        assert_eq!(
            names(&plan(&changed, &status, &observed)),
            ["PutScheduledAction"]
        );
    }
    let mut without = base.clone();
    without.scheduled_actions.clear();
    let p = plan(&without, &status, &observed);
    assert_eq!(names(&p), ["DeleteScheduledAction"]);
}

#[test]
fn aws_defaults_compare_equal_to_the_spec() {
    let s = spec("");
    let mut observed = in_sync(&s);
    for p in &mut observed.policies {
        if let PolicyConfiguration::TargetTracking(t) = &mut p.configuration {
            t.disable_scale_in = None;
        }
    }
    assert!(plan(&s, &owned_status(&s), &observed).steps.is_empty());
}

#[test]
fn a_range_set_by_a_scheduled_action_is_left_alone_until_the_spec_changes() {
    let s = spec(
        "  scheduledActions:\n    - {scheduledActionName: am, schedule: 'cron(0 8 * * ? *)', scalableTargetAction: {minCapacity: 5, maxCapacity: 20}}",
    );
    let mut observed = in_sync(&s);
    observed.scalable_target = Some(target(5, 20));
    let p = plan(&s, &owned_status(&s), &observed);
    assert!(p.steps.is_empty(), "{:?}", p.steps);
    assert!(
        cond(&p, "Ready")
            .message
            .contains("set by a scheduled action")
    );
    // The spec's range changes: it is applied once.
    let mut raised = s.clone();
    raised.min_capacity = 3;
    let p = plan(&raised, &owned_status(&s), &observed);
    assert_eq!(names(&p), ["RegisterScalableTarget"]);
    assert_eq!(p.report.applied_capacity.unwrap().min_capacity, 3);
    // Without scheduled actions the spec owns the range: drift is corrected.
    let plain = spec("");
    let mut drifted = in_sync(&plain);
    drifted.scalable_target = Some(target(5, 20));
    assert_eq!(
        names(&plan(&plain, &owned_status(&plain), &drifted)),
        ["RegisterScalableTarget"]
    );
}

#[test]
fn scale_in_is_suspended_during_a_rollout_and_resumed_after() {
    let s = spec("");
    let status = owned_status(&s);
    let rollouts = [
        Some("2 ECS deployments are running".to_owned()),
        Some("BlueGreenRollout auth is Paused".to_owned()),
    ];
    for rollout in rollouts {
        let observed = Observed {
            rollout: rollout.clone(),
            ..in_sync(&s)
        };
        let p = plan(&s, &status, &observed);
        let Some(Step::RegisterTarget { input, .. }) = p.steps.first() else {
            panic!("{:?}", p.steps)
        };
        assert_eq!(input.min_capacity, None, "the range is not resent");
        assert!(input.suspended_state.unwrap().dynamic_scaling_in_suspended);
        assert_eq!(p.report.scale_in_suspended, Some(true));
        // Routine: Ready stays True, the next look confirms.
        assert!(cond(&p, "Ready").status);
        assert_eq!(cond(&p, "Ready").reason, "ScaleInSuspended");
        assert_eq!(p.report.requeue, Requeue::Soon);

        // Suspended in AWS and still deploying: nothing to do, look again at the poll interval.
        let mut suspended = observed.clone();
        suspended
            .scalable_target
            .as_mut()
            .unwrap()
            .suspended_state
            .dynamic_scaling_in_suspended = true;
        let p = plan(&s, &status, &suspended);
        assert!(p.steps.is_empty());
        assert_eq!(cond(&p, "Ready").reason, "ScaleInSuspended");
        assert_eq!(p.report.requeue, Requeue::Poll);

        // The rollout ended (or the operator restarted after it ended): resume.
        suspended.rollout = None;
        let p = plan(&s, &status, &suspended);
        let Some(Step::RegisterTarget { input, .. }) = p.steps.first() else {
            panic!()
        };
        assert!(!input.suspended_state.unwrap().dynamic_scaling_in_suspended);
        assert_eq!(cond(&p, "Ready").reason, "Active");
    }
    // Opted out: never suspended.
    let mut opted_out = s.clone();
    opted_out.suspend_scale_in_during_rollout = false;
    let observed = Observed {
        rollout: Some("an ECS deployment is in progress".into()),
        ..in_sync(&s)
    };
    assert!(plan(&opted_out, &status, &observed).steps.is_empty());
}

#[test]
fn other_suspended_flags_are_kept_when_scale_in_is_suspended() {
    let s = spec("");
    let mut observed = Observed {
        rollout: Some("an ECS deployment is in progress".into()),
        ..in_sync(&s)
    };
    observed
        .scalable_target
        .as_mut()
        .unwrap()
        .suspended_state
        .scheduled_scaling_suspended = true;
    let p = plan(&s, &owned_status(&s), &observed);
    let Step::RegisterTarget { input, .. } = &p.steps[0] else {
        panic!()
    };
    assert!(input.suspended_state.unwrap().scheduled_scaling_suspended);
}

#[test]
fn a_missing_service_waits_without_aws_writes() {
    let s = spec("");
    let p = plan(&s, &ScalingPolicyStatus::default(), &Observed::default());
    assert!(p.steps.is_empty());
    assert_eq!(cond(&p, "Reconciling").reason, "WaitingForService");
    assert!(cond(&p, "Reconciling").message.contains("EcsService auth"));
    assert!(!cond(&p, "Stalled").status);
    assert_eq!(p.report.requeue, Requeue::Wait);
    let no_ecs_service = Observed {
        service: None,
        ..in_sync(&s)
    };
    let p = plan(&s, &ScalingPolicyStatus::default(), &no_ecs_service);
    assert!(p.steps.is_empty());
    assert!(cond(&p, "Reconciling").message.contains(ID));
}

#[test]
fn a_service_the_ecs_service_does_not_own_is_never_scaled() {
    let s = spec("");
    let refused = Observed {
        access: ServiceAccess::Refused(Refusal {
            reason: "OwnedByAnotherObject",
            message: "ECS service auth belongs to victim/auth".into(),
        }),
        ..in_sync(&s)
    };
    let p = plan(&s, &ScalingPolicyStatus::default(), &refused);
    assert!(p.steps.is_empty(), "{:?}", p.steps);
    assert!(cond(&p, "Stalled").status);
    assert_eq!(cond(&p, "Stalled").reason, "OwnedByAnotherObject");
    assert!(cond(&p, "Stalled").message.contains("victim/auth"));
    assert!(!p.report.owned);
}

#[test]
fn a_second_policy_for_the_service_is_stalled_naming_the_field() {
    let s = spec("");
    let observed = Observed {
        claimed_by: Some("auth-old".into()),
        ..in_sync(&s)
    };
    let p = plan(&s, &ScalingPolicyStatus::default(), &observed);
    assert!(p.steps.is_empty());
    assert!(cond(&p, "Stalled").status);
    assert_eq!(cond(&p, "Stalled").reason, "DuplicateScalingPolicy");
    assert!(
        cond(&p, "Stalled")
            .message
            .starts_with("spec.serviceRef.name")
    );
}

#[test]
fn targets_of_others_are_refused_unless_adopted() {
    let s = spec("");
    let foreign = Observed {
        owner: Some(Some("other/team".into())),
        ..in_sync(&s)
    };
    let p = plan(&s, &ScalingPolicyStatus::default(), &foreign);
    assert_eq!(cond(&p, "Stalled").reason, "OwnedByAnotherObject");
    assert!(p.steps.is_empty());
    assert!(!p.report.owned);

    let untagged = Observed {
        owner: Some(None),
        policies: vec![],
        ..in_sync(&s)
    };
    let p = plan(&s, &ScalingPolicyStatus::default(), &untagged);
    assert_eq!(cond(&p, "Stalled").reason, "AlreadyExists");
    assert!(
        cond(&p, "Stalled")
            .message
            .contains("adoptionPolicy: Adopt")
    );

    let mut adopt = s.clone();
    adopt.adoption_policy = AdoptionPolicy::Adopt;
    let p = plan(&adopt, &ScalingPolicyStatus::default(), &untagged);
    assert_eq!(
        names(&p),
        ["TagResource", "PutScalingPolicy", "PutScalingPolicy"]
    );
    assert_eq!(cond(&p, "Reconciling").reason, "Adopting");

    let tagged_ours = Observed {
        owner: Some(Some("shop/auth".into())),
        ..in_sync(&s)
    };
    assert!(
        plan(&s, &ScalingPolicyStatus::default(), &tagged_ours)
            .steps
            .is_empty()
    );
}

#[path = "plan_alarm_tests.rs"]
mod alarm_tests;
