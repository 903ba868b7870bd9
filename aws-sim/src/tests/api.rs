//! The `EcsApi` trait end to end on the simulator, as the controllers use it.

use super::*;
use aws::ecs::{EcsApi, ServiceLookup, Tag};

#[tokio::test]
async fn the_trait_drives_a_service_from_registration_to_deletion() {
    let sim = sim();
    let ecs: &dyn EcsApi = &sim;
    let mut input = td_input("auth", "registry/auth:1");
    input.tags = vec![Tag {
        key: crds::OWNER_TAG.to_owned(),
        value: "bookings/auth".to_owned(),
    }];
    let td = ecs.register_task_definition(input).await.unwrap();
    assert_eq!(td.revision, 1);
    assert_eq!(
        ecs.describe_task_definition("auth:1")
            .await
            .unwrap()
            .tags
            .len(),
        1
    );
    assert_eq!(
        ecs.list_task_definitions("auth").await.unwrap(),
        vec![td.task_definition_arn.clone()]
    );

    let created = ecs
        .create_service(create_input(&sim, "auth", &td.task_definition_arn, 2))
        .await
        .unwrap();
    advance(&sim, 60);
    let found = ecs
        .describe_services(
            CLUSTER,
            &[
                "auth".to_owned(),
                created.service_arn.clone(),
                "nope".to_owned(),
            ],
        )
        .await
        .unwrap();
    let ServiceLookup::Found(svc) = &found[1] else {
        panic!("found by ARN: {found:?}");
    };
    assert!(completed(svc));
    assert_eq!(found[2], ServiceLookup::Missing);

    ecs.tag_resource(
        &created.service_arn,
        vec![Tag {
            key: "k".to_owned(),
            value: "v".to_owned(),
        }],
    )
    .await
    .unwrap();
    let sds = ecs.list_service_deployments(CLUSTER, "auth").await.unwrap();
    let described = ecs.describe_service_deployments(&sds).await.unwrap();
    assert_eq!(described[0].status.as_str(), "SUCCESSFUL");
    let revision = described[0].target_service_revision_arn.clone().unwrap();
    let revisions = ecs.describe_service_revisions(&[revision]).await.unwrap();
    assert_eq!(revisions[0].task_definition, td.task_definition_arn);
    let err = ecs
        .stop_service_deployment(&sds[0], "ROLLBACK")
        .await
        .unwrap_err();
    assert_eq!(err.code, "ConflictException");
    let err = ecs
        .continue_service_deployment(&sds[0], "h", "CONTINUE")
        .await
        .unwrap_err();
    assert_eq!(err.code, "InvalidParameterException");

    let scaled = ecs
        .update_service(UpdateServiceInput {
            cluster: CLUSTER.to_owned(),
            service: "auth".to_owned(),
            desired_count: Some(0),
            ..UpdateServiceInput::default()
        })
        .await
        .unwrap();
    assert_eq!(scaled.desired_count, 0);
    let deleted = ecs.delete_service(CLUSTER, "auth", false).await.unwrap();
    assert_eq!(deleted.status.as_str(), "DRAINING");
    ecs.deregister_task_definition(&td.task_definition_arn)
        .await
        .unwrap();
    assert!(ecs.list_task_definitions("auth").await.unwrap().is_empty());
    advance(&sim, 60);
    assert_eq!(peek(&sim, "auth").status.as_str(), "INACTIVE");

    let calls = sim.calls();
    assert_eq!(calls["ecs:DescribeServices"], 1);
    assert_eq!(calls["ecs:CreateService"], 1);
    assert_eq!(sim.call_count("ecs:StopServiceDeployment"), 1);
    // register, create, tag, stop, continue, update, delete, deregister
    assert_eq!(sim.write_calls(), 8);
}

#[tokio::test]
async fn clones_share_one_account_and_the_seed_arns() {
    let sim = sim();
    let other = sim.clone();
    other.set_throttling(false);
    create(&sim, "auth", "registry/auth:1", 1);
    assert!(other.service(CLUSTER, "auth").is_some());
    assert_eq!(sim.account_id(), "123456789012");
    assert_eq!(sim.region(), "eu-west-1");
    assert_eq!(
        sim.role_arn("ecsTaskExecutionRole").as_deref(),
        Some("arn:aws:iam::123456789012:role/ecsTaskExecutionRole")
    );
    assert!(
        sim.listener_arn("event-booking-alb", 8443)
            .unwrap()
            .contains(":listener/app/event-booking-alb/")
    );
    assert!(
        sim.listener_rule_arn("event-booking-alb", 443, 30)
            .unwrap()
            .contains(":listener-rule/app/")
    );
    assert!(
        sim.listener_rule_arn("event-booking-alb", 443, 31)
            .is_none()
    );
    assert!(sim.target_group_arn("nope").is_none());
}
