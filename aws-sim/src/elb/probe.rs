//! HTTP checks through a simulated listener (`impl TestTrafficProbe for SimAws`). The request
//! is routed like the ALB would: the first rule (by priority) whose path pattern matches, else
//! the default rule; the target group with the largest forward weight answers, through the
//! tasks registered with it:
//!
//! | tasks behind the target group | answer |
//! |---|---|
//! | none healthy (nothing running, or an `unhealthy` image) | 503 |
//! | a healthy task whose essential container's image tag contains `smokefail` | 500 (passes ECS and target group health checks, fails the smoke test) |
//! | otherwise | 200 |
//!
//! Every check is counted as the call `probe:HttpGet`; faults can be injected on it.

use async_trait::async_trait;

use crate::account::SimAws;
use crate::ecs::blue_green::start::task_target_group;
use crate::ecs::model::{SimService, SimTask};
use crate::gate::Operation;
use crate::time::Secs;
use crate::world::World;
use aws::probe::{ProbeResult, TestTrafficProbe};

/// probe:HttpGet.
const HTTP_GET: Operation = Operation {
    key: "probe:HttpGet",
    mutating: false,
};

/// What the simulated service answers for a smoke-test failing image.
pub const SMOKE_FAIL_STATUS: u16 = 500;
/// What the load balancer answers with no healthy target.
pub const NO_TARGET_STATUS: u16 = 503;

impl World {
    /// The status a GET of `path` through `listener_arn` gets at `now`.
    pub(crate) fn probe(&self, listener_arn: &str, path: &str, now: Secs) -> Result<u16, String> {
        let rules = self
            .elb_rules(listener_arn)
            .ok_or_else(|| format!("listener {listener_arn} not found"))?;
        let rule = rules
            .iter()
            .find(|r| !r.is_default && r.path_patterns.iter().any(|p| glob(p, path)))
            .or_else(|| rules.iter().find(|r| r.is_default))
            .ok_or_else(|| "the listener has no matching rule".to_owned())?;
        let Some(target) = rule
            .forward
            .iter()
            .filter(|t| t.weight > 0)
            .max_by_key(|t| t.weight)
        else {
            return Ok(NO_TARGET_STATUS);
        };
        let mut healthy = 0;
        let mut smoke_fail = false;
        for svc in self.ecs.clusters.values().flat_map(|c| c.services.values()) {
            for task in &svc.tasks {
                if task_target_group(svc, task) != Some(target.target_group_arn.as_str())
                    || !task.is_healthy(now)
                {
                    continue;
                }
                healthy += 1;
                smoke_fail |= self
                    .essential_image_tags(svc, task)
                    .any(|tag| tag.contains("smokefail"));
            }
        }
        Ok(if healthy == 0 {
            NO_TARGET_STATUS
        } else if smoke_fail {
            SMOKE_FAIL_STATUS
        } else {
            200
        })
    }
}

impl World {
    /// The image tags of the essential containers `task` runs (from its deployment's task
    /// definition); what decides how the simulated service answers.
    pub(crate) fn essential_image_tags<'a>(
        &'a self,
        svc: &'a SimService,
        task: &SimTask,
    ) -> impl Iterator<Item = &'a str> + Clone + use<'a> {
        svc.deployments
            .iter()
            .find(|d| d.seq == task.deployment)
            .and_then(|d| self.ecs.task_definitions.resolve(&d.task_definition))
            .into_iter()
            .flat_map(|td| td.definition.container_definitions.iter())
            .filter(|c| c.essential.unwrap_or(true))
            .map(|c| image_tag(&c.image))
    }
}

#[async_trait]
impl TestTrafficProbe for SimAws {
    async fn probe(&self, listener_arn: &str, path: &str) -> ProbeResult {
        match self
            .call(&HTTP_GET, |w, now| Ok(w.probe(listener_arn, path, now)))
            .await
        {
            Ok(Ok(status)) => ProbeResult {
                status: Some(status),
                detail: format!("GET {path} through the test listener answered {status}"),
            },
            Ok(Err(detail)) => ProbeResult {
                status: None,
                detail,
            },
            Err(e) => ProbeResult {
                status: None,
                detail: format!("GET {path} failed: {e}"),
            },
        }
    }
}

/// An ALB path pattern match: `*` any run of characters, `?` exactly one.
fn glob(pattern: &str, path: &str) -> bool {
    let (p, s): (Vec<char>, Vec<char>) = (pattern.chars().collect(), path.chars().collect());
    let (mut pi, mut si) = (0, 0);
    let (mut star, mut mark) = (None, 0);
    while si < s.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == s[si]) {
            pi += 1;
            si += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = si;
            pi += 1;
        } else if let Some(st) = star {
            pi = st + 1;
            mark += 1;
            si = mark;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

/// The tag of an image reference; empty when there is none.
fn image_tag(image: &str) -> &str {
    let image = image.split('@').next().unwrap_or(image);
    match image.rsplit_once(':') {
        Some((_, tag)) if !tag.contains('/') => tag,
        _ => "",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_patterns_match_like_an_alb() {
        assert!(glob("/api/auth/*", "/api/auth/actuator/health"));
        assert!(glob("/api/auth/*", "/api/auth/"));
        assert!(!glob("/api/auth/*", "/api/events/x"));
        assert!(!glob("/api/auth/*", "/auth/actuator/health"));
        assert!(glob("/a?c", "/abc"));
        assert!(glob("*", "/anything"));
        assert_eq!(image_tag("repo/app:1.0-smokefail"), "1.0-smokefail");
    }

    /// Every HTTP check of the example rollouts is routed, on every seeded listener, by the path
    /// rule that forwards to its own service's target groups, never by another service's rule
    /// or the default rule.
    #[test]
    fn example_http_checks_reach_their_own_service() {
        let seed = crate::SimSeed::event_booking();
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/event-booking");
        let mut checked = 0;
        for entry in std::fs::read_dir(dir).expect("examples/event-booking is readable") {
            let file = entry.expect("a directory entry").path();
            if !file.to_string_lossy().ends_with("-rollout.yaml") {
                continue;
            }
            let text = std::fs::read_to_string(&file).expect("a readable rollout");
            let rollout: serde_json::Value = serde_saphyr::from_str(&text).expect("valid YAML");
            let service = rollout["spec"]["serviceRef"]["name"]
                .as_str()
                .expect("spec.serviceRef.name");
            let checks = rollout["spec"]["analysis"]["httpChecks"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            for check in &checks {
                let path = check["path"].as_str().expect("httpChecks[].path");
                for listener in seed.load_balancers.iter().flat_map(|lb| &lb.listeners) {
                    let mut rules: Vec<_> = listener.rules.iter().collect();
                    rules.sort_by_key(|r| r.priority);
                    let rule = rules
                        .into_iter()
                        .find(|r| glob(&r.path_pattern, path))
                        .unwrap_or_else(|| {
                            panic!(
                                "{}: {path} matches no path rule on port {}",
                                file.display(),
                                listener.port
                            )
                        });
                    assert!(
                        rule.target_groups
                            .iter()
                            .all(|tg| tg.name.starts_with(&format!("{service}-"))),
                        "{}: {path} is routed by {} on port {}, not to {service}",
                        file.display(),
                        rule.path_pattern,
                        listener.port
                    );
                    checked += 1;
                }
            }
        }
        assert_eq!(checked, 10, "five rollouts, one check each, two listeners");
    }
}
