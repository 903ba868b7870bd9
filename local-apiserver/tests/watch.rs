//! Watch semantics through kube-rs: replay from a resourceVersion, 410 Expired after
//! compaction, selector transitions (ADDED/DELETED), bookmarks, streaming-list initial events,
//! timeouts, metadata-only watches, and that no-op writes emit nothing.

mod common;

use std::time::Duration;

use common::{DEADLINE, ecs, ecs_api, server_with_crd};
use futures::{Stream, StreamExt};
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, ObjectMeta, Patch, PatchParams, PostParams, WatchEvent, WatchParams};
use kube::core::PartialObjectMeta;
use local_apiserver::{LocalApiServer, ServerConfig};
use serde::de::DeserializeOwned;
use serde_json::json;

fn cm(name: &str, labels: &[(&str, &str)]) -> ConfigMap {
    ConfigMap {
        metadata: ObjectMeta {
            name: Some(name.into()),
            labels: Some(
                labels
                    .iter()
                    .map(|(k, v)| ((*k).into(), (*v).into()))
                    .collect(),
            ),
            ..ObjectMeta::default()
        },
        ..ConfigMap::default()
    }
}

/// Watch parameters without periodic bookmarks, so event sequences are deterministic.
fn plain() -> WatchParams {
    WatchParams::default().disable_bookmarks()
}

/// The next event, or a panic after the deadline.
async fn next<K: DeserializeOwned + Clone>(
    stream: &mut (impl Stream<Item = kube::Result<WatchEvent<K>>> + Unpin),
) -> WatchEvent<K> {
    tokio::time::timeout(DEADLINE, stream.next())
        .await
        .expect("an event in time")
        .expect("stream open")
        .expect("a decodable event")
}

