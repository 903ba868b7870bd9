//! `ecs-operator local`: the sandbox. An in-process Kubernetes API server and a simulated AWS
//! account seeded from a readable file, the CRDs installed, a kubeconfig for the real kubectl,
//! the example manifests applied, and every object's progress shown live.

pub mod demo;
pub mod load;
pub mod manifests;
pub mod progress;
pub mod prometheus;
pub mod receiver;
pub mod topics;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::controllers::Settings;
use crate::manager::{self, ManagerConfig};
use crate::metrics::Metrics;
use aws::accounts::AwsAccounts;
use aws::clock::{SharedClock, SimClock};
use aws_sim::{SimAccounts, SimSeed};
use local_apiserver::LocalApiServer;
use tokio_util::sync::CancellationToken;

use crate::preview::{self, server::PreviewSlot};

/// Options of `ecs-operator local`.
#[derive(Debug, Clone, clap::Args)]
pub struct LocalArgs {
    /// Directory of manifests to apply.
    #[arg(long, default_value = "examples/event-booking")]
    pub manifests: PathBuf,
    /// The simulated AWS account's infrastructure (clusters, subnets, load balancers, …).
    #[arg(long, default_value = "examples/aws-state.yaml")]
    pub aws_state: PathBuf,
    /// Where to write the kubeconfig for kubectl.
    #[arg(long)]
    pub kubeconfig: Option<PathBuf>,
    /// Port of the local Kubernetes API server (0 picks a free one).
    #[arg(long, default_value_t = 0)]
    pub port: u16,
    /// How many times faster than the wall clock simulated AWS time runs.
    #[arg(long, default_value_t = 20.0)]
    pub speed: f64,
    /// Exit 0 once every object is Ready (non-zero, naming what failed, on Stalled or timeout).
    #[arg(long)]
    pub exit_when_ready: bool,
    /// With --exit-when-ready: give up after this many seconds.
    #[arg(long, default_value_t = 300)]
    pub timeout: u64,
    /// Simulated load of a service, `[NAMESPACE/]NAME=CPU[/MEMORY]` in percent of its tasks'
    /// capacity (e.g. `--load auth=95`); repeatable. Change it live with a ConfigMap `sim-load`
    /// in the service's namespace, data `NAME: "CPU[/MEMORY]"` (kubectl apply, then patch).
    #[arg(long = "load", value_parser = load::parse_flag)]
    pub loads: Vec<load::LoadFlag>,
    /// Once everything is Ready, release a bad revision of this EcsService and watch its
    /// BlueGreenRollout roll it back by itself: one whose 5xx rate is slightly higher when the
    /// rollout has metric analysis (e.g. `auth`), else one whose smoke test fails (`payment`).
    /// When the service is in a ReleaseGroup, the whole group is released with a new release id
    /// and this member's revision is the bad one: the members released before it roll back.
    #[arg(long, value_name = "SERVICE")]
    pub demo_failure: Option<String>,
    /// Port of the Prometheus server the sandbox runs (when the `prometheus` binary is on PATH)
    /// scraping the simulated load balancers; the examples' Prometheus metrics query it (0 picks
    /// a free one, which the examples' metrics then do not reach).
    #[arg(long, default_value_t = 19090)]
    pub prometheus_port: u16,
    /// Port of the webhook receiver the sandbox runs on 127.0.0.1, printing every notification
    /// it gets; the example NotificationPolicy posts to it (0 picks a free one, which the
    /// example does not reach).
    #[arg(long, default_value_t = 19091)]
    pub webhook_port: u16,
    /// Port of the operator's preview endpoint on 127.0.0.1, for `kubectl ecs diff|verify`
    /// (0 picks a free one).
    #[arg(long, default_value_t = 8082)]
    pub preview_port: u16,
}

