//! Task definition families: revisions, ARNs, ACTIVE/INACTIVE, listing, tags, AWS defaults.

use super::*;
use crate::ecs::api::TAG_RESOURCE;
use aws::ecs::Tag;

fn tag(key: &str, value: &str) -> Tag {
    Tag {
        key: key.to_owned(),
        value: value.to_owned(),
    }
}

#[test]
fn revisions_count_from_one_and_are_never_reused() {
    let sim = sim();
    let r1 = register(&sim, td_input("auth", "registry/auth:1"));
    let r2 = register(&sim, td_input("auth", "registry/auth:2"));
    assert_eq!(
        r1,
        "arn:aws:ecs:eu-west-1:123456789012:task-definition/auth:1"
    );
    assert!(r2.ends_with("auth:2"));
    sim.with_world(|w, _| w.ecs.task_definitions.deregister(&r2))
        .unwrap();
    let r3 = register(&sim, td_input("auth", "registry/auth:3"));
    assert!(
        r3.ends_with("auth:3"),
        "deregistering does not free a revision number"
    );

    let list = sim.with_world(|w, _| w.ecs.task_definitions.list_active("auth"));
    assert_eq!(
        list,
        vec![r3.clone(), r1.clone()],
        "ACTIVE only, newest first"
    );
    let all = sim.task_definitions("auth");
    let statuses: Vec<&str> = all.iter().map(|t| t.status.as_str()).collect();
    assert_eq!(statuses, ["ACTIVE", "INACTIVE", "ACTIVE"]);
    assert!(sim.task_definitions("other").is_empty());
}

#[test]
fn references_resolve_by_arn_family_revision_or_family() {
    let sim = sim();
    let r1 = register(&sim, td_input("auth", "registry/auth:1"));
    let r2 = register(&sim, td_input("auth", "registry/auth:2"));
    sim.with_world(|w, _| {
        let tds = &w.ecs.task_definitions;
        assert_eq!(tds.describe(&r1).unwrap().revision, 1);
        assert_eq!(tds.describe("auth:1").unwrap().task_definition_arn, r1);
        assert_eq!(
            tds.describe("auth").unwrap().task_definition_arn,
            r2,
            "latest ACTIVE"
        );
        let err = tds.describe("auth:7").unwrap_err();
        assert_eq!(
            (err.code.as_str(), err.message.as_str()),
            ("ClientException", "Unable to describe task definition.")
        );
    });
    sim.with_world(|w, _| w.ecs.task_definitions.deregister("auth:2"))
        .unwrap();
    sim.with_world(|w, _| {
        let tds = &mut w.ecs.task_definitions;
        assert_eq!(tds.describe("auth").unwrap().task_definition_arn, r1);
        assert_eq!(
            tds.describe(&r2).unwrap().status,
            "INACTIVE".into(),
            "INACTIVE revisions stay describable"
        );
        assert_eq!(tds.deregister("auth").unwrap_err().code, "ClientException");
    });
}

#[test]
fn deregistering_a_revision_in_use_is_allowed_and_tasks_keep_running() {
    let sim = sim();
    let svc = create(&sim, "auth", "registry/auth:1", 1);
    let td = svc.task_definition.unwrap();
    sim.with_world(|w, _| w.ecs.task_definitions.deregister(&td))
        .unwrap();
    run_until(&sim, "auth", 120, completed);
    let scaled = sim.set_desired_count(CLUSTER, "auth", 2).unwrap();
    assert_eq!(scaled.task_definition.as_deref(), Some(td.as_str()));
    run_until(&sim, "auth", 120, |s| s.running_count == 2);
}

#[test]
fn tags_are_stored_returned_and_merged() {
    let sim = sim();
    let mut input = td_input("auth", "registry/auth:1");
    input.tags = vec![
        tag(crds::CONTENT_HASH_TAG, "abc"),
        tag(crds::OWNER_TAG, "ns/auth"),
    ];
    let arn = register(&sim, input);
    let more = vec![tag(crds::CONTENT_HASH_TAG, "def"), tag("team", "bookings")];
    sim.call_now(&TAG_RESOURCE, |w, _| w.ecs_tag_resource(&arn, more))
        .unwrap();
    let td = sim
        .with_world(|w, _| w.ecs.task_definitions.describe(&arn))
        .unwrap();
    assert_eq!(
        td.tags,
        vec![
            tag(crds::CONTENT_HASH_TAG, "def"),
            tag(crds::OWNER_TAG, "ns/auth"),
            tag("team", "bookings")
        ]
    );
    assert!(
        td.definition.tags.is_empty(),
        "tags live next to the content"
    );

    let svc = create(&sim, "event", "registry/event:1", 1);
    sim.call_now(&TAG_RESOURCE, |w, _| {
        w.ecs_tag_resource(&svc.service_arn, vec![tag("a", "b")])
    })
    .unwrap();
    assert_eq!(peek(&sim, "event").tags, vec![tag("a", "b")]);
    let reserved = sim.call_now(&TAG_RESOURCE, |w, _| {
        w.ecs_tag_resource(&svc.service_arn, vec![tag("aws:x", "y")])
    });
    assert_eq!(reserved.unwrap_err().code, "InvalidParameterException");
    let unknown = "arn:aws:ecs:eu-west-1:123456789012:service/event-booking/ghost";
    let missing = sim.call_now(&TAG_RESOURCE, |w, _| {
        w.ecs_tag_resource(unknown, vec![tag("a", "b")])
    });
    assert_eq!(missing.unwrap_err().code, "ResourceNotFoundException");
}

#[test]
fn aws_defaults_are_filled_in() {
    let sim = sim();
    let mut input = td_input("auth", "registry/auth:1");
    input.cpu = Some("0.5 vCPU".to_owned());
    input.memory = Some("1 GB".to_owned());
    let arn = register(&sim, input);
    let td = sim
        .with_world(|w, _| w.ecs.task_definitions.describe(&arn))
        .unwrap();
    assert_eq!(
        (
            td.definition.cpu.as_deref(),
            td.definition.memory.as_deref()
        ),
        (Some("512"), Some("1024"))
    );
    let c = &td.definition.container_definitions[0];
    assert_eq!(c.essential, Some(true));
    let port = &c.port_mappings.as_ref().unwrap()[0];
    assert_eq!(
        (port.host_port, port.protocol.as_deref()),
        (Some(8080), Some("tcp"))
    );
}
