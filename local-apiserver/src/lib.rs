//! An in-memory Kubernetes API server that kube-rs and kubectl accept (see
//! `docs/local-apiserver.md`): plain HTTP on 127.0.0.1, no auth, JSON. `LocalApiServer` starts
//! one, hands out a `kube::Client` and a kubeconfig, and offers test hooks (compaction, fault
//! injection, a request log).
//!
//! ```ignore
//! let server = LocalApiServer::start(([127, 0, 0, 1], 0).into()).await?;
//! server.install_crds_from_dir(Path::new("charts/ecs-operator/files/crds")).await?;
//! server.write_kubeconfig(&dir.join("kubeconfig"))?; // for `kubectl --kubeconfig`
//! let client = server.client(); // namespace "default"
//! server.inject_fault(Fault::conflict().method(http::Method::PATCH).path_contains("/status").times(2));
//! server.compact(); // open watches close; resuming from an old resourceVersion gets 410
//! assert!(server.requests().iter().all(|r| !r.is_write())); // e.g. a no-op reconcile
//! server.shutdown().await;
//! ```
//!
//! Modules, one concern each: `server` (accept loop, connections, request pipeline), `context`
//! (what connections share), `routing` (dispatch by route), `paths` (URL paths → routes),
//! `handlers` (verbs), `wire` (query, media types, responses), `discovery` and `openapi`,
//! `registry` and `crd` (served resources), `store` (objects, resourceVersion, history),
//! `objects` and `delete` (write rules), `builtins` (namespaces, Secrets, CRDs), `events`
//! (core ↔ events.k8s.io), `patch`, `apply` and `managed` (server-side apply and field
//! ownership), `watch`, `selectors`, `table`, `schema`, `validation` and `cel`, `faults`, `error`.

mod apply;
mod builtins;
mod cel;
mod context;
mod crd;
mod delete;
mod discovery;
mod error;
mod events;
mod faults;
mod handlers;
mod hangs;
mod managed;
mod objects;
mod openapi;
mod patch;
mod paths;
pub mod protobuf;
mod registry;
mod routing;
mod schema;
mod selectors;
mod server;
mod store;
mod table;
mod validation;
mod watch;
mod wire;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use serde_json::Value;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::{info, warn};

pub use context::{RequestRecord, ServerConfig};
pub use faults::Fault;
pub use hangs::Hang;

use context::{Shared, lock};
use objects::{Target, WriteOptions};
use store::{State, Store};

/// Starting the server failed.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The listener could not be bound.
    #[error("binding {addr} failed")]
    Bind {
        /// The requested address.
        addr: SocketAddr,
        /// The bind error.
        #[source]
        source: std::io::Error,
    },
    /// The kube client for the server could not be built.
    #[error("building a kube client for the server failed")]
    Client(#[source] kube::Error),
}

/// Installing CRDs failed.
#[derive(Debug, thiserror::Error)]
pub enum InstallCrdsError {
    /// A directory or file could not be read.
    #[error("reading {path} failed")]
    Read {
        /// The directory or file.
        path: PathBuf,
        /// The IO error.
        #[source]
        source: std::io::Error,
    },
    /// A file is not valid YAML or JSON.
    #[error("parsing {path} failed: {message}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// The parser's message.
        message: String,
    },
    /// The server rejected a CRD (e.g. an invalid schema).
    #[error("the server rejected CRD {name:?}: {message}")]
    Rejected {
        /// `metadata.name` of the CRD.
        name: String,
        /// The `Status` message.
        message: String,
    },
}

/// A running in-memory API server.
pub struct LocalApiServer {
    shared: Arc<Shared>,
    addr: SocketAddr,
    client: kube::Client,
    tracker: TaskTracker,
    accept: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for LocalApiServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalApiServer")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

/// The field manager the server uses for what it installs itself.
const SELF_MANAGER: &str = "local-apiserver";

impl LocalApiServer {
    /// Binds `addr` (e.g. `127.0.0.1:0`) and starts serving; returns once the listener is accepting.
    pub async fn start(addr: SocketAddr) -> Result<Self, StartError> {
        Self::start_with(ServerConfig {
            addr,
            ..ServerConfig::default()
        })
        .await
    }

    /// Starts a server with non-default tunables.
    pub async fn start_with(config: ServerConfig) -> Result<Self, StartError> {
        let listener = TcpListener::bind(config.addr)
            .await
            .map_err(|source| StartError::Bind {
                addr: config.addr,
                source,
            })?;
        let addr = listener.local_addr().map_err(|source| StartError::Bind {
            addr: config.addr,
            source,
        })?;
        let shutdown = CancellationToken::new();
        let mut state = State {
            registry: registry::Registry::with_builtins(),
            store: Store::new(config.history_limit, &shutdown),
        };
        builtins::seed(&mut state);
        let shared = Arc::new(Shared {
            state: Mutex::new(state),
            faults: Mutex::default(),
            hangs: Mutex::default(),
            requests: Mutex::default(),
            shutdown,
            config,
        });
        let mut kube_config = kube::Config::new(
            format!("http://{addr}")
                .parse()
                .expect("a socket address is a valid authority"),
        );
        kube_config.default_namespace = "default".into();
        let client = kube::Client::try_from(kube_config).map_err(StartError::Client)?;
        let tracker = TaskTracker::new();
        let accept = tokio::spawn(server::accept_loop(
            listener,
            Arc::clone(&shared),
            tracker.clone(),
        ));
        info!(%addr, "local-apiserver listening");
        Ok(Self {
            shared,
            addr,
            client,
            tracker,
            accept: Some(accept),
        })
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// A client for this server, default namespace "default".
    pub fn client(&self) -> kube::Client {
        self.client.clone()
    }

    /// A kubeconfig pointing kubectl at this server (context `local-apiserver`, namespace "default").
    pub fn kubeconfig_yaml(&self) -> String {
        format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: local-apiserver\n  cluster:\n    server: {url}\n\
             contexts:\n- name: local-apiserver\n  context:\n    cluster: local-apiserver\n    user: local-apiserver\n    namespace: default\n\
             current-context: local-apiserver\nusers:\n- name: local-apiserver\n  user: {{}}\npreferences: {{}}\n",
            url = self.url()
        )
    }

