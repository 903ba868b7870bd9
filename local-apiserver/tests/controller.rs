//! A kube-rs 5 Controller against the server: `.owns()` a ConfigMap (metadata watch), the
//! finalizer helper, server-side-applied status, a Recorder and a Lease, through create →
//! reconcile → update → delete; recovering from a compaction (410 → re-list); and the same with
//! streaming lists.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use common::{DEADLINE, wait_for};
use futures::StreamExt;
use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::{ConfigMap, Event as CoreEvent};
use kube::api::{Api, DeleteParams, ListParams, Patch, PatchParams, PostParams};
use kube::runtime::controller::{Action, Controller};
use kube::runtime::events::{Event, EventType, Recorder, Reporter};
use kube::runtime::finalizer::{Event as Finalizer, finalizer};
use kube::runtime::watcher;
use kube::{Client, CustomResource, CustomResourceExt, Resource, ResourceExt};
use kube_lease_manager::LeaseManagerBuilder;
use local_apiserver::LocalApiServer;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::json;

const MANAGER: &str = "test-controller";
const FINALIZER: &str = "demo.example.com/cleanup";

/// Spec of the test kind.
#[derive(CustomResource, Deserialize, Serialize, Clone, Debug, JsonSchema)]
#[kube(
    group = "demo.example.com",
    version = "v1",
    kind = "Widget",
    namespaced,
    status = "WidgetStatus",
    shortname = "wd"
)]
#[kube(printcolumn = r#"{"name": "Image", "type": "string", "jsonPath": ".spec.image"}"#)]
struct WidgetSpec {
    image: String,
    #[serde(default)]
    replicas: i32,
}

/// Status of the test kind.
#[derive(Deserialize, Serialize, Clone, Debug, Default, JsonSchema)]
#[serde(rename_all = "camelCase")]
struct WidgetStatus {
    observed_generation: Option<i64>,
    image: Option<String>,
}

struct Context {
    client: Client,
    recorder: Recorder,
    reconciles: AtomicUsize,
    cleanups: AtomicUsize,
}

