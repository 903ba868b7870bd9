//! The scenario steps after the core flow: `get -w` with another client writing, a stale
//! `replace`, `describe`/`events` on events kube-rs recorded, validation failures, selectors, and
//! built-in kinds.

use kube::api::{Patch, PatchParams};
use kube::runtime::events::{Event, EventType, Recorder, Reporter};
use kube::{Resource, ResourceExt};
use local_apiserver::LocalApiServer;
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, BufReader};

use crate::common::{self, DEADLINE, ecs_api};
use crate::runner::{Kubectl, cr, finish, watch_started};

pub async fn get_watch(k: &Kubectl, server: &LocalApiServer) {
    let api = ecs_api(server);
    server.clear_requests();
    let mut child = k.spawn(&["get", "ecsservices", "-w", "--output-watch-events"]);
    let mut lines = BufReader::new(child.stdout.take().expect("piped stdout")).lines();
    watch_started(server, "resourceVersion=").await;
    api.patch(
        "web3",
        &PatchParams::default(),
        &Patch::Merge(json!({"spec": {"replicas": 5}})),
    )
    .await
    .expect("patch web3");
    api.delete("web3", &Default::default())
        .await
        .expect("delete web3");
    let mut seen = Vec::new();
    let outcome = tokio::time::timeout(DEADLINE, async {
        while let Ok(Some(line)) = lines.next_line().await {
            let words: Vec<String> = line.split_whitespace().map(str::to_owned).collect();
            seen.push(words);
            if seen
                .iter()
                .any(|w| w.first().map(String::as_str) == Some("DELETED"))
            {
                return;
            }
        }
    })
    .await;
    assert!(
        outcome.is_ok(),
        "no DELETED event from kubectl get -w: {seen:?}"
    );
    let events: Vec<(&str, &str)> = seen
        .iter()
        .filter(|w| w.len() > 2)
        .map(|w| (w[0].as_str(), w[1].as_str()))
        .collect();
    assert_eq!(
        events,
        [
            ("EVENT", "NAME"),
            ("ADDED", "web"),
            ("ADDED", "web2"),
            ("ADDED", "web3"),
            ("MODIFIED", "web3"),
            ("DELETED", "web3")
        ]
    );
    let modified = seen
        .iter()
        .find(|w| w[0] == "MODIFIED")
        .expect("a MODIFIED row");
    assert_eq!(
        modified[3], "5",
        "Table-wrapped watch events carry the printer columns: {modified:?}"
    );
    // Closing every watch ends `kubectl get -w` cleanly.
    server.compact();
    let run = finish(child).await;
    assert_eq!(run.code, 0, "{run:?}");
}

pub async fn stale_replace(k: &Kubectl, server: &LocalApiServer) {
    k.write("web4.yaml", &cr("web4", "  replicas: 1\n"));
    k.ok(&["apply", "-f", "web4.yaml"]).await;
    k.write(
        "stale.json",
        &k.ok(&["get", "ecsservice", "web4", "-o", "json"]).await,
    );
    ecs_api(server)
        .patch(
            "web4",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"replicas": 2}})),
        )
        .await
        .expect("patch");
    k.fails(
        &["replace", "-f", "stale.json"],
        "Error from server (Conflict): error when replacing \"stale.json\": Operation cannot be fulfilled on ecsservices.demo.example.com \"web4\"",
    )
    .await;
}

pub async fn events(k: &Kubectl, server: &LocalApiServer) {
    let web4 = ecs_api(server).get("web4").await.expect("web4");
    let recorder = Recorder::new(
        server.client(),
        Reporter {
            controller: "test-controller".into(),
            instance: None,
        },
    );
    let event = Event {
        type_: EventType::Normal,
        reason: "Reconciled".into(),
        note: Some("image nginx:1.25".into()),
        action: "Reconcile".into(),
        secondary: None,
    };
    let reference = web4.object_ref(&common::ecs_resource());
    recorder
        .publish(&event, &reference)
        .await
        .expect("first event");
    recorder
        .publish(&event, &reference)
        .await
        .expect("second event (a series)");
    let describe = k.ok(&["describe", "ecsservice", "web4"]).await;
    assert!(
        describe.contains("Events:")
            && describe.contains("Reconciled")
            && describe.contains("image nginx:1.25"),
        "{describe}"
    );
    assert!(describe.contains("test-controller"), "{describe}");
    let events = k.ok(&["events", "--for", "ecsservice/web4"]).await;
    assert!(
        events.contains("Reconciled")
            && events.contains("EcsService/web4")
            && events.contains("(x2 over"),
        "{events}"
    );
    let listed = k.ok(&["get", "events"]).await;
    assert!(listed.contains("ecsservice/web4"), "{listed}");
    assert_eq!(web4.name_any(), "web4");
}

