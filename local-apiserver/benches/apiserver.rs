//! Benchmark (not a timed test): `cargo bench -p local-apiserver`. Prints creates/s for 10,000
//! custom objects, the latency of a 10,000-object list, watch delivery latency p50/p99 with 100
//! concurrent watchers, and the process RSS at 10,000 objects. Client and server share this
//! process (and its cores), as they do in the operator's tests.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::{StreamExt, TryStreamExt};
use kube::ResourceExt;
use kube::api::{
    Api, ApiResource, DynamicObject, ListParams, Patch, PatchParams, PostParams, WatchEvent,
    WatchParams,
};
use kube::core::GroupVersionKind;
use local_apiserver::LocalApiServer;
use serde_json::json;

const OBJECTS: usize = 10_000;
const CONCURRENCY: usize = 32;
const WATCHERS: usize = 100;
const UPDATES: usize = 300;

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    runtime.block_on(run());
}

fn resource() -> ApiResource {
    ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk("demo.example.com", "v1", "EcsService"),
        "ecsservices",
    )
}

fn object(i: usize) -> DynamicObject {
    let mut obj = DynamicObject::new(&format!("svc-{i:05}"), &resource()).within("default");
    obj.metadata.labels = Some([("app".to_owned(), format!("app-{}", i % 10))].into());
    obj.data = json!({"spec": {"image": format!("registry.example.com/team/service-{i}:1.0.{i}"), "replicas": i % 50, "minReplicas": 0}});
    obj
}

fn rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let kib: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0);
    kib / 1024.0
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[idx.min(sorted.len() - 1)]
}

fn verdict(ok: bool) -> &'static str {
    if ok { "meets target" } else { "MISSES target" }
}

async fn run() {
    let server = LocalApiServer::start(([127, 0, 0, 1], 0).into())
        .await
        .expect("server starts");
    let crd =
        serde_saphyr::from_str::<serde_json::Value>(include_str!("../tests/fixtures/crd.yaml"))
            .expect("fixture CRD");
    server.install_crd(&crd).expect("CRD installs");
    let client = server.client();
    let api: Api<DynamicObject> = Api::namespaced_with(client.clone(), "default", &resource());
    println!(
        "local-apiserver benchmark: {} cores, client and server in one process",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );

    // Creates.
    let baseline = rss_mib();
    let started = Instant::now();
    futures::stream::iter(0..OBJECTS)
        .map(|i| {
            let api = api.clone();
            async move {
                api.create(&PostParams::default(), &object(i))
                    .await
                    .map(drop)
            }
        })
        .buffer_unordered(CONCURRENCY)
        .try_for_each(|()| async { Ok(()) })
        .await
        .expect("every create succeeds");
    let elapsed = started.elapsed();
    let rate = OBJECTS as f64 / elapsed.as_secs_f64();
    println!(
        "creates: {OBJECTS} custom objects in {:.2} s with {CONCURRENCY} in flight = {rate:.0} creates/s (target >= 5000: {})",
        elapsed.as_secs_f64(),
        verdict(rate >= 5000.0)
    );

    let rss = rss_mib();
    println!(
        "RSS with {OBJECTS} objects stored: {rss:.0} MiB ({baseline:.0} MiB before the creates; target < 200 MiB: {})",
        verdict(rss < 200.0)
    );

    // A 10,000-object list: raw response (server + transfer) and decoded by kube-rs.
    let url = "/apis/demo.example.com/v1/namespaces/default/ecsservices";
    let mut raw = Vec::new();
    for _ in 0..7 {
        let t = Instant::now();
        let body = client
            .request_text(http::Request::get(url).body(Vec::new()).expect("request"))
            .await
            .expect("list");
        raw.push(t.elapsed());
        assert!(body.len() > OBJECTS * 100);
    }
    raw.sort();
    let t = Instant::now();
    let typed = api.list(&ListParams::default()).await.expect("typed list");
    let decoded = t.elapsed();
    assert_eq!(typed.items.len(), OBJECTS);
    drop(typed);
    let median = raw[raw.len() / 2];
    println!(
        "list: {OBJECTS} objects, median {:.1} ms (min {:.1}, max {:.1}) over {} runs; with kube-rs decoding to DynamicObject {:.1} ms (target < 200 ms: {})",
        median.as_secs_f64() * 1e3,
        raw[0].as_secs_f64() * 1e3,
        raw[raw.len() - 1].as_secs_f64() * 1e3,
        raw.len(),
        decoded.as_secs_f64() * 1e3,
        verdict(median < Duration::from_millis(200))
    );

    // Watch delivery at two update rates: a moderate one and one near what two shared cores
    // sustain (each update is decoded by 100 kube-rs watchers in this same process).
    for pace in [Duration::from_millis(5), Duration::from_millis(2)] {
        watch_delivery(&server, &api, pace).await;
    }
    println!(
        "RSS at the end (after the client decoded a {OBJECTS}-object list and ran {WATCHERS} watchers): {:.0} MiB",
        rss_mib()
    );
    server.shutdown().await;
}

