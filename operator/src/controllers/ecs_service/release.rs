//! An EcsService as a member of a ReleaseGroup: the release its spec belongs to, the revision it
//! ran before that release, and what to do once the group has rolled the release back. The
//! group only decides (in its status); every AWS call stays the member's own.

use crds::ReleaseGroup;
use crds::common::{RELEASE_ANNOTATION, RELEASE_GROUP_LABEL};
use crds::ecs_service::{EcsService, EcsServiceStatus, MemberRelease};
use crds::release_group::OnFailure;

use crate::controllers::Stores;

/// The reason while a member goes back to its revision before the release.
pub const ROLLING_BACK: &str = "RollingBackRelease";
/// The reason once it runs that revision again (or never left it).
pub const ROLLED_BACK: &str = "ReleaseRolledBack";

/// The member's group and release, as its labels, annotations and the group's status say.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Membership {
    /// The ReleaseGroup its label names.
    pub group: String,
    /// Its `ecs-operator.dev/release` annotation.
    pub release: Option<String>,
    /// Set when the group has rolled this member's release back and this member is to follow.
    pub rollback: Option<GroupRollback>,
}

/// A release the group rolled back because of another member.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GroupRollback {
    /// The release id.
    pub release: String,
    /// The member that failed.
    pub failed_member: String,
    /// Why it failed.
    pub reason: String,
}

/// The membership of `obj`, when its label names a group.
pub fn membership(obj: &EcsService, stores: &Stores) -> Option<Membership> {
    let group = obj
        .metadata
        .labels
        .as_ref()?
        .get(RELEASE_GROUP_LABEL)?
        .clone();
    let release = (obj.metadata.annotations.as_ref())
        .and_then(|a| a.get(RELEASE_ANNOTATION))
        .filter(|id| !id.is_empty())
        .cloned();
    let namespace = obj.metadata.namespace.as_deref().unwrap_or_default();
    let name = obj.metadata.name.as_deref().unwrap_or_default();
    let rollback = stores
        .release_group(namespace, &group)
        .and_then(|g| rollback_for(&g, release.as_deref(), name));
    Some(Membership {
        group,
        release,
        rollback,
    })
}

/// Whether `group` has rolled back `release` and the member `name` is to follow.
pub fn rollback_for(
    group: &ReleaseGroup,
    release: Option<&str>,
    name: &str,
) -> Option<GroupRollback> {
    if group.spec.on_failure != OnFailure::RollbackAll {
        return None;
    }
    let failure = group.status.as_ref()?.failure.as_ref()?;
    // The failed member was rolled back by its own engine and keeps its own report.
    (Some(failure.release.as_str()) == release && failure.member != name).then(|| GroupRollback {
        release: failure.release.clone(),
        failed_member: failure.member.clone(),
        reason: failure.reason.clone(),
    })
}

/// The key a failed release is remembered by: the content hash, and for a member of a release
/// the release id too, so a new release id of the same spec is tried again.
pub fn failure_key(content_hash: &str, membership: Option<&Membership>) -> String {
    match membership.and_then(|m| m.release.as_deref()) {
        Some(release) => format!("{content_hash}@{release}"),
        None => content_hash.to_owned(),
    }
}

/// What the status keeps of the release: the revision before it is taken when the member
/// first sees the release id, from the last good revision — which only moves once a new
/// revision completed, so a lost status write recomputes the same value.
pub fn record(
    prev: &EcsServiceStatus,
    membership: Option<&Membership>,
    live: Option<&str>,
) -> Option<MemberRelease> {
    let id = membership?.release.clone()?;
    if let Some(known) = prev.release.as_ref().filter(|r| r.id == id) {
        return Some(MemberRelease {
            rollback_to: None,
            ..known.clone()
        });
    }
    Some(MemberRelease {
        id,
        previous_task_definition_arn: prev
            .last_good_task_definition_arn
            .clone()
            .or_else(|| live.map(str::to_owned)),
        rollback_to: None,
    })
}

#[cfg(test)]
#[path = "release_tests.rs"]
mod tests;