/// Runs the sandbox. Returns the process exit code.
pub async fn run(args: LocalArgs) -> anyhow::Result<i32> {
    let seed_text = std::fs::read_to_string(&args.aws_state)
        .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", args.aws_state.display()))?;
    let seed = SimSeed::from_yaml(&seed_text)
        .map_err(|e| anyhow::anyhow!("{}: {e}", args.aws_state.display()))?;
    let region = seed.region.clone();
    let sim_clock = Arc::new(SimClock::new(jiff::Timestamp::now(), args.speed));
    let clock: SharedClock = sim_clock.clone();
    let other_accounts: Vec<String> = seed
        .other_accounts
        .iter()
        .map(|a| format!("{} in {}", a.account_id, a.region))
        .collect();
    let world = SimAccounts::new(sim_clock.clone(), seed);
    let sim = world.home().clone();

    let server = LocalApiServer::start(([127, 0, 0, 1], args.port).into()).await?;
    let kubeconfig = args.kubeconfig.clone().unwrap_or_else(|| {
        std::env::temp_dir()
            .join("ecs-operator-local")
            .join("kubeconfig")
    });
    if let Some(dir) = kubeconfig.parent() {
        std::fs::create_dir_all(dir)?;
    }
    server.write_kubeconfig(&kubeconfig)?;
    let client = server.client();
    install_crds(&client).await?;
    println!("Kubernetes API server: {}", server.url());
    println!(
        "Simulated AWS account {} in {} (time runs {}× faster)",
        sim.account_id(),
        region,
        args.speed
    );
    if !other_accounts.is_empty() {
        println!(
            "Other simulated accounts (reached through AwsAccountBindings): {}",
            other_accounts.join(", ")
        );
    }
    println!(
        "Use kubectl with:\n  kubectl --kubeconfig {} get ecs",
        kubeconfig.display()
    );
    let (_metrics_endpoint, _prometheus) = serve_metrics(&sim, args.prometheus_port).await?;
    let _receiver = match receiver::WebhookReceiver::start(args.webhook_port).await {
        Ok(receiver) => {
            receiver.print();
            println!(
                "Notification receiver: {} (the example NotificationPolicy posts to it; each notification is printed with ✉)",
                receiver.address
            );
            Some(receiver)
        }
        Err(e) => {
            println!(
                "Notification receiver: could not listen on 127.0.0.1:{} ({e}); the example NotificationPolicy's deliveries will fail",
                args.webhook_port
            );
            None
        }
    };

    let metrics = Arc::new(Metrics::new());
    let aws = Arc::new(AwsAccounts::new(
        region,
        Arc::new(world.clone()),
        clock.clone(),
        metrics.clone(),
    ));
    let token = CancellationToken::new();
    let topics = topics::print_deliveries(sim.clone(), token.clone());
    let preview = Arc::new(PreviewSlot::default());
    // A port already taken (another sandbox, say) falls back to any free one: the line
    // below says which.
    let preview_addr = match preview::server::serve(
        ([127, 0, 0, 1], args.preview_port).into(),
        preview.clone(),
        token.clone(),
    )
    .await
    {
        Ok(addr) => addr,
        Err(e) => {
            println!(
                "Preview endpoint: port {} is not free ({e}); using another",
                args.preview_port
            );
            preview::server::serve(([127, 0, 0, 1], 0).into(), preview.clone(), token.clone())
                .await
                .map_err(|e| anyhow::anyhow!("cannot serve the preview endpoint: {e}"))?
        }
    };
    println!(
        "Preview what a manifest would change:\n  ECS_OPERATOR_URL=http://{preview_addr} kubectl ecs diff -f FILE"
    );
    let config = ManagerConfig {
        settings: Settings {
            resync: Duration::from_secs(300),
            poll: Duration::from_secs(10),
            wait_poll: Duration::from_secs(10),
            dry_run: false,
        },
        preview: Some(preview),
        ..ManagerConfig::default()
    };
    let controllers = tokio::spawn(manager::run(
        client.clone(),
        aws,
        clock,
        metrics,
        config,
        token.clone(),
    ));

    let manifests = manifests::load_dir(&args.manifests)?;
    println!(
        "Applying {} objects from {}",
        manifests.len(),
        args.manifests.display()
    );
    let mut failed_applies = Vec::new();
    for m in &manifests {
        if let Err(e) = manifests::apply(&client, m).await {
            println!("  ✘ {e}");
            failed_applies.push(m.describe());
        }
    }

    let mut knob = load::Knob::new(sim.clone(), args.loads.clone());
    let mut demo = demo::Demo::new(args.demo_failure.as_deref(), &manifests)?;
    let code = watch(
        &client,
        &args,
        &sim_clock,
        &failed_applies,
        &mut knob,
        &mut demo,
    )
    .await;
    token.cancel();
    let _ = tokio::time::timeout(Duration::from_secs(10), controllers).await;
    let _ = tokio::time::timeout(Duration::from_secs(1), topics).await;
    server.shutdown().await;
    Ok(code)
}