    /// Writes `kubeconfig_yaml` to `path`.
    pub fn write_kubeconfig(&self, path: &Path) -> std::io::Result<()> {
        std::fs::write(path, self.kubeconfig_yaml())
    }

    /// Drops the retained watch history and closes every open watch: clients that resume from a
    /// resourceVersion they saw get 410 Expired and must re-list.
    pub fn compact(&self) {
        let rv = self.shared.state().store.compact();
        info!(compacted_to = rv, "compacted the watch history");
    }

    /// Makes the next `fault.count` matching requests answer `fault`'s `Status`.
    pub fn inject_fault(&self, fault: Fault) {
        lock(&self.shared.faults).add(fault);
    }

    /// Arms a hang: the matching request is never answered (see [`Hang`]).
    pub fn arm_hang(&self, hang: Hang) {
        lock(&self.shared.hangs).arm(hang);
    }

    /// Whether the armed hang struck.
    pub fn hang_struck(&self) -> bool {
        lock(&self.shared.hangs).has_struck()
    }

    /// Requests served so far, oldest first (watches are recorded when they start).
    pub fn requests(&self) -> Vec<RequestRecord> {
        lock(&self.shared.requests).iter().cloned().collect()
    }

    /// Forgets the request log.
    pub fn clear_requests(&self) {
        lock(&self.shared.requests).clear();
    }

    /// The current global resourceVersion.
    pub fn resource_version(&self) -> u64 {
        self.shared.state().store.resource_version()
    }

    /// Creates or updates (server-side apply, forced) one CRD given as JSON.
    pub fn install_crd(&self, crd: &Value) -> Result<(), InstallCrdsError> {
        let name = crd
            .pointer("/metadata/name")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        let rejected = |message: String| InstallCrdsError::Rejected {
            name: name.clone(),
            message,
        };
        let mut state = self.shared.state();
        let info = state
            .registry
            .get("apiextensions.k8s.io", "customresourcedefinitions")
            .cloned()
            .expect("CRDs are built in");
        let target = Target {
            info,
            version: "v1".into(),
            namespace: None,
            subresource: None,
        };
        let opts = WriteOptions {
            manager: SELF_MANAGER.into(),
            ..WriteOptions::default()
        };
        let written = handlers::apply_locked(&mut state, &target, &name, crd, &opts, true)
            .map_err(|e| rejected(e.message))?;
        for warning in &written.warnings {
            warn!(crd = %name, %warning, "installed CRD with a warning");
        }
        Ok(())
    }

    /// Installs every CRD in `dir`'s `*.yaml`, `*.yml` and `*.json` files (multi-document YAML is
    /// fine; documents of other kinds are skipped). Returns how many CRDs were installed.
    pub async fn install_crds_from_dir(&self, dir: &Path) -> Result<usize, InstallCrdsError> {
        let read = |path: &Path, source| InstallCrdsError::Read {
            path: path.to_owned(),
            source,
        };
        let mut entries = tokio::fs::read_dir(dir).await.map_err(|e| read(dir, e))?;
        let mut files = Vec::new();
        while let Some(entry) = entries.next_entry().await.map_err(|e| read(dir, e))? {
            let path = entry.path();
            if path
                .extension()
                .and_then(|e| e.to_str())
                .is_some_and(|e| matches!(e, "yaml" | "yml" | "json"))
            {
                files.push(path);
            }
        }
        files.sort();
        let mut installed = 0;
        for path in files {
            let text = tokio::fs::read_to_string(&path)
                .await
                .map_err(|e| read(&path, e))?;
            let docs: Vec<Value> = if path.extension().is_some_and(|e| e == "json") {
                vec![
                    serde_json::from_str(&text).map_err(|e| InstallCrdsError::Parse {
                        path: path.clone(),
                        message: e.to_string(),
                    })?,
                ]
            } else {
                serde_saphyr::from_multiple(&text).map_err(|e| InstallCrdsError::Parse {
                    path: path.clone(),
                    message: e.to_string(),
                })?
            };
            for doc in docs.iter().filter(|d| {
                d.get("kind").and_then(Value::as_str) == Some("CustomResourceDefinition")
            }) {
                self.install_crd(doc)?;
                installed += 1;
            }
        }
        Ok(installed)
    }

    /// Closes the listener and every open watch, and waits for connections to finish.
    pub async fn shutdown(mut self) {
        self.shared.shutdown.cancel();
        if let Some(accept) = self.accept.take() {
            let _ = accept.await;
        }
        self.tracker.close();
        self.tracker.wait().await;
        info!(addr = %self.addr, "local-apiserver stopped");
    }
}

impl Drop for LocalApiServer {
    fn drop(&mut self) {
        self.shared.shutdown.cancel();
    }
}
