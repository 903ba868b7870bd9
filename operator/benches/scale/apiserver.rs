//! The Kubernetes API server in a child process of its own, so its memory is measured apart
//! from the operator's, and the client configuration that reaches it.

use std::io::BufRead;

use local_apiserver::LocalApiServer;

/// The environment variable that makes the benchmark binary serve the API instead.
pub const ROLE: &str = "BENCH_ROLE";

/// The child's side: serves the API until its stdin closes.
pub async fn serve() {
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
    let _ = std::fs::remove_dir_all(dir);
}

/// The running child.
pub struct ApiChild {
    child: std::process::Child,
    /// A client configuration for it.
    pub config: kube::Config,
}

impl ApiChild {
    /// Starts the child and reads where it listens.
    pub async fn start() -> ApiChild {
        let mut child = std::process::Command::new(std::env::current_exe().expect("own path"))
            .env(ROLE, "apiserver")
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
        ApiChild { child, config }
    }

    /// Its process id.
    pub fn pid(&self) -> String {
        self.child.id().to_string()
    }

    /// Stops it.
    pub fn stop(mut self) {
        drop(self.child.stdin.take());
        let _ = self.child.wait();
    }
}