/// 100 watchers on one object, `UPDATES` sequential updates stamped with a sequence number, one
/// every `pace`; prints the delivery latency from just before each update is sent.
async fn watch_delivery(server: &LocalApiServer, api: &Api<DynamicObject>, pace: Duration) {
    let sent: Arc<Mutex<Vec<Option<Instant>>>> = Arc::new(Mutex::new(vec![None; UPDATES]));
    let samples: Arc<Mutex<Vec<Duration>>> =
        Arc::new(Mutex::new(Vec::with_capacity(WATCHERS * UPDATES)));
    let from = server.resource_version().to_string();
    let mut tasks = Vec::new();
    for _ in 0..WATCHERS {
        let stream = api
            .watch(
                &WatchParams::default()
                    .disable_bookmarks()
                    .fields("metadata.name=svc-00000"),
                &from,
            )
            .await
            .expect("watch");
        let (sent, samples) = (Arc::clone(&sent), Arc::clone(&samples));
        tasks.push(tokio::spawn(async move {
            let mut stream = stream.boxed();
            let mut seen = 0;
            while let Some(Ok(WatchEvent::Modified(obj))) = stream.next().await {
                let received = Instant::now();
                let seq: Option<usize> = obj.annotations().get("seq").and_then(|s| s.parse().ok());
                if let Some(at) = seq.and_then(|s| sent.lock().expect("lock")[s]) {
                    samples.lock().expect("lock").push(received - at);
                }
                seen += 1;
                if seen == UPDATES {
                    break;
                }
            }
        }));
    }
    let mut ticks = tokio::time::interval(pace);
    for seq in 0..UPDATES {
        ticks.tick().await;
        sent.lock().expect("lock")[seq] = Some(Instant::now());
        let patch = json!({"metadata": {"annotations": {"seq": seq.to_string()}}});
        api.patch("svc-00000", &PatchParams::default(), &Patch::Merge(&patch))
            .await
            .expect("update");
    }
    for task in tasks {
        tokio::time::timeout(Duration::from_secs(60), task)
            .await
            .expect("watchers finish")
            .expect("watcher task");
    }
    let mut samples = samples.lock().expect("lock").clone();
    samples.sort();
    let (p50, p99) = (percentile(&samples, 0.50), percentile(&samples, 0.99));
    println!(
        "watch delivery: {WATCHERS} watchers x {UPDATES} updates, one every {} ms ({:.0} deliveries/s), p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms (target p99 < 10 ms: {})",
        pace.as_millis(),
        WATCHERS as f64 / pace.as_secs_f64(),
        p50.as_secs_f64() * 1e3,
        p99.as_secs_f64() * 1e3,
        samples.last().copied().unwrap_or_default().as_secs_f64() * 1e3,
        verdict(p99 < Duration::from_millis(10))
    );
}
