//! The `ecs-operator` binary: `run` (in a cluster), `local` (the sandbox), `crds` (print the
//! CustomResourceDefinitions).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use aws::accounts::AwsAccounts;
use aws::clock::{SharedClock, SystemClock};
use aws::factory;
use aws::sdk::SdkOptions;
use clap::{Parser, Subcommand, ValueEnum};
use ecs_operator::controllers::Settings;
use ecs_operator::controllers::accounts::resolve::UnboundNamespaces;
use ecs_operator::fence::LeaseFence;
use ecs_operator::http::{self, Health};
use ecs_operator::leader;
use ecs_operator::manager::{self, ManagerConfig, Scope};
use ecs_operator::metrics::Metrics;
use tokio_util::sync::CancellationToken;

#[derive(Parser)]
#[command(
    name = "ecs-operator",
    version,
    about = "Runs Amazon ECS services from Kubernetes custom resources"
)]
struct Cli {
    /// Log format.
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Text, env = "LOG_FORMAT")]
    log_format: LogFormat,
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

#[derive(Subcommand)]
enum Command {
    /// Run the controllers against the cluster of the current kubeconfig or service account.
    Run(RunArgs),
    /// Start the sandbox: local API server, simulated AWS, the examples, live progress.
    #[cfg(feature = "sandbox")]
    Local(ecs_operator::local::LocalArgs),
    /// Print the CustomResourceDefinitions as YAML.
    Crds,
}

#[derive(clap::Args)]
struct RunArgs {
    /// AWS region for objects that name none (default: the SDK's region chain).
    #[arg(long, env = "AWS_REGION")]
    region: Option<String>,
    /// Endpoint override for every AWS service (emulators).
    #[arg(long, env = "AWS_ENDPOINT_URL")]
    endpoint_url: Option<String>,
    /// Seconds between full resyncs.
    #[arg(long, default_value_t = 300, env = "RESYNC_SECONDS")]
    resync_seconds: u64,
    /// Dry-run every object: observe and plan, write the calls that would be made to the
    /// `DryRun` condition, make no AWS mutation.
    #[arg(long, env = "DRY_RUN")]
    dry_run: bool,
    /// Concurrent reconciles per controller.
    #[arg(long, default_value_t = 32, env = "CONCURRENCY")]
    concurrency: u16,
    /// Watch only this namespace.
    #[arg(long, env = "WATCH_NAMESPACE")]
    namespace: Option<String>,
    /// Manage only objects matching this label selector.
    #[arg(long, env = "LABEL_SELECTOR")]
    label_selector: Option<String>,
    /// Address of /healthz, /readyz and /metrics.
    #[arg(long, default_value = "0.0.0.0:8080", env = "METRICS_ADDR")]
    metrics_addr: SocketAddr,
    /// Address of the preview endpoint `kubectl ecs diff|verify` asks (loopback by default:
    /// reach it with `kubectl port-forward`, which RBAC guards).
    #[arg(long, default_value = "127.0.0.1:8082", env = "PREVIEW_ADDR")]
    preview_addr: SocketAddr,
    /// Seconds to finish in-flight work after SIGTERM before exiting anyway.
    #[arg(long, default_value_t = 20, env = "SHUTDOWN_GRACE_SECONDS")]
    shutdown_grace_seconds: u64,
    /// Log level (`error`, `warn`, `info`, `debug`, `trace`) or a full filter directive such as
    /// `info,ecs_operator=debug`. `RUST_LOG`, when set, wins.
    #[arg(long, default_value = "info", env = "LOG_LEVEL")]
    log_level: String,
    /// Run the controllers only while holding the Lease (`--leader-election=false` to turn off;
    /// then run exactly one replica).
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set, env = "LEADER_ELECTION")]
    leader_election: bool,
    /// Name of the leader election Lease.
    #[arg(long, default_value = "ecs-operator", env = "LEASE_NAME")]
    lease_name: String,
    /// Namespace of the Lease (default: the pod's namespace, else the kubeconfig's namespace).
    #[arg(long, env = "POD_NAMESPACE")]
    lease_namespace: Option<String>,
    /// Seconds a lease stays valid after its last renewal (the longest failover after a crash).
    #[arg(long, default_value_t = 15, env = "LEASE_DURATION_SECONDS")]
    lease_duration_seconds: u64,
    /// The leader renews this many seconds before its lease expires.
    #[arg(long, default_value_t = 5, env = "LEASE_GRACE_SECONDS")]
    lease_grace_seconds: u64,
    /// Whether namespaces no AwsAccountBinding names use the operator's own AWS identity:
    /// `auto` only while no binding exists, `operator-identity` always, `refuse` never.
    #[arg(long, value_enum, default_value_t = UnboundNamespaces::Auto, env = "UNBOUND_NAMESPACES")]
    unbound_namespaces: UnboundNamespaces,
    /// The NotificationPolicy (`namespace/name`) that follows every namespace, not only its
    /// own: the cluster's default notifications.
    #[arg(long, env = "CLUSTER_NOTIFICATION_POLICY", value_parser = parse_policy_ref)]
    cluster_notification_policy: Option<String>,
}

