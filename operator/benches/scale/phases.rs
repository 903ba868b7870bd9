//! The benchmark's phases, in order, each printing its figures: create the fleet, one
//! steady-state resync, memory, every service changing image, latency idle and loaded, and a
//! restart.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use aws::accounts::AwsAccounts;
use aws::clock::{Clock, SharedClock, SimClock};
use aws_sim::SimAccounts;
use crds::{BlueGreenRollout, EcsService, ScalingPolicy};
use ecs_operator::controllers::Settings;
use ecs_operator::http::Health;
use ecs_operator::manager::{self, ManagerConfig};
use ecs_operator::metrics::Metrics;
use tokio_util::sync::CancellationToken;

use crate::apiserver::ApiChild;
use crate::cluster;
use crate::fleet::{Fleet, REGIONS};
use crate::tally;

/// The operator's buckets for RegisterTaskDefinition (burst, refill per second) and AWS's.
const OPERATOR_REGISTER: (f64, f64) = (10.0, 0.9);
const AWS_REGISTER: (f64, f64) = (20.0, 1.0);

/// The running benchmark: the fleet, the simulated accounts, the API server and the operator.
pub struct Bench {
    /// What runs.
    pub fleet: Fleet,
    /// The simulated clock everything runs on.
    pub clock: Arc<SimClock>,
    sim: SimAccounts,
    metrics: Arc<Metrics>,
    api: ApiChild,
    /// The benchmark's own client (the operator has another).
    pub client: kube::Client,
    operator: Option<(CancellationToken, tokio::task::JoinHandle<()>)>,
}

/// Runs every phase.
pub async fn run(fleet: Fleet, speed: f64) {
    let rss_start = tally::rss_mib("self");
    let clock = Arc::new(SimClock::new(jiff::Timestamp::now(), speed));
    let sim = SimAccounts::new(clock.clone(), fleet.seed());
    for world in sim.worlds() {
        world.set_latency(Duration::from_millis(20));
    }
    let api = ApiChild::start().await;
    let client = kube::Client::try_from(api.config.clone()).expect("client");
    let mut b = Bench {
        fleet,
        clock,
        sim,
        metrics: Arc::new(Metrics::new()),
        api,
        client,
        operator: None,
    };
    cluster::install(&b.client, &b.fleet).await;
    let api_empty = tally::rss_mib(&b.api.pid());
    cluster::create(&b.client, &b.fleet).await;
    let objects = b.objects();
    let api_objects = tally::rss_mib(&b.api.pid());
    println!(
        "fleet: {} EcsServices over {} clusters in {} account(s) × {} region(s), {} ScalingPolicies, {} BlueGreenRollouts ({objects} objects)",
        b.fleet.services,
        b.fleet.clusters,
        b.fleet.accounts,
        b.fleet.regions,
        b.count(Kind::Scaling),
        b.count(Kind::Rollout),
    );
    let (op_heap0, sim_heap0) = tally::live_mib();
    let rss_before = tally::rss_mib("self");

    let t0 = b.clock.now();
    let wall = Instant::now();
    b.start_operator(None);
    let done = b.wait_ready(Some(":1")).await;
    let created = max_since(&done, t0);
    println!(
        "created: every object Ready after {created:.0} s simulated ({:.1} s wall); RegisterTaskDefinition floor {:.0} s (operator's bucket) / {:.0} s (AWS's); slowest account {:.0} s, fastest {:.0} s",
        wall.elapsed().as_secs_f64(),
        b.register_floor(OPERATOR_REGISTER),
        b.register_floor(AWS_REGISTER),
        max_since(&done, t0),
        min_since(&done, t0),
    );

    b.steady_resync().await;
    b.memory(
        rss_start,
        rss_before,
        (op_heap0, sim_heap0),
        api_empty,
        api_objects,
    );
    b.image_change().await;
    b.latency_idle(50).await;
    b.latency_loaded(20, 1000.min(b.fleet.services / 2)).await;
    b.restart().await;
    b.stop_operator().await;
    b.api.stop();
}

#[derive(Clone, Copy)]
enum Kind {
    Service,
    Scaling,
    Rollout,
}

impl Bench {
    fn count(&self, kind: Kind) -> usize {
        (0..self.fleet.services)
            .filter(|&i| match kind {
                Kind::Service => true,
                Kind::Scaling => self.fleet.scaled(i),
                Kind::Rollout => self.fleet.rolled_out(i),
            })
            .count()
    }

