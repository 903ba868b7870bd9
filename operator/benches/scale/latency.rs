//! Latency of a change: from the patch of an EcsService to the first AWS call after it and
//! to the change's own RegisterTaskDefinition, idle and with many reconciles triggered just
//! before.

use std::time::{Duration, Instant};

use crate::cluster;
use crate::phases::Bench;
use crate::tally::WATCH;

impl Bench {
    /// The services latency is measured on: plain ones (no policy, no rollout), from the end.
    fn probes(&self, n: usize) -> Vec<usize> {
        (0..self.fleet.services)
            .rev()
            .filter(|&i| !self.fleet.scaled(i) && !self.fleet.rolled_out(i))
            .take(n)
            .collect()
    }

    /// One change of service `i`'s image: from the patch to the first AWS call, and to its
    /// RegisterTaskDefinition.
    async fn one_change(&self, i: usize, image: &str) -> Option<(Duration, Duration)> {
        WATCH.record();
        let sent = Instant::now();
        cluster::set_image(&self.client, &self.fleet, vec![i], image).await;
        let deadline = sent + Duration::from_secs(60);
        loop {
            let arrivals = WATCH.arrivals();
            if let Some((_, at)) = arrivals
                .iter()
                .find(|(op, _)| *op == "ecs:RegisterTaskDefinition")
            {
                let first = arrivals.first().map_or(*at, |(_, t)| *t);
                return Some((first - sent, *at - sent));
            }
            if Instant::now() > deadline {
                return None;
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    }

    /// `samples` changes, one at a time, with nothing else going on.
    pub async fn latency_idle(&self, samples: usize) {
        // Let the task-definition bucket refill after the fleet-wide change.
        self.sleep_simulated(Duration::from_secs(30)).await;
        let mut first = Vec::new();
        let mut write = Vec::new();
        for (k, i) in self.probes(samples).into_iter().enumerate() {
            if let Some((f, w)) = self.one_change(i, &format!("repo/app:idle-{k}")).await {
                first.push(f);
                write.push(w);
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        print_latency("idle", Some(&first), &write);
    }

    /// `samples` changes, each right after `queued` other services were touched.
    pub async fn latency_loaded(&self, samples: usize, queued: usize) {
        self.sleep_simulated(Duration::from_secs(30)).await;
        let mut write = Vec::new();
        let probes = self.probes(samples + queued);
        let (probes, others) = probes.split_at(samples.min(probes.len()));
        for (k, &i) in probes.iter().enumerate() {
            cluster::touch(&self.client, &self.fleet, others.to_vec(), &k.to_string()).await;
            if let Some((_, w)) = self.one_change(i, &format!("repo/app:loaded-{k}")).await {
                write.push(w);
            }
            self.sleep_simulated(Duration::from_secs(20)).await;
        }
        // The first call after the change is one of the triggered reconciles' own: only the
        // change's RegisterTaskDefinition is its.
        print_latency(
            &format!("with {} reconciles triggered just before", others.len()),
            None,
            &write,
        );
    }
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let k = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[k].as_secs_f64() * 1000.0
}

fn print_latency(when: &str, first: Option<&[Duration]>, write: &[Duration]) {
    let sorted = |d: &[Duration]| {
        let mut d = d.to_vec();
        d.sort();
        d
    };
    let first = first.map(|f| {
        let f = sorted(f);
        format!(
            "first AWS call p50 {:.1} ms, p99 {:.1} ms; ",
            percentile(&f, 0.5),
            percentile(&f, 0.99)
        )
    });
    let write = sorted(write);
    println!(
        "latency {when} ({} samples), from the patch: {}its RegisterTaskDefinition p50 {:.1} ms, p99 {:.1} ms",
        write.len(),
        first.unwrap_or_default(),
        percentile(&write, 0.5),
        percentile(&write, 0.99),
    );
}
