//! Scale benchmark of the operator (prints figures; asserts nothing about time).
//!
//! A fleet of EcsServices over many clusters (and, with `BENCH_ACCOUNTS` and `BENCH_REGIONS`,
//! over accounts bound to namespaces and regions), half of them with a ScalingPolicy and a tenth with an ECS-native
//! BlueGreenRollout, on simulated accounts with 20 ms of (simulated) AWS latency, driven
//! through a Kubernetes API server in a child process. It prints:
//! - every AWS read of one steady-state resync against its minimum, and the AWS and
//!   Kubernetes writes of that no-op resync; CPU seconds per 1,000 no-op reconciles;
//! - the simulated time for every service to change image, against the token-bucket floor of
//!   each account, with throttling answered and throttling surfaced in status;
//! - the operator's memory apart from the simulator's (allocations are tagged by side), and
//!   the API server's per object;
//! - watch event → first AWS call of a change, idle and with 1,000 reconciles queued;
//! - a restart: to caches filled, to the first reconcile, to every object reconciled.
//!
//! Run: `cargo bench -p ecs-operator --bench scale`; env BENCH_SERVICES (1000),
//! BENCH_CLUSTERS (50), BENCH_ACCOUNTS (1), BENCH_REGIONS (1 or 2), BENCH_SPEED (simulated
//! seconds per second, 20).

mod apiserver;
mod cluster;
mod fleet;
mod latency;
mod phases;
mod tally;

/// The system allocator, with each allocation tagged by its group (see `tally`).
#[global_allocator]
static ALLOC: tracking_allocator::Allocator<std::alloc::System> =
    tracking_allocator::Allocator::system();

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[tokio::main]
async fn main() {
    if std::env::var(apiserver::ROLE).as_deref() == Ok("apiserver") {
        return apiserver::serve().await;
    }
    tally::start();
    let fleet = fleet::Fleet {
        services: env_or("BENCH_SERVICES", 1000),
        clusters: env_or("BENCH_CLUSTERS", 50),
        accounts: env_or("BENCH_ACCOUNTS", 1),
        regions: env_or("BENCH_REGIONS", 1usize).clamp(1, fleet::REGIONS.len()),
    };
    let speed: f64 = env_or("BENCH_SPEED", 20.0);
    phases::run(fleet, speed).await;
}
