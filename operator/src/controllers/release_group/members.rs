//! Each member of a ReleaseGroup as the group sees it: its release id, where it stands in the
//! group's release (read from its own status only), and the release order (`dependsOn` first).

use std::collections::{BTreeMap, BTreeSet};

use crds::common::{RELEASE_ANNOTATION, condition};
use crds::ecs_service::EcsService;
use crds::release_group::{MemberPhase, MemberStatus};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;

use crate::controllers::ecs_service::plan::short_arn;
use crate::controllers::ecs_service::release::{ROLLED_BACK, ROLLING_BACK};

/// The reasons of a member's Degraded condition that mean its own release failed.
const FAILED: [&str; 2] = ["DeploymentFailed", "RolloutFailed"];

/// One member, read from its object.
#[derive(Debug, Clone, PartialEq)]
pub struct Member {
    /// The EcsService's name.
    pub name: String,
    /// Its release annotation.
    pub release: Option<String>,
    /// The members it depends on.
    pub depends_on: Vec<String>,
    /// Whether its status describes its current generation and release.
    pub current: bool,
    /// Its conditions.
    pub conditions: Vec<Condition>,
    /// The revision it runs.
    pub revision: Option<String>,
    /// The revision it ran before its release.
    pub previous: Option<String>,
}

impl Member {
    /// Reads a member from its EcsService.
    pub fn of(service: &EcsService) -> Member {
        let status = service.status.clone().unwrap_or_default();
        let release = (service.metadata.annotations.as_ref())
            .and_then(|a| a.get(RELEASE_ANNOTATION))
            .filter(|id| !id.is_empty())
            .cloned();
        let recorded = status.release.as_ref().map(|r| r.id.clone());
        Member {
            name: service.metadata.name.clone().unwrap_or_default(),
            current: status.observed_generation == service.metadata.generation
                && recorded == release,
            depends_on: service.spec.depends_on.clone().unwrap_or_default(),
            release,
            revision: status.task_definition_arn.clone(),
            previous: status
                .release
                .as_ref()
                .and_then(|r| r.previous_task_definition_arn.clone()),
            conditions: status.conditions,
        }
    }

    fn condition(&self, type_: &str) -> Option<&Condition> {
        self.conditions.iter().find(|c| c.type_ == type_)
    }

    fn is(&self, type_: &str) -> bool {
        self.condition(type_).is_some_and(|c| c.status == "True")
    }

    /// Why its own release failed, when it did.
    pub fn failure(&self) -> Option<String> {
        let degraded = self.condition(condition::DEGRADED)?;
        (self.current && degraded.status == "True" && FAILED.contains(&degraded.reason.as_str()))
            .then(|| degraded.message.clone())
    }

    /// Where it stands in `release`.
    pub fn phase(&self, release: Option<&str>) -> MemberPhase {
        if release.is_none() || self.release.as_deref() != release {
            return MemberPhase::NotInRelease;
        }
        if !self.current {
            return MemberPhase::Pending;
        }
        if self.failure().is_some() {
            return MemberPhase::Failed;
        }
        let reason = |type_| self.condition(type_).map(|c| c.reason.as_str());
        if reason(condition::READY) == Some(ROLLED_BACK) {
            return MemberPhase::RolledBack;
        }
        if reason(condition::READY) == Some(ROLLING_BACK) {
            return MemberPhase::RollingBack;
        }
        if self.is(condition::READY) {
            return if self.previous.is_some() && self.previous == self.revision {
                MemberPhase::Unchanged
            } else {
                MemberPhase::Released
            };
        }
        if self.is(condition::STALLED) {
            return MemberPhase::Stalled;
        }
        if reason(condition::READY) == Some("WaitingForDependencies") {
            return MemberPhase::Waiting;
        }
        MemberPhase::Progressing
    }

    /// Its Ready message while it is not Ready.
    pub fn message(&self) -> Option<String> {
        let ready = self.condition(condition::READY)?;
        (ready.status != "True" && !ready.message.is_empty()).then(|| ready.message.clone())
    }

    /// `family:revision` of what it runs and of what it ran before.
    pub fn revisions(&self) -> (Option<String>, Option<String>) {
        let short = |arn: &Option<String>| arn.as_deref().map(|a| short_arn(a).to_owned());
        (short(&self.revision), short(&self.previous))
    }
}

/// The members in release order: each after the members it depends on, otherwise by name. A
/// dependency outside the group, or a cycle, does not hold a member back in the order.
pub fn in_release_order(mut members: Vec<Member>) -> Vec<Member> {
    members.sort_by(|a, b| a.name.cmp(&b.name));
    let names: BTreeSet<String> = members.iter().map(|m| m.name.clone()).collect();
    let mut waiting: BTreeMap<String, BTreeSet<String>> = members
        .iter()
        .map(|m| {
            let deps = (m.depends_on.iter())
                .filter(|d| names.contains(*d) && **d != m.name)
                .cloned()
                .collect();
            (m.name.clone(), deps)
        })
        .collect();
    let mut ordered = Vec::with_capacity(members.len());
    while !members.is_empty() {
        let next = members
            .iter()
            .position(|m| waiting[&m.name].is_empty())
            .unwrap_or(0);
        let member = members.remove(next);
        for deps in waiting.values_mut() {
            deps.remove(&member.name);
        }
        ordered.push(member);
    }
    ordered
}

/// The release the group follows: a release id a member has moved to since the group last
/// looked (the one most such members carry; ties: the greatest), else the recorded one, else the
/// id most members carry. Members still carrying an older id do not pull the group back.
pub fn current_release(
    recorded: Option<&str>,
    seen: &[MemberStatus],
    members: &[Member],
) -> Option<String> {
    let seen_release = |name: &str| {
        seen.iter()
            .find(|s| s.name == name)
            .and_then(|s| s.release.as_deref())
    };
    let moved = most_common(members.iter().filter_map(|m| {
        let id = m.release.as_deref()?;
        (Some(id) != recorded && Some(id) != seen_release(&m.name)).then_some(id)
    }));
    moved
        .or_else(|| recorded.map(str::to_owned))
        .or_else(|| most_common(members.iter().filter_map(|m| m.release.as_deref())))
}

fn most_common<'a>(ids: impl Iterator<Item = &'a str>) -> Option<String> {
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for id in ids {
        *counts.entry(id).or_default() += 1;
    }
    counts
        .into_iter()
        .max_by(|(a, ca), (b, cb)| ca.cmp(cb).then(a.cmp(b)))
        .map(|(id, _)| id.to_owned())
}