fn describe<K: kube::Resource>(ev: &WatchEvent<K>) -> (String, String) {
    match ev {
        WatchEvent::Added(o) => ("ADDED".into(), o.meta().name.clone().unwrap_or_default()),
        WatchEvent::Modified(o) => ("MODIFIED".into(), o.meta().name.clone().unwrap_or_default()),
        WatchEvent::Deleted(o) => ("DELETED".into(), o.meta().name.clone().unwrap_or_default()),
        WatchEvent::Bookmark(b) => ("BOOKMARK".into(), b.metadata.resource_version.clone()),
        WatchEvent::Error(e) => ("ERROR".into(), e.code.to_string()),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replay_from_a_resource_version_then_live_events() {
    let server = LocalApiServer::start(([127, 0, 0, 1], 0).into())
        .await
        .expect("start");
    let api: Api<ConfigMap> = Api::namespaced(server.client(), "default");
    api.create(&PostParams::default(), &cm("a", &[]))
        .await
        .expect("a");
    let after_a = server.resource_version().to_string();
    api.create(&PostParams::default(), &cm("b", &[]))
        .await
        .expect("b");
    let mut stream = api.watch(&plain(), &after_a).await.expect("watch").boxed();
    assert_eq!(
        describe(&next(&mut stream).await),
        ("ADDED".into(), "b".into()),
        "replayed"
    );
    api.patch(
        "a",
        &PatchParams::default(),
        &Patch::Merge(json!({"data": {"k": "v"}})),
    )
    .await
    .expect("patch");
    assert_eq!(
        describe(&next(&mut stream).await),
        ("MODIFIED".into(), "a".into()),
        "live"
    );
    api.delete("b", &Default::default()).await.expect("delete");
    assert_eq!(
        describe(&next(&mut stream).await),
        ("DELETED".into(), "b".into())
    );
    let mut current = api
        .watch(&plain(), "0")
        .await
        .expect("watch from 0")
        .boxed();
    assert_eq!(
        describe(&next(&mut current).await),
        ("ADDED".into(), "a".into()),
        "synthetic ADDED for current state"
    );
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn compaction_closes_watches_and_old_versions_get_410_in_stream() {
    let server = LocalApiServer::start(([127, 0, 0, 1], 0).into())
        .await
        .expect("start");
    let api: Api<ConfigMap> = Api::namespaced(server.client(), "default");
    api.create(&PostParams::default(), &cm("a", &[]))
        .await
        .expect("a");
    let seen = server.resource_version().to_string();
    let mut open = api.watch(&plain(), &seen).await.expect("watch").boxed();
    server.compact();
    let closed = tokio::time::timeout(DEADLINE, open.next())
        .await
        .expect("the watch ends");
    assert!(closed.is_none(), "compaction closes open watches");
    let mut stream = api
        .watch(&plain(), &seen)
        .await
        .expect("HTTP 200 even when expired")
        .boxed();
    match next(&mut stream).await {
        WatchEvent::Error(e) => assert_eq!((e.code, e.reason.as_str()), (410, "Expired")),
        other => panic!("expected an in-stream 410, got {other:?}"),
    }
    assert!(
        tokio::time::timeout(DEADLINE, stream.next())
            .await
            .expect("ends")
            .is_none(),
        "and the stream ends"
    );
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn objects_entering_and_leaving_a_selector_are_added_and_deleted() {
    let server = LocalApiServer::start(([127, 0, 0, 1], 0).into())
        .await
        .expect("start");
    let api: Api<ConfigMap> = Api::namespaced(server.client(), "default");
    api.create(&PostParams::default(), &cm("x", &[("app", "other")]))
        .await
        .expect("x");
    let wp = plain().labels("app=web");
    let mut stream = api
        .watch(&wp, &server.resource_version().to_string())
        .await
        .expect("watch")
        .boxed();
    let relabel = |app: &'static str| Patch::Merge(json!({"metadata": {"labels": {"app": app}}}));
    api.patch("x", &PatchParams::default(), &relabel("web"))
        .await
        .expect("enter");
    assert_eq!(
        describe(&next(&mut stream).await),
        ("ADDED".into(), "x".into())
    );
    api.patch(
        "x",
        &PatchParams::default(),
        &Patch::Merge(json!({"data": {"a": "1"}})),
    )
    .await
    .expect("change");
    assert_eq!(
        describe(&next(&mut stream).await),
        ("MODIFIED".into(), "x".into())
    );
    api.patch("x", &PatchParams::default(), &relabel("other"))
        .await
        .expect("leave");
    assert_eq!(
        describe(&next(&mut stream).await),
        ("DELETED".into(), "x".into())
    );
    api.create(&PostParams::default(), &cm("y", &[("app", "web")]))
        .await
        .expect("y");
    assert_eq!(
        describe(&next(&mut stream).await),
        ("ADDED".into(), "y".into()),
        "x's other changes were filtered out"
    );
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bookmarks_streaming_lists_and_timeouts() {
    let config = ServerConfig {
        bookmark_interval: Duration::from_millis(100),
        ..ServerConfig::default()
    };
    let server = LocalApiServer::start_with(config).await.expect("start");
    let api: Api<ConfigMap> = Api::namespaced(server.client(), "default");
    api.create(&PostParams::default(), &cm("a", &[]))
        .await
        .expect("a");
    let rv = server.resource_version().to_string();
    let mut stream = api
        .watch(&WatchParams::default(), &rv)
        .await
        .expect("watch")
        .boxed();
    assert_eq!(
        describe(&next(&mut stream).await),
        ("BOOKMARK".into(), rv.clone())
    );

    let streaming = WatchParams::default().initial_events();
    let mut initial = api
        .watch(&streaming, "0")
        .await
        .expect("streaming list")
        .boxed();
    assert_eq!(
        describe(&next(&mut initial).await),
        ("ADDED".into(), "a".into())
    );
    match next(&mut initial).await {
        WatchEvent::Bookmark(b) => {
            assert_eq!(b.metadata.resource_version, rv);
            assert_eq!(
                b.metadata
                    .annotations
                    .get("k8s.io/initial-events-end")
                    .map(String::as_str),
                Some("true")
            );
        }
        other => panic!("expected the initial-events-end bookmark, got {other:?}"),
    }

    let mut short = api
        .watch(&plain().timeout(1), &rv)
        .await
        .expect("watch")
        .boxed();
    assert!(
        tokio::time::timeout(DEADLINE, short.next())
            .await
            .expect("timeoutSeconds ends the watch")
            .is_none()
    );
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metadata_watches_and_no_op_writes() {
    let server = server_with_crd().await;
    let api = ecs_api(&server);
    api.create(
        &PostParams::default(),
        &ecs("web", json!({"image": "nginx"})),
    )
    .await
    .expect("create");
    let meta: Api<PartialObjectMeta<ConfigMap>> = Api::namespaced(server.client(), "default");
    let cms: Api<ConfigMap> = Api::namespaced(server.client(), "default");
    let mut metadata_stream = cms
        .watch_metadata(&plain(), &server.resource_version().to_string())
        .await
        .expect("watch")
        .boxed();
    cms.create(&PostParams::default(), &cm("m", &[]))
        .await
        .expect("cm");
    assert_eq!(
        describe(&next(&mut metadata_stream).await),
        ("ADDED".into(), "m".into())
    );
    assert_eq!(
        meta.list_metadata(&Default::default())
            .await
            .expect("metadata list")
            .items
            .len(),
        1
    );

    let mut stream = api
        .watch(&plain(), &server.resource_version().to_string())
        .await
        .expect("watch")
        .boxed();
    let rv = server.resource_version();
    let current = api.get("web").await.expect("get");
    api.replace("web", &PostParams::default(), &current)
        .await
        .expect("no-op PUT");
    api.patch(
        "web",
        &PatchParams::default(),
        &Patch::Merge(json!({"spec": {"image": "nginx"}})),
    )
    .await
    .expect("no-op patch");
    let status = json!({"apiVersion": "demo.example.com/v1", "kind": "EcsService", "status": {"ready": true}});
    let ssa = PatchParams::apply("op");
    api.patch_status("web", &ssa, &Patch::Apply(&status))
        .await
        .expect("status apply");
    let after_status = server.resource_version();
    api.patch_status("web", &ssa, &Patch::Apply(&status))
        .await
        .expect("identical status apply");
    assert_eq!(after_status, rv + 1, "only the first status apply wrote");
    assert_eq!(
        server.resource_version(),
        after_status,
        "the repeated apply was a no-op"
    );
    match next(&mut stream).await {
        WatchEvent::Modified(o) => {
            assert_eq!(o.metadata.resource_version, Some(after_status.to_string()))
        }
        other => panic!("the first event must be the status write, got {other:?}"),
    }
    server.shutdown().await;
}
