//! `kubectl-ecs`, the kubectl plugin: `get` (EcsServices with their rollouts and scaling,
//! `--watch`), `status NAME` (waits; the exit code says healthy, degraded or timeout), and the
//! rollout verbs `promote [--full]`, `abort`, `retry`, `rollback` — recorded as annotations
//! `ecs-operator.dev/<verb>-requested-at`, never as `.spec` changes — and `diff` and
//! `verify`, which ask the operator what it would do with manifests. `-n`, `-A`,
//! `--kubeconfig` and `--context` behave like kubectl's.

pub mod exit;
pub mod get;
pub mod preview;
pub mod status;
pub mod verbs;

pub use exit::{EXIT_DEGRADED, EXIT_ERROR, EXIT_OK, EXIT_TIMEOUT};

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use kube::config::{KubeConfigOptions, Kubeconfig};

/// The plugin's command line.
#[derive(Debug, Parser)]
#[command(
    name = "kubectl-ecs",
    bin_name = "kubectl ecs",
    about = "Inspect and steer ecs-operator EcsServices and their BlueGreenRollouts"
)]
pub struct Cli {
    /// Flags shared by every command.
    #[command(flatten)]
    pub global: Global,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// kubectl's connection and scope flags.
#[derive(Debug, Clone, Args)]
pub struct Global {
    /// Namespace (default: the kubeconfig context's).
    #[arg(short = 'n', long, global = true)]
    pub namespace: Option<String>,
    /// Every namespace.
    #[arg(short = 'A', long = "all-namespaces", global = true)]
    pub all_namespaces: bool,
    /// Path to the kubeconfig file (default: $KUBECONFIG or ~/.kube/config).
    #[arg(long, global = true)]
    pub kubeconfig: Option<PathBuf>,
    /// The kubeconfig context to use.
    #[arg(long, global = true)]
    pub context: Option<String>,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// EcsServices with their rollout phase, traffic split and scaling.
    Get {
        /// Only this EcsService.
        name: Option<String>,
        /// Keep printing rows as they change.
        #[arg(short = 'w', long)]
        watch: bool,
    },
    /// Wait for a rollout to finish: exit 0 Healthy, 1 Degraded, 2 timeout.
    Status {
        /// BlueGreenRollout (or EcsService) name.
        name: String,
        /// Give up after this long (`90s`, `10m`, `1h`).
        #[arg(long, default_value = "10m", value_parser = parse_duration)]
        timeout: Duration,
    },
    /// Pass the gate: move production traffic now.
    Promote {
        /// BlueGreenRollout (or EcsService) name.
        name: String,
        /// Also skip what remains (CodeDeploy's termination wait).
        #[arg(long)]
        full: bool,
    },
    /// Abort the release in flight and roll back.
    Abort {
        /// BlueGreenRollout (or EcsService) name.
        name: String,
    },
    /// Release a revision that failed again.
    Retry {
        /// BlueGreenRollout (or EcsService) name.
        name: String,
    },
    /// Abort the release in flight, or go back to the previous stable revision.
    Rollback {
        /// BlueGreenRollout (or EcsService) name.
        name: String,
    },
    /// What the operator would change in AWS for these manifests: exit 0 nothing, 1 changes,
    /// 2 error. Read-only.
    Diff(PreviewArgs),
    /// Whether everything these manifests name exists in AWS: exit 0 yes, 1 no, 2 error.
    Verify(PreviewArgs),
}

/// The manifests to preview and where the operator answers.
#[derive(Debug, Clone, Args)]
pub struct PreviewArgs {
    /// Manifest files or directories; `-` reads stdin.
    #[arg(short = 'f', long = "filename", required = true)]
    pub files: Vec<String>,
    /// The operator's preview endpoint (port-forward it from the operator's pod).
    #[arg(
        long,
        env = "ECS_OPERATOR_URL",
        default_value = "http://127.0.0.1:8082"
    )]
    pub operator_url: String,
}

