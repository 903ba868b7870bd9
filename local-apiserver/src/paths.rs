//! Request paths: which `Route` a URL path addresses (discovery, OpenAPI, health, or a resource
//! path with group, version, namespace, resource, name and subresource). Pure: the registry only
//! tells namespaced resources from cluster-scoped ones.

use crate::registry::Registry;

/// A request path under a group/version that names a resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ResourcePath {
    pub group: String,
    pub version: String,
    pub namespace: Option<String>,
    pub plural: String,
    pub name: Option<String>,
    pub subresource: Option<String>,
}

/// What a path addresses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Route {
    Version,
    Health,
    CoreVersions,
    Groups,
    Group(String),
    Resources { group: String, version: String },
    OpenApiIndex,
    OpenApiDocument { group: String, version: String },
    OpenApiV2,
    Resource(ResourcePath),
}

fn decode(segment: &str) -> String {
    form_urlencoded::parse(format!("x={}", segment.replace('+', "%2B")).as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

/// Parses a path; the registry tells `/api/v1/namespaces/NS/RESOURCE` from `/api/v1/namespaces/NAME/status`.
pub(crate) fn parse(path: &str, registry: &Registry) -> Option<Route> {
    let trimmed = path.trim_end_matches('/');
    let segments: Vec<String> = trimmed.split('/').skip(1).map(decode).collect();
    let s: Vec<&str> = segments.iter().map(String::as_str).collect();
    Some(match s.as_slice() {
        [] | [""] => return None,
        ["version"] => Route::Version,
        ["healthz" | "readyz" | "livez", ..] => Route::Health,
        ["api"] => Route::CoreVersions,
        ["apis"] => Route::Groups,
        ["apis", group] => Route::Group((*group).to_owned()),
        ["api", version] => Route::Resources {
            group: String::new(),
            version: (*version).to_owned(),
        },
        ["apis", group, version] => Route::Resources {
            group: (*group).to_owned(),
            version: (*version).to_owned(),
        },
        ["openapi", "v3"] => Route::OpenApiIndex,
        ["openapi", "v3", "api", version] => Route::OpenApiDocument {
            group: String::new(),
            version: (*version).to_owned(),
        },
        ["openapi", "v3", "apis", group, version] => Route::OpenApiDocument {
            group: (*group).to_owned(),
            version: (*version).to_owned(),
        },
        ["openapi", "v2"] | ["swagger.json"] => Route::OpenApiV2,
        ["api", version, rest @ ..] => Route::Resource(resource_path("", version, rest, registry)?),
        ["apis", group, version, rest @ ..] => {
            Route::Resource(resource_path(group, version, rest, registry)?)
        }
        _ => return None,
    })
}

fn resource_path(
    group: &str,
    version: &str,
    rest: &[&str],
    registry: &Registry,
) -> Option<ResourcePath> {
    let own = |s: &&str| (*s).to_owned();
    let namespaced = matches!(rest, ["namespaces", _, plural, ..] if registry.get(group, plural).is_some_and(|i| i.namespaced));
    let (namespace, rest) = if namespaced {
        (rest.get(1).map(own), &rest[2..])
    } else {
        (None, rest)
    };
    let (plural, name, subresource) = match rest {
        [plural] => (plural, None, None),
        [plural, name] => (plural, Some(own(name)), None),
        [plural, name, sub] => (plural, Some(own(name)), Some(own(sub))),
        _ => return None,
    };
    if plural.is_empty() || name.as_deref() == Some("") {
        return None;
    }
    Some(ResourcePath {
        group: group.to_owned(),
        version: version.to_owned(),
        namespace,
        plural: (*plural).to_owned(),
        name,
        subresource,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rp(path: &str) -> ResourcePath {
        match parse(path, &Registry::with_builtins()) {
            Some(Route::Resource(r)) => r,
            other => panic!("{path}: {other:?}"),
        }
    }

    #[test]
    fn namespaced_and_cluster_paths() {
        let r = rp("/api/v1/namespaces/default/configmaps/x");
        assert_eq!(
            (r.namespace.as_deref(), r.plural.as_str(), r.name.as_deref()),
            (Some("default"), "configmaps", Some("x"))
        );
        let r = rp("/api/v1/namespaces/team-a");
        assert_eq!(
            (r.namespace, r.plural.as_str(), r.name.as_deref()),
            (None, "namespaces", Some("team-a"))
        );
        let r = rp("/api/v1/namespaces/team-a/status");
        assert_eq!(
            (r.plural.as_str(), r.subresource.as_deref()),
            ("namespaces", Some("status"))
        );
        let unknown = parse(
            "/apis/demo.example.com/v1/namespaces/default/ecsservices/web/status",
            &Registry::with_builtins(),
        );
        assert_eq!(unknown, None, "an unregistered resource has no route");
        let r = rp("/apis/coordination.k8s.io/v1/leases");
        assert_eq!((r.namespace, r.name), (None, None));
        let r = rp("/api/v1/namespaces/a%20b/configmaps/x");
        assert_eq!(r.namespace.as_deref(), Some("a b"));
    }

    #[test]
    fn discovery_and_unknown_paths() {
        let reg = Registry::with_builtins();
        assert_eq!(parse("/version", &reg), Some(Route::Version));
        assert_eq!(parse("/apis/", &reg), Some(Route::Groups));
        assert_eq!(
            parse("/openapi/v3/apis/apps/v1", &reg),
            Some(Route::OpenApiDocument {
                group: "apps".into(),
                version: "v1".into()
            })
        );
        assert_eq!(parse("/", &reg), None);
        assert_eq!(parse("/nonsense/a/b", &reg), None);
        assert_eq!(parse("/api/v1/a/b/c/d", &reg), None);
        assert_eq!(parse("/api/v1/configmaps//x", &reg), None);
    }
}
