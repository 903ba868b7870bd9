//! The resource registry: which group/version/resource triples are served, with their names,
//! scope, verbs, subresources, CRD printer columns and schemas. Built-ins are seeded here (their
//! Table columns are `table`'s); `crd` turns CRDs into entries. Holds no objects.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::Value;

use crate::schema::Schema;

/// The key objects of a resource are stored under. Core and `events.k8s.io` Events share one.
pub(crate) type StoreKey = Arc<str>;

/// Built-in resources that get special treatment on write or read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Builtin {
    Namespace,
    ConfigMap,
    Secret,
    ServiceAccount,
    /// core/v1 Event.
    CoreEvent,
    /// events.k8s.io/v1 Event.
    Event,
    Lease,
    Crd,
    /// rbac.authorization.k8s.io Roles, ClusterRoles and their bindings: stored, never enforced.
    Rbac,
    /// apps/v1 Deployments and core/v1 Services: stored with their spec, nothing runs them.
    Workload,
}

/// One additionalPrinterColumn of a CRD version, or a Table column `table` gives a built-in.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct PrinterColumn {
    pub name: String,
    pub type_: String,
    pub format: String,
    pub description: String,
    pub priority: i64,
    pub json_path: String,
}

/// A served version of a resource.
#[derive(Debug, Clone)]
pub(crate) struct VersionInfo {
    pub name: String,
    /// The CRD version's additionalPrinterColumns (empty for built-ins).
    pub printer_columns: Vec<PrinterColumn>,
    /// The structural schema custom resources of this version are validated against.
    pub schema: Option<Arc<Schema>>,
    /// The CRD's `openAPIV3Schema` as written, for the OpenAPI documents.
    pub raw_schema: Option<Arc<Value>>,
}

/// Everything the server knows about one resource (group + plural).
#[derive(Debug, Clone)]
pub(crate) struct ResourceInfo {
    pub group: String,
    /// Served versions, most preferred first.
    pub versions: Vec<VersionInfo>,
    pub storage_version: String,
    pub plural: String,
    pub singular: String,
    pub kind: String,
    pub list_kind: String,
    pub namespaced: bool,
    pub short_names: Vec<String>,
    pub categories: Vec<String>,
    pub verbs: &'static [&'static str],
    pub status_subresource: bool,
    /// Whether `metadata.generation` is maintained.
    pub generation: bool,
    /// `None` for custom resources.
    pub builtin: Option<Builtin>,
    pub store: StoreKey,
}

/// Verbs of every resource but namespaces.
pub(crate) const ALL_VERBS: &[&str] = &[
    "create",
    "delete",
    "deletecollection",
    "get",
    "list",
    "patch",
    "update",
    "watch",
];
const NAMESPACE_VERBS: &[&str] = &[
    "create", "delete", "get", "list", "patch", "update", "watch",
];

impl ResourceInfo {
    /// `group/version`, or `version` for the core group.
    pub fn api_version(&self, version: &str) -> String {
        group_version(&self.group, version)
    }

    /// The served version called `name`.
    pub fn version(&self, name: &str) -> Option<&VersionInfo> {
        self.versions.iter().find(|v| v.name == name)
    }

    /// Whether this is a custom resource served from a CRD.
    pub fn is_custom(&self) -> bool {
        self.builtin.is_none()
    }
}

/// `group/version`, or `version` for the core group.
pub(crate) fn group_version(group: &str, version: &str) -> String {
    if group.is_empty() {
        version.to_owned()
    } else {
        format!("{group}/{version}")
    }
}

/// The registry of served resources, keyed by (group, plural).
#[derive(Debug, Clone)]
pub(crate) struct Registry {
    resources: BTreeMap<(String, String), Arc<ResourceInfo>>,
    /// Bumped on every change, so clients' OpenAPI caches see new schemas.
    revision: u64,
}