/// `namespace/name`, both non-empty.
fn parse_policy_ref(text: &str) -> Result<String, String> {
    match text.split_once('/') {
        Some((ns, name)) if !ns.is_empty() && !name.is_empty() && !name.contains('/') => {
            Ok(text.to_owned())
        }
        _ => Err(format!("{text}: expected namespace/name")),
    }
}

impl RunArgs {
    /// The tracing filter: `--log-level` as given when it is a directive list, else the level
    /// with the chatty client crates held at warn.
    fn log_filter(&self) -> String {
        if self.log_level.contains(['=', ',']) {
            self.log_level.clone()
        } else {
            format!("{},kube=warn,hyper=warn,aws_config=warn", self.log_level)
        }
    }
}

fn init_logging(format: LogFormat, default_filter: &str) {
    use tracing_subscriber::Layer as _;
    use tracing_subscriber::layer::SubscriberExt as _;
    use tracing_subscriber::util::SubscriberInitExt as _;
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default_filter));
    let fmt = tracing_subscriber::fmt::layer().with_writer(std::io::stderr);
    let fmt = match format {
        LogFormat::Text => fmt.boxed(),
        LogFormat::Json => fmt.json().boxed(),
    };
    let registry = tracing_subscriber::registry().with(filter).with(fmt);
    // OpenTelemetry export when built with `--features otel` and OTEL_EXPORTER_OTLP_* is set.
    #[cfg(feature = "otel")]
    let registry = registry.with(ecs_operator::otel::layer().unwrap_or_else(|error| {
        eprintln!("OpenTelemetry export disabled: {error}");
        None
    }));
    registry.init();
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::Crds => {
            print!("{}", crds::all_crds_yaml());
            Ok(())
        }
        #[cfg(feature = "sandbox")]
        Command::Local(args) => {
            // The live progress view is the sandbox's output; logs only for warnings.
            init_logging(cli.log_format, "warn");
            let code = ecs_operator::local::run(args).await?;
            std::process::exit(code);
        }
        Command::Run(args) => {
            init_logging(cli.log_format, &args.log_filter());
            run(args).await
        }
    }
}

/// Why `run` stopped running the controllers.
enum Stop {
    /// SIGTERM or Ctrl-C.
    Signal,
    /// Another replica holds the lease now (or this one could not renew it).
    LostLeadership,
    /// The controllers returned by themselves.
    ControllersEnded,
}

/// How often the fence reads the leader Lease back.
const FENCE_READ_EVERY: Duration = Duration::from_secs(1);

/// How long releasing the lease may take during shutdown.
const RELEASE_TIMEOUT: Duration = Duration::from_secs(5);

