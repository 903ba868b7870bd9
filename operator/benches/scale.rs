//! Scale benchmark of the EcsService controller (prints figures; asserts nothing about time).
//!
//! 1,000 EcsServices across 3 clusters on the simulated account with 20 ms of (simulated) AWS
//! latency, driven through the in-process Kubernetes API server:
//! - DescribeServices calls for one steady-state resync, against the minimum ⌈n/10⌉ per cluster;
//! - AWS writes and status writes on that no-op resync;
//! - simulated time for all 1,000 to change image and become Ready, against the token-bucket
//!   minimum of AWS's own buckets (RegisterTaskDefinition: burst 20, 1 per second);
//! - throttling answers from AWS and throttling surfaced in status;
//! - resident memory of the operator process (operator + simulated account) and, separately,
//!   of the API server (run as a child process so the two are measured apart).
//!
//! Run: `cargo bench -p ecs-operator --bench scale` (env BENCH_SERVICES, BENCH_SPEED).

use std::sync::Arc;
use std::time::{Duration, Instant};

use aws::accounts::{AwsAccounts, SingleAccount};
use aws::clock::{Clock, SharedClock, SimClock};
use aws_sim::{SimAws, SimSeed};
use crds::EcsService;
use ecs_operator::controllers::Settings;
use ecs_operator::manager::{self, ManagerConfig};
use ecs_operator::metrics::Metrics;
use kube::api::{Api, ListParams, Patch, PatchParams, PostParams};
use local_apiserver::LocalApiServer;

const CLUSTERS: [&str; 3] = ["bench-a", "bench-b", "bench-c"];

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn rss_mib() -> f64 {
    rss_of("self")
}

fn rss_of(pid: &str) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

fn object(i: usize, image: &str) -> EcsService {
    let cluster = CLUSTERS[i % CLUSTERS.len()];
    serde_json::from_value(serde_json::json!({
        "apiVersion": "ecs-operator.dev/v1alpha1",
        "kind": "EcsService",
        "metadata": {"name": format!("svc-{i:04}"), "namespace": "default"},
        "spec": {
            "cluster": cluster,
            "desiredCount": 1,
            "launchType": "EC2",
            "taskDefinition": {
                "networkMode": "bridge",
                "containerDefinitions": [{"name": "app", "image": image, "memory": 256}]
            }
        }
    }))
    .expect("a valid object")
}

