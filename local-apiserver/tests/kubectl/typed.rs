//! kubectl's typed commands (`kubectl create namespace|configmap|secret|…`): client-go sends
//! their objects in protobuf and asks for protobuf back. Every `kubectl create` subcommand for
//! a kind the server serves, read back as JSON, and the wire formats the server saw.

use local_apiserver::LocalApiServer;
use serde_json::Value;

use crate::runner::Kubectl;

async fn get_json(k: &Kubectl, args: &[&str]) -> Value {
    let mut all = vec!["get"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["-o", "json"]);
    serde_json::from_str(&k.ok(&all).await).expect("kubectl prints JSON")
}

pub async fn typed_create(k: &Kubectl, server: &LocalApiServer) {
    let created = [
        (
            vec!["create", "namespace", "typed"],
            "namespace/typed created",
        ),
        (
            vec![
                "create",
                "configmap",
                "cfg",
                "-n",
                "typed",
                "--from-literal=a=1",
                "--from-literal=b=",
            ],
            "configmap/cfg created",
        ),
        (
            vec![
                "create",
                "secret",
                "generic",
                "pw",
                "-n",
                "typed",
                "--from-literal=password=s3cr3t",
            ],
            "secret/pw created",
        ),
        (
            vec![
                "create",
                "secret",
                "docker-registry",
                "pull",
                "-n",
                "typed",
                "--docker-server=r.example.com",
                "--docker-username=u",
                "--docker-password=p",
            ],
            "secret/pull created",
        ),
        (
            vec!["create", "serviceaccount", "op", "-n", "typed"],
            "serviceaccount/op created",
        ),
        (
            vec![
                "create",
                "role",
                "reader",
                "-n",
                "typed",
                "--verb=get,list",
                "--resource=configmaps",
            ],
            "role.rbac.authorization.k8s.io/reader created",
        ),
        (
            vec![
                "create",
                "rolebinding",
                "reader",
                "-n",
                "typed",
                "--role=reader",
                "--serviceaccount=typed:op",
            ],
            "rolebinding.rbac.authorization.k8s.io/reader created",
        ),
        (
            vec![
                "create",
                "clusterrole",
                "watcher",
                "--verb=watch",
                "--resource=namespaces",
            ],
            "clusterrole.rbac.authorization.k8s.io/watcher created",
        ),
        (
            vec![
                "create",
                "clusterrolebinding",
                "watcher",
                "--clusterrole=watcher",
                "--serviceaccount=typed:op",
            ],
            "clusterrolebinding.rbac.authorization.k8s.io/watcher created",
        ),
        (
            vec![
                "create",
                "deployment",
                "web",
                "-n",
                "typed",
                "--image=nginx:1.27",
                "--replicas=0",
                "--port=8080",
            ],
            "deployment.apps/web created",
        ),
        (
            vec![
                "create",
                "service",
                "clusterip",
                "web",
                "-n",
                "typed",
                "--tcp=80:8080",
            ],
            "service/web created",
        ),
    ];
    for (args, expected) in &created {
        let out = k.ok(args).await;
        assert!(out.contains(expected), "kubectl {args:?}: {out}");
    }

    let cm = get_json(k, &["configmap", "cfg", "-n", "typed"]).await;
    assert_eq!(cm["data"], serde_json::json!({"a": "1", "b": ""}));
    let secret = get_json(k, &["secret", "pw", "-n", "typed"]).await;
    assert_eq!(
        secret["data"]["password"], "czNjcjN0",
        "base64 of the bytes sent"
    );
    assert_eq!(secret["type"], "Opaque");
    let pull = get_json(k, &["secret", "pull", "-n", "typed"]).await;
    assert_eq!(pull["type"], "kubernetes.io/dockerconfigjson");
    let role = get_json(k, &["role", "reader", "-n", "typed"]).await;
    assert_eq!(
        role["rules"][0]["verbs"],
        serde_json::json!(["get", "list"])
    );
    let binding = get_json(k, &["clusterrolebinding", "watcher"]).await;
    assert_eq!(binding["subjects"][0]["namespace"], "typed");
    let deployment = get_json(k, &["deployment", "web", "-n", "typed"]).await;
    assert_eq!(
        deployment["spec"]["replicas"], 0,
        "a pointer field's zero is kept"
    );
    assert_eq!(
        deployment["spec"]["template"]["spec"]["containers"][0]["ports"][0]["containerPort"],
        8080
    );
    let service = get_json(k, &["service", "web", "-n", "typed"]).await;
    assert_eq!(
        service["spec"]["ports"][0]["targetPort"], 8080,
        "an IntOrString int"
    );
    assert_eq!(service["spec"]["ports"][0]["port"], 80);

    // The typed commands spoke protobuf both ways.
    let creates: Vec<_> = server
        .requests()
        .into_iter()
        .filter(|r| r.method == "POST" && r.path.ends_with("/configmaps"))
        .collect();
    assert!(
        creates
            .iter()
            .any(|r| r.content_type == "application/vnd.kubernetes.protobuf"
                && r.response_type == "application/vnd.kubernetes.protobuf"),
        "{creates:?}"
    );

    // A kind already taken answers AlreadyExists through protobuf too.
    k.fails(&["create", "namespace", "typed"], "AlreadyExists")
        .await;
    assert!(
        k.ok(&["delete", "namespace", "typed"])
            .await
            .contains("\"typed\" deleted")
    );
    for (kind, name) in [
        ("clusterrolebinding", "watcher"),
        ("clusterrole", "watcher"),
    ] {
        k.ok(&["delete", kind, name]).await;
    }
}
