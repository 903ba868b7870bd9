//! The Helm chart: `helm lint`, `helm template` with default and production values, the values
//! schema, offline validation of every rendered built-in object (kubernetes-validate), and the
//! rendered objects applied with kubectl to the local API server.

use std::collections::BTreeSet;
use std::process::Command;

use e2e_tests::chart::{
    NAMESPACE, RELEASE, chart_dir, find, of_kind, parse_documents, template, template_text,
};
use e2e_tests::tools::{helm, installed, kubectl, output_of, run_ok, write_file};
use serde_json::{Value, json};

const PRODUCTION: &str = "ci/production-values.yaml";
const FULLNAME: &str = "ecs-ecs-operator";

fn production() -> Vec<Value> {
    let values = chart_dir().join(PRODUCTION);
    template(&["-f", values.to_str().expect("utf-8 path")])
}

fn env_of(deployment: &Value) -> Vec<(String, String)> {
    deployment["spec"]["template"]["spec"]["containers"][0]["env"]
        .as_array()
        .expect("env")
        .iter()
        .map(|e| {
            let value = e["value"].as_str().map(str::to_owned).unwrap_or_else(|| {
                format!(
                    "<{}>",
                    e["valueFrom"]["fieldRef"]["fieldPath"]
                        .as_str()
                        .unwrap_or("?")
                )
            });
            (e["name"].as_str().expect("name").to_owned(), value)
        })
        .collect()
}

fn env(deployment: &Value, name: &str) -> Option<String> {
    env_of(deployment)
        .into_iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v)
}

#[test]
fn helm_lint_passes_with_default_and_production_values() {
    run_ok(
        Command::new(helm())
            .args(["lint", "--strict"])
            .arg(chart_dir()),
    );
    run_ok(
        Command::new(helm())
            .args(["lint", "--strict", "-f"])
            .arg(chart_dir().join(PRODUCTION))
            .arg(chart_dir()),
    );
}