/// `90s`, `10m`, `1h` or plain seconds.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let (number, unit) = s
        .find(|c: char| !c.is_ascii_digit())
        .map_or((s, ""), |i| s.split_at(i));
    let n: u64 = number
        .parse()
        .map_err(|_| format!("{s:?} is not a duration like 90s, 10m or 1h"))?;
    let secs = match unit {
        "" | "s" => n,
        "m" => n * 60,
        "h" => n * 3600,
        _ => return Err(format!("{s:?} is not a duration like 90s, 10m or 1h")),
    };
    Ok(Duration::from_secs(secs))
}

/// A client for the kubeconfig and context the flags name, and the namespace to use.
pub async fn connect(global: &Global) -> anyhow::Result<(kube::Client, String)> {
    let options = KubeConfigOptions {
        context: global.context.clone(),
        ..KubeConfigOptions::default()
    };
    let config = match &global.kubeconfig {
        Some(path) => {
            let kubeconfig = Kubeconfig::read_from(path)?;
            kube::Config::from_custom_kubeconfig(kubeconfig, &options).await?
        }
        None => match Kubeconfig::read() {
            Ok(kubeconfig) => kube::Config::from_custom_kubeconfig(kubeconfig, &options).await?,
            Err(_) => kube::Config::infer().await?,
        },
    };
    let namespace = global
        .namespace
        .clone()
        .unwrap_or_else(|| config.default_namespace.clone());
    Ok((kube::Client::try_from(config)?, namespace))
}

/// Runs the plugin; the process exit code.
pub async fn run(cli: Cli) -> i32 {
    if let Command::Diff(args) | Command::Verify(args) = &cli.command {
        let mode = match cli.command {
            Command::Diff(_) => preview::Mode::Diff,
            _ => preview::Mode::Verify,
        };
        // The namespace only: the objects go to the operator, not to the API server.
        let namespace = match &cli.global.namespace {
            Some(ns) => ns.clone(),
            None => connect(&cli.global)
                .await
                .map_or_else(|_| "default".to_string(), |(_, ns)| ns),
        };
        return preview::run(mode, &args.files, &namespace, &args.operator_url).await;
    }
    let result = async {
        let (client, namespace) = connect(&cli.global).await?;
        let scope = if cli.global.all_namespaces {
            None
        } else {
            Some(namespace.as_str())
        };
        match cli.command {
            Command::Get { name, watch } => get::run(&client, scope, name.as_deref(), watch).await,
            Command::Status { name, timeout } => {
                status::run(&client, &namespace, &name, timeout).await
            }
            Command::Promote { name, full } => {
                let verb = if full { "promote-full" } else { "promote" };
                verbs::request(&client, &namespace, &name, verb).await
            }
            Command::Abort { name } => verbs::request(&client, &namespace, &name, "abort").await,
            Command::Retry { name } => verbs::request(&client, &namespace, &name, "retry").await,
            Command::Rollback { name } => {
                verbs::request(&client, &namespace, &name, "rollback").await
            }
            Command::Diff(_) | Command::Verify(_) => unreachable!("answered above"),
        }
    }
    .await;
    match result {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            EXIT_ERROR
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_and_flags_parse_like_kubectl() {
        assert_eq!(parse_duration("90s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("10m"), Ok(Duration::from_secs(600)));
        assert_eq!(parse_duration("2h"), Ok(Duration::from_secs(7200)));
        assert_eq!(parse_duration("15"), Ok(Duration::from_secs(15)));
        assert!(parse_duration("soon").is_err());
        let cli = Cli::try_parse_from(["kubectl-ecs", "promote", "auth", "--full", "-n", "shop"])
            .unwrap();
        assert_eq!(cli.global.namespace.as_deref(), Some("shop"));
        assert!(matches!(cli.command, Command::Promote { full: true, .. }));
        let cli = Cli::try_parse_from(["kubectl-ecs", "-A", "get", "--watch"]).unwrap();
        assert!(cli.global.all_namespaces);
        assert!(matches!(
            cli.command,
            Command::Get {
                watch: true,
                name: None
            }
        ));
    }
}