impl Registry {
    /// A registry serving the built-in resources.
    pub fn with_builtins() -> Self {
        let mut registry = Self {
            resources: BTreeMap::new(),
            revision: 0,
        };
        let builtins = [
            (
                "",
                "namespaces",
                "Namespace",
                false,
                &["ns"][..],
                true,
                Builtin::Namespace,
            ),
            (
                "",
                "configmaps",
                "ConfigMap",
                true,
                &["cm"][..],
                false,
                Builtin::ConfigMap,
            ),
            (
                "",
                "secrets",
                "Secret",
                true,
                &[][..],
                false,
                Builtin::Secret,
            ),
            (
                "",
                "serviceaccounts",
                "ServiceAccount",
                true,
                &["sa"][..],
                false,
                Builtin::ServiceAccount,
            ),
            (
                "",
                "events",
                "Event",
                true,
                &["ev"][..],
                false,
                Builtin::CoreEvent,
            ),
            (
                "events.k8s.io",
                "events",
                "Event",
                true,
                &["ev"][..],
                false,
                Builtin::Event,
            ),
            (
                "coordination.k8s.io",
                "leases",
                "Lease",
                true,
                &[][..],
                false,
                Builtin::Lease,
            ),
            (
                "rbac.authorization.k8s.io",
                "roles",
                "Role",
                true,
                &[][..],
                false,
                Builtin::Rbac,
            ),
            (
                "rbac.authorization.k8s.io",
                "rolebindings",
                "RoleBinding",
                true,
                &[][..],
                false,
                Builtin::Rbac,
            ),
            (
                "rbac.authorization.k8s.io",
                "clusterroles",
                "ClusterRole",
                false,
                &[][..],
                false,
                Builtin::Rbac,
            ),
            (
                "rbac.authorization.k8s.io",
                "clusterrolebindings",
                "ClusterRoleBinding",
                false,
                &[][..],
                false,
                Builtin::Rbac,
            ),
            (
                "apps",
                "deployments",
                "Deployment",
                true,
                &["deploy"][..],
                true,
                Builtin::Workload,
            ),
            (
                "",
                "services",
                "Service",
                true,
                &["svc"][..],
                true,
                Builtin::Workload,
            ),
            (
                "apiextensions.k8s.io",
                "customresourcedefinitions",
                "CustomResourceDefinition",
                false,
                &["crd", "crds"][..],
                true,
                Builtin::Crd,
            ),
        ];
        for (group, plural, kind, namespaced, short, status, builtin) in builtins {
            let store: StoreKey = if plural == "events" {
                "events".into()
            } else {
                store_key(group, plural)
            };
            let info = ResourceInfo {
                group: group.into(),
                versions: vec![VersionInfo {
                    name: "v1".into(),
                    // A built-in's Table columns are `table`'s to know.
                    printer_columns: vec![],
                    schema: None,
                    raw_schema: None,
                }],
                storage_version: "v1".into(),
                plural: plural.into(),
                singular: kind.to_lowercase(),
                kind: kind.into(),
                list_kind: format!("{kind}List"),
                namespaced,
                short_names: short.iter().map(|s| (*s).to_owned()).collect(),
                categories: vec![],
                verbs: if builtin == Builtin::Namespace {
                    NAMESPACE_VERBS
                } else {
                    ALL_VERBS
                },
                status_subresource: status,
                generation: builtin == Builtin::Crd,
                builtin: Some(builtin),
                store,
            };
            registry
                .resources
                .insert((group.into(), plural.into()), Arc::new(info));
        }
        registry
    }

    /// The resource `plural` in `group`, whatever its versions.
    pub fn get(&self, group: &str, plural: &str) -> Option<&Arc<ResourceInfo>> {
        self.resources.get(&(group.to_owned(), plural.to_owned()))
    }