#[derive(Debug, thiserror::Error)]
enum Error {
    #[error("kube request failed")]
    Kube(#[from] kube::Error),
    #[error("finalizer failed")]
    Finalizer(#[source] Box<kube::runtime::finalizer::Error<kube::Error>>),
}

async fn reconcile(widget: Arc<Widget>, ctx: Arc<Context>) -> Result<Action, Error> {
    ctx.reconciles.fetch_add(1, Ordering::SeqCst);
    let ns = widget.namespace().unwrap_or_default();
    let widgets: Api<Widget> = Api::namespaced(ctx.client.clone(), &ns);
    finalizer(&widgets, FINALIZER, widget, |event| async {
        match event {
            Finalizer::Apply(w) => apply(&w, &ctx).await,
            Finalizer::Cleanup(w) => cleanup(&w, &ctx).await,
        }
    })
    .await
    .map_err(|e| Error::Finalizer(Box::new(e)))
}

async fn apply(w: &Widget, ctx: &Context) -> Result<Action, kube::Error> {
    let ns = w.namespace().unwrap_or_default();
    let ssa = PatchParams::apply(MANAGER).force();
    let cm = json!({
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": format!("{}-cfg", w.name_any()), "ownerReferences": [w.controller_owner_ref(&()).expect("has a uid")]},
        "data": {"image": w.spec.image},
    });
    Api::<ConfigMap>::namespaced(ctx.client.clone(), &ns)
        .patch(&format!("{}-cfg", w.name_any()), &ssa, &Patch::Apply(&cm))
        .await?;
    let status = json!({
        "apiVersion": "demo.example.com/v1", "kind": "Widget",
        "status": {"observedGeneration": w.metadata.generation, "image": w.spec.image},
    });
    Api::<Widget>::namespaced(ctx.client.clone(), &ns)
        .patch_status(&w.name_any(), &ssa, &Patch::Apply(&status))
        .await?;
    let event = Event {
        type_: EventType::Normal,
        reason: "Reconciled".into(),
        note: Some(format!("image {}", w.spec.image)),
        action: "Reconcile".into(),
        secondary: None,
    };
    ctx.recorder.publish(&event, &w.object_ref(&())).await?;
    Ok(Action::await_change())
}

async fn cleanup(w: &Widget, ctx: &Context) -> Result<Action, kube::Error> {
    ctx.cleanups.fetch_add(1, Ordering::SeqCst);
    let ns = w.namespace().unwrap_or_default();
    match Api::<ConfigMap>::namespaced(ctx.client.clone(), &ns)
        .delete(&format!("{}-cfg", w.name_any()), &DeleteParams::default())
        .await
    {
        Ok(_) => {}
        Err(kube::Error::Api(s)) if s.code == 404 => {}
        Err(e) => return Err(e),
    }
    Ok(Action::await_change())
}

fn error_policy(_: Arc<Widget>, _: &Error, _: Arc<Context>) -> Action {
    Action::requeue(Duration::from_millis(200))
}

struct Running {
    server: LocalApiServer,
    ctx: Arc<Context>,
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<()>,
}

async fn start(config: watcher::Config) -> Running {
    let server = LocalApiServer::start(([127, 0, 0, 1], 0).into())
        .await
        .expect("server starts");
    server
        .install_crd(&serde_json::to_value(Widget::crd()).expect("CRD serializes"))
        .expect("the derived CRD installs");
    let client = server.client();
    let ctx = Arc::new(Context {
        client: client.clone(),
        recorder: Recorder::new(
            client.clone(),
            Reporter {
                controller: MANAGER.into(),
                instance: None,
            },
        ),
        reconciles: AtomicUsize::new(0),
        cleanups: AtomicUsize::new(0),
    });
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let controller = Controller::new(Api::<Widget>::all(client.clone()), config.clone())
        .owns(Api::<ConfigMap>::all(client), config)
        .graceful_shutdown_on(async move {
            let _ = stopped.await;
        })
        .run(reconcile, error_policy, Arc::clone(&ctx))
        .for_each(|_| async {});
    let task = tokio::spawn(controller);
    Running {
        server,
        ctx,
        stop,
        task,
    }
}

impl Running {
    fn widgets(&self) -> Api<Widget> {
        Api::namespaced(self.server.client(), "default")
    }

    fn configmaps(&self) -> Api<ConfigMap> {
        Api::namespaced(self.server.client(), "default")
    }

    async fn configmap_image(&self, name: &str) -> Option<String> {
        self.configmaps()
            .get_opt(name)
            .await
            .expect("get configmap")?
            .data?
            .get("image")
            .cloned()
    }

    /// Waits until the controller has reconciled `name` at its current generation with `image`.
    async fn reconciled(&self, name: &str, image: &str) {
        wait_for(
            &format!("{name} reconciled with {image}"),
            DEADLINE,
            || async {
                let w = self.widgets().get_opt(name).await.expect("get widget")?;
                let status = w.status.as_ref()?;
                let done = status.observed_generation == w.metadata.generation
                    && status.image.as_deref() == Some(image)
                    && w.finalizers().iter().any(|f| f == FINALIZER)
                    && self
                        .configmap_image(&format!("{name}-cfg"))
                        .await
                        .as_deref()
                        == Some(image);
                done.then_some(())
            },
        )
        .await;
    }

    async fn deleted(&self, name: &str) {
        self.widgets()
            .delete(name, &DeleteParams::default())
            .await
            .expect("delete widget");
        wait_for(&format!("{name} finalized and gone"), DEADLINE, || async {
            let gone = self.widgets().get_opt(name).await.expect("get").is_none()
                && self
                    .configmaps()
                    .get_opt(&format!("{name}-cfg"))
                    .await
                    .expect("get")
                    .is_none();
            gone.then_some(())
        })
        .await;
    }

    async fn stop(self) {
        let _ = self.stop.send(());
        tokio::time::timeout(DEADLINE, self.task)
            .await
            .expect("controller stops")
            .expect("controller task");
        self.server.shutdown().await;
    }
}

fn widget(name: &str, image: &str) -> Widget {
    Widget::new(
        name,
        WidgetSpec {
            image: image.into(),
            replicas: 1,
        },
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn controller_runs_create_reconcile_update_delete_and_survives_compaction() {
    let c = start(watcher::Config::default()).await;
    c.widgets()
        .create(&PostParams::default(), &widget("web", "nginx:1"))
        .await
        .expect("create");
    c.reconciled("web", "nginx:1").await;

    // Events the Recorder wrote are readable as core/v1 Events, the way kubectl describe asks.
    let events: Api<CoreEvent> = Api::namespaced(c.server.client(), "default");
    let lp = ListParams::default().fields("involvedObject.name=web,involvedObject.kind=Widget");
    let listed = events.list(&lp).await.expect("list events");
    assert!(
        listed
            .items
            .iter()
            .any(|e| e.reason.as_deref() == Some("Reconciled")),
        "{listed:?}"
    );

    // A steady state: re-applying identical status and ConfigMap writes nothing.
    let rv = c.server.resource_version();
    let stable = c.widgets().get("web").await.expect("get");
    assert_eq!(
        stable.status.as_ref().and_then(|s| s.observed_generation),
        Some(1)
    );

    // A spec change is reconciled.
    let change = json!({"spec": {"image": "nginx:2"}});
    c.widgets()
        .patch("web", &PatchParams::default(), &Patch::Merge(&change))
        .await
        .expect("patch");
    c.reconciled("web", "nginx:2").await;
    assert!(c.server.resource_version() > rv);

    // .owns(): deleting the owned ConfigMap triggers a reconcile that recreates it.
    c.configmaps()
        .delete("web-cfg", &DeleteParams::default())
        .await
        .expect("delete cm");
    c.reconciled("web", "nginx:2").await;

    // Compaction closes the watches; resuming from an old resourceVersion gets 410 → re-list.
    c.server.clear_requests();
    c.server.compact();
    let change = json!({"spec": {"image": "nginx:3"}});
    c.widgets()
        .patch("web", &PatchParams::default(), &Patch::Merge(&change))
        .await
        .expect("patch");
    c.reconciled("web", "nginx:3").await;
    let requests = c.server.requests();
    let relisted = requests.iter().any(|r| {
        r.method == "GET"
            && r.path == "/apis/demo.example.com/v1/widgets"
            && !r.query.contains("watch=true")
    });
    assert!(relisted, "the watcher re-listed after 410: {requests:?}");

    c.deleted("web").await;
    assert!(c.ctx.cleanups.load(Ordering::SeqCst) >= 1);
    assert!(c.ctx.reconciles.load(Ordering::SeqCst) >= 3);
    c.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn controller_works_with_streaming_lists() {
    let c = start(watcher::Config::default().streaming_lists()).await;
    c.widgets()
        .create(&PostParams::default(), &widget("api", "httpd:1"))
        .await
        .expect("create");
    c.reconciled("api", "httpd:1").await;
    let streamed = c
        .server
        .requests()
        .iter()
        .any(|r| r.query.contains("sendInitialEvents=true"));
    assert!(streamed, "the watcher used a streaming list");
    assert!(
        !c.server
            .requests()
            .iter()
            .any(|r| r.path.ends_with("/widgets") && r.query.contains("limit=")),
        "no paged list"
    );
    c.server.compact();
    let change = json!({"spec": {"image": "httpd:2"}});
    c.widgets()
        .patch("api", &PatchParams::default(), &Patch::Merge(&change))
        .await
        .expect("patch");
    c.reconciled("api", "httpd:2").await;
    c.deleted("api").await;
    c.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn leases_hand_over_between_managers() {
    let server = LocalApiServer::start(([127, 0, 0, 1], 0).into())
        .await
        .expect("server starts");
    let manager = |identity: &str| {
        LeaseManagerBuilder::new(server.client(), "ecs-operator-leader")
            .with_namespace("default")
            .with_identity(identity)
            .with_duration(5)
            .with_grace(1)
            .build()
    };
    let a = manager("a").await.expect("manager a");
    let b = manager("b").await.expect("manager b");
    assert!(
        tokio::time::timeout(DEADLINE, a.changed())
            .await
            .expect("a decides")
            .expect("a locks"),
        "a leads"
    );
    let lease: Api<Lease> = Api::namespaced(server.client(), "default");
    let held = lease.get("ecs-operator-leader").await.expect("lease");
    assert_eq!(
        held.spec
            .as_ref()
            .and_then(|s| s.holder_identity.as_deref()),
        Some("a")
    );

    // A stale replace is refused, a fresh one accepted.
    let mut stale = held.clone();
    a.release().await.expect("a releases");
    stale.spec.as_mut().expect("spec").holder_identity = Some("intruder".into());
    let err = lease
        .replace("ecs-operator-leader", &PostParams::default(), &stale)
        .await
        .expect_err("stale replace");
    assert!(
        matches!(err, kube::Error::Api(ref s) if s.code == 409 && s.reason == "Conflict"),
        "{err:?}"
    );

    assert!(
        tokio::time::timeout(DEADLINE, b.changed())
            .await
            .expect("b decides")
            .expect("b locks"),
        "b leads after a released"
    );
    let held = lease.get("ecs-operator-leader").await.expect("lease");
    assert_eq!(
        held.spec
            .as_ref()
            .and_then(|s| s.holder_identity.as_deref()),
        Some("b")
    );
    assert!(
        held.spec
            .as_ref()
            .and_then(|s| s.lease_transitions)
            .unwrap_or(0)
            >= 1
    );
    b.release().await.expect("b releases");
    server.shutdown().await;
}