fn counter(metrics: &Metrics, prefix: &str, filter: &str) -> f64 {
    metrics
        .encode()
        .lines()
        .filter(|l| l.starts_with(prefix) && l.contains(filter))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

async fn wait_all_ready(api: &Api<EcsService>, n: usize, suffix: &str) {
    loop {
        let list = api.list(&ListParams::default()).await.expect("list");
        let ready = list
            .items
            .iter()
            .filter(|o| {
                let s = o.status.as_ref();
                s.and_then(|s| s.observed_generation) == o.metadata.generation
                    && s.is_some_and(|s| {
                        s.conditions
                            .iter()
                            .any(|c| c.type_ == "Ready" && c.status.as_str() == "True")
                            && s.task_definition_arn
                                .as_deref()
                                .is_some_and(|a| a.ends_with(suffix))
                    })
            })
            .count();
        if ready == n {
            return;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// The child process: serves the API until its stdin closes.
async fn serve_api() {
    let server = LocalApiServer::start(([127, 0, 0, 1], 0).into())
        .await
        .expect("API server");
    let dir = std::env::temp_dir().join(format!("ecs-operator-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let kubeconfig = dir.join("kubeconfig");
    server.write_kubeconfig(&kubeconfig).expect("kubeconfig");
    println!("{}", kubeconfig.display());
    let _ = tokio::task::spawn_blocking(|| {
        let mut line = String::new();
        std::io::stdin().read_line(&mut line)
    })
    .await;
    server.shutdown().await;
}

/// The API server child and a client configuration for it.
async fn start_api_child() -> (std::process::Child, kube::Config) {
    use std::io::BufRead;
    let mut child = std::process::Command::new(std::env::current_exe().expect("own path"))
        .env("BENCH_ROLE", "apiserver")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("API server child starts");
    let mut path = String::new();
    std::io::BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut path)
        .expect("kubeconfig path");
    let kubeconfig = kube::config::Kubeconfig::read_from(path.trim()).expect("kubeconfig");
    let config = kube::Config::from_custom_kubeconfig(kubeconfig, &Default::default())
        .await
        .expect("config");
    (child, config)
}

async fn resource_version(api: &Api<EcsService>) -> String {
    api.list_metadata(&ListParams::default().limit(1))
        .await
        .expect("list")
        .metadata
        .resource_version
        .unwrap_or_default()
}

/// The simulated account alone, driven through the same AWS calls the operator makes for the
/// benchmark (create, then change image), with no controllers: its memory, measured apart.
async fn simulator_only(n: usize) -> f64 {
    use aws::ecs::{CreateServiceInput, EcsApi, ServiceConfig, UpdateServiceInput};
    let clock = Arc::new(SimClock::new(jiff::Timestamp::now(), 0.0));
    let sim = SimAws::new(
        clock.clone(),
        SimSeed::minimal("123456789012", "eu-west-1", &CLUSTERS),
    );
    sim.set_throttling(false);
    for round in 1..=2 {
        for i in 0..n {
            let spec = ecs_operator::controllers::ecs_service::validate::validate(&object(
                i,
                &format!("repo/app:{round}"),
            ))
            .expect("valid");
            let td = sim
                .register_task_definition(spec.task_definition.clone())
                .await
                .expect("register");
            let cluster = CLUSTERS[i % CLUSTERS.len()].to_string();
            if round == 1 {
                sim.create_service(CreateServiceInput {
                    cluster,
                    service_name: spec.service_name.clone(),
                    task_definition: td.task_definition_arn,
                    desired_count: 1,
                    config: ServiceConfig {
                        launch_type: Some("EC2".into()),
                        ..ServiceConfig::default()
                    },
                    tags: spec.tags.clone(),
                    ..CreateServiceInput::default()
                })
                .await
                .expect("create");
            } else {
                sim.update_service(UpdateServiceInput {
                    cluster,
                    service: spec.service_name.clone(),
                    task_definition: Some(td.task_definition_arn),
                    ..UpdateServiceInput::default()
                })
                .await
                .expect("update");
            }
        }
        clock.advance(Duration::from_secs(600));
        let _ = sim.snapshot();
    }
    rss_mib()
}

#[tokio::main]
async fn main() {
    match std::env::var("BENCH_ROLE").as_deref() {
        Ok("apiserver") => return serve_api().await,
        Ok("simulator") => {
            println!(
                "{:.1}",
                simulator_only(env_or("BENCH_SERVICES", 1000)).await
            );
            return;
        }
        _ => {}
    }
    let n: usize = env_or("BENCH_SERVICES", 1000);
    let speed: f64 = env_or("BENCH_SPEED", 20.0);
    let rss_start = rss_mib();
    let clock = Arc::new(SimClock::new(jiff::Timestamp::now(), speed));
    let sim = SimAws::new(
        clock.clone(),
        SimSeed::minimal("123456789012", "eu-west-1", &CLUSTERS),
    );
    sim.set_latency(Duration::from_millis(20));
    let (mut child, kube_config) = start_api_child().await;
    // The benchmark's own calls (creates, patches, readiness polls) use a client of their own,
    // so the operator's connection pool holds only what the operator asked for.
    let client = kube::Client::try_from(kube_config.clone()).expect("client");
    let operator_client = kube::Client::try_from(kube_config).expect("client");
    let child_pid = child.id().to_string();
    let crd_api: Api<k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition> =
        Api::all(client.clone());
    for crd in crds::all_crds() {
        let name = crd.metadata.name.clone().unwrap_or_default();
        crd_api
            .patch(
                &name,
                &PatchParams::apply("bench").force(),
                &Patch::Apply(&crd),
            )
            .await
            .expect("CRD");
    }
    let api: Api<EcsService> = Api::namespaced(client.clone(), "default");
    for chunk in (0..n).collect::<Vec<_>>().chunks(50) {
        let creates = chunk.iter().map(|&i| {
            let api = api.clone();
            async move {
                api.create(&PostParams::default(), &object(i, "repo/app:1"))
                    .await
                    .expect("create")
            }
        });
        futures::future::join_all(creates).await;
    }
    let rss_objects = rss_mib();

    let metrics = Arc::new(Metrics::new());
    let shared: SharedClock = clock.clone();
    let sim_for = sim.clone();
    let factory = Arc::new(SingleAccount(move |_: &str| sim_for.region_services()));
    let aws = Arc::new(AwsAccounts::new(
        "eu-west-1",
        factory,
        shared.clone(),
        metrics.clone(),
    ));
    let token = tokio_util::sync::CancellationToken::new();
    let config = ManagerConfig {
        settings: Settings {
            resync: Duration::from_secs(600),
            poll: Duration::from_secs(15),
            wait_poll: Duration::from_secs(10),
            dry_run: false,
        },
        concurrency: 64,
        ..ManagerConfig::default()
    };
    let wall = Instant::now();
    let operator = tokio::spawn(manager::run(
        operator_client,
        aws,
        shared,
        metrics.clone(),
        config,
        token.clone(),
    ));
    let t0 = clock.now();
    wait_all_ready(&api, n, ":1").await;
    let created = clock.now().duration_since(t0).as_secs_f64();
    println!(
        "created {n} services: {created:.0} s simulated ({:.1} s wall)",
        wall.elapsed().as_secs_f64()
    );

    // One steady-state resync: wait for the next global resync to reconcile everything.
    sim.reset_calls();
    let rv_before = resource_version(&api).await;
    let before = counter(&metrics, "ecs_operator_reconcile_total", "ecsservice");
    while counter(&metrics, "ecs_operator_reconcile_total", "ecsservice") < before + n as f64 {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let describes = sim.call_count("ecs:DescribeServices");
    let minimum: u64 = CLUSTERS
        .iter()
        .enumerate()
        .map(|(c, _)| {
            (0..n)
                .filter(|i| i % CLUSTERS.len() == c)
                .count()
                .div_ceil(10) as u64
        })
        .sum();
    let kube_writes = resource_version(&api).await != rv_before;
    println!(
        "steady-state resync: {describes} DescribeServices calls (minimum {minimum}: {:.2}x), {} AWS writes, Kubernetes writes: {}",
        describes as f64 / minimum as f64,
        sim.write_calls(),
        if kube_writes {
            "some (resourceVersion moved)"
        } else {
            "none (resourceVersion unchanged)"
        }
    );

    // Every service changes image.
    let t1 = clock.now();
    let wall = Instant::now();
    for chunk in (0..n).collect::<Vec<_>>().chunks(50) {
        let patches = chunk.iter().map(|&i| {
            let api = api.clone();
            async move {
                let patch = serde_json::json!({"spec": {"taskDefinition": {"containerDefinitions": [{"name": "app", "image": "repo/app:2", "memory": 256}]}}});
                api.patch(&format!("svc-{i:04}"), &PatchParams::default(), &Patch::Merge(&patch)).await.expect("patch")
            }
        });
        futures::future::join_all(patches).await;
    }
    wait_all_ready(&api, n, ":2").await;
    let rolled = clock.now().duration_since(t1).as_secs_f64();
    let bucket_min = (n.saturating_sub(20)) as f64 / 1.0;
    let throttled_in_status = api
        .list(&ListParams::default())
        .await
        .expect("list")
        .items
        .iter()
        .filter(|o| {
            o.status.as_ref().is_some_and(|s| {
                s.conditions
                    .iter()
                    .any(|c| c.message.contains("Throttl") || c.reason.contains("Throttl"))
            })
        })
        .count();
    println!(
        "image change of {n} services: {rolled:.0} s simulated ({:.1} s wall); token-bucket minimum {bucket_min:.0} s (RegisterTaskDefinition 20 burst, 1/s): {:.2}x",
        wall.elapsed().as_secs_f64(),
        rolled / bucket_min
    );
    println!(
        "throttling: {} throttled AWS answers, {throttled_in_status} objects with throttling in status",
        counter(&metrics, "ecs_operator_aws_throttles_total", "") as u64
    );
    let rss_end = rss_mib();
    println!(
        "RSS: operator process (controllers + simulated account) {rss_end:.0} MiB with {n} objects ({rss_start:.0} MiB at start, {rss_objects:.0} MiB before the controllers started); API server process {:.0} MiB",
        rss_of(&child_pid)
    );
    let sim_only = std::process::Command::new(std::env::current_exe().expect("own path"))
        .env("BENCH_ROLE", "simulator")
        .env("BENCH_SERVICES", n.to_string())
        .output()
        .ok()
        .and_then(|o| {
            String::from_utf8_lossy(&o.stdout)
                .trim()
                .parse::<f64>()
                .ok()
        })
        .unwrap_or(0.0);
    println!(
        "RSS of the simulated account alone after the same calls: {sim_only:.0} MiB; the operator's share is about {:.0} MiB",
        rss_end - sim_only
    );
    token.cancel();
    let _ = tokio::time::timeout(Duration::from_secs(10), operator).await;
    drop(child.stdin.take());
    let _ = child.wait();
}