    /// The resource `plural` in `group` if `version` is served.
    pub fn lookup(&self, group: &str, version: &str, plural: &str) -> Option<Arc<ResourceInfo>> {
        self.get(group, plural)
            .filter(|info| info.version(version).is_some())
            .cloned()
    }

    /// All resources.
    pub fn all(&self) -> impl Iterator<Item = &Arc<ResourceInfo>> {
        self.resources.values()
    }

    /// Resources served at `group/version`.
    pub fn in_group_version<'a>(
        &'a self,
        group: &'a str,
        version: &'a str,
    ) -> impl Iterator<Item = &'a Arc<ResourceInfo>> + 'a {
        self.resources
            .values()
            .filter(move |i| i.group == group && i.version(version).is_some())
    }

    /// Non-core groups with their served versions, most preferred first.
    pub fn groups(&self) -> BTreeMap<String, Vec<String>> {
        let mut groups: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for info in self.resources.values().filter(|i| !i.group.is_empty()) {
            let versions = groups.entry(info.group.clone()).or_default();
            for v in &info.versions {
                if !versions.contains(&v.name) {
                    versions.push(v.name.clone());
                }
            }
        }
        for versions in groups.values_mut() {
            versions.sort_by(|a, b| {
                version_priority(b)
                    .cmp(&version_priority(a))
                    .then_with(|| a.cmp(b))
            });
        }
        groups
    }

    /// Counts changes to the registry.
    pub fn revision(&self) -> u64 {
        self.revision
    }

    /// Serves the resource a CRD defines (replacing an earlier registration of it).
    pub fn register(&mut self, info: ResourceInfo) {
        self.revision += 1;
        self.resources
            .insert((info.group.clone(), info.plural.clone()), Arc::new(info));
    }

    /// Stops serving the resource a CRD defined; returns its entry.
    pub fn unregister(&mut self, group: &str, plural: &str) -> Option<Arc<ResourceInfo>> {
        match self.get(group, plural) {
            Some(info) if info.is_custom() => {
                self.revision += 1;
                self.resources
                    .remove(&(group.to_owned(), plural.to_owned()))
            }
            _ => None,
        }
    }
}

/// The store key of a resource that shares storage with nothing else.
pub(crate) fn store_key(group: &str, plural: &str) -> StoreKey {
    if group.is_empty() {
        plural.into()
    } else {
        format!("{plural}.{group}").into()
    }
}

/// Kubernetes version ordering: GA above beta above alpha, higher numbers first; others last.
pub(crate) fn version_priority(version: &str) -> (u8, u32, u32) {
    let Some(rest) = version.strip_prefix('v') else {
        return (0, 0, 0);
    };
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    let Ok(major) = digits.parse::<u32>() else {
        return (0, 0, 0);
    };
    let tail = &rest[digits.len()..];
    let (stage, num) = if tail.is_empty() {
        (3, 0)
    } else if let Some(n) = tail.strip_prefix("beta") {
        (2, n.parse().unwrap_or(0))
    } else if let Some(n) = tail.strip_prefix("alpha") {
        (1, n.parse().unwrap_or(0))
    } else {
        return (0, 0, 0);
    };
    (stage, major, num)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_sort_like_kubernetes() {
        let mut v = vec!["v1alpha1", "v2", "v1beta2", "v1", "foo", "v1beta1"];
        v.sort_by(|a, b| {
            version_priority(b)
                .cmp(&version_priority(a))
                .then_with(|| a.cmp(b))
        });
        assert_eq!(v, ["v2", "v1", "v1beta2", "v1beta1", "v1alpha1", "foo"]);
    }

    #[test]
    fn events_of_both_groups_share_a_store() {
        let r = Registry::with_builtins();
        assert_eq!(
            r.get("", "events").unwrap().store,
            r.get("events.k8s.io", "events").unwrap().store
        );
        assert!(r.lookup("", "v2", "configmaps").is_none());
        assert_eq!(r.groups()["coordination.k8s.io"], ["v1"]);
    }
}
