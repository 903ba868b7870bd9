//! The Helm chart as the tests see it: `helm template` rendered into JSON objects, and the RBAC
//! it grants the operator's ServiceAccount, evaluated against recorded API requests the way the
//! Kubernetes RBAC authorizer does (apiGroups × resources[/subresource] × verbs × resourceNames,
//! Roles only in their namespace).

use std::path::PathBuf;
use std::process::Command;

use serde_json::Value;

use crate::sandbox::workspace_root;
use crate::tools::{helm, run_ok};

/// `charts/ecs-operator`.
pub fn chart_dir() -> PathBuf {
    workspace_root().join("charts/ecs-operator")
}

/// Release name the tests render with.
pub const RELEASE: &str = "ecs";
/// Namespace the tests install into.
pub const NAMESPACE: &str = "ecs-system";

/// `helm template` of the chart with `args` (e.g. `--set`, `-f`), as YAML text.
pub fn template_text(args: &[&str]) -> String {
    run_ok(
        Command::new(helm())
            .args(["template", RELEASE])
            .arg(chart_dir())
            .args(["--namespace", NAMESPACE])
            .args(args),
    )
}

/// `helm template` of the chart with `args`, one JSON value per object.
pub fn template(args: &[&str]) -> Vec<Value> {
    parse_documents(&template_text(args))
}

/// Parses a multi-document YAML stream, dropping empty documents.
pub fn parse_documents(text: &str) -> Vec<Value> {
    let docs: Vec<Value> = serde_saphyr::from_multiple(text)
        .unwrap_or_else(|e| panic!("rendered YAML does not parse: {e}\n{text}"));
    docs.into_iter().filter(|d| !d.is_null()).collect()
}

/// The objects of `kind`.
pub fn of_kind<'a>(docs: &'a [Value], kind: &str) -> Vec<&'a Value> {
    docs.iter().filter(|d| d["kind"] == kind).collect()
}

/// The one object of `kind` named `name`.
pub fn find<'a>(docs: &'a [Value], kind: &str, name: &str) -> &'a Value {
    docs.iter()
        .find(|d| d["kind"] == kind && d["metadata"]["name"] == name)
        .unwrap_or_else(|| panic!("no {kind} {name} rendered"))
}

/// One RBAC policy rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    /// apiGroups ("" is core).
    pub api_groups: Vec<String>,
    /// resources, `plural` or `plural/subresource`.
    pub resources: Vec<String>,
    /// verbs.
    pub verbs: Vec<String>,
    /// resourceNames (empty: any).
    pub resource_names: Vec<String>,
}

impl Rule {
    fn from_json(rule: &Value) -> Rule {
        let list = |key: &str| -> Vec<String> {
            rule[key]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|v| v.as_str().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default()
        };
        Rule {
            api_groups: list("apiGroups"),
            resources: list("resources"),
            verbs: list("verbs"),
            resource_names: list("resourceNames"),
        }
    }

    /// Whether this rule allows `request`.
    pub fn allows(&self, request: &ResourceRequest) -> bool {
        let any = |list: &[String], value: &str| list.iter().any(|v| v == "*" || v == value);
        let resource = match &request.subresource {
            Some(sub) => format!("{}/{sub}", request.resource),
            None => request.resource.clone(),
        };
        let name_ok = self.resource_names.is_empty()
            || request
                .name
                .as_ref()
                .is_some_and(|n| self.resource_names.contains(n));
        any(&self.api_groups, &request.api_group)
            && any(&self.resources, &resource)
            && any(&self.verbs, &request.verb)
            && name_ok
    }
}

/// What the operator's ServiceAccount may do, from the rendered chart.
#[derive(Debug, Clone, Default)]
pub struct Grants {
    /// Rules bound cluster-wide (ClusterRoleBindings).
    pub cluster: Vec<Rule>,
    /// Rules bound in one namespace (RoleBindings), with that namespace.
    pub namespaced: Vec<(String, Rule)>,
}

