//! Wire-level checks of `SdkAutoScaling` against moto: every request the adapter builds is well
//! formed and every answer parses into the operator's types — scalable targets (batched
//! DescribeScalableTargets), target-tracking and step policies, scheduled actions, activities,
//! tags and errors. Behaviour (policies scaling) is the simulator's business. One moto serves
//! the whole file; each test works on ECS services of its own cluster.

use std::time::Duration;

use aws::autoscaling::sdk::SdkAutoScaling;
use aws::autoscaling::{
    AutoScalingApi, CustomizedMetric, MetricDimension, PolicyConfiguration, PredefinedMetric,
    PutScalingPolicyInput, RegisterScalableTargetInput, ScheduledAction, StepAdjustment,
    StepScalingConfiguration, SuspendedState, Tag, TargetTrackingConfiguration, ecs_resource_id,
};
use aws::{AwsResult, ErrorKind};
use e2e_tests::moto::Moto;

/// Longest any single adapter call may take here: an unimplemented call must fail, not hang.
const CALL_DEADLINE: Duration = Duration::from_secs(20);

async fn call<T>(f: impl Future<Output = AwsResult<T>>) -> AwsResult<T> {
    tokio::time::timeout(CALL_DEADLINE, f)
        .await
        .expect("the adapter call finished before the deadline")
}

struct Env {
    aas: SdkAutoScaling,
    ecs: aws_sdk_ecs::Client,
}

async fn env() -> Env {
    let moto = Moto::shared().await;
    let config = moto.sdk_config().await;
    Env {
        aas: SdkAutoScaling::new(&config),
        ecs: aws_sdk_ecs::Client::new(&config),
    }
}

impl Env {
    /// A cluster with an EC2 service per name (Application Auto Scaling checks it exists).
    async fn services(&self, cluster: &str, names: &[&str]) {
        self.ecs
            .create_cluster()
            .cluster_name(cluster)
            .send()
            .await
            .expect("moto creates the cluster");
        let container = aws_sdk_ecs::types::ContainerDefinition::builder()
            .name("app")
            .image("nginx")
            .memory(256)
            .build();
        let td = self
            .ecs
            .register_task_definition()
            .family(format!("{cluster}-td"))
            .container_definitions(container)
            .send()
            .await
            .expect("moto registers the task definition")
            .task_definition
            .and_then(|t| t.task_definition_arn)
            .expect("an ARN");
        for name in names {
            self.ecs
                .create_service()
                .cluster(cluster)
                .service_name(*name)
                .task_definition(&td)
                .desired_count(1)
                .send()
                .await
                .expect("moto creates the service");
        }
    }

    async fn register(&self, id: &str, min: i32, max: i32) -> String {
        call(
            self.aas
                .register_scalable_target(RegisterScalableTargetInput {
                    resource_id: id.to_owned(),
                    min_capacity: Some(min),
                    max_capacity: Some(max),
                    suspended_state: Some(SuspendedState::default()),
                    tags: vec![Tag {
                        key: "ecs-operator.dev/owner".into(),
                        value: "shop/auth".into(),
                    }],
                }),
        )
        .await
        .expect("RegisterScalableTarget")
    }
}

fn cpu_policy(id: &str) -> PutScalingPolicyInput {
    PutScalingPolicyInput {
        policy_name: "cpu70".into(),
        resource_id: id.into(),
        configuration: PolicyConfiguration::TargetTracking(TargetTrackingConfiguration {
            target_value: 70.0,
            predefined_metric: Some(PredefinedMetric {
                predefined_metric_type: "ECSServiceAverageCPUUtilization".into(),
                resource_label: None,
            }),
            customized_metric: None,
            scale_out_cooldown: Some(60),
            scale_in_cooldown: Some(300),
            disable_scale_in: Some(false),
        }),
    }
}