#[test]
fn default_values_run_one_restricted_leader_elected_replica() {
    let docs = template(&[]);
    let kinds: BTreeSet<&str> = docs.iter().filter_map(|d| d["kind"].as_str()).collect();
    assert_eq!(
        kinds,
        BTreeSet::from([
            "ClusterRole",
            "ClusterRoleBinding",
            "CustomResourceDefinition",
            "Deployment",
            "Role",
            "RoleBinding",
            "Service",
            "ServiceAccount"
        ]),
        "no ServiceMonitor by default"
    );
    let deployment = find(&docs, "Deployment", FULLNAME);
    assert_eq!(deployment["metadata"]["namespace"], NAMESPACE);
    assert_eq!(deployment["spec"]["replicas"], 1);
    let pod = &deployment["spec"]["template"]["spec"];
    let container = &pod["containers"][0];
    assert_eq!(container["args"], json!(["run"]));
    let app_version = std::fs::read_to_string(chart_dir().join("Chart.yaml"))
        .expect("Chart.yaml")
        .lines()
        .find_map(|l| l.strip_prefix("appVersion: "))
        .expect("appVersion")
        .trim_matches('"')
        .to_owned();
    assert_eq!(
        container["image"],
        format!("ghcr.io/ecs-operator/ecs-operator:{app_version}")
    );
    // Pod Security "restricted".
    assert_eq!(pod["securityContext"]["runAsNonRoot"], true);
    assert_eq!(
        pod["securityContext"]["seccompProfile"]["type"],
        "RuntimeDefault"
    );
    let sc = &container["securityContext"];
    assert_eq!(sc["allowPrivilegeEscalation"], false);
    assert_eq!(sc["readOnlyRootFilesystem"], true);
    assert_eq!(sc["capabilities"]["drop"], json!(["ALL"]));
    assert!(sc["privileged"].is_null() && sc["capabilities"]["add"].is_null());
    // Probes on the operator's endpoints.
    assert_eq!(container["livenessProbe"]["httpGet"]["path"], "/healthz");
    assert_eq!(container["readinessProbe"]["httpGet"]["path"], "/readyz");
    assert_eq!(container["ports"][0]["containerPort"], 8080);
    // Configuration reaches the binary through the environment it reads.
    assert_eq!(
        env(deployment, "POD_NAMESPACE").as_deref(),
        Some("<metadata.namespace>")
    );
    assert_eq!(
        env(deployment, "POD_NAME").as_deref(),
        Some("<metadata.name>")
    );
    assert_eq!(env(deployment, "LEADER_ELECTION").as_deref(), Some("true"));
    assert_eq!(env(deployment, "LEASE_NAME").as_deref(), Some(FULLNAME));
    assert_eq!(env(deployment, "LOG_FORMAT").as_deref(), Some("json"));
    assert_eq!(
        env(deployment, "METRICS_ADDR").as_deref(),
        Some("0.0.0.0:8080")
    );
    for absent in [
        "AWS_REGION",
        "AWS_ENDPOINT_URL",
        "WATCH_NAMESPACE",
        "LABEL_SELECTOR",
    ] {
        assert_eq!(env(deployment, absent), None, "{absent} set by default");
    }
    // CRDs: installed, upgraded with the release, kept on uninstall.
    let crds = of_kind(&docs, "CustomResourceDefinition");
    assert_eq!(crds.len(), 6);
    for crd in crds {
        let annotations = &crd["metadata"]["annotations"];
        assert_eq!(annotations["helm.sh/resource-policy"], "keep");
        assert_eq!(
            annotations["argocd.argoproj.io/sync-options"],
            "Delete=false"
        );
    }
    let unkept = template(&["--set", "crds.keep=false"]);
    for crd in of_kind(&unkept, "CustomResourceDefinition") {
        assert!(
            crd["metadata"]["annotations"]
                .as_object()
                .is_none_or(|a| a.is_empty())
        );
    }
    // The metrics Service selects the pods.
    let service = find(&docs, "Service", &format!("{FULLNAME}-metrics"));
    let selector = service["spec"]["selector"].as_object().expect("selector");
    let pod_labels = &deployment["spec"]["template"]["metadata"]["labels"];
    for (k, v) in selector {
        assert_eq!(&pod_labels[k], v, "Service selector {k}");
    }
    let sa = find(&docs, "ServiceAccount", FULLNAME);
    assert!(sa["metadata"]["annotations"].is_null(), "{sa}");
}

#[test]
fn default_rbac_is_least_privilege() {
    let docs = template(&[]);
    let role = find(&docs, "ClusterRole", FULLNAME);
    assert_eq!(
        role["rules"],
        json!([
            {"apiGroups": ["ecs-operator.dev"],
             "resources": ["ecsservices", "bluegreenrollouts", "scalingpolicies"],
             "verbs": ["get", "list", "watch", "patch"]},
            {"apiGroups": ["ecs-operator.dev"],
             "resources": ["ecsservices/status", "bluegreenrollouts/status", "scalingpolicies/status"],
             "verbs": ["patch"]},
            {"apiGroups": ["ecs-operator.dev"], "resources": ["releasegroups"],
             "verbs": ["get", "list", "watch"]},
            {"apiGroups": ["ecs-operator.dev"], "resources": ["releasegroups/status"],
             "verbs": ["patch"]},
            {"apiGroups": ["ecs-operator.dev"], "resources": ["notificationpolicies"],
             "verbs": ["get", "list", "watch"]},
            {"apiGroups": ["ecs-operator.dev"], "resources": ["notificationpolicies/status"],
             "verbs": ["patch"]},
            {"apiGroups": ["events.k8s.io"], "resources": ["events"], "verbs": ["create", "patch"]},
        ])
    );
    let lease_role = find(&docs, "Role", &format!("{FULLNAME}-leader-election"));
    assert_eq!(lease_role["metadata"]["namespace"], NAMESPACE);
    assert_eq!(
        lease_role["rules"],
        json!([
            {"apiGroups": ["coordination.k8s.io"], "resources": ["leases"], "verbs": ["create"]},
            {"apiGroups": ["coordination.k8s.io"], "resources": ["leases"],
             "resourceNames": [FULLNAME], "verbs": ["get", "patch"]},
        ])
    );
    // No wildcard anywhere, and nothing on Secrets or other workloads.
    for role in of_kind(&docs, "ClusterRole")
        .into_iter()
        .chain(of_kind(&docs, "Role"))
    {
        let text = role["rules"].to_string();
        assert!(!text.contains("\"*\""), "wildcard in {text}");
        for forbidden in ["secrets", "configmaps", "pods", "deployments", "nodes"] {
            assert!(!text.contains(forbidden), "{forbidden} in {text}");
        }
    }
    // Ordinary users read and edit the kinds through the aggregated default roles.
    let view = find(&docs, "ClusterRole", &format!("{FULLNAME}-view"));
    assert_eq!(
        view["metadata"]["labels"]["rbac.authorization.k8s.io/aggregate-to-view"],
        "true"
    );
    assert_eq!(view["rules"][0]["verbs"], json!(["get", "list", "watch"]));
    let edit = find(&docs, "ClusterRole", &format!("{FULLNAME}-edit"));
    assert_eq!(
        edit["metadata"]["labels"]["rbac.authorization.k8s.io/aggregate-to-edit"],
        "true"
    );
    assert!(edit["metadata"]["labels"]["rbac.authorization.k8s.io/aggregate-to-view"].is_null());
    assert!(!edit["rules"].to_string().contains("/status"));
}

