//! What the process spends, split between the operator and the simulated account it talks to:
//! live heap by the side that allocated it (the simulator's code, marked by `aws_sim::scope`,
//! runs in an allocation group of its own), the CPU time threads spend inside the simulator,
//! and the moment each AWS operation reached it.

use std::cell::RefCell;
use std::sync::Mutex;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::time::Instant;

use tracking_allocator::{
    AllocationGroupId, AllocationGroupToken, AllocationRegistry, AllocationTracker,
};

/// Live bytes (as the allocator holds them, its tag included) of the operator side [0] and of
/// the simulator [1].
static LIVE: [AtomicI64; 2] = [AtomicI64::new(0), AtomicI64::new(0)];

/// Counts live bytes by the side that allocated them: the simulator's allocation group, or
/// the root group (everything else).
struct Sides;

fn side(group: &AllocationGroupId) -> usize {
    usize::from(*group != AllocationGroupId::ROOT)
}

impl AllocationTracker for Sides {
    fn allocated(&self, _addr: usize, _object: usize, wrapped: usize, group: AllocationGroupId) {
        LIVE[side(&group)].fetch_add(wrapped as i64, Ordering::Relaxed);
    }

    fn deallocated(
        &self,
        _addr: usize,
        _object: usize,
        wrapped: usize,
        source: AllocationGroupId,
        _current: AllocationGroupId,
    ) {
        LIVE[side(&source)].fetch_sub(wrapped as i64, Ordering::Relaxed);
    }
}

/// Starts counting (allocations made before are not counted).
pub fn start() {
    AllocationRegistry::set_global_tracker(Sides).expect("the only tracker");
    AllocationRegistry::enable_tracking();
    aws_sim::scope::observe(&WATCH);
}

/// Live heap of each side, in MiB: (operator, simulator).
pub fn live_mib() -> (f64, f64) {
    let mib = |s: usize| LIVE[s].load(Ordering::Relaxed) as f64 / (1024.0 * 1024.0);
    (mib(0), mib(1))
}

thread_local! {
    /// This thread's token of the simulator's allocation group.
    static SIMULATOR: RefCell<Option<AllocationGroupToken>> = const { RefCell::new(None) };
}

/// CPU nanoseconds spent inside the simulator, all threads.
static SIM_CPU: AtomicU64 = AtomicU64::new(0);

/// The watcher of the simulator's scope: CPU time inside it, and when operations arrive.
pub struct SimWatch {
    arrivals: Mutex<Option<Vec<(String, Instant)>>>,
}

/// The process's one watcher.
pub static WATCH: SimWatch = SimWatch {
    arrivals: Mutex::new(None),
};

impl SimWatch {
    /// From now on, remembers which operation arrives when (forgetting earlier arrivals).
    pub fn record(&self) {
        *self.arrivals.lock().expect("arrivals") = Some(Vec::new());
    }

    /// The operations that arrived since `record`, in order.
    pub fn arrivals(&self) -> Vec<(String, Instant)> {
        self.arrivals
            .lock()
            .expect("arrivals")
            .clone()
            .unwrap_or_default()
    }
}

impl aws_sim::scope::ScopeObserver for SimWatch {
    fn run_inside(&self, inside: &mut dyn FnMut()) {
        SIMULATOR.with(|token| {
            let mut token = token.borrow_mut();
            let token = token.get_or_insert_with(|| {
                AllocationGroupToken::register().expect("an allocation group")
            });
            let started = cpu_time::ThreadTime::now();
            let guard = token.enter();
            inside();
            drop(guard);
            SIM_CPU.fetch_add(started.elapsed().as_nanos() as u64, Ordering::Relaxed);
        });
    }

    fn operation(&self, operation: &str) {
        if let Some(arrivals) = self.arrivals.lock().expect("arrivals").as_mut() {
            arrivals.push((operation.to_owned(), Instant::now()));
        }
    }
}

/// CPU seconds spent inside the simulator so far.
pub fn sim_cpu_secs() -> f64 {
    SIM_CPU.load(Ordering::Relaxed) as f64 / 1e9
}

/// CPU seconds of the whole process so far (user + system).
pub fn process_cpu_secs() -> f64 {
    cpu_time::ProcessTime::now().as_duration().as_secs_f64()
}

/// CPU seconds (user + system) of another process, from `/proc/<pid>/stat` (0 when unreadable).
pub fn cpu_secs_of(pid: &str) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // The fields after the command (which may hold spaces), from field 3 on.
    let Some((_, rest)) = stat.rsplit_once(')') else {
        return 0.0;
    };
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    // utime and stime are fields 14 and 15 (11 and 12 after the command), in clock ticks.
    (ticks(11) + ticks(12)) / CLOCK_TICKS_PER_SEC
}

/// USER_HZ, the unit of `/proc/<pid>/stat` times (100 on every Linux architecture we run).
const CLOCK_TICKS_PER_SEC: f64 = 100.0;

/// Resident memory of process `pid` (`self` for this one), in MiB.
pub fn rss_mib(pid: &str) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}