impl Grants {
    /// The rules bound to ServiceAccount `namespace/name` in the rendered `docs`.
    pub fn for_service_account(docs: &[Value], namespace: &str, name: &str) -> Grants {
        let binds_sa = |binding: &Value| {
            binding["subjects"].as_array().is_some_and(|subjects| {
                subjects.iter().any(|s| {
                    s["kind"] == "ServiceAccount"
                        && s["name"] == name
                        && s["namespace"] == namespace
                })
            })
        };
        let rules_of = |kind: &str, role_name: &str, role_ns: Option<&str>| -> Vec<Rule> {
            let role = docs.iter().find(|d| {
                d["kind"] == kind
                    && d["metadata"]["name"] == role_name
                    && role_ns.is_none_or(|ns| d["metadata"]["namespace"] == ns)
            });
            let role =
                role.unwrap_or_else(|| panic!("binding refers to missing {kind} {role_name}"));
            role["rules"]
                .as_array()
                .map(|rules| rules.iter().map(Rule::from_json).collect())
                .unwrap_or_default()
        };
        let mut grants = Grants::default();
        for binding in docs.iter().filter(|d| binds_sa(d)) {
            let role_kind = binding["roleRef"]["kind"].as_str().unwrap_or_default();
            let role_name = binding["roleRef"]["name"].as_str().unwrap_or_default();
            match binding["kind"].as_str() {
                Some("ClusterRoleBinding") => {
                    grants
                        .cluster
                        .extend(rules_of("ClusterRole", role_name, None));
                }
                Some("RoleBinding") => {
                    let ns = binding["metadata"]["namespace"]
                        .as_str()
                        .expect("a RoleBinding has a namespace");
                    let rules = if role_kind == "Role" {
                        rules_of("Role", role_name, Some(ns))
                    } else {
                        rules_of("ClusterRole", role_name, None)
                    };
                    grants
                        .namespaced
                        .extend(rules.into_iter().map(|r| (ns.to_owned(), r)));
                }
                _ => {}
            }
        }
        grants
    }

    /// Whether some bound rule allows `request`.
    pub fn allows(&self, request: &ResourceRequest) -> bool {
        self.cluster.iter().any(|r| r.allows(request))
            || self.namespaced.iter().any(|(ns, r)| {
                request.namespace.as_deref() == Some(ns.as_str()) && r.allows(request)
            })
    }
}

/// An API request as the RBAC authorizer sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceRequest {
    /// get, list, watch, create, update, patch, delete, deletecollection.
    pub verb: String,
    /// API group ("" for core).
    pub api_group: String,
    /// Resource plural.
    pub resource: String,
    /// Subresource (`status`).
    pub subresource: Option<String>,
    /// Namespace of the request, if namespaced.
    pub namespace: Option<String>,
    /// Object name, if the request names one.
    pub name: Option<String>,
}

