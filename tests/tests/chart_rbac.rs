//! The chart's RBAC against the calls the operator really makes: the controllers run against the
//! local API server (reconciling the event-booking example to Ready, then a deletion), the leader
//! election campaigns for the chart's Lease, and every recorded request must be allowed by a rule
//! the chart binds to the operator's ServiceAccount — first cluster-wide with the default values,
//! then confined to one namespace with the production values.

use std::sync::Arc;
use std::time::Duration;

use aws::accounts::{AwsAccounts, SingleAccount};
use aws::clock::SharedClock;
use crds::EcsService;
use e2e_tests::chart::{Grants, NAMESPACE, ResourceRequest, chart_dir, template};
use e2e_tests::sandbox::{Sandbox, workspace_root};
use ecs_operator::controllers::Settings;
use ecs_operator::leader::{Elector, LeaderConfig, Leadership};
use ecs_operator::manager::{self, ManagerConfig, Scope};
use kube::api::{Api, DeleteParams};
use local_apiserver::RequestRecord;
use tokio_util::sync::CancellationToken;

const WAIT: Duration = Duration::from_secs(120);
const FULLNAME: &str = "ecs-ecs-operator";
const EXAMPLE_NS: &str = "event-booking";
const SERVICES: [&str; 5] = ["auth", "event", "ticket", "payment", "notification"];

async fn apply_examples(sb: &Sandbox, only: Option<&str>) {
    let dir = workspace_root().join("examples/event-booking");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("examples")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    for file in files {
        let text = std::fs::read_to_string(&file).expect("example");
        if only.is_some_and(|name| !text.contains(&format!("\n  name: {name}\n"))) {
            continue;
        }
        sb.apply(&text)
            .await
            .unwrap_or_else(|e| panic!("{}: {e}", file.display()));
    }
}

fn is_ready(obj: &EcsService) -> bool {
    let status = obj.status.as_ref();
    status.and_then(|s| s.observed_generation) == obj.metadata.generation
        && status.is_some_and(|s| {
            s.conditions
                .iter()
                .any(|c| c.type_ == "Ready" && c.status.as_str() == "True")
        })
}

async fn wait_ready(sb: &Sandbox, names: &[&str]) {
    let api: Api<EcsService> = Api::namespaced(sb.client.clone(), EXAMPLE_NS);
    for name in names {
        sb.wait_for(&format!("{name} Ready"), WAIT, || {
            let api = api.clone();
            async move { api.get(name).await.ok().filter(is_ready) }
        })
        .await;
    }
}

async fn campaign(sb: &Sandbox, lease_name: &str) -> Elector {
    let mut elector = Elector::start(
        sb.client.clone(),
        LeaderConfig {
            lease_name: lease_name.into(),
            namespace: NAMESPACE.into(),
            identity: ecs_operator::leader::identity(),
            lease_duration_seconds: 4,
            grace_seconds: 2,
        },
    )
    .await
    .expect("campaign starts");
    let leadership = tokio::time::timeout(WAIT, elector.acquired())
        .await
        .expect("leads in time");
    assert_eq!(leadership, Leadership::Leader);
    elector
}

