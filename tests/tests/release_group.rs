//! ReleaseGroups for real: five EcsServices released in `dependsOn` order through the operator,
//! the local API server and the simulated account. A release whose fourth member fails ends with
//! every member on the revision it ran before, one member going back through its
//! BlueGreenRollout; a new release id starts over. Asserts states and revisions, never times.

use std::time::Duration;

use crds::ReleaseGroup;
use crds::release_group::{MemberPhase, ReleasePhase};
use e2e_tests::release_groups::{group_manifest, member_manifest};
use e2e_tests::rollouts::{ecs_native_rollout, live_revision, wait_healthy_on};
use e2e_tests::sandbox::Sandbox;
use kube::api::Api;

const WAIT: Duration = Duration::from_secs(240);

/// The members: name and what it depends on, in the platform's release order.
const MEMBERS: [(&str, &[&str]); 5] = [
    ("auth", &[]),
    ("event", &["auth"]),
    ("ticket", &["event"]),
    ("payment", &["ticket"]),
    ("notification", &[]),
];

async fn release(sb: &Sandbox, id: &str, failing: Option<&str>) {
    for (name, deps) in MEMBERS {
        let tag = match failing {
            Some(f) if f == name => format!("{id}-unhealthy"),
            _ => id.to_owned(),
        };
        let image = format!("repo/{name}:{tag}");
        sb.apply(&member_manifest(
            &sb.sim, "platform", name, deps, id, &image,
        ))
        .await
        .unwrap_or_else(|e| panic!("apply {name}: {e}"));
    }
}

async fn wait_group(
    sb: &Sandbox,
    what: &str,
    check: impl Fn(&ReleaseGroup) -> bool,
) -> ReleaseGroup {
    let api: Api<ReleaseGroup> = Api::namespaced(sb.client.clone(), "default");
    sb.wait_for(what, WAIT, || {
        let api = api.clone();
        let check = &check;
        async move { api.get("platform").await.ok().filter(|g| check(g)) }
    })
    .await
}

fn phase_of(g: &ReleaseGroup, release: &str) -> Option<ReleasePhase> {
    let status = g.status.as_ref()?;
    (status.release.as_deref() == Some(release)).then_some(status.phase?)
}

fn live(sb: &Sandbox) -> Vec<String> {
    MEMBERS
        .iter()
        .map(|(name, _)| live_revision(sb, name))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_release_failing_at_its_fourth_member_rolls_every_member_back() {
    let sb = Sandbox::start().await;
    sb.apply(&group_manifest("platform")).await.expect("group");
    // event releases through an ECS-native BlueGreenRollout, the others by rolling update.
    sb.apply(&ecs_native_rollout(&sb.sim, "event", "BLUE_GREEN", ""))
        .await
        .expect("rollout");
    release(&sb, "1.0", None).await;
    let first = wait_group(&sb, "release 1.0 Succeeded", |g| {
        phase_of(g, "1.0") == Some(ReleasePhase::Succeeded)
    })
    .await;
    let order: Vec<&str> = (first.status.as_ref().unwrap().members.iter())
        .map(|m| m.name.as_str())
        .collect();
    assert_eq!(
        order,
        ["auth", "event", "notification", "ticket", "payment"]
    );
    wait_healthy_on(&sb, "event", "event:1").await;
    let before = live(&sb);
    let creates = sb.sim.call_count("CreateService");

    release(&sb, "2.0", Some("payment")).await;
    let done = wait_group(&sb, "release 2.0 RolledBack", |g| {
        phase_of(g, "2.0") == Some(ReleasePhase::RolledBack)
    })
    .await;
    let status = done.status.clone().unwrap();
    let failure = status.failure.clone().expect("the failure is recorded");
    assert_eq!(
        (failure.release.as_str(), failure.member.as_str()),
        ("2.0", "payment")
    );
    assert!(failure.reason.contains("circuit breaker"), "{failure:?}");
    for m in &status.members {
        let expected = if m.name == "payment" {
            MemberPhase::Failed
        } else {
            MemberPhase::RolledBack
        };
        assert_eq!(m.phase, expected, "{m:?}");
        assert_eq!(m.revision, m.previous_revision, "{m:?}");
    }
    // Every member runs what it ran before the release, in AWS too; nothing was created.
    wait_healthy_on(&sb, "event", "event:1").await;
    assert_eq!(live(&sb), before);
    assert_eq!(sb.sim.call_count("CreateService"), creates);
    let stalled = done
        .status
        .as_ref()
        .unwrap()
        .conditions
        .iter()
        .find(|c| c.type_ == "Stalled")
        .cloned()
        .unwrap();
    assert_eq!(stalled.status, "True");
    assert!(stalled.message.contains("payment"), "{}", stalled.message);

    // A new release id starts over, the failed member included.
    release(&sb, "3.0", None).await;
    let third = wait_group(&sb, "release 3.0 Succeeded", |g| {
        phase_of(g, "3.0") == Some(ReleasePhase::Succeeded)
    })
    .await;
    assert_eq!(third.status.unwrap().failure, None);
    for (name, revision) in MEMBERS.iter().map(|(n, _)| *n).zip(live(&sb)) {
        assert_ne!(
            Some(revision.clone()),
            before
                .iter()
                .find(|b| b.contains(&format!("/{name}:")))
                .cloned(),
            "{name} runs a new revision"
        );
    }
    sb.shutdown().await;
}
