//! A real Prometheus server for the sandbox and the tests: the `prometheus` binary on PATH,
//! scraping one target every second into a temporary TSDB on 127.0.0.1, killed when dropped.
//! It installs nothing: without the binary `start` answers `None` and the caller says what to do
//! (the tests: run `scripts/install-test-tools`).

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use aws::prometheus::http::HttpPrometheus;
use aws::prometheus::{PrometheusApi, PrometheusQuery};
use http_body_util::Empty;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

/// How long Prometheus may take to answer `/-/ready` after it starts.
pub const READY_TIMEOUT: Duration = Duration::from_secs(30);

/// How often readiness and series are polled.
const POLL: Duration = Duration::from_millis(200);

/// How many of Prometheus's last stderr lines a start failure quotes.
const STDERR_LINES: usize = 20;

/// A running Prometheus server; the process is killed and its data deleted on drop.
pub struct PrometheusServer {
    /// Where it answers, `http://127.0.0.1:<port>`.
    pub address: String,
    child: tokio::process::Child,
    _dir: tempfile::TempDir,
}

impl PrometheusServer {
    /// Starts Prometheus scraping `http://<scrape_target>/metrics` (`scrape_target` is
    /// `host:port`) every second, listening on 127.0.0.1:`port` (a free port when `None` or 0),
    /// and waits until it is ready. `Ok(None)` when no `prometheus` binary is on PATH. A port
    /// something else listens on is an error: its `/-/ready` would answer for a server that is
    /// not ours.
    pub async fn start(
        scrape_target: &str,
        port: Option<u16>,
    ) -> Result<Option<PrometheusServer>, String> {
        let Some(binary) = on_path("prometheus") else {
            return Ok(None);
        };
        let dir = tempfile::Builder::new()
            .prefix("ecs-operator-prometheus-")
            .tempdir()
            .map_err(|e| format!("creating a directory for Prometheus: {e}"))?;
        let config = dir.path().join("prometheus.yml");
        std::fs::write(&config, scrape_config(scrape_target))
            .map_err(|e| format!("writing {}: {e}", config.display()))?;
        let stderr_path = dir.path().join("stderr.log");
        let stderr = std::fs::File::create(&stderr_path)
            .map_err(|e| format!("creating {}: {e}", stderr_path.display()))?;
        let port = match port.filter(|p| *p != 0) {
            Some(port) => {
                ensure_free(port)?;
                port
            }
            None => free_port()?,
        };
        let mut child = tokio::process::Command::new(&binary)
            .arg(format!("--config.file={}", config.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.path().join("data").display()
            ))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .arg("--log.level=warn")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(stderr)
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| format!("starting {}: {e}", binary.display()))?;
        let address = format!("http://127.0.0.1:{port}");
        wait_ready(&mut child, &address, &stderr_path).await?;
        Ok(Some(PrometheusServer {
            address,
            child,
            _dir: dir,
        }))
    }

    /// Polls the instant query `query` until it returns at least one sample (the first scrapes
    /// have landed), for at most `timeout`. A query Prometheus refuses fails at once.
    pub async fn wait_for_series(&self, query: &str, timeout: Duration) -> Result<(), String> {
        let client = HttpPrometheus::new(None);
        let request = PrometheusQuery {
            address: self.address.clone(),
            query: query.to_owned(),
            sigv4: None,
            bearer_token: None,
            timeout_secs: 5,
        };
        let deadline = Instant::now() + timeout;
        loop {
            let last = match client.query(&request).await {
                Ok(samples) if !samples.is_empty() => return Ok(()),
                Ok(_) => "no samples yet".to_owned(),
                Err(e) if e.code == "bad_data" => return Err(format!("{query}: {e}")),
                Err(e) => e.to_string(),
            };
            if Instant::now() >= deadline {
                return Err(format!(
                    "{query} returned no samples within {}s (last: {last})",
                    timeout.as_secs()
                ));
            }
            tokio::time::sleep(POLL).await;
        }
    }
}

impl Drop for PrometheusServer {
    fn drop(&mut self) {
        // The child is reaped by Tokio in the background; the TSDB directory goes after this.
        let _ = self.child.start_kill();
    }
}

/// The configuration: one job scraping `scrape_target` every second.
fn scrape_config(scrape_target: &str) -> String {
    // A Rust debug string is a valid YAML double-quoted scalar for a host:port.
    format!(
        "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n  evaluation_interval: 1s\n\
         scrape_configs:\n  - job_name: sandbox\n    metrics_path: /metrics\n    \
         static_configs:\n      - targets: [{scrape_target:?}]\n"
    )
}

/// Waits for `GET /-/ready` to answer 200; on failure, the reason and Prometheus's last words.
async fn wait_ready(
    child: &mut tokio::process::Child,
    address: &str,
    stderr: &Path,
) -> Result<(), String> {
    let client: Client<_, Empty<bytes::Bytes>> = Client::builder(TokioExecutor::new()).build_http();
    let uri: http::Uri = format!("{address}/-/ready")
        .parse()
        .map_err(|e| format!("{address}: {e}"))?;
    let deadline = Instant::now() + READY_TIMEOUT;
    loop {
        if let Ok(Some(status)) = child.try_wait() {
            return Err(format!(
                "prometheus exited ({status}) before it was ready:\n{}",
                last_lines(stderr)
            ));
        }
        let request = http::Request::get(uri.clone())
            .body(Empty::new())
            .map_err(|e| e.to_string())?;
        if let Ok(Ok(response)) = tokio::time::timeout(POLL * 5, client.request(request)).await
            && response.status() == http::StatusCode::OK
        {
            // Ready, and still ours: a server that could not bind has exited by now.
            if let Ok(Some(status)) = child.try_wait() {
                return Err(format!(
                    "prometheus exited ({status}) while another server answered on {address}:\n{}",
                    last_lines(stderr)
                ));
            }
            return Ok(());
        }
        if Instant::now() >= deadline {
            return Err(format!(
                "prometheus at {address} was not ready within {}s:\n{}",
                READY_TIMEOUT.as_secs(),
                last_lines(stderr)
            ));
        }
        tokio::time::sleep(POLL).await;
    }
}

/// The last lines Prometheus wrote to stderr.
fn last_lines(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    let tail = lines[lines.len().saturating_sub(STDERR_LINES)..].join("\n");
    if tail.is_empty() {
        "(nothing on stderr)".to_owned()
    } else {
        tail
    }
}

/// `name` in a directory of PATH.
fn on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file())
}

/// Whether nothing listens on 127.0.0.1:`port` now (bound and released).
fn ensure_free(port: u16) -> Result<(), String> {
    std::net::TcpListener::bind(("127.0.0.1", port))
        .map(drop)
        .map_err(|e| format!("127.0.0.1:{port} is taken, by another sandbox perhaps: {e}"))
}

/// A port free now on 127.0.0.1 (bound, read, released).
fn free_port() -> Result<u16, String> {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|addr| addr.port())
        .map_err(|e| format!("finding a free port: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_port_something_listens_on_is_refused_and_a_free_one_is_not() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let error = ensure_free(port).unwrap_err();
        assert!(
            error.contains(&format!("127.0.0.1:{port} is taken")),
            "{error}"
        );
        drop(listener);
        assert_eq!(ensure_free(port), Ok(()));
    }
}
