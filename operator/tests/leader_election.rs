//! Two `ecs-operator run` processes against one local API server: exactly one holds the Lease and
//! reconciles, both are ready, the standby takes over within the lease duration (plus a little)
//! after the leader is killed, and SIGTERM releases the lease. /metrics is scraped from both and
//! parsed as the Prometheus/OpenMetrics text format.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::Namespace;
use kube::api::{Api, Patch, PatchParams, PostParams};
use local_apiserver::LocalApiServer;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::process::{Child, Command};

const LEASE: &str = "ecs-operator";
const LEASE_NS: &str = "ecs-system";
const LEASE_SECONDS: u64 = 4;
const STARTUP: Duration = Duration::from_secs(60);

/// One `ecs-operator run` process.
struct Operator {
    name: &'static str,
    child: Child,
    port: u16,
    log: PathBuf,
}

impl Operator {
    fn spawn(name: &'static str, dir: &Path, kubeconfig: &Path, dead_aws: u16) -> Operator {
        let port = free_port();
        let log = dir.join(format!("{name}.log"));
        let child = Command::new(env!("CARGO_BIN_EXE_ecs-operator"))
            .args(["--log-format", "json", "run"])
            .args(["--metrics-addr", &format!("127.0.0.1:{port}")])
            .args(["--preview-addr", "127.0.0.1:0"])
            .args(["--lease-name", LEASE, "--lease-namespace", LEASE_NS])
            .args(["--lease-duration-seconds", &LEASE_SECONDS.to_string()])
            .args([
                "--lease-grace-seconds",
                "1",
                "--shutdown-grace-seconds",
                "5",
            ])
            .args(["--log-level", "info,ecs_operator=debug"])
            .env("KUBECONFIG", kubeconfig)
            .env("POD_NAME", name)
            .env("AWS_REGION", "eu-west-1")
            .env("AWS_ENDPOINT_URL", format!("http://127.0.0.1:{dead_aws}"))
            .env("AWS_ACCESS_KEY_ID", "AKIDTEST")
            .env("AWS_SECRET_ACCESS_KEY", "test-secret")
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env_remove("RUST_LOG")
            .env_remove("POD_NAMESPACE")
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).expect("log file"))
            .kill_on_drop(true)
            .spawn()
            .expect("the ecs-operator binary starts");
        Operator {
            name,
            child,
            port,
            log,
        }
    }

    async fn get(&self, path: &str) -> Option<(u16, String)> {
        http_get(self.port, path).await
    }

    fn log(&self) -> String {
        format!(
            "--- {} log ---\n{}",
            self.name,
            std::fs::read_to_string(&self.log).unwrap_or_default()
        )
    }

    fn pid(&self) -> u32 {
        self.child.id().expect("running")
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind(("127.0.0.1", 0))
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

async fn http_get(port: u16, path: &str) -> Option<(u16, String)> {
    let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .ok()?;
    let request = format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).await.ok()?;
    let (head, body) = response.split_once("\r\n\r\n")?;
    let code = head.split_whitespace().nth(1)?.parse().ok()?;
    Some((code, body.to_owned()))
}

/// Polls `check` until it returns `Some` or `timeout` passes (then panics with `what` and `logs`).
async fn eventually<T, F, Fut>(
    what: &str,
    timeout: Duration,
    logs: impl Fn() -> String,
    check: F,
) -> T
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(v) = check().await {
            return v;
        }
        assert!(
            Instant::now() < deadline,
            "timed out after {timeout:?} waiting for {what}\n{}",
            logs()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn holder(leases: &Api<Lease>) -> Option<String> {
    leases
        .get_opt(LEASE)
        .await
        .ok()
        .flatten()
        .and_then(|l| l.spec)
        .and_then(|s| s.holder_identity)
}

/// One parsed sample of the text exposition format.
#[derive(Debug, Clone, PartialEq)]
struct Sample {
    name: String,
    labels: BTreeMap<String, String>,
    value: f64,
}

/// Parses the Prometheus / OpenMetrics text format strictly enough to catch a broken
/// exposition: every sample belongs to a family declared by `# TYPE`, labels are well formed,
/// values are numbers, and an OpenMetrics body ends with `# EOF`.
fn parse_metrics(text: &str) -> Result<Vec<Sample>, String> {
    const KINDS: [&str; 7] = [
        "counter",
        "gauge",
        "histogram",
        "summary",
        "info",
        "stateset",
        "unknown",
    ];
    let mut families: Vec<String> = Vec::new();
    let mut samples = Vec::new();
    let lines: Vec<&str> = text.lines().collect();
    if lines.last() != Some(&"# EOF") {
        return Err("OpenMetrics ends with # EOF".into());
    }
    for line in &lines[..lines.len() - 1] {
        let bad = || format!("malformed line {line:?}");
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (family, kind) = rest.split_once(' ').ok_or_else(bad)?;
            if !KINDS.contains(&kind) {
                return Err(bad());
            }
            families.push(family.to_owned());
            continue;
        }
        if line.starts_with('#') {
            if line.starts_with("# HELP ") || line.starts_with("# UNIT ") {
                continue;
            }
            return Err(bad());
        }
        let (series, value) = line.rsplit_once(' ').ok_or_else(bad)?;
        let value: f64 = value.parse().map_err(|_| bad())?;
        let mut labels = BTreeMap::new();
        let name = match series.split_once('{') {
            Some((name, rest)) => {
                let rest = rest.strip_suffix('}').ok_or_else(bad)?;
                for pair in rest.split(',').filter(|l| !l.is_empty()) {
                    let (k, v) = pair.split_once('=').ok_or_else(bad)?;
                    let v = v
                        .strip_prefix('"')
                        .and_then(|v| v.strip_suffix('"'))
                        .ok_or_else(bad)?;
                    labels.insert(k.to_owned(), v.to_owned());
                }
                name
            }
            None => series,
        };
        if !families.iter().any(|f| name.starts_with(f.as_str())) {
            return Err(format!("sample {name} of no declared family"));
        }
        samples.push(Sample {
            name: name.to_owned(),
            labels,
            value,
        });
    }
    Ok(samples)
}