pub async fn validation(k: &Kubectl) {
    k.write("too-many.yaml", &cr("bad", "  replicas: 200\n"));
    k.fails(&["apply", "-f", "too-many.yaml"], "spec.replicas: Invalid value: 200: spec.replicas in body should be less than or equal to 100").await;
    k.write("cel.yaml", &cr("bad", "  replicas: 1\n  minReplicas: 2\n"));
    k.fails(
        &["apply", "-f", "cel.yaml"],
        "spec: Invalid value: \"object\": replicas must be at least minReplicas",
    )
    .await;
    k.write("unknown.yaml", &cr("lax", "  bogus: 1\n"));
    k.fails(
        &["apply", "-f", "unknown.yaml"],
        "unknown field \"spec.bogus\"",
    )
    .await;
    k.ok(&["apply", "--validate=false", "-f", "unknown.yaml"])
        .await;
    let lax: Value =
        serde_json::from_str(&k.ok(&["get", "ecs", "lax", "-o", "json"]).await).expect("JSON");
    assert!(
        lax["spec"].get("bogus").is_none(),
        "unknown fields are pruned"
    );
    k.write("named.yaml", &cr("named", "  serviceName: a\n"));
    k.ok(&["apply", "-f", "named.yaml"]).await;
    k.write("renamed.yaml", &cr("named", "  serviceName: b\n"));
    k.fails(
        &["apply", "-f", "renamed.yaml"],
        "spec.serviceName: Invalid value: \"string\": serviceName is immutable",
    )
    .await;
    k.write(
        "elsewhere.yaml",
        &cr("web5", "").replace("name: web5", "name: web5\n  namespace: nope"),
    );
    k.fails(
        &["apply", "-f", "elsewhere.yaml"],
        "namespaces \"nope\" not found",
    )
    .await;
    let names = k
        .ok(&[
            "get",
            "ecsservices",
            "-l",
            "app in (web,other)",
            "-o",
            "name",
        ])
        .await;
    assert!(
        names.contains("ecsservice.demo.example.com/named"),
        "{names}"
    );
    assert!(
        k.ok(&["get", "ecsservices", "-l", "app!=web", "-o", "name"])
            .await
            .trim()
            .is_empty()
    );
}

pub async fn builtins(k: &Kubectl) {
    k.write(
        "ns.yaml",
        "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: team-a\n",
    );
    k.write("cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cfg\n  namespace: team-a\ndata:\n  a: \"1\"\n");
    assert!(
        k.ok(&["apply", "-f", "ns.yaml"])
            .await
            .contains("namespace/team-a created")
    );
    assert!(
        k.ok(&["apply", "-f", "cm.yaml"])
            .await
            .contains("configmap/cfg created")
    );
    k.write("cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cfg\n  namespace: team-a\ndata:\n  a: \"2\"\n  b: \"3\"\n");
    assert!(
        k.ok(&["apply", "-f", "cm.yaml"])
            .await
            .contains("configmap/cfg configured")
    );
    let data = k
        .ok(&[
            "get",
            "configmap",
            "cfg",
            "-n",
            "team-a",
            "-o",
            "jsonpath={.data}",
        ])
        .await;
    assert_eq!(
        serde_json::from_str::<Value>(&data).expect("JSON"),
        json!({"a": "2", "b": "3"})
    );
    let namespaces = k.ok(&["get", "ns"]).await;
    assert!(
        namespaces.contains("team-a")
            && namespaces.contains("Active")
            && namespaces.contains("kube-system"),
        "{namespaces}"
    );
    assert!(
        k.ok(&["delete", "ns", "team-a"])
            .await
            .contains("\"team-a\" deleted")
    );
    k.fails(&["get", "configmap", "cfg", "-n", "team-a"], "NotFound")
        .await;
    let resources = k
        .ok(&["api-resources", "--api-group=demo.example.com"])
        .await;
    assert!(
        resources.contains("ecsservices")
            && resources.contains("ecs")
            && resources.contains("EcsService"),
        "{resources}"
    );
    let explained = k.ok(&["explain", "ecsservice.spec"]).await;
    assert!(
        explained.contains("replicas") && explained.contains("image"),
        "{explained}"
    );
}
