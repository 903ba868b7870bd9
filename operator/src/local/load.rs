//! The sandbox's load knob: simulated CPU/memory load of ECS services, so a person can watch
//! the ScalingPolicies scale. Loads come from `--load NAME=CPU[/MEMORY]` and from ConfigMaps
//! named `sim-load` (data `NAME: "CPU[/MEMORY]"`, NAME an EcsService of the ConfigMap's
//! namespace), e.g. `kubectl patch configmap sim-load -n event-booking --type merge -p
//! '{"data":{"auth":"95"}}'`. Also prints every scaling activity of the simulated account.

use std::collections::{BTreeMap, BTreeSet};

use crds::EcsService;
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, ListParams};

use aws_sim::SimAws;

/// Name of the ConfigMaps the knob reads.
pub const CONFIG_MAP: &str = "sim-load";

/// A load asked for: percent of the service's tasks' capacity at its current desired count.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Load {
    /// CPU percent.
    pub cpu: f64,
    /// Memory percent (defaults to the CPU value).
    pub memory: f64,
}

/// Parses `CPU[/MEMORY]` (percent, 0–1000).
pub fn parse_load(value: &str) -> Result<Load, String> {
    let percent = |s: &str| {
        s.trim()
            .trim_end_matches('%')
            .parse::<f64>()
            .ok()
            .filter(|v| (0.0..=1000.0).contains(v))
            .ok_or_else(|| format!("{s:?} is not a percentage (0-1000)"))
    };
    let (cpu, memory) = match value.split_once('/') {
        Some((c, m)) => (percent(c)?, percent(m)?),
        None => {
            let v = percent(value)?;
            (v, v)
        }
    };
    Ok(Load { cpu, memory })
}

/// One `--load` flag.
#[derive(Debug, Clone, PartialEq)]
pub struct LoadFlag {
    /// Namespace of the EcsService (any when absent).
    pub namespace: Option<String>,
    /// EcsService name.
    pub name: String,
    /// The load.
    pub load: Load,
}

/// Parses `--load [NAMESPACE/]NAME=CPU[/MEMORY]`.
pub fn parse_flag(flag: &str) -> Result<LoadFlag, String> {
    let (target, value) = flag
        .split_once('=')
        .ok_or_else(|| format!("{flag:?} must be [NAMESPACE/]NAME=CPU[/MEMORY], e.g. auth=85"))?;
    let (namespace, name) = match target.split_once('/') {
        Some((ns, name)) => (Some(ns.to_owned()), name.to_owned()),
        None => (None, target.to_owned()),
    };
    Ok(LoadFlag {
        namespace,
        name,
        load: parse_load(value)?,
    })
}

/// What the knob has applied and printed so far.
pub struct Knob {
    sim: SimAws,
    /// Loads from flags.
    flags: Vec<LoadFlag>,
    /// Last load applied per (namespace, EcsService name).
    applied: BTreeMap<(String, String), Load>,
    /// Activities already printed.
    printed: BTreeSet<String>,
}

impl Knob {
    /// A knob over `sim` with the `--load` flags.
    pub fn new(sim: SimAws, flags: Vec<LoadFlag>) -> Self {
        Self {
            sim,
            flags,
            applied: BTreeMap::new(),
            printed: BTreeSet::new(),
        }
    }

    /// Applies loads that changed (once their ECS service exists) and prints new activities.
    pub async fn tick(&mut self, client: &kube::Client, elapsed: &str) {
        let mut wanted: BTreeMap<(String, String), Load> = BTreeMap::new();
        let services: Vec<EcsService> = Api::<EcsService>::all(client.clone())
            .list(&ListParams::default())
            .await
            .map(|l| l.items)
            .unwrap_or_default();
        for flag in &self.flags {
            for svc in services.iter().filter(|s| {
                s.metadata.name.as_deref() == Some(flag.name.as_str())
                    && flag
                        .namespace
                        .as_deref()
                        .is_none_or(|ns| s.metadata.namespace.as_deref() == Some(ns))
            }) {
                let ns = svc.metadata.namespace.clone().unwrap_or_default();
                wanted.insert((ns, flag.name.clone()), flag.load);
            }
        }
        let config_maps = Api::<ConfigMap>::all(client.clone())
            .list(&ListParams::default().fields(&format!("metadata.name={CONFIG_MAP}")))
            .await
            .map(|l| l.items)
            .unwrap_or_default();
        for cm in config_maps
            .into_iter()
            .filter(|cm| cm.metadata.name.as_deref() == Some(CONFIG_MAP))
        {
            let ns = cm.metadata.namespace.clone().unwrap_or_default();
            for (name, value) in cm.data.unwrap_or_default() {
                match parse_load(&value) {
                    Ok(load) => {
                        wanted.insert((ns.clone(), name), load);
                    }
                    Err(e) => println!("[{elapsed}] ✘ ConfigMap {ns}/{CONFIG_MAP} {name}: {e}"),
                }
            }
        }
        for ((ns, name), load) in wanted {
            if self.applied.get(&(ns.clone(), name.clone())) == Some(&load) {
                continue;
            }
            let Some(svc) = services.iter().find(|s| {
                s.metadata.namespace.as_deref() == Some(ns.as_str())
                    && s.metadata.name.as_deref() == Some(name.as_str())
            }) else {
                continue;
            };
            if self.sim.set_service_load(
                &svc.spec.cluster,
                svc.service_name(),
                load.cpu,
                load.memory,
            ) {
                println!(
                    "[{elapsed}] ⚙ load {ns}/{name}: CPU {:.0} %, memory {:.0} %",
                    load.cpu, load.memory
                );
                self.applied.insert((ns, name), load);
            }
        }
        for record in self.sim.scaling_activities() {
            if self.printed.insert(record.activity.activity_id.clone()) {
                println!(
                    "[{elapsed}] ⇅ {:<44} {} ({})",
                    record.resource_id, record.activity.description, record.activity.cause
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_and_values_parse() {
        assert_eq!(
            parse_flag("auth=85").unwrap(),
            LoadFlag {
                namespace: None,
                name: "auth".into(),
                load: Load {
                    cpu: 85.0,
                    memory: 85.0
                }
            }
        );
        assert_eq!(
            parse_flag("event-booking/ticket=90/60%").unwrap(),
            LoadFlag {
                namespace: Some("event-booking".into()),
                name: "ticket".into(),
                load: Load {
                    cpu: 90.0,
                    memory: 60.0
                }
            }
        );
        assert!(parse_flag("auth").is_err());
        assert!(parse_flag("auth=lots").is_err());
        assert!(parse_load("-5").is_err());
    }
}