#[test]
fn production_values_shard_scope_and_observe() {
    let docs = production();
    let deployment = find(&docs, "Deployment", FULLNAME);
    assert_eq!(deployment["spec"]["replicas"], 2);
    assert_eq!(
        deployment["spec"]["template"]["spec"]["containers"][0]["image"],
        "ghcr.io/ecs-operator/ecs-operator:1.2.3"
    );
    for (name, value) in [
        ("AWS_REGION", "eu-west-1"),
        ("AWS_ENDPOINT_URL", "http://moto.aws-emulators.svc:5000"),
        ("WATCH_NAMESPACE", "event-booking"),
        ("LABEL_SELECTOR", "ecs-operator.dev/shard=a"),
        ("LEASE_NAME", "ecs-operator-shard-a"),
        ("LEASE_DURATION_SECONDS", "20"),
        ("LEASE_GRACE_SECONDS", "4"),
        ("RESYNC_SECONDS", "600"),
        ("CONCURRENCY", "8"),
        ("LOG_LEVEL", "info,ecs_operator=debug"),
        ("LOG_FORMAT", "text"),
        (
            "OTEL_EXPORTER_OTLP_ENDPOINT",
            "http://otel-collector.observability:4318",
        ),
    ] {
        assert_eq!(env(deployment, name).as_deref(), Some(value), "{name}");
    }
    // CRDs managed elsewhere; RBAC only in the watched namespace, except reading the
    // cluster-scoped AwsAccountBindings; no aggregated roles.
    assert!(of_kind(&docs, "CustomResourceDefinition").is_empty());
    let cluster_roles = of_kind(&docs, "ClusterRole");
    assert_eq!(cluster_roles.len(), 1, "{cluster_roles:?}");
    assert_eq!(
        cluster_roles[0]["rules"],
        json!([{"apiGroups": ["ecs-operator.dev"], "resources": ["awsaccountbindings"], "verbs": ["get", "list", "watch"]}])
    );
    assert_eq!(of_kind(&docs, "ClusterRoleBinding").len(), 1);
    let role = find(&docs, "Role", FULLNAME);
    assert_eq!(role["metadata"]["namespace"], "event-booking");
    let binding = find(&docs, "RoleBinding", FULLNAME);
    assert_eq!(binding["subjects"][0]["namespace"], NAMESPACE);
    let lease_role = find(&docs, "Role", &format!("{FULLNAME}-leader-election"));
    assert_eq!(lease_role["metadata"]["namespace"], NAMESPACE);
    assert_eq!(
        lease_role["rules"][1]["resourceNames"],
        json!(["ecs-operator-shard-a"])
    );
    // IRSA next to the user's own annotations.
    let sa = find(&docs, "ServiceAccount", FULLNAME);
    assert_eq!(
        sa["metadata"]["annotations"],
        json!({"eks.amazonaws.com/role-arn": "arn:aws:iam::123456789012:role/ecs-operator",
               "example.com/owner": "platform-team"})
    );
    let monitor = find(&docs, "ServiceMonitor", FULLNAME);
    assert_eq!(monitor["metadata"]["labels"]["release"], "prometheus");
    assert_eq!(monitor["spec"]["endpoints"][0]["port"], "http-metrics");
    assert_eq!(monitor["spec"]["endpoints"][0]["path"], "/metrics");
}