    fn objects(&self) -> usize {
        self.count(Kind::Service) + self.count(Kind::Scaling) + self.count(Kind::Rollout)
    }

    /// Services of each namespace.
    fn per_namespace(&self) -> BTreeMap<String, usize> {
        let mut counts = BTreeMap::new();
        for i in 0..self.fleet.services {
            *counts.entry(self.fleet.placement(i).namespace).or_default() += 1;
        }
        counts
    }

    /// The simulated time one RegisterTaskDefinition per service takes at least with `bucket`,
    /// every account × region draining its own bucket at once.
    fn register_floor(&self, (burst, refill): (f64, f64)) -> f64 {
        self.fleet
            .per_world()
            .values()
            .map(|&k| (k as f64 - burst).max(0.0) / refill)
            .fold(0.0, f64::max)
    }

    fn start_operator(&mut self, health: Option<Arc<Health>>) {
        let shared: SharedClock = self.clock.clone();
        let aws = Arc::new(AwsAccounts::new(
            REGIONS[0],
            Arc::new(self.sim.clone()),
            shared.clone(),
            self.metrics.clone(),
        ));
        let config = ManagerConfig {
            settings: Settings {
                resync: Duration::from_secs(600),
                poll: Duration::from_secs(15),
                wait_poll: Duration::from_secs(10),
                dry_run: false,
            },
            concurrency: 64,
            readiness: health,
            ..ManagerConfig::default()
        };
        let client = kube::Client::try_from(self.api.config.clone()).expect("client");
        let token = CancellationToken::new();
        let task = tokio::spawn(manager::run(
            client,
            aws,
            shared,
            self.metrics.clone(),
            config,
            token.clone(),
        ));
        self.operator = Some((token, task));
    }

    async fn stop_operator(&mut self) {
        if let Some((token, task)) = self.operator.take() {
            token.cancel();
            let _ = tokio::time::timeout(Duration::from_secs(30), task).await;
        }
    }

    /// Waits until every object is Ready (services on a task definition ending in `suffix`);
    /// the simulated moment each namespace's services all were.
    async fn wait_ready(&self, suffix: Option<&str>) -> BTreeMap<String, jiff::Timestamp> {
        let expected = self.per_namespace();
        loop {
            let services = cluster::ready::<EcsService>(&self.client, suffix).await;
            let all = expected
                .iter()
                .all(|(ns, want)| services.get(ns).is_some_and(|(n, _)| n == want));
            if all {
                let total = |m: BTreeMap<String, (usize, Option<jiff::Timestamp>)>| {
                    m.values().map(|(n, _)| n).sum::<usize>()
                };
                let scaling = total(cluster::ready::<ScalingPolicy>(&self.client, None).await);
                let rollouts = total(cluster::ready::<BlueGreenRollout>(&self.client, None).await);
                if scaling == self.count(Kind::Scaling) && rollouts == self.count(Kind::Rollout) {
                    let now = self.clock.now();
                    return services
                        .into_iter()
                        .map(|(ns, (_, at))| (ns, at.unwrap_or(now)))
                        .collect();
                }
            }
            cluster::pause().await;
        }
    }

    fn reconciles(&self, controller: &str) -> f64 {
        self.metrics
            .encode()
            .lines()
            .filter(|l| l.starts_with("ecs_operator_reconcile_total") && l.contains(controller))
            .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
            .sum()
    }

