//! A controller test bench: the local API server with the CRDs installed, the simulated AWS
//! account seeded from examples/aws-state.yaml on a fast clock, and the operator's controllers
//! running in-process — stoppable mid-flight to test crash recovery.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use aws::accounts::AwsAccounts;
use aws::clock::{SharedClock, SimClock};
use aws_sim::{SimAccounts, SimAws, SimSeed};
use ecs_operator::controllers::Settings;
use ecs_operator::controllers::accounts::resolve::UnboundNamespaces;
use ecs_operator::manager::{self, ManagerConfig};
use ecs_operator::metrics::Metrics;
use ecs_operator::preview::server::PreviewSlot;
use kube::api::{Api, DynamicObject, Patch, PatchParams};
use local_apiserver::LocalApiServer;
use serde_json::Value;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// The workspace root (for examples and tools).
pub fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ sits in the workspace")
        .to_path_buf()
}

/// Everything a controller test runs against.
pub struct Sandbox {
    /// The Kubernetes API server.
    pub server: LocalApiServer,
    /// A client of it.
    pub client: kube::Client,
    /// The operator's own simulated AWS account.
    pub sim: SimAws,
    /// Every simulated account (the operator's own and the seed's `otherAccounts`).
    pub accounts: SimAccounts,
    /// Who may use the operator's own identity (taken at the next operator start).
    pub unbound: UnboundNamespaces,
    /// Its clock.
    pub clock: Arc<SimClock>,
    /// The operator's metrics.
    pub metrics: Arc<Metrics>,
    settings: Settings,
    operator: Option<(CancellationToken, JoinHandle<()>)>,
    preview: Arc<PreviewSlot>,
    preview_url: Option<String>,
}

/// How fast simulated time runs in controller tests.
pub const TEST_SPEED: f64 = 50.0;

impl Sandbox {
    /// Starts the API server, the simulator and the operator.
    pub async fn start() -> Sandbox {
        Self::start_with(Settings {
            resync: Duration::from_secs(60),
            poll: Duration::from_secs(10),
            wait_poll: Duration::from_secs(10),
            dry_run: false,
        })
        .await
    }

    /// Like [`Sandbox::start`] with other timing knobs (simulated seconds).
    pub async fn start_with(settings: Settings) -> Sandbox {
        Self::start_without_crds(settings, &[]).await
    }

    /// Like [`Sandbox::start_with`], the CRDs named in `skipped` not installed (their watches
    /// fail until [`Sandbox::install_crd`] installs them).
    pub async fn start_without_crds(settings: Settings, skipped: &[&str]) -> Sandbox {
        Self::start_at_speed(settings, skipped, TEST_SPEED).await
    }

    /// Like [`Sandbox::start_without_crds`], simulated time running `speed` times the wall
    /// clock.
    pub async fn start_at_speed(settings: Settings, skipped: &[&str], speed: f64) -> Sandbox {
        let seed_path = workspace_root().join("examples/aws-state.yaml");
        let seed = SimSeed::from_yaml(&std::fs::read_to_string(&seed_path).expect("seed file"))
            .expect("seed parses");
        let clock = Arc::new(SimClock::new(jiff::Timestamp::now(), speed));
        let accounts = SimAccounts::new(clock.clone(), seed);
        let sim = accounts.home().clone();
        let server = LocalApiServer::start(([127, 0, 0, 1], 0).into())
            .await
            .expect("API server starts");
        let client = server.client();
        let crds: Api<k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition> =
            Api::all(client.clone());
        for crd in crds::all_crds() {
            let name = crd.metadata.name.clone().unwrap_or_default();
            if skipped.contains(&name.as_str()) {
                continue;
            }
            crds.patch(
                &name,
                &PatchParams::apply("test").force(),
                &Patch::Apply(&crd),
            )
            .await
            .expect("CRD installs");
        }
        let mut sandbox = Sandbox {
            server,
            client,
            sim,
            accounts,
            unbound: UnboundNamespaces::default(),
            clock,
            metrics: Arc::new(Metrics::new()),
            settings,
            operator: None,
            preview: Arc::new(PreviewSlot::default()),
            preview_url: None,
        };
        sandbox.start_operator();
        sandbox
    }