/// Requests the test made itself (the operator never deletes an EcsService) are left out; every
/// other resource request must be allowed. Also asserts the run covered the calls that matter.
fn assert_allowed(requests: &[RequestRecord], grants: &Grants, scope: &str) {
    let mut denied = Vec::new();
    let mut seen = Vec::new();
    for r in requests {
        let Some(request) = ResourceRequest::parse(&r.method, &r.path, &r.query) else {
            continue;
        };
        if request.verb == "delete" && request.resource == "ecsservices" {
            continue;
        }
        if !grants.allows(&request) {
            denied.push(format!("{} {}?{} → {request:?}", r.method, r.path, r.query));
        }
        let sub = request.subresource.as_deref().unwrap_or("");
        seen.push(format!("{} {}{sub}", request.verb, request.resource));
    }
    assert!(
        denied.is_empty(),
        "{scope}: the chart's RBAC forbids calls the operator makes:\n{}",
        denied.join("\n")
    );
    for needed in [
        "watch ecsservices",
        "patch ecsservicesstatus",
        "create events",
        "get leases",
        "patch leases",
    ] {
        assert!(
            seen.iter().any(|s| s == needed),
            "{scope}: the run never made a `{needed}` call; seen: {seen:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_call_the_operator_makes_is_allowed_by_the_chart() {
    let mut sb = Sandbox::start().await;
    sb.kill_operator().await;
    sb.apply(&format!(
        "apiVersion: v1\nkind: Namespace\nmetadata: {{name: {NAMESPACE}}}\n"
    ))
    .await
    .expect("namespace");
    apply_examples(&sb, None).await;

    // Cluster-wide, default values.
    sb.server.clear_requests();
    let elector = campaign(&sb, FULLNAME).await;
    sb.start_operator();
    wait_ready(&sb, &SERVICES).await;
    let api: Api<EcsService> = Api::namespaced(sb.client.clone(), EXAMPLE_NS);
    api.delete("auth", &DeleteParams::default())
        .await
        .expect("delete");
    sb.wait_for("auth deleted", WAIT, || {
        let api = api.clone();
        async move {
            api.get_opt("auth")
                .await
                .ok()
                .and_then(|o| o.is_none().then_some(()))
        }
    })
    .await;
    elector
        .release(Duration::from_secs(5))
        .await
        .expect("release");
    sb.kill_operator().await;
    let cluster_wide = sb.server.requests();
    // The example NotificationPolicy reads its receiver's URL from this one Secret.
    let docs = template(&[
        "--set",
        "notifications.urlSecrets[0].namespace=event-booking",
        "--set",
        "notifications.urlSecrets[0].name=release-webhooks",
    ]);
    let grants = Grants::for_service_account(&docs, NAMESPACE, FULLNAME);
    assert_allowed(&cluster_wide, &grants, "default values");

    // One namespace, production values (a Role there; cluster-wide only reading the
    // cluster-scoped AwsAccountBindings).
    let values = chart_dir().join("ci/production-values.yaml");
    let docs = template(&["-f", values.to_str().expect("utf-8")]);
    let grants = Grants::for_service_account(&docs, NAMESPACE, FULLNAME);
    assert!(
        grants
            .cluster
            .iter()
            .all(|r| r.resources == ["awsaccountbindings"] && r.verbs == ["get", "list", "watch"]),
        "production values bind nothing cluster-wide but reading bindings: {:?}",
        grants.cluster
    );
    sb.server.clear_requests();
    let elector = campaign(&sb, "ecs-operator-shard-a").await;
    let sim = sb.sim.clone();
    let factory = Arc::new(SingleAccount(move |_: &str| sim.region_services()));
    let clock: SharedClock = sb.clock.clone();
    let aws = Arc::new(AwsAccounts::new(
        sb.sim.region(),
        factory,
        clock.clone(),
        sb.metrics.clone(),
    ));
    let token = CancellationToken::new();
    let config = ManagerConfig {
        settings: Settings {
            resync: Duration::from_secs(60),
            poll: Duration::from_secs(10),
            wait_poll: Duration::from_secs(10),
            dry_run: false,
        },
        scope: Scope {
            namespace: Some(EXAMPLE_NS.into()),
            label_selector: None,
        },
        ..ManagerConfig::default()
    };
    let controllers = tokio::spawn(manager::run(
        sb.client.clone(),
        aws,
        clock,
        sb.metrics.clone(),
        config,
        token.clone(),
    ));
    apply_examples(&sb, Some("auth")).await;
    wait_ready(&sb, &["auth"]).await;
    elector
        .release(Duration::from_secs(5))
        .await
        .expect("release");
    token.cancel();
    let _ = tokio::time::timeout(Duration::from_secs(10), controllers).await;
    let namespaced = sb.server.requests();
    assert_allowed(&namespaced, &grants, "production values");
    sb.shutdown().await;
}