#[tokio::test]
async fn scalable_targets_register_update_describe_in_batches_and_deregister() {
    let env = env().await;
    env.services("aas-targets", &["auth", "event"]).await;
    let auth = ecs_resource_id("aas-targets", "auth");
    let event = ecs_resource_id("aas-targets", "event");
    let arn = env.register(&auth, 2, 10).await;
    assert!(arn.starts_with("arn:aws:application-autoscaling:"), "{arn}");
    env.register(&event, 3, 15).await;

    // Update only the suspended state, then only the range.
    call(
        env.aas
            .register_scalable_target(RegisterScalableTargetInput {
                resource_id: auth.clone(),
                suspended_state: Some(SuspendedState {
                    dynamic_scaling_in_suspended: true,
                    ..SuspendedState::default()
                }),
                ..RegisterScalableTargetInput::default()
            }),
    )
    .await
    .expect("suspend scale-in");

    // 60 ids: two calls of at most 50; unknown ids are simply absent.
    let mut ids: Vec<String> = (0..58)
        .map(|i| ecs_resource_id("aas-targets", &format!("missing-{i}")))
        .collect();
    ids.push(event.clone());
    ids.push(auth.clone());
    let mut found = call(env.aas.describe_scalable_targets(&ids)).await.unwrap();
    found.sort_by(|a, b| a.resource_id.cmp(&b.resource_id));
    assert_eq!(found.len(), 2, "{found:?}");
    let auth_target = &found[0];
    assert_eq!(auth_target.resource_id, auth);
    assert_eq!(
        (auth_target.min_capacity, auth_target.max_capacity),
        (2, 10)
    );
    assert!(auth_target.suspended_state.dynamic_scaling_in_suspended);
    assert_eq!(
        auth_target.scalable_target_arn.as_deref(),
        Some(arn.as_str())
    );
    assert!(auth_target.creation_time.is_some());
    assert_eq!((found[1].min_capacity, found[1].max_capacity), (3, 15));

    call(env.aas.deregister_scalable_target(&event))
        .await
        .unwrap();
    let left = call(
        env.aas
            .describe_scalable_targets(std::slice::from_ref(&event)),
    )
    .await
    .unwrap();
    assert!(left.is_empty());
    let err = call(env.aas.deregister_scalable_target(&event))
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::NotFound, "{err}");
}

#[tokio::test]
async fn target_tracking_and_step_policies_round_trip() {
    let env = env().await;
    env.services("aas-policies", &["ticket"]).await;
    let id = ecs_resource_id("aas-policies", "ticket");
    env.register(&id, 3, 15).await;
    let out = call(env.aas.put_scaling_policy(cpu_policy(&id)))
        .await
        .unwrap();
    assert!(
        out.policy_arn.contains("policyName/cpu70"),
        "{}",
        out.policy_arn
    );

    let custom = PutScalingPolicyInput {
        policy_name: "queue".into(),
        resource_id: id.clone(),
        configuration: PolicyConfiguration::TargetTracking(TargetTrackingConfiguration {
            target_value: 100.0,
            predefined_metric: None,
            customized_metric: Some(CustomizedMetric {
                metric_name: "BacklogPerTask".into(),
                namespace: "EventBooking".into(),
                dimensions: vec![MetricDimension {
                    name: "Queue".into(),
                    value: "tickets".into(),
                }],
                statistic: "Average".into(),
                unit: Some("Count".into()),
            }),
            scale_out_cooldown: Some(60),
            scale_in_cooldown: Some(300),
            disable_scale_in: Some(true),
        }),
    };
    call(env.aas.put_scaling_policy(custom.clone()))
        .await
        .unwrap();
    let step = PutScalingPolicyInput {
        policy_name: "burst".into(),
        resource_id: id.clone(),
        configuration: PolicyConfiguration::StepScaling(StepScalingConfiguration {
            adjustment_type: "ChangeInCapacity".into(),
            step_adjustments: vec![
                StepAdjustment {
                    metric_interval_lower_bound: Some(0.0),
                    metric_interval_upper_bound: Some(10.0),
                    scaling_adjustment: 1,
                },
                StepAdjustment {
                    metric_interval_lower_bound: Some(10.0),
                    metric_interval_upper_bound: None,
                    scaling_adjustment: 3,
                },
            ],
            min_adjustment_magnitude: None,
            cooldown: Some(120),
            metric_aggregation_type: Some("Average".into()),
        }),
    };
    call(env.aas.put_scaling_policy(step.clone()))
        .await
        .unwrap();

    let mut policies = call(env.aas.describe_scaling_policies(&id)).await.unwrap();
    policies.sort_by(|a, b| a.policy_name.cmp(&b.policy_name));
    let names: Vec<&str> = policies.iter().map(|p| p.policy_name.as_str()).collect();
    assert_eq!(names, ["burst", "cpu70", "queue"]);
    assert_eq!(policies[0].configuration, step.configuration);
    assert_eq!(policies[1].configuration, cpu_policy(&id).configuration);
    assert_eq!(policies[2].configuration, custom.configuration);
    assert!(policies.iter().all(|p| p.resource_id == id));

    call(env.aas.delete_scaling_policy(&id, "queue"))
        .await
        .unwrap();
    let left = call(env.aas.describe_scaling_policies(&id)).await.unwrap();
    assert_eq!(left.len(), 2);
    let err = call(env.aas.delete_scaling_policy(&id, "queue"))
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::NotFound, "{err}");
}