async fn run(args: RunArgs) -> anyhow::Result<()> {
    let kube_config = kube::Config::infer().await?;
    let client = kube::Client::try_from(kube_config.clone())?;
    let opts = SdkOptions {
        region: args.region.clone(),
        endpoint_url: args.endpoint_url.clone(),
        ..SdkOptions::default()
    };
    let region = match args.region.clone() {
        Some(r) => r,
        None => factory::default_region(&opts)
            .await
            .ok_or_else(|| anyhow::anyhow!("no AWS region: set --region or AWS_REGION"))?,
    };
    let metrics = Arc::new(Metrics::new());
    let clock: SharedClock = Arc::new(SystemClock);
    // With leader election, every AWS mutation first asks the fence whether this replica's
    // lease outlives the call.
    let fence = args.leader_election.then(|| {
        Arc::new(LeaseFence::new(
            clock.clone(),
            Duration::from_secs(args.lease_grace_seconds.max(2)) / 2,
        ))
    });
    let mut accounts = AwsAccounts::new(
        region,
        factory::sdk_factory(&opts).await,
        clock.clone(),
        metrics.clone(),
    );
    if let Some(fence) = &fence {
        accounts = accounts.with_mutation_gate(fence.clone());
    }
    let aws = Arc::new(accounts);
    let http_token = CancellationToken::new();
    let health = Arc::new(Health::default());
    let bound = http::serve(
        args.metrics_addr,
        metrics.clone(),
        health.clone(),
        http_token.clone(),
    )
    .await?;
    tracing::info!(address = %bound, "serving /healthz, /readyz, /metrics");
    let preview = Arc::new(ecs_operator::preview::server::PreviewSlot::default());
    let preview_bound = ecs_operator::preview::server::serve(
        args.preview_addr,
        preview.clone(),
        http_token.clone(),
    )
    .await?;
    tracing::info!(address = %preview_bound, "serving the preview endpoint");
    let shutdown = shutdown_signal();
    tokio::pin!(shutdown);

    let mut elector = if args.leader_election {
        let config = leader::LeaderConfig {
            lease_name: args.lease_name.clone(),
            namespace: args
                .lease_namespace
                .clone()
                .filter(|ns| !ns.is_empty())
                .unwrap_or_else(|| kube_config.default_namespace.clone()),
            identity: leader::identity(),
            lease_duration_seconds: args.lease_duration_seconds,
            grace_seconds: args.lease_grace_seconds,
        };
        // Lease calls get a short timeout: a renewal hung longer than the grace period would
        // let the lease expire while this process still believes it leads.
        let mut lease_config = kube_config.clone();
        let call_timeout = Duration::from_secs(args.lease_grace_seconds.max(1));
        lease_config.connect_timeout = Some(call_timeout);
        lease_config.read_timeout = Some(call_timeout);
        lease_config.write_timeout = Some(call_timeout);
        let lease_client = kube::Client::try_from(lease_config)?;
        let lease_api = kube::Api::namespaced(lease_client.clone(), &config.namespace);
        let (lease_name, identity) = (config.lease_name.clone(), config.identity.clone());
        let started = tokio::select! {
            () = &mut shutdown => return Ok(()),
            started = leader::Elector::start(lease_client, config) => started?,
        };
        if let Some(fence) = fence.clone() {
            let token = http_token.clone();
            tokio::spawn(async move {
                fence
                    .follow(lease_api, lease_name, identity, FENCE_READ_EVERY, token)
                    .await;
            });
        }
        Some(started)
    } else {
        None
    };
    // A leader, or a standby whose API server answers.
    health.set_ready(true);
    if let Some(campaign) = elector.as_mut() {
        let leadership = tokio::select! {
            () = &mut shutdown => None,
            leadership = campaign.acquired() => Some(leadership),
        };
        match leadership {
            None => {
                if let Some(standby) = elector.take() {
                    release(standby).await;
                }
                http_token.cancel();
                return Ok(());
            }
            Some(leader::Leadership::Leader) => {
                tracing::info!(identity = %campaign.identity(), "leading: starting the controllers");
            }
            Some(_) => anyhow::bail!("leader election ended before this process led"),
        }
    }

    let config = ManagerConfig {
        settings: Settings {
            resync: Duration::from_secs(args.resync_seconds),
            dry_run: args.dry_run,
            ..Settings::default()
        },
        concurrency: args.concurrency,
        readiness: Some(health.clone()),
        unbound: args.unbound_namespaces,
        preview: Some(preview.clone()),
        cluster_notification_policy: args.cluster_notification_policy.clone(),
        scope: Scope {
            namespace: args.namespace.clone(),
            label_selector: args.label_selector.clone(),
        },
        ..ManagerConfig::default()
    };
    let controllers_token = CancellationToken::new();
    metrics.set_leader(true);
    let mut controllers = tokio::spawn(manager::run(
        client,
        aws,
        clock,
        metrics.clone(),
        config,
        controllers_token.clone(),
    ));
    let lost = async {
        match elector.as_mut() {
            Some(elector) => elector.lost().await,
            None => std::future::pending().await,
        }
    };
    let stop = tokio::select! {
        () = &mut shutdown => Stop::Signal,
        () = lost => Stop::LostLeadership,
        _ = &mut controllers => Stop::ControllersEnded,
    };
    match stop {
        Stop::Signal => tracing::info!("shutting down"),
        Stop::LostLeadership => tracing::error!("lost leadership: stopping the controllers"),
        Stop::ControllersEnded => tracing::error!("the controllers stopped unexpectedly"),
    }
    health.set_ready(false);
    metrics.set_leader(false);
    controllers_token.cancel();
    if !controllers.is_finished()
        && tokio::time::timeout(
            Duration::from_secs(args.shutdown_grace_seconds),
            &mut controllers,
        )
        .await
        .is_err()
    {
        tracing::warn!("controllers did not stop in time; exiting anyway");
        controllers.abort();
    }
    if let Some(elector) = elector {
        release(elector).await;
    }
    http_token.cancel();
    #[cfg(feature = "otel")]
    ecs_operator::otel::shutdown();
    match stop {
        Stop::Signal => Ok(()),
        Stop::LostLeadership => Err(anyhow::anyhow!(
            "lost leadership; exiting so the process restarts as a standby"
        )),
        Stop::ControllersEnded => Err(anyhow::anyhow!("the controllers stopped unexpectedly")),
    }
}

/// Releases the lease when held (a standby takes over at once), logging failures: the lease
/// then expires by itself.
async fn release(elector: leader::Elector) {
    if let Err(error) = elector.release(RELEASE_TIMEOUT).await {
        tracing::warn!(error = %error, "lease not released; it expires by itself");
    }
}

async fn shutdown_signal() {
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        () = term => {}
    }
}