    /// Installs the CRD `name` (one of [`crds::all_crds`]).
    pub async fn install_crd(&self, name: &str) {
        let crd = crds::all_crds()
            .into_iter()
            .find(|c| c.metadata.name.as_deref() == Some(name))
            .expect("a CRD of the operator");
        let api: Api<k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition> =
            Api::all(self.client.clone());
        api.patch(
            name,
            &PatchParams::apply("test").force(),
            &Patch::Apply(&crd),
        )
        .await
        .expect("CRD installs");
    }

    /// Starts (or restarts) the operator with fresh in-memory state.
    pub fn start_operator(&mut self) {
        assert!(self.operator.is_none(), "operator already running");
        let clock: SharedClock = self.clock.clone();
        let aws = Arc::new(AwsAccounts::new(
            self.sim.region(),
            Arc::new(self.accounts.clone()),
            clock.clone(),
            self.metrics.clone(),
        ));
        let token = CancellationToken::new();
        let config = ManagerConfig {
            settings: self.settings.clone(),
            unbound: self.unbound,
            preview: Some(self.preview.clone()),
            ..ManagerConfig::default()
        };
        let task = tokio::spawn(manager::run(
            self.client.clone(),
            aws,
            clock,
            self.metrics.clone(),
            config,
            token.clone(),
        ));
        self.operator = Some((token, task));
    }

    /// Kills the operator where it stands (its task is aborted at whatever await it is in),
    /// the way a crashed process stops.
    pub async fn kill_operator(&mut self) {
        if let Some((token, task)) = self.operator.take() {
            task.abort();
            let _ = task.await;
            token.cancel();
        }
    }

    /// Applies YAML documents (separated by `---` lines) with server-side apply (field manager
    /// "kubectl"), in order.
    pub async fn apply(&self, yaml: &str) -> anyhow::Result<()> {
        for document in yaml.split("\n---\n") {
            if !document.trim().is_empty() {
                self.apply_document(document).await?;
            }
        }
        Ok(())
    }

    async fn apply_document(&self, yaml: &str) -> anyhow::Result<()> {
        let value: Value = serde_saphyr::from_str(yaml)?;
        let kind = value["kind"].as_str().unwrap_or_default();
        let name = value["metadata"]["name"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        let ns = value["metadata"]["namespace"]
            .as_str()
            .unwrap_or("default")
            .to_string();
        let (group, version) = value["apiVersion"]
            .as_str()
            .unwrap_or_default()
            .rsplit_once('/')
            .unwrap_or(("", "v1"));
        let gvk = kube::core::GroupVersionKind::gvk(group, version, kind);
        let (resource, caps) = kube::discovery::pinned_kind(&self.client, &gvk).await?;
        let api: Api<DynamicObject> = if caps.scope == kube::discovery::Scope::Namespaced {
            Api::namespaced_with(self.client.clone(), &ns, &resource)
        } else {
            Api::all_with(self.client.clone(), &resource)
        };
        api.patch(
            &name,
            &PatchParams::apply("kubectl").force(),
            &Patch::Apply(&value),
        )
        .await?;
        Ok(())
    }

    /// Polls `check` until it returns `Some`, failing the test with `what` after `timeout`
    /// (wall time).
    pub async fn wait_for<T, F, Fut>(&self, what: &str, timeout: Duration, mut check: F) -> T
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Option<T>>,
    {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(v) = check().await {
                return v;
            }
            assert!(Instant::now() < deadline, "timed out waiting for {what}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The URL of the operator's preview endpoint (`kubectl ecs diff|verify`), served from
    /// the first call on.
    pub async fn preview_url(&mut self) -> String {
        if let Some(url) = &self.preview_url {
            return url.clone();
        }
        let bound = ecs_operator::preview::server::serve(
            ([127, 0, 0, 1], 0).into(),
            self.preview.clone(),
            CancellationToken::new(),
        )
        .await
        .expect("the preview endpoint binds");
        let url = format!("http://{bound}");
        self.preview_url = Some(url.clone());
        url
    }

    /// Stops the operator and the API server.
    pub async fn shutdown(mut self) {
        if let Some((token, task)) = self.operator.take() {
            token.cancel();
            let _ = tokio::time::timeout(Duration::from_secs(10), task).await;
        }
        self.server.shutdown().await;
    }
}
