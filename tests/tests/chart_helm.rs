//! The chart installed the way users install it: the real helm (4.x, client-go: it stores its
//! releases in Secrets and creates the namespace in protobuf) against the local API server —
//! install with default and with non-default values, upgrade with a changed value and a changed
//! CRD schema, rollback, uninstall, and what the CRDs and custom resources do on each, as the
//! chart's README promises. Nothing waits on pods: the server runs none.

use std::path::{Path, PathBuf};
use std::process::Command;

use e2e_tests::chart::chart_dir;
use e2e_tests::tools::{helm, output_of, run_ok};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::Secret;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{Api, ListParams, PostParams};
use serde_json::{Value, json};

const NAMESPACE: &str = "ecs-operator";
const RELEASE: &str = "eo";
const CRDS: [&str; 3] = [
    "ecsservices.ecs-operator.dev",
    "bluegreenrollouts.ecs-operator.dev",
    "scalingpolicies.ecs-operator.dev",
];

/// helm with its own home directories and the server's kubeconfig.
struct Helm {
    dir: tempfile::TempDir,
}

impl Helm {
    fn new(server: &local_apiserver::LocalApiServer) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        server
            .write_kubeconfig(&dir.path().join("kubeconfig"))
            .expect("kubeconfig");
        Self { dir }
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(helm());
        let home = self.dir.path();
        cmd.env("KUBECONFIG", home.join("kubeconfig"))
            .env("HELM_CACHE_HOME", home.join("cache"))
            .env("HELM_CONFIG_HOME", home.join("config"))
            .env("HELM_DATA_HOME", home.join("data"))
            .args(args);
        cmd
    }

    fn ok(&self, args: &[&str]) -> String {
        run_ok(&mut self.command(args))
    }

    fn json(&self, args: &[&str]) -> Value {
        let text = self.ok(args);
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("helm {args:?}: {e}\n{text}"))
    }
}

fn chart() -> String {
    chart_dir().to_string_lossy().into_owned()
}

/// A copy of the chart whose EcsService CRD has one more optional spec field.
fn chart_with_a_new_crd_field(into: &Path) -> PathBuf {
    let copy = into.join("ecs-operator");
    copy_dir(&chart_dir(), &copy);
    let crd = copy.join("files/crds/ecsservices.ecs-operator.dev.yaml");
    let text = std::fs::read_to_string(&crd).expect("CRD file");
    let marker = "            properties:\n";
    let at = text.find(marker).expect("the spec's properties") + marker.len();
    let field = "              upgradeProbe:\n                description: A field only the upgraded chart has.\n                type: string\n";
    std::fs::write(&crd, format!("{}{field}{}", &text[..at], &text[at..])).expect("write CRD");
    copy
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("read chart") {
        let entry = entry.expect("entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("type").is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy");
        }
    }
}

