//! The protobuf schema of the built-in kinds: the descriptor set compiled from the vendored
//! Kubernetes `.proto` files, and the lookup from `apiVersion` + `kind` to a message.

use std::sync::OnceLock;

use prost_reflect::{DescriptorPool, MessageDescriptor};

/// The descriptor set `build.rs` compiles from `proto/`.
const DESCRIPTORS: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/kubernetes.desc"));

/// apimachinery's package of meta types (Status, DeleteOptions, ListMeta, WatchEvent…).
pub(crate) const META: &str = "k8s.io.apimachinery.pkg.apis.meta.v1";
/// apimachinery's runtime package (Unknown, RawExtension).
pub(crate) const RUNTIME: &str = "k8s.io.apimachinery.pkg.runtime";

/// The proto package of each API group served in protobuf, by group name.
const GROUPS: &[(&str, &str)] = &[
    ("", "k8s.io.api.core"),
    ("apps", "k8s.io.api.apps"),
    ("rbac.authorization.k8s.io", "k8s.io.api.rbac"),
    ("coordination.k8s.io", "k8s.io.api.coordination"),
    ("events.k8s.io", "k8s.io.api.events"),
];

/// The compiled descriptors (decoded once).
pub(crate) fn pool() -> &'static DescriptorPool {
    static POOL: OnceLock<DescriptorPool> = OnceLock::new();
    POOL.get_or_init(|| {
        DescriptorPool::decode(DESCRIPTORS).expect("build.rs wrote a valid descriptor set")
    })
}

/// A message of apimachinery's meta or runtime package, by its short name.
pub(crate) fn apimachinery(package: &str, name: &str) -> MessageDescriptor {
    pool()
        .get_message_by_name(&format!("{package}.{name}"))
        .unwrap_or_else(|| panic!("the descriptor set has {package}.{name}"))
}

/// The message for `apiVersion` + `kind`, when the kind has a protobuf form: a kind of a served
/// built-in group (`v1` ConfigMap → `k8s.io.api.core.v1.ConfigMap`), or a meta kind every
/// group version carries (Status, DeleteOptions, APIResourceList, PartialObjectMetadata…).
/// Custom resources have none: Kubernetes serves them as JSON only.
pub(crate) fn message_for(api_version: &str, kind: &str) -> Option<MessageDescriptor> {
    let (group, version) = api_version.rsplit_once('/').unwrap_or(("", api_version));
    if kind.is_empty() || version.is_empty() {
        return None;
    }
    let package = if group == "meta.k8s.io" {
        None
    } else {
        Some(GROUPS.iter().find(|(g, _)| *g == group)?.1)
    };
    if let Some(package) = package
        && let Some(message) = pool().get_message_by_name(&format!("{package}.{version}.{kind}"))
    {
        return Some(message);
    }
    (version == "v1")
        .then(|| pool().get_message_by_name(&format!("{META}.{kind}")))
        .flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_map_to_their_group_messages_and_meta_kinds_to_meta() {
        let name = |v: &str, k: &str| message_for(v, k).map(|m| m.full_name().to_owned());
        assert_eq!(
            name("v1", "ConfigMap").as_deref(),
            Some("k8s.io.api.core.v1.ConfigMap")
        );
        assert_eq!(
            name("apps/v1", "DeploymentList").as_deref(),
            Some("k8s.io.api.apps.v1.DeploymentList")
        );
        assert_eq!(
            name("rbac.authorization.k8s.io/v1", "ClusterRoleBinding").as_deref(),
            Some("k8s.io.api.rbac.v1.ClusterRoleBinding")
        );
        assert_eq!(
            name("v1", "Status").as_deref(),
            Some("k8s.io.apimachinery.pkg.apis.meta.v1.Status")
        );
        assert_eq!(
            name("apps/v1", "DeleteOptions").as_deref(),
            Some("k8s.io.apimachinery.pkg.apis.meta.v1.DeleteOptions")
        );
        assert_eq!(
            name("meta.k8s.io/v1", "PartialObjectMetadataList").as_deref(),
            Some("k8s.io.apimachinery.pkg.apis.meta.v1.PartialObjectMetadataList")
        );
        assert_eq!(name("ecs-operator.dev/v1alpha1", "EcsService"), None);
        assert_eq!(name("ecs-operator.dev/v1alpha1", "Status"), None);
        assert_eq!(name("batch/v1", "Job"), None);
        assert_eq!(name("v1", ""), None);
    }
}
