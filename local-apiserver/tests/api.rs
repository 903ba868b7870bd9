//! The API through kube-rs and the library hooks: discovery, pagination, server-side apply
//! conflicts, delete preconditions and deletecollection, dry-run, fault injection and the
//! request log, CRDs from a directory, and the binary.

mod common;

use std::io::BufRead;
use std::process::{Command, Stdio};

use common::{DEADLINE, ecs, ecs_api, server_with_crd, wait_for};
use k8s_openapi::api::core::v1::{ConfigMap, Namespace};
use kube::api::{
    Api, DeleteParams, ListParams, ObjectMeta, Patch, PatchParams, PostParams, Preconditions,
};
use kube::discovery::{Discovery, Scope};
use local_apiserver::{Fault, LocalApiServer};
use serde_json::json;

fn cm(name: &str) -> ConfigMap {
    ConfigMap {
        metadata: ObjectMeta {
            name: Some(name.into()),
            ..ObjectMeta::default()
        },
        ..ConfigMap::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn discovery_serves_builtins_and_crds() {
    let server = server_with_crd().await;
    let discovery = Discovery::new(server.client())
        .run_aggregated()
        .await
        .expect("aggregated discovery");
    let (ar, caps) = discovery
        .resolve_gvk(&kube::core::GroupVersionKind::gvk(
            "demo.example.com",
            "v1",
            "EcsService",
        ))
        .expect("the CRD is discovered");
    assert_eq!(
        (ar.plural.as_str(), caps.scope.clone()),
        ("ecsservices", Scope::Namespaced)
    );
    assert!(
        caps.subresources
            .iter()
            .any(|(sub, _)| sub.plural == "ecsservices/status" || sub.plural == "status"),
        "{caps:?}"
    );
    let legacy = Discovery::new(server.client())
        .run()
        .await
        .expect("per-group discovery");
    for group in [
        "",
        "coordination.k8s.io",
        "events.k8s.io",
        "apiextensions.k8s.io",
        "demo.example.com",
    ] {
        assert!(legacy.has_group(group), "{group} is served");
    }
    let namespaces: Api<Namespace> = Api::all(server.client());
    let names: Vec<String> = namespaces
        .list(&ListParams::default())
        .await
        .expect("list")
        .items
        .into_iter()
        .filter_map(|n| n.metadata.name)
        .collect();
    assert_eq!(
        names,
        ["default", "kube-node-lease", "kube-public", "kube-system"]
    );
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pagination_walks_every_object_once() {
    let server = LocalApiServer::start(([127, 0, 0, 1], 0).into())
        .await
        .expect("start");
    let api: Api<ConfigMap> = Api::namespaced(server.client(), "default");
    for i in 0..25 {
        api.create(&PostParams::default(), &cm(&format!("cm-{i:02}")))
            .await
            .expect("create");
    }
    let first = api
        .list(&ListParams::default().limit(10))
        .await
        .expect("page 1");
    assert_eq!(first.items.len(), 10);
    assert_eq!(first.metadata.remaining_item_count, Some(15));
    let mut names: Vec<String> = first
        .items
        .into_iter()
        .filter_map(|c| c.metadata.name)
        .collect();
    let mut token = first.metadata.continue_;
    while let Some(t) = token.filter(|t| !t.is_empty()) {
        let page = api
            .list(&ListParams::default().limit(10).continue_token(&t))
            .await
            .expect("next page");
        names.extend(page.items.into_iter().filter_map(|c| c.metadata.name));
        token = page.metadata.continue_;
    }
    let expected: Vec<String> = (0..25).map(|i| format!("cm-{i:02}")).collect();
    assert_eq!(names, expected);
    let all: Api<ConfigMap> = Api::all(server.client());
    assert_eq!(
        all.list(&ListParams::default().limit(7))
            .await
            .expect("all namespaces")
            .items
            .len(),
        7
    );
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_side_apply_conflicts_force_and_managed_fields() {
    let server = server_with_crd().await;
    let api = ecs_api(&server);
    let config = |replicas: i64| json!({"apiVersion": "demo.example.com/v1", "kind": "EcsService", "metadata": {"name": "web"}, "spec": {"image": "nginx", "replicas": replicas}});
    api.patch(
        "web",
        &PatchParams::apply("kubectl"),
        &Patch::Apply(config(2)),
    )
    .await
    .expect("create by apply");
    let err = api
        .patch(
            "web",
            &PatchParams::apply("operator"),
            &Patch::Apply(config(3)),
        )
        .await
        .expect_err("conflict");
    let kube::Error::Api(status) = err else {
        panic!("expected an API error, got {err:?}")
    };
    assert_eq!((status.code, status.reason.as_str()), (409, "Conflict"));
    assert_eq!(
        status.message,
        "Apply failed with 1 conflict: conflict with \"kubectl\": .spec.replicas"
    );
    let forced = api
        .patch(
            "web",
            &PatchParams::apply("operator").force(),
            &Patch::Apply(config(3)),
        )
        .await
        .expect("forced");
    assert_eq!(forced.data["spec"]["replicas"], 3);
    let managers: Vec<(String, String)> = forced
        .metadata
        .managed_fields
        .unwrap_or_default()
        .into_iter()
        .map(|m| {
            (
                m.manager.unwrap_or_default(),
                m.operation.unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(
        managers,
        [
            ("kubectl".to_owned(), "Apply".to_owned()),
            ("operator".to_owned(), "Apply".to_owned())
        ]
    );
    let err = api
        .patch("web", &PatchParams::default(), &Patch::Apply(config(4)))
        .await
        .expect_err("no field manager");
    assert!(
        matches!(err, kube::Error::Api(ref s) if s.code == 400),
        "{err:?}"
    );
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn preconditions_dry_run_and_deletecollection() {
    let server = LocalApiServer::start(([127, 0, 0, 1], 0).into())
        .await
        .expect("start");
    let api: Api<ConfigMap> = Api::namespaced(server.client(), "default");
    let created = api
        .create(&PostParams::default(), &cm("a"))
        .await
        .expect("create");
    let wrong = DeleteParams {
        preconditions: Some(Preconditions {
            uid: Some("not-it".into()),
            resource_version: None,
        }),
        ..DeleteParams::default()
    };
    let err = api.delete("a", &wrong).await.expect_err("uid precondition");
    assert!(
        matches!(err, kube::Error::Api(ref s) if s.code == 409),
        "{err:?}"
    );
    let right = DeleteParams {
        preconditions: Some(Preconditions {
            uid: created.metadata.uid.clone(),
            resource_version: created.metadata.resource_version.clone(),
        }),
        ..DeleteParams::default()
    };
    let deleted = api.delete("a", &right).await.expect("delete");
    assert!(
        deleted.is_right(),
        "a built-in deleted at once answers a Success Status"
    );

    let rv = server.resource_version();
    let dry = PostParams {
        dry_run: true,
        ..PostParams::default()
    };
    api.create(&dry, &cm("ghost"))
        .await
        .expect("dry-run create");
    assert!(api.get_opt("ghost").await.expect("get").is_none());
    assert_eq!(server.resource_version(), rv, "dry-run writes nothing");

    for (name, tier) in [("x", "web"), ("y", "web"), ("z", "db")] {
        let mut c = cm(name);
        c.metadata.labels = Some([("tier".to_owned(), tier.to_owned())].into());
        api.create(&PostParams::default(), &c)
            .await
            .expect("create");
    }
    api.delete_collection(
        &DeleteParams::default(),
        &ListParams::default().labels("tier=web"),
    )
    .await
    .expect("deletecollection");
    let left: Vec<String> = api
        .list(&ListParams::default())
        .await
        .expect("list")
        .items
        .into_iter()
        .filter_map(|c| c.metadata.name)
        .collect();
    assert_eq!(left, ["z"]);
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn injected_faults_and_the_request_log() {
    let server = server_with_crd().await;
    let api = ecs_api(&server);
    api.create(
        &PostParams::default(),
        &ecs("web", json!({"image": "nginx"})),
    )
    .await
    .expect("create");
    server.clear_requests();
    server.inject_fault(
        Fault::internal_error()
            .method(http::Method::PATCH)
            .path_contains("/status")
            .times(2),
    );
    let status = Patch::Merge(json!({"status": {"ready": true}}));
    for _ in 0..2 {
        let err = api
            .patch_status("web", &PatchParams::default(), &status)
            .await
            .expect_err("injected");
        assert!(
            matches!(err, kube::Error::Api(ref s) if s.code == 500 && s.reason == "InternalError"),
            "{err:?}"
        );
    }
    api.patch_status("web", &PatchParams::default(), &status)
        .await
        .expect("the fault ran out");
    let writes: Vec<u16> = server
        .requests()
        .into_iter()
        .filter(|r| r.is_write() && r.path.ends_with("/status"))
        .map(|r| r.code)
        .collect();
    assert_eq!(writes, [500, 500, 200]);
    // kube 5 retries 429 by itself: the fault shows up in the log, the caller sees success.
    server.clear_requests();
    server.inject_fault(
        Fault::too_many_requests()
            .path_contains("ecsservices/web")
            .method(http::Method::GET),
    );
    api.get("web").await.expect("retried by the client");
    let gets: Vec<u16> = server
        .requests()
        .into_iter()
        .filter(|r| r.method == "GET")
        .map(|r| r.code)
        .collect();
    assert_eq!(gets, [429, 200]);
    server.inject_fault(Fault::new(403, "Forbidden", "no access").path_contains("ecsservices/web"));
    let err = api.get("web").await.expect_err("forbidden");
    assert!(
        matches!(err, kube::Error::Api(ref s) if s.code == 403 && s.message == "no access"),
        "{err:?}"
    );
    api.get("web").await.expect("served again");
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crds_install_from_a_directory_and_unregister_on_delete() {
    let server = LocalApiServer::start(([127, 0, 0, 1], 0).into())
        .await
        .expect("start");
    let dir = tempfile::tempdir().expect("tempdir");
    let second = common::CRD_YAML
        .replace("ecsservices", "widgets")
        .replace("ecsservice", "widget")
        .replace("EcsService", "Widget")
        .replace("[ecs]", "[wd]");
    std::fs::write(
        dir.path().join("a.yaml"),
        format!(
            "{}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: skipped\n---\n{second}",
            common::CRD_YAML
        ),
    )
    .expect("write");
    std::fs::write(dir.path().join("notes.txt"), "not a manifest").expect("write");
    assert_eq!(
        server
            .install_crds_from_dir(dir.path())
            .await
            .expect("install"),
        2
    );
    assert_eq!(
        server
            .install_crds_from_dir(dir.path())
            .await
            .expect("reinstall is an update"),
        2
    );
    let api = ecs_api(&server);
    api.create(
        &PostParams::default(),
        &ecs("web", json!({"image": "nginx"})),
    )
    .await
    .expect("served");
    let crds: Api<k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition> = Api::all(server.client());
    crds.delete("ecsservices.demo.example.com", &DeleteParams::default())
        .await
        .expect("delete CRD");
    let err = api
        .list(&ListParams::default())
        .await
        .expect_err("no longer served");
    assert!(
        matches!(err, kube::Error::Api(ref s) if s.code == 404),
        "{err:?}"
    );
    std::fs::write(dir.path().join("b.yaml"), "kind: CustomResourceDefinition\napiVersion: apiextensions.k8s.io/v1\nmetadata: {name: bad}\nspec: {}\n").expect("write");
    assert!(matches!(
        server.install_crds_from_dir(dir.path()).await,
        Err(local_apiserver::InstallCrdsError::Rejected { .. })
    ));
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_binary_prints_its_url_and_writes_a_kubeconfig() {
    let dir = tempfile::tempdir().expect("tempdir");
    let kubeconfig = dir.path().join("kubeconfig");
    std::fs::write(dir.path().join("crd.yaml"), common::CRD_YAML).expect("write");
    let mut child = Command::new(env!("CARGO_BIN_EXE_local-apiserver"))
        .args(["--port", "0", "--kubeconfig"])
        .arg(&kubeconfig)
        .arg("--crds")
        .arg(dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("binary starts");
    let stdout = child.stdout.take().expect("stdout");
    let lines = tokio::task::spawn_blocking(move || {
        std::io::BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
            .take_while(|l| !l.starts_with("  export KUBECONFIG"))
            .collect::<Vec<_>>()
    });
    let lines = tokio::time::timeout(DEADLINE, lines)
        .await
        .expect("prints in time")
        .expect("reader");
    assert!(
        lines.iter().any(|l| l.starts_with("installed 1 CRD(s)")),
        "{lines:?}"
    );
    let url = lines
        .iter()
        .find_map(|l| l.strip_prefix("local-apiserver listening on "))
        .expect("a listening line")
        .to_owned();
    let config = kube::Config::from_custom_kubeconfig(
        kube::config::Kubeconfig::read_from(&kubeconfig).expect("kubeconfig"),
        &Default::default(),
    )
    .await
    .expect("config");
    assert_eq!(config.cluster_url.to_string().trim_end_matches('/'), url);
    let client = kube::Client::try_from(config).expect("client");
    let version = wait_for("the binary to answer", DEADLINE, || async {
        client.apiserver_version().await.ok()
    })
    .await;
    assert_eq!(version.major, "1");
    child.kill().expect("kill");
    child.wait().expect("reaped");
}

/// A server-side apply on `/status` carrying `metadata.resourceVersion` is an optimistic lock:
/// refused with 409 when the object has moved on (a write computed from an old object never
/// lands), accepted when it has not.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_status_apply_with_a_stale_resource_version_is_a_conflict() {
    let server = server_with_crd().await;
    let api = ecs_api(&server);
    let created = api
        .create(&PostParams::default(), &ecs("pin", json!({"image": "a"})))
        .await
        .expect("created");
    let old = created
        .metadata
        .resource_version
        .clone()
        .expect("a version");
    let apply = |rv: String, image: &str| {
        json!({
            "apiVersion": "demo.example.com/v1",
            "kind": "EcsService",
            "metadata": {"name": "pin", "resourceVersion": rv},
            "status": {"observedImage": image}
        })
    };
    let params = PatchParams::apply("op").force();
    let moved = api
        .patch_status("pin", &params, &Patch::Apply(apply(old.clone(), "a")))
        .await
        .expect("the current version is accepted");
    let err = api
        .patch_status("pin", &params, &Patch::Apply(apply(old, "stale")))
        .await
        .expect_err("a stale version is refused");
    assert!(
        matches!(err, kube::Error::Api(ref e) if e.code == 409),
        "{err}"
    );
    let current = moved.metadata.resource_version.expect("a version");
    api.patch_status("pin", &params, &Patch::Apply(apply(current, "b")))
        .await
        .expect("the new version is accepted");
}