    fn controllers(&self) -> [(&'static str, usize); 3] {
        [
            ("ecsservice", self.count(Kind::Service)),
            ("scalingpolicy", self.count(Kind::Scaling)),
            ("bluegreenrollout", self.count(Kind::Rollout)),
        ]
    }

    /// Waits until every controller reconciled each of its objects once more than `before`.
    async fn wait_reconciled(&self, before: &[f64; 3]) {
        loop {
            let all = self
                .controllers()
                .iter()
                .zip(before)
                .all(|((c, n), b)| self.reconciles(c) >= b + *n as f64);
            if all {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    fn reconciles_now(&self) -> [f64; 3] {
        self.controllers().map(|(c, _)| self.reconciles(c))
    }

    fn calls(&self) -> BTreeMap<String, u64> {
        let mut all = BTreeMap::new();
        for world in self.sim.worlds() {
            for (op, n) in world.calls() {
                *all.entry(op).or_default() += n;
            }
        }
        all
    }

    fn writes(&self) -> u64 {
        self.sim.worlds().iter().map(|w| w.write_calls()).sum()
    }

    fn reset_calls(&self) {
        for world in self.sim.worlds() {
            world.reset_calls();
        }
    }

    /// One steady-state resync: every read against its minimum, the writes, the CPU.
    async fn steady_resync(&self) {
        self.reset_calls();
        let rv = cluster::resource_version(&self.client).await;
        let before = self.reconciles_now();
        let cpu = (tally::process_cpu_secs(), tally::sim_cpu_secs());
        self.wait_reconciled(&before).await;
        let cpu = (
            tally::process_cpu_secs() - cpu.0,
            tally::sim_cpu_secs() - cpu.1,
        );
        let after = self.reconciles_now();
        let reconciles: f64 = after.iter().zip(&before).map(|(a, b)| a - b).sum();
        let calls = self.calls();
        let moved = cluster::resource_version(&self.client).await != rv;
        println!(
            "steady-state resync ({reconciles:.0} reconciles): {} AWS writes; Kubernetes writes: {}",
            self.writes(),
            if moved {
                "some (resourceVersion moved)"
            } else {
                "none (resourceVersion unchanged)"
            }
        );
        let describe_min: u64 = self
            .fleet
            .per_cluster()
            .values()
            .map(|k| k.div_ceil(10) as u64)
            .sum();
        let targets_min = self
            .scaling_per_world()
            .values()
            .map(|k| k.div_ceil(50) as u64)
            .sum::<u64>();
        for (op, n) in &calls {
            let minimum = match op.as_str() {
                "ecs:DescribeServices" => format!(
                    "minimum {describe_min} (⌈services/10⌉ per cluster): {:.3}x",
                    *n as f64 / describe_min as f64
                ),
                "application-autoscaling:DescribeScalableTargets" => format!(
                    "minimum {targets_min} (⌈policies/50⌉ per account × region): {:.3}x",
                    *n as f64 / targets_min.max(1) as f64
                ),
                _ => format!("{:.3} per reconcile", *n as f64 / reconciles),
            };
            println!("  {op}: {n} calls, {minimum}");
        }
        println!(
            "CPU: {:.2} s per 1,000 no-op reconciles (process {:.1} s for {reconciles:.0}, of which the simulator {:.1} s: operator {:.2} s per 1,000)",
            cpu.0 / reconciles * 1000.0,
            cpu.0,
            cpu.1,
            (cpu.0 - cpu.1) / reconciles * 1000.0,
        );
    }

    /// ScalingPolicies of each account × region.
    fn scaling_per_world(&self) -> BTreeMap<(String, &'static str), usize> {
        let mut counts = BTreeMap::new();
        for i in (0..self.fleet.services).filter(|&i| self.fleet.scaled(i)) {
            let p = self.fleet.placement(i);
            *counts.entry((p.account, p.region)).or_default() += 1;
        }
        counts
    }

    fn memory(
        &self,
        rss_start: f64,
        rss_before: f64,
        heaps_before: (f64, f64),
        api_empty: f64,
        api_objects: f64,
    ) {
        let (op_heap, sim_heap) = tally::live_mib();
        let rss = tally::rss_mib("self");
        let objects = self.objects() as f64;
        // The process's growth since the controllers started, shared in proportion to what
        // each side holds live.
        let grown = rss - rss_start;
        let share = op_heap / (op_heap + sim_heap).max(f64::EPSILON);
        println!(
            "memory, {objects:.0} objects: operator heap {op_heap:.1} MiB live (before the controllers started {:.1}), simulator heap {sim_heap:.1} MiB (seeded {:.1}); process RSS {rss:.0} MiB ({rss_start:.0} at start, {rss_before:.0} before the controllers started), operator's share {:.0} MiB",
            heaps_before.0,
            heaps_before.1,
            rss_start + grown * share,
        );
        let api = tally::rss_mib(&self.api.pid());
        println!(
            "API server: {api:.0} MiB RSS ({api_empty:.0} with no objects, {api_objects:.0} with them before any status): {:.1} KiB per object",
            (api - api_empty) * 1024.0 / objects,
        );
    }

    /// Every service changes image.
    async fn image_change(&self) {
        self.reset_calls();
        let throttles = self.throttles();
        let t1 = self.clock.now();
        let wall = Instant::now();
        let cpu = (
            tally::process_cpu_secs(),
            tally::sim_cpu_secs(),
            tally::cpu_secs_of(&self.api.pid()),
        );
        cluster::set_image(
            &self.client,
            &self.fleet,
            (0..self.fleet.services).collect(),
            "repo/app:2",
        )
        .await;
        let done = self.wait_ready(Some(":2")).await;
        let rolled = max_since(&done, t1);
        let operator_floor = self.register_floor(OPERATOR_REGISTER);
        let aws_floor = self.register_floor(AWS_REGISTER);
        let in_status = cluster::throttled::<EcsService>(&self.client).await
            + cluster::throttled::<ScalingPolicy>(&self.client).await
            + cluster::throttled::<BlueGreenRollout>(&self.client).await;
        println!(
            "image change of {} services: {rolled:.0} s simulated ({:.1} s wall); token-bucket floor {aws_floor:.0} s at AWS's RegisterTaskDefinition bucket (20 burst, 1/s): {:.3}x; {operator_floor:.0} s at the operator's own (10 burst, 0.9/s): {:.3}x",
            self.fleet.services,
            wall.elapsed().as_secs_f64(),
            rolled / aws_floor.max(1.0),
            rolled / operator_floor.max(1.0),
        );
        // Cores busy while it ran: near the machine's count, the figure is bound by this
        // machine's CPU (simulated time runs at BENCH_SPEED regardless), not by the buckets.
        let secs = wall.elapsed().as_secs_f64().max(f64::EPSILON);
        let sim_cpu = tally::sim_cpu_secs() - cpu.1;
        let operator_cpu = tally::process_cpu_secs() - cpu.0 - sim_cpu;
        let api_cpu = tally::cpu_secs_of(&self.api.pid()) - cpu.2;
        println!(
            "  CPU while it ran: operator and the bench's client {operator_cpu:.0} s ({:.2} cores), simulator {sim_cpu:.0} s ({:.2}), API server {api_cpu:.0} s ({:.2}), of {} cores",
            operator_cpu / secs,
            sim_cpu / secs,
            api_cpu / secs,
            std::thread::available_parallelism().map_or(1, |n| n.get()),
        );
        println!(
            "  per account: slowest done after {:.0} s, fastest after {:.0} s; throttling: {} throttled AWS answers, {in_status} objects with throttling in status; {} RegisterTaskDefinition calls",
            max_since(&done, t1),
            min_since(&done, t1),
            self.throttles() - throttles,
            self.calls()
                .get("ecs:RegisterTaskDefinition")
                .copied()
                .unwrap_or(0),
        );
    }

    fn throttles(&self) -> u64 {
        self.metrics
            .encode()
            .lines()
            .filter(|l| l.starts_with("ecs_operator_aws_throttles_total"))
            .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
            .sum::<f64>() as u64
    }

    /// Sleeps `d` of simulated time.
    pub async fn sleep_simulated(&self, d: Duration) {
        tokio::time::sleep(self.clock.to_wall(d)).await;
    }

    /// A restart with every object in the cache and in AWS: to caches filled, to the first
    /// reconcile, to every object reconciled.
    async fn restart(&mut self) {
        self.stop_operator().await;
        let before = self.reconciles_now();
        let total_before: f64 = before.iter().sum();
        let health = Arc::new(Health::default());
        let started = Instant::now();
        self.start_operator(Some(health.clone()));
        let mut filled = None;
        let mut first = None;
        loop {
            if filled.is_none() && health.is_ready() {
                filled = Some(started.elapsed());
            }
            if first.is_none() && self.reconciles_now().iter().sum::<f64>() > total_before {
                first = Some(started.elapsed());
            }
            let all = self
                .controllers()
                .iter()
                .zip(&before)
                .all(|((c, n), b)| self.reconciles(c) >= b + *n as f64);
            if all {
                break;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let ms = |d: Option<Duration>| d.map_or(f64::NAN, |d| d.as_secs_f64() * 1000.0);
        println!(
            "restart with {} objects: caches filled after {:.0} ms, first reconcile after {:.0} ms, every object reconciled after {:.1} s",
            self.objects(),
            ms(filled),
            ms(first),
            started.elapsed().as_secs_f64(),
        );
    }
}

fn max_since(done: &BTreeMap<String, jiff::Timestamp>, t: jiff::Timestamp) -> f64 {
    done.values()
        .map(|d| d.duration_since(t).as_secs_f64())
        .fold(0.0, f64::max)
}

fn min_since(done: &BTreeMap<String, jiff::Timestamp>, t: jiff::Timestamp) -> f64 {
    done.values()
        .map(|d| d.duration_since(t).as_secs_f64())
        .fold(f64::INFINITY, f64::min)
}