#[tokio::test]
async fn scheduled_actions_round_trip_with_time_zone_and_window() {
    let env = env().await;
    env.services("aas-scheduled", &["payment"]).await;
    let id = ecs_resource_id("aas-scheduled", "payment");
    env.register(&id, 3, 15).await;
    let action = ScheduledAction {
        scheduled_action_name: "business-hours".into(),
        scheduled_action_arn: String::new(),
        resource_id: id.clone(),
        schedule: "cron(0 8 ? * MON-FRI *)".into(),
        timezone: Some("Europe/Berlin".into()),
        start_time: Some("2026-01-01T00:00:00Z".parse().unwrap()),
        end_time: Some("2027-01-01T00:00:00Z".parse().unwrap()),
        min_capacity: Some(6),
        max_capacity: Some(20),
    };
    call(env.aas.put_scheduled_action(action.clone()))
        .await
        .unwrap();
    let found = call(env.aas.describe_scheduled_actions(&id)).await.unwrap();
    assert_eq!(found.len(), 1);
    let got = &found[0];
    assert!(!got.scheduled_action_arn.is_empty());
    assert_eq!(
        ScheduledAction {
            scheduled_action_arn: String::new(),
            ..got.clone()
        },
        action
    );
    call(env.aas.delete_scheduled_action(&id, "business-hours"))
        .await
        .unwrap();
    assert!(
        call(env.aas.describe_scheduled_actions(&id))
            .await
            .unwrap()
            .is_empty()
    );
}

/// moto 5.2.5 implements neither DescribeScalingActivities nor ListTagsForResource/TagResource
/// for Application Auto Scaling (it answers an HTML 500) and ignores Tags on register: the
/// adapter reports a Transient error rather than failing to parse, and the simulator covers
/// their answers.
#[tokio::test]
async fn calls_moto_lacks_fail_as_transient_errors() {
    let env = env().await;
    env.services("aas-tags", &["notification"]).await;
    let id = ecs_resource_id("aas-tags", "notification");
    let arn = env.register(&id, 2, 10).await;
    let transient_or_ok = |r: AwsResult<()>| match r {
        Ok(()) => {}
        Err(e) => assert_eq!(e.kind, ErrorKind::Transient, "{e}"),
    };
    transient_or_ok(
        call(env.aas.describe_scaling_activities(&id, 5))
            .await
            .map(|a| assert!(a.iter().all(|a| a.resource_id == id))),
    );
    transient_or_ok(
        call(env.aas.list_tags_for_resource(&arn))
            .await
            .map(|tags| assert!(tags.iter().all(|t| !t.key.is_empty()))),
    );
    transient_or_ok(
        call(env.aas.tag_resource(
            &arn,
            vec![Tag {
                key: "team".into(),
                value: "event-booking".into(),
            }],
        ))
        .await,
    );
}