fn spec_fields(crd: &CustomResourceDefinition) -> Vec<String> {
    let schema = serde_json::to_value(crd).expect("json");
    schema["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]["properties"]
        .as_object()
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default()
}

/// The operator container's args and env, as `NAME=value` text.
fn operator_args(deployment: &Deployment) -> Vec<String> {
    let deployment = serde_json::to_value(deployment).expect("json");
    let container = &deployment["spec"]["template"]["spec"]["containers"][0];
    let mut out: Vec<String> = container["args"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|a| a.as_str().unwrap_or_default().to_owned())
        .collect();
    for env in container["env"].as_array().into_iter().flatten() {
        out.push(format!("{}={}", env["name"], env["value"]));
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn helm_installs_upgrades_rolls_back_and_uninstalls_the_chart() {
    let server = local_apiserver::LocalApiServer::start(([127, 0, 0, 1], 0).into())
        .await
        .expect("API server starts");
    let client = server.client();
    let helm = Helm::new(&server);
    let crds: Api<CustomResourceDefinition> = Api::all(client.clone());
    let deployments: Api<Deployment> = Api::namespaced(client.clone(), NAMESPACE);
    let secrets: Api<Secret> = Api::namespaced(client.clone(), NAMESPACE);
    let fullname = format!("{RELEASE}-ecs-operator");

    // Install with default values; helm creates the namespace.
    helm.ok(&[
        "install",
        RELEASE,
        &chart(),
        "-n",
        NAMESPACE,
        "--create-namespace",
    ]);
    let list = helm.json(&["list", "-n", NAMESPACE, "-o", "json"]);
    assert_eq!(list[0]["name"], RELEASE, "{list}");
    assert_eq!(list[0]["status"], "deployed");
    assert_eq!(list[0]["revision"], "1");
    let stored = secrets
        .list(&ListParams::default().labels("owner=helm"))
        .await
        .expect("list release secrets");
    assert_eq!(stored.items.len(), 1, "helm stores revision 1 in a Secret");
    let deployment = deployments
        .get(&fullname)
        .await
        .expect("the operator Deployment");
    for name in CRDS {
        let crd = crds.get(name).await.expect("CRD installed");
        assert_eq!(
            crd.metadata
                .annotations
                .as_ref()
                .and_then(|a| a.get("helm.sh/resource-policy"))
                .map(String::as_str),
            Some("keep"),
            "{name} is kept on uninstall"
        );
    }
    let default_args = operator_args(&deployment);
    let protobuf = "application/vnd.kubernetes.protobuf";
    let release_writes: Vec<_> = server
        .requests()
        .into_iter()
        .filter(|r| r.method == "POST" && r.path.ends_with("/secrets"))
        .collect();
    assert!(
        release_writes
            .iter()
            .all(|r| r.content_type == protobuf && r.response_type == protobuf && r.code == 201),
        "helm writes its release Secret in protobuf and reads protobuf back: {release_writes:?}"
    );
    assert!(!release_writes.is_empty());

    // A custom resource (the auth service of the examples), which must outlive the chart.
    let example = std::fs::read_to_string(
        e2e_tests::sandbox::workspace_root().join("examples/event-booking/01-auth.yaml"),
    )
    .expect("the auth example");
    let service: kube::api::DynamicObject = serde_saphyr::from_multiple::<Value>(&example)
        .expect("YAML")
        .into_iter()
        .find(|d| d["kind"] == "EcsService")
        .map(|d| serde_json::from_value(d).expect("an EcsService"))
        .expect("the example has an EcsService");
    let namespace = service.metadata.namespace.clone().expect("a namespace");
    kube::Api::<k8s_openapi::api::core::v1::Namespace>::all(client.clone())
        .create(
            &PostParams::default(),
            &serde_json::from_value(json!({"metadata": {"name": namespace}})).expect("namespace"),
        )
        .await
        .expect("the example namespace");
    let services: Api<kube::api::DynamicObject> = Api::namespaced_with(
        client.clone(),
        &namespace,
        &kube::discovery::ApiResource::erase::<crds::EcsService>(&()),
    );
    services
        .create(&PostParams::default(), &service)
        .await
        .expect("an EcsService is accepted");

    // Upgrade: a changed value, and a chart whose CRD gained a field.
    let work = tempfile::tempdir().expect("tempdir");
    let upgraded = chart_with_a_new_crd_field(work.path());
    helm.ok(&[
        "upgrade",
        RELEASE,
        upgraded.to_str().expect("utf-8"),
        "-n",
        NAMESPACE,
        "--set",
        "operator.logLevel=debug",
    ]);
    let crd = crds.get(CRDS[0]).await.expect("CRD");
    assert!(
        spec_fields(&crd).contains(&"upgradeProbe".to_owned()),
        "helm upgrade updates the CRD schema (templates, not crds/)"
    );
    let upgraded_args = operator_args(&deployments.get(&fullname).await.expect("Deployment"));
    assert_ne!(
        upgraded_args, default_args,
        "the changed value reached the Deployment"
    );
    assert!(
        upgraded_args.iter().any(|a| a.contains("debug")),
        "{upgraded_args:?}"
    );
    let history = helm.json(&["history", RELEASE, "-n", NAMESPACE, "-o", "json"]);
    assert_eq!(history.as_array().map(Vec::len), Some(2), "{history}");
    assert_eq!(history[0]["status"], "superseded");
    assert_eq!(history[1]["status"], "deployed");

    // Rollback to revision 1: the value and the CRD schema return.
    helm.ok(&["rollback", RELEASE, "1", "-n", NAMESPACE]);
    let status = helm.json(&["status", RELEASE, "-n", NAMESPACE, "-o", "json"]);
    assert_eq!(status["version"], 3, "{status}");
    assert_eq!(status["info"]["status"], "deployed");
    assert_eq!(
        operator_args(&deployments.get(&fullname).await.expect("Deployment")),
        default_args
    );
    let crd = crds.get(CRDS[0]).await.expect("CRD");
    assert!(!spec_fields(&crd).contains(&"upgradeProbe".to_owned()));

    // Uninstall: the chart's objects go, the CRDs (keep) and the custom resource stay.
    helm.ok(&["uninstall", RELEASE, "-n", NAMESPACE]);
    assert!(
        deployments.get_opt(&fullname).await.expect("get").is_none(),
        "the Deployment is deleted"
    );
    for name in CRDS {
        assert!(
            crds.get_opt(name).await.expect("get").is_some(),
            "{name} is kept"
        );
    }
    assert!(
        services
            .get_opt(&service.metadata.name.clone().expect("name"))
            .await
            .expect("get")
            .is_some(),
        "the EcsService survives"
    );
    let list = helm.json(&["list", "-n", NAMESPACE, "-o", "json"]);
    assert_eq!(list, json!([]), "no release is left");
    assert!(
        secrets
            .list(&ListParams::default().labels("owner=helm"))
            .await
            .expect("list")
            .items
            .is_empty(),
        "helm deleted its release Secrets"
    );

    // Non-default values: the production example (CRDs managed elsewhere, one watched namespace,
    // two replicas), without the ServiceMonitor whose CRD this server does not serve.
    let production = chart_dir().join("ci/production-values.yaml");
    helm.ok(&[
        "install",
        "eo-shard-a",
        &chart(),
        "-n",
        "shard-a",
        "--create-namespace",
        "-f",
        production.to_str().expect("utf-8"),
        "--set",
        "metrics.serviceMonitor.enabled=false",
    ]);
    let shard: Api<Deployment> = Api::namespaced(client.clone(), "shard-a");
    let deployment = shard
        .get("eo-shard-a-ecs-operator")
        .await
        .expect("Deployment");
    assert_eq!(
        serde_json::to_value(&deployment).expect("json")["spec"]["replicas"],
        2
    );
    let manifest = helm.ok(&["get", "manifest", "eo-shard-a", "-n", "shard-a"]);
    assert!(
        !manifest.contains("kind: CustomResourceDefinition"),
        "crds.install=false renders no CRD"
    );
    helm.ok(&["uninstall", "eo-shard-a", "-n", "shard-a"]);
    for name in CRDS {
        assert!(
            crds.get_opt(name).await.expect("get").is_some(),
            "{name} untouched"
        );
    }
    let failed = output_of(&mut helm.command(&["status", "eo-shard-a", "-n", "shard-a"]));
    assert!(!failed.status.success(), "an uninstalled release is gone");
    server.shutdown().await;
}
