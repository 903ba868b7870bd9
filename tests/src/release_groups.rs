//! Helpers for the ReleaseGroup tests: the group manifest and its members, EcsServices of the
//! seeded account labelled into the group and annotated with their release.

use aws_sim::SimAws;

use crate::rollouts::service_manifest;

/// A ReleaseGroup `name` of the default namespace with `onFailure: RollbackAll`.
pub fn group_manifest(name: &str) -> String {
    format!(
        "apiVersion: ecs-operator.dev/v1alpha1\nkind: ReleaseGroup\nmetadata: {{name: {name}, namespace: default}}\nspec:\n  onFailure: RollbackAll\n"
    )
}

/// EcsService `name` as a member of `group` in release `release`, depending on `deps`, running
/// `image`.
pub fn member_manifest(
    sim: &SimAws,
    group: &str,
    name: &str,
    deps: &[&str],
    release: &str,
    image: &str,
) -> String {
    let metadata = format!(
        "metadata:\n  name: {name}\n  namespace: default\n  labels: {{ecs-operator.dev/release-group: {group}}}\n  annotations: {{ecs-operator.dev/release: \"{release}\"}}"
    );
    service_manifest(sim, name, image)
        .replace(
            &format!("metadata: {{name: {name}, namespace: default}}"),
            &metadata,
        )
        .replace(
            "spec:\n",
            &format!("spec:\n  dependsOn: [{}]\n", deps.join(", ")),
        )
}
