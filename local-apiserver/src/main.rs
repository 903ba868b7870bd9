//! `local-apiserver --port P --kubeconfig FILE [--crds DIR]`: serves an in-memory Kubernetes API
//! on 127.0.0.1 until interrupted, and writes a kubeconfig for kubectl.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context;
use clap::Parser;
use local_apiserver::LocalApiServer;

/// An in-memory Kubernetes API server for kubectl and kube-rs (plain HTTP, no auth).
#[derive(Debug, Parser)]
#[command(version, about)]
struct Args {
    /// Port on 127.0.0.1 to listen on (0 picks a free one).
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// Where to write a kubeconfig pointing at the server.
    #[arg(long)]
    kubeconfig: PathBuf,
    /// Directory of CRD manifests (*.yaml, *.yml, *.json) to install at start.
    #[arg(long)]
    crds: Option<PathBuf>,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "local_apiserver=info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let args = Args::parse();
    let server = LocalApiServer::start(SocketAddr::from(([127, 0, 0, 1], args.port)))
        .await
        .context("starting the server")?;
    if let Some(dir) = &args.crds {
        let n = server
            .install_crds_from_dir(dir)
            .await
            .with_context(|| format!("installing CRDs from {}", dir.display()))?;
        println!("installed {n} CRD(s) from {}", dir.display());
    }
    server
        .write_kubeconfig(&args.kubeconfig)
        .with_context(|| format!("writing {}", args.kubeconfig.display()))?;
    println!("local-apiserver listening on {}", server.url());
    println!(
        "kubeconfig written to {}; use it with:",
        args.kubeconfig.display()
    );
    println!("  export KUBECONFIG={}", args.kubeconfig.display());
    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .context("listening for SIGTERM")?;
    tokio::select! {
        interrupted = tokio::signal::ctrl_c() => interrupted.context("waiting for Ctrl-C")?,
        _ = terminate.recv() => {}
    }
    server.shutdown().await;
    Ok(())
}