impl ResourceRequest {
    /// Classifies an HTTP request; `None` for non-resource URLs (discovery, /version, OpenAPI),
    /// which every authenticated client may read.
    pub fn parse(method: &str, path: &str, query: &str) -> Option<ResourceRequest> {
        let parts: Vec<&str> = path.trim_matches('/').split('/').collect();
        let (api_group, rest) = match parts.as_slice() {
            ["api", _version, rest @ ..] => ("", rest),
            ["apis", group, _version, rest @ ..] => (*group, rest),
            _ => return None,
        };
        let (namespace, rest) = match rest {
            ["namespaces", ns, resource, rest @ ..] => (Some(*ns), {
                let mut v = vec![*resource];
                v.extend_from_slice(rest);
                v
            }),
            other => (None, other.to_vec()),
        };
        let (resource, name, subresource) = match rest.as_slice() {
            [] => return None,
            [resource] => (*resource, None, None),
            [resource, name] => (*resource, Some(*name), None),
            [resource, name, sub, ..] => (*resource, Some(*name), Some(*sub)),
        };
        let watch = form_urlencoded::parse(query.as_bytes())
            .any(|(k, v)| k == "watch" && (v == "true" || v == "1"));
        let verb = match (method, name.is_some()) {
            ("GET", _) if watch => "watch",
            ("GET", true) => "get",
            ("GET", false) => "list",
            ("POST", _) => "create",
            ("PUT", _) => "update",
            ("PATCH", _) => "patch",
            ("DELETE", true) => "delete",
            ("DELETE", false) => "deletecollection",
            _ => return None,
        };
        Some(ResourceRequest {
            verb: verb.into(),
            api_group: api_group.into(),
            resource: resource.into(),
            subresource: subresource.map(str::to_owned),
            namespace: namespace.map(str::to_owned),
            name: name.map(str::to_owned),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(method: &str, path: &str, query: &str) -> ResourceRequest {
        ResourceRequest::parse(method, path, query).expect("a resource request")
    }

    #[test]
    fn classifies_requests_like_the_authorizer() {
        let r = req(
            "GET",
            "/apis/ecs-operator.dev/v1alpha1/ecsservices",
            "watch=true",
        );
        assert_eq!((r.verb.as_str(), r.namespace), ("watch", None));
        let r = req(
            "PATCH",
            "/apis/ecs-operator.dev/v1alpha1/namespaces/a/ecsservices/x/status",
            "",
        );
        assert_eq!(r.verb, "patch");
        assert_eq!(r.subresource.as_deref(), Some("status"));
        assert_eq!(r.namespace.as_deref(), Some("a"));
        assert_eq!(r.name.as_deref(), Some("x"));
        let r = req("POST", "/apis/events.k8s.io/v1/namespaces/a/events", "");
        assert_eq!(
            (r.verb.as_str(), r.api_group.as_str()),
            ("create", "events.k8s.io")
        );
        let r = req("GET", "/api/v1/namespaces/a", "");
        assert_eq!(
            (r.verb.as_str(), r.resource.as_str()),
            ("get", "namespaces")
        );
        assert_eq!(r.name.as_deref(), Some("a"));
        assert!(ResourceRequest::parse("GET", "/apis", "").is_none());
        assert!(ResourceRequest::parse("GET", "/openapi/v3", "").is_none());
        assert!(ResourceRequest::parse("GET", "/apis/ecs-operator.dev/v1alpha1", "").is_none());
    }

    #[test]
    fn rules_match_names_subresources_and_namespaces() {
        let rule = Rule {
            api_groups: vec!["coordination.k8s.io".into()],
            resources: vec!["leases".into()],
            verbs: vec!["get".into(), "patch".into()],
            resource_names: vec!["op".into()],
        };
        let grants = Grants {
            cluster: vec![],
            namespaced: vec![("sys".into(), rule)],
        };
        let lease = |ns: &str, name: &str, method: &str| {
            req(
                method,
                &format!("/apis/coordination.k8s.io/v1/namespaces/{ns}/leases/{name}"),
                "",
            )
        };
        assert!(grants.allows(&lease("sys", "op", "GET")));
        assert!(!grants.allows(&lease("sys", "other", "GET")));
        assert!(!grants.allows(&lease("default", "op", "GET")));
        assert!(!grants.allows(&lease("sys", "op", "DELETE")));
        let status = Rule {
            api_groups: vec!["g".into()],
            resources: vec!["things".into()],
            verbs: vec!["patch".into()],
            resource_names: vec![],
        };
        let grants = Grants {
            cluster: vec![status],
            namespaced: vec![],
        };
        assert!(grants.allows(&req("PATCH", "/apis/g/v1/namespaces/a/things/x", "")));
        assert!(!grants.allows(&req("PATCH", "/apis/g/v1/namespaces/a/things/x/status", "")));
    }
}
