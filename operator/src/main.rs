//! The `ecs-operator` binary: `run` (in a cluster), `local` (the sandbox), `crds` (print the
//! CustomResourceDefinitions).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use clap::{Parser, Subcommand, ValueEnum};
use ecs_operator::aws::accounts::AwsAccounts;
use ecs_operator::aws::factory;
use ecs_operator::aws::sdk::SdkOptions;
use ecs_operator::clock::{SharedClock, SystemClock};
use ecs_operator::controllers::Settings;
use ecs_operator::http::{self, Health};
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
    /// Seconds to finish in-flight work after SIGTERM before exiting anyway.
    #[arg(long, default_value_t = 20)]
    shutdown_grace_seconds: u64,
}

fn init_logging(format: LogFormat, default_filter: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default_filter));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::Crds => {
            print!("{}", crds::all_crds_yaml());
            Ok(())
        }
        Command::Local(args) => {
            // The live progress view is the sandbox's output; logs only for warnings.
            init_logging(cli.log_format, "warn");
            let code = ecs_operator::local::run(args).await?;
            std::process::exit(code);
        }
        Command::Run(args) => {
            init_logging(cli.log_format, "info,kube=warn");
            run(args).await
        }
    }
}

async fn run(args: RunArgs) -> anyhow::Result<()> {
    let client = kube::Client::try_default().await?;
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
    let aws = Arc::new(AwsAccounts::new(
        region,
        factory::sdk_factory(&opts).await,
        clock.clone(),
        metrics.clone(),
    ));
    let token = CancellationToken::new();
    let health = Arc::new(Health::default());
    let bound = http::serve(
        args.metrics_addr,
        metrics.clone(),
        health.clone(),
        token.clone(),
    )
    .await?;
    tracing::info!(address = %bound, "serving /healthz, /readyz, /metrics");
    let config = ManagerConfig {
        settings: Settings {
            resync: Duration::from_secs(args.resync_seconds),
            ..Settings::default()
        },
        concurrency: args.concurrency,
        scope: Scope {
            namespace: args.namespace.clone(),
            label_selector: args.label_selector.clone(),
        },
        ..ManagerConfig::default()
    };
    health.set_ready(true);
    let controllers = tokio::spawn(manager::run(
        client,
        aws,
        clock,
        metrics,
        config,
        token.clone(),
    ));
    shutdown_signal().await;
    tracing::info!("shutting down");
    token.cancel();
    if tokio::time::timeout(
        Duration::from_secs(args.shutdown_grace_seconds),
        controllers,
    )
    .await
    .is_err()
    {
        tracing::warn!("controllers did not stop in time; exiting anyway");
    }
    Ok(())
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