async fn metrics(op: &Operator) -> Vec<Sample> {
    let (code, body) = op.get("/metrics").await.expect("/metrics answers");
    assert_eq!(code, 200);
    parse_metrics(&body).unwrap_or_else(|e| panic!("{} /metrics: {e}\n{body}", op.name))
}

/// `ecs_operator_leader`: 1 while the process runs the controllers.
fn leader_gauge(samples: &[Sample]) -> Option<f64> {
    samples
        .iter()
        .find(|s| s.name == "ecs_operator_leader")
        .map(|s| s.value)
}

fn reconciles(samples: &[Sample]) -> f64 {
    samples
        .iter()
        .filter(|s| s.name == "ecs_operator_reconcile_total")
        .map(|s| s.value)
        .sum()
}

const SERVICE: &str = r#"{
  "apiVersion": "ecs-operator.dev/v1alpha1", "kind": "EcsService",
  "metadata": {"name": "auth", "namespace": "default"},
  "spec": {
    "cluster": "event-booking", "desiredCount": 1, "launchType": "FARGATE",
    "networkConfiguration": {"awsvpcConfiguration": {
      "subnets": ["subnet-0a1f2e3d4c5b60001"], "securityGroups": ["sg-0c0ffee0c0ffee001"]}},
    "taskDefinition": {
      "cpu": "256", "memory": "512", "networkMode": "awsvpc",
      "executionRoleArn": "arn:aws:iam::123456789012:role/ecsTaskExecutionRole",
      "containerDefinitions": [{"name": "app", "image": "repo/auth:1.0",
                                "portMappings": [{"containerPort": 8080}]}]}
  }
}"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_replica_leads_a_standby_takes_over_and_sigterm_releases_the_lease() {
    let server = LocalApiServer::start(([127, 0, 0, 1], 0).into())
        .await
        .expect("API server starts");
    for crd in crds::all_crds() {
        server
            .install_crd(&serde_json::to_value(&crd).expect("CRD JSON"))
            .expect("CRD installs");
    }
    let client = server.client();
    let ns: Namespace = serde_json::from_value(serde_json::json!({"metadata": {"name": LEASE_NS}}))
        .expect("namespace");
    Api::<Namespace>::all(client.clone())
        .create(&PostParams::default(), &ns)
        .await
        .expect("namespace created");
    let dir = tempfile::tempdir().expect("tempdir");
    let kubeconfig = dir.path().join("kubeconfig");
    server.write_kubeconfig(&kubeconfig).expect("kubeconfig");
    let dead_aws = free_port();
    let mut ops = vec![
        Operator::spawn("op-a", dir.path(), &kubeconfig, dead_aws),
        Operator::spawn("op-b", dir.path(), &kubeconfig, dead_aws),
    ];
    let leases: Api<Lease> = Api::namespaced(client.clone(), LEASE_NS);
    let all_logs = |ops: &[Operator]| ops.iter().map(Operator::log).collect::<String>();

    // Exactly one leads; both are live and ready.
    let first = eventually(
        "a lease holder",
        STARTUP,
        || all_logs(&ops),
        || holder(&leases),
    )
    .await;
    let leader = ops
        .iter()
        .position(|op| first.starts_with(&format!("{}_", op.name)))
        .unwrap_or_else(|| panic!("holder {first} is neither process"));
    let standby = 1 - leader;
    for op in &ops {
        for path in ["/healthz", "/readyz"] {
            eventually(
                &format!("{} {path}", op.name),
                STARTUP,
                || all_logs(&ops),
                move || async move { op.get(path).await.filter(|(code, _)| *code == 200) },
            )
            .await;
        }
    }

    // Only the leader reconciles (AWS is unreachable: the reconciles fail, and count).
    Api::<kube::api::DynamicObject>::namespaced_with(
        client.clone(),
        "default",
        &kube::api::ApiResource::from_gvk(&kube::core::GroupVersionKind::gvk(
            "ecs-operator.dev",
            "v1alpha1",
            "EcsService",
        )),
    )
    .patch(
        "auth",
        &PatchParams::apply("test").force(),
        &Patch::Apply(serde_json::from_str::<serde_json::Value>(SERVICE).expect("JSON")),
    )
    .await
    .expect("EcsService applied");
    let leader_op = &ops[leader];
    let leader_samples = eventually(
        "the leader's reconciles",
        STARTUP,
        || all_logs(&ops),
        move || async move {
            let samples = metrics(leader_op).await;
            (reconciles(&samples) > 0.0).then_some(samples)
        },
    )
    .await;
    for family in [
        "ecs_operator_reconcile_total",
        "ecs_operator_reconcile_errors_total",
        "ecs_operator_reconcile_duration_seconds_bucket",
    ] {
        assert!(
            leader_samples
                .iter()
                .any(|s| s.name == family && s.labels["controller"] == "ecsservice"),
            "{family} missing on the leader: {leader_samples:?}"
        );
    }
    let standby_samples = metrics(&ops[standby]).await;
    assert_eq!(reconciles(&standby_samples), 0.0, "the standby reconciled");
    assert_eq!(leader_gauge(&leader_samples), Some(1.0));
    assert_eq!(leader_gauge(&standby_samples), Some(0.0));
    assert_eq!(holder(&leases).await.as_deref(), Some(first.as_str()));

    // Kill the leader: the standby takes over within the lease duration plus a few seconds.
    ops[leader].child.kill().await.expect("kill the leader");
    let killed = Instant::now();
    let standby_name = ops[standby].name;
    let second = eventually(
        "the standby to take over",
        Duration::from_secs(LEASE_SECONDS + 10),
        || all_logs(&ops),
        || {
            let leases = leases.clone();
            async move {
                holder(&leases)
                    .await
                    .filter(|h| h.starts_with(&format!("{standby_name}_")))
            }
        },
    )
    .await;
    let failover = killed.elapsed();
    assert!(
        failover <= Duration::from_secs(LEASE_SECONDS + 5),
        "failover took {failover:?}"
    );
    let new_leader = &ops[standby];
    eventually(
        "the new leader's reconciles",
        STARTUP,
        || all_logs(&ops),
        move || async move { (reconciles(&metrics(new_leader).await) > 0.0).then_some(()) },
    )
    .await;
    eprintln!("failover after SIGKILL took {failover:?}; holders {first} → {second}");

    // SIGTERM: a clean exit that releases the lease.
    let pid = ops[standby].pid().to_string();
    let status = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .expect("kill runs");
    assert!(status.success());
    let exit = tokio::time::timeout(Duration::from_secs(15), ops[standby].child.wait())
        .await
        .unwrap_or_else(|_| panic!("no exit after SIGTERM\n{}", all_logs(&ops)))
        .expect("wait");
    assert!(exit.success(), "exit {exit:?}\n{}", all_logs(&ops));
    assert_eq!(
        holder(&leases).await,
        None,
        "lease not released\n{}",
        all_logs(&ops)
    );
    ops.clear();
    server.shutdown().await;
}

#[test]
fn the_metrics_parser_rejects_broken_expositions() {
    let good = "# HELP x_total X.\n# TYPE x counter\nx_total{a=\"1\"} 2\n# EOF";
    assert_eq!(parse_metrics(good).expect("parses")[0].value, 2.0);
    for bad in [
        "# TYPE x counter\nx_total 2",
        "# TYPE x counter\ny_total 2\n# EOF",
        "# TYPE x counter\nx_total{a=1} 2\n# EOF",
        "# TYPE x counter\nx_total two\n# EOF",
        "# TYPE x sometimes\nx_total 2\n# EOF",
    ] {
        assert!(parse_metrics(bad).is_err(), "accepted {bad:?}");
    }
}