#[test]
fn leader_election_can_be_turned_off_for_a_single_replica() {
    let docs = template(&["--set", "leaderElection.enabled=false"]);
    let deployment = find(&docs, "Deployment", FULLNAME);
    assert_eq!(env(deployment, "LEADER_ELECTION").as_deref(), Some("false"));
    assert!(
        !of_kind(&docs, "Role")
            .iter()
            .any(|r| r["metadata"]["name"] == format!("{FULLNAME}-leader-election"))
    );
}

#[test]
fn bad_values_fail_at_render_time_with_the_reason() {
    for (set, expected) in [
        ("replicaCount=two", "/replicaCount"),
        ("operator.logFormat=xml", "/operator/logFormat"),
        ("operator.logLevel=loud", "/operator/logLevel"),
        ("aws.roleArn=my-role", "/aws/roleArn"),
        (
            "operator.watchNamespace=Not_A_Namespace",
            "/operator/watchNamespace",
        ),
        ("metrics.port=0", "/metrics/port"),
        ("unknownKey=1", "unknownKey"),
        (
            "leaderElection.leaseGraceSeconds=30",
            "leaseGraceSeconds must be smaller",
        ),
        (
            "operator.shutdownGraceSeconds=60",
            "terminationGracePeriodSeconds",
        ),
        (
            "replicaCount=2,leaderElection.enabled=false",
            "needs leaderElection.enabled",
        ),
    ] {
        let out = output_of(
            Command::new(helm())
                .args(["template", RELEASE])
                .arg(chart_dir())
                .args(["--set", set]),
        );
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "--set {set} rendered");
        assert!(stderr.contains(expected), "--set {set}: {stderr}");
    }
}

/// Every rendered built-in object against the Kubernetes OpenAPI schemas of the oldest
/// supported (Chart.yaml kubeVersion) and the newest version, strictly (unknown fields fail).
#[test]
fn rendered_objects_pass_kubernetes_validate() {
    let dir = tempfile::tempdir().expect("tempdir");
    let values = chart_dir().join(PRODUCTION);
    for (name, text) in [
        ("default.yaml", template_text(&[])),
        (
            "production.yaml",
            template_text(&["-f", values.to_str().expect("utf-8")]),
        ),
    ] {
        // ServiceMonitor is prometheus-operator's CRD: kubernetes-validate has no schema for it.
        let builtins: Vec<Value> = parse_documents(&text)
            .into_iter()
            .filter(|d| d["kind"] != "ServiceMonitor")
            .collect();
        let stream: String = builtins
            .iter()
            .map(|d| format!("---\n{}\n", serde_json::to_string(d).expect("json")))
            .collect();
        let file = write_file(dir.path(), name, &stream);
        for version in ["1.29", "1.37"] {
            let out = run_ok(
                Command::new(installed("kubernetes-validate"))
                    .args(["--strict", "-k", version])
                    .arg(&file),
            );
            let passed = out.matches(" passed for resource ").count();
            assert_eq!(passed, builtins.len(), "{name} on {version}:\n{out}");
        }
    }
}