/// Serves the simulated load balancers' metrics on a free port and, when the `prometheus` binary
/// is installed, runs a Prometheus server scraping them on `port`; says which on stdout.
async fn serve_metrics(
    sim: &aws_sim::SimAws,
    port: u16,
) -> anyhow::Result<(
    tokio::task::JoinHandle<()>,
    Option<prometheus::PrometheusServer>,
)> {
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await?;
    let target = listener.local_addr()?.to_string();
    let endpoint = aws_sim::metrics_endpoint::serve(sim.clone(), listener);
    println!("Simulated load balancer metrics (Prometheus format): http://{target}/metrics");
    let server = match prometheus::PrometheusServer::start(&target, Some(port)).await {
        Ok(Some(server)) => {
            println!(
                "Prometheus: {} scraping them every second (the examples' Prometheus metrics query it)",
                server.address
            );
            Some(server)
        }
        Ok(None) => {
            println!(
                "Prometheus: not installed (no `prometheus` on PATH), so the examples' Prometheus metrics will report Error; install Debian's prometheus package to run them"
            );
            None
        }
        Err(e) => {
            println!(
                "Prometheus: could not start on 127.0.0.1:{port} ({e}); the examples' Prometheus metrics will report Error"
            );
            None
        }
    };
    Ok((endpoint, server))
}

async fn install_crds(client: &kube::Client) -> anyhow::Result<()> {
    use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
    use kube::api::{Api, Patch, PatchParams};
    let api: Api<CustomResourceDefinition> = Api::all(client.clone());
    for crd in crds::all_crds() {
        let name = crd.metadata.name.clone().unwrap_or_default();
        api.patch(
            &name,
            &PatchParams::apply("ecs-operator").force(),
            &Patch::Apply(&crd),
        )
        .await?;
    }
    Ok(())
}

/// Shows progress until interrupted, or with --exit-when-ready until all are Ready.
async fn watch(
    client: &kube::Client,
    args: &LocalArgs,
    clock: &SimClock,
    failed_applies: &[String],
    knob: &mut load::Knob,
    demo: &mut demo::Demo,
) -> i32 {
    let started = Instant::now();
    let sim_start = clock_now(clock);
    let mut last = BTreeMap::new();
    let deadline = started + Duration::from_secs(args.timeout);
    loop {
        let elapsed = format!("sim +{}s", (clock_now(clock) - sim_start).as_secs());
        knob.tick(client, &elapsed).await;
        match progress::snapshot(client).await {
            Ok(states) => {
                last = progress::print_changes(&last, states, &elapsed);
                demo.tick(client, &last).await;
                if args.exit_when_ready {
                    let all_ready = !last.is_empty()
                        && last.values().all(|s| s.ready || demo.excused(&s.id))
                        && !demo.pending();
                    if all_ready && failed_applies.is_empty() {
                        let excused = last.values().filter(|s| demo.excused(&s.id)).count();
                        if excused == 0 {
                            println!("All {} objects are Ready.", last.len());
                        } else {
                            println!(
                                "All {} other objects are Ready; the demo release was rolled back.",
                                last.len() - excused
                            );
                        }
                        return 0;
                    }
                    let stalled: Vec<_> = last
                        .values()
                        .filter(|s| s.stalled && !demo.excused(&s.id))
                        .collect();
                    if !failed_applies.is_empty()
                        || Instant::now() > deadline
                        || (!stalled.is_empty() && last.values().all(|s| s.ready || s.stalled))
                    {
                        println!("Not everything became Ready:");
                        for name in failed_applies {
                            println!("  {name}: rejected by the API server");
                        }
                        for s in last.values().filter(|s| !s.ready) {
                            println!("  {}: {}", s.id, s.summary);
                        }
                        return 1;
                    }
                }
            }
            Err(error) => tracing::warn!(%error, "could not read progress"),
        }
        tokio::select! {
            () = tokio::time::sleep(Duration::from_millis(500)) => {}
            _ = tokio::signal::ctrl_c() => {
                println!("Interrupted; shutting down.");
                return 130;
            }
        }
    }
}

fn clock_now(clock: &SimClock) -> std::time::Duration {
    use aws::clock::Clock;
    let t = clock.now();
    Duration::from_secs(t.as_second().max(0) as u64)
}