/// The rendered objects, applied with the real kubectl to the local API server: every kind it
/// serves must be accepted and read back (kinds it does not serve, such as a ServiceMonitor, are
/// checked offline by `rendered_objects_pass_kubernetes_validate` only). `chart_helm.rs`
/// installs the chart with helm itself.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rendered_objects_are_accepted_by_the_api_server() {
    let server = local_apiserver::LocalApiServer::start(([127, 0, 0, 1], 0).into())
        .await
        .expect("API server starts");
    let client = server.client();
    let dir = tempfile::tempdir().expect("tempdir");
    let kubeconfig = dir.path().join("kubeconfig");
    server.write_kubeconfig(&kubeconfig).expect("kubeconfig");
    let namespace =
        json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NAMESPACE}});
    let mut docs = vec![namespace];
    docs.extend(template(&[]));
    let mut applied = Vec::new();
    let mut not_served = BTreeSet::new();
    for doc in &docs {
        let api_version = doc["apiVersion"].as_str().expect("apiVersion");
        let kind = doc["kind"].as_str().expect("kind");
        let (group, version) = api_version.rsplit_once('/').unwrap_or(("", api_version));
        let gvk = kube::core::GroupVersionKind::gvk(group, version, kind);
        if kube::discovery::pinned_kind(&client, &gvk).await.is_err() {
            not_served.insert(format!("{kind}.{group}"));
            continue;
        }
        let name = doc["metadata"]["name"].as_str().expect("name");
        let file = write_file(
            dir.path(),
            &format!("{kind}-{name}.json"),
            &serde_json::to_string(doc).expect("json"),
        );
        let kubectl_out = tokio::process::Command::new(kubectl())
            .arg("--kubeconfig")
            .arg(&kubeconfig)
            .args(["apply", "-f"])
            .arg(&file)
            .output()
            .await
            .expect("kubectl runs");
        assert!(
            kubectl_out.status.success(),
            "kubectl apply of {kind} {name} failed:\n{}",
            String::from_utf8_lossy(&kubectl_out.stderr)
        );
        let mut get = tokio::process::Command::new(kubectl());
        get.arg("--kubeconfig").arg(&kubeconfig).args([
            "get",
            &format!("{kind}.{version}.{group}"),
            name,
            "-o",
            "json",
        ]);
        if let Some(ns) = doc["metadata"]["namespace"].as_str() {
            get.args(["-n", ns]);
        }
        let got = get.output().await.expect("kubectl runs");
        assert!(
            got.status.success(),
            "kubectl get {kind} {name}: {}",
            String::from_utf8_lossy(&got.stderr)
        );
        let got: Value = serde_json::from_slice(&got.stdout).expect("JSON from kubectl");
        assert_eq!(got["metadata"]["name"], name);
        applied.push(format!("{kind}/{name}"));
    }
    // What must have been applied for real.
    for expected in [
        "Namespace/ecs-system",
        "ServiceAccount/ecs-ecs-operator",
        "CustomResourceDefinition/ecsservices.ecs-operator.dev",
        "CustomResourceDefinition/bluegreenrollouts.ecs-operator.dev",
        "CustomResourceDefinition/scalingpolicies.ecs-operator.dev",
        "CustomResourceDefinition/releasegroups.ecs-operator.dev",
        "CustomResourceDefinition/notificationpolicies.ecs-operator.dev",
    ] {
        assert!(
            applied.iter().any(|a| a == expected),
            "{expected} not applied: {applied:?}"
        );
    }
    eprintln!("applied {applied:?}; not served by local-apiserver: {not_served:?}");
    // The installed CRDs serve the kinds.
    for kind in ["EcsService", "BlueGreenRollout", "ScalingPolicy"] {
        let gvk = kube::core::GroupVersionKind::gvk("ecs-operator.dev", "v1alpha1", kind);
        kube::discovery::pinned_kind(&client, &gvk)
            .await
            .unwrap_or_else(|e| panic!("{kind} not served after the chart's CRDs: {e}"));
    }
    server.shutdown().await;
}
