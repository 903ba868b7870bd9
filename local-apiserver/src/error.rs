//! Errors answered to clients: every failure becomes a Kubernetes `Status` with one of the exact
//! reasons kube-rs and kubectl match on. Knows nothing about routing or storage.

use serde_json::{Value, json};

/// One field-level cause inside `Status.details.causes`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Cause {
    /// `FieldValueInvalid`, `FieldValueRequired`, `FieldManagerConflict`, ...
    pub reason: String,
    /// Human-readable message for this cause.
    pub message: String,
    /// Field path (`spec.replicas`, `.spec.x` for apply conflicts).
    pub field: String,
}

/// `Status.details`: which object failed and why.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Details {
    pub name: String,
    pub group: String,
    /// The resource (plural) or kind, as the apiserver reports it.
    pub kind: String,
    pub causes: Vec<Cause>,
}

/// A request failure, rendered as a `Status` object with `code` as the HTTP status.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{reason} ({code}): {message}")]
pub(crate) struct ApiError {
    pub code: u16,
    pub reason: String,
    pub message: String,
    pub details: Option<Box<Details>>,
}

impl ApiError {
    /// An error with a code, reason and message and no details.
    pub fn new(code: u16, reason: &str, message: impl Into<String>) -> Self {
        Self {
            code,
            reason: reason.to_owned(),
            message: message.into(),
            details: None,
        }
    }

    /// Attaches `details`.
    pub fn with_details(mut self, details: Details) -> Self {
        self.details = Some(Box::new(details));
        self
    }

    /// 400 BadRequest.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(400, "BadRequest", message)
    }

    /// 403 Forbidden.
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(403, "Forbidden", message)
    }

    /// 404 for a path the server does not serve at all.
    pub fn no_route() -> Self {
        Self::new(
            404,
            "NotFound",
            "the server could not find the requested resource",
        )
    }

    /// 404 for a named object: `configmaps "x" not found`.
    pub fn not_found(group: &str, plural: &str, name: &str) -> Self {
        Self::new(
            404,
            "NotFound",
            format!("{} \"{name}\" not found", qualified(group, plural)),
        )
        .with_details(Details {
            name: name.into(),
            group: group.into(),
            kind: plural.into(),
            causes: vec![],
        })
    }

    /// 409 AlreadyExists.
    pub fn already_exists(group: &str, plural: &str, name: &str) -> Self {
        Self::new(
            409,
            "AlreadyExists",
            format!("{} \"{name}\" already exists", qualified(group, plural)),
        )
        .with_details(Details {
            name: name.into(),
            group: group.into(),
            kind: plural.into(),
            causes: vec![],
        })
    }

    /// 409 Conflict for a stale resourceVersion.
    pub fn stale(group: &str, plural: &str, name: &str) -> Self {
        Self::new(
            409,
            "Conflict",
            format!(
                "Operation cannot be fulfilled on {} \"{name}\": the object has been modified; please apply \
                 your changes to the latest version and try again",
                qualified(group, plural)
            ),
        )
        .with_details(Details { name: name.into(), group: group.into(), kind: plural.into(), causes: vec![] })
    }

    /// 409 Conflict with a free-form message.
    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(409, "Conflict", message)
    }

    /// 422 Invalid: `Kind.group "name" is invalid: field: message` with one cause per field.
    pub fn invalid(kind: &str, group: &str, name: &str, causes: Vec<Cause>) -> Self {
        let listed: Vec<String> = causes
            .iter()
            .map(|c| format!("{}: {}", c.field, c.message))
            .collect();
        let summary = match listed.as_slice() {
            [one] => one.clone(),
            _ => format!("[{}]", listed.join(", ")),
        };
        let qualified_kind = if group.is_empty() {
            kind.to_owned()
        } else {
            format!("{kind}.{group}")
        };
        Self::new(
            422,
            "Invalid",
            format!("{qualified_kind} \"{name}\" is invalid: {summary}"),
        )
        .with_details(Details {
            name: name.into(),
            group: group.into(),
            kind: kind.into(),
            causes,
        })
    }

    /// 410 Expired (sent in-stream by watches).
    pub fn expired(message: impl Into<String>) -> Self {
        Self::new(410, "Expired", message)
    }

    /// 405 MethodNotAllowed.
    pub fn method_not_allowed() -> Self {
        Self::new(
            405,
            "MethodNotAllowed",
            "the server does not allow this method on the requested resource",
        )
    }

    /// 415 UnsupportedMediaType.
    pub fn unsupported_media_type(message: impl Into<String>) -> Self {
        Self::new(415, "UnsupportedMediaType", message)
    }

    /// 413 RequestEntityTooLarge.
    pub fn too_large(limit: usize) -> Self {
        Self::new(
            413,
            "RequestEntityTooLarge",
            format!("the request body exceeds the limit of {limit} bytes"),
        )
    }

    /// 500 InternalError.
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(500, "InternalError", message)
    }

    /// The `Status` object for this error.
    pub fn to_status(&self) -> Value {
        let mut status = json!({
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
            "code": self.code,
        });
        if let Some(details) = &self.details {
            let mut d = json!({"name": details.name, "group": details.group, "kind": details.kind});
            if !details.causes.is_empty() {
                d["causes"] = details
                    .causes
                    .iter()
                    .map(|c| json!({"reason": c.reason, "message": c.message, "field": c.field}))
                    .collect();
            }
            status["details"] = d;
        }
        status
    }
}

/// `plural` or `plural.group`, as object names appear in apiserver messages.
pub(crate) fn qualified(group: &str, plural: &str) -> String {
    if group.is_empty() {
        plural.to_owned()
    } else {
        format!("{plural}.{group}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn not_found_names_the_resource_and_group() {
        let status = ApiError::not_found("demo.example.com", "ecsservices", "web").to_status();
        assert_eq!(
            status["message"],
            "ecsservices.demo.example.com \"web\" not found"
        );
        assert_eq!(status["reason"], "NotFound");
        assert_eq!(status["code"], 404);
        assert_eq!(status["details"]["kind"], "ecsservices");
    }

    #[test]
    fn invalid_lists_every_cause() {
        let cause = |f: &str| Cause {
            reason: "FieldValueRequired".into(),
            message: "Required value".into(),
            field: f.into(),
        };
        let one = ApiError::invalid(
            "EcsService",
            "demo.example.com",
            "web",
            vec![cause("spec.a")],
        );
        assert_eq!(
            one.message,
            "EcsService.demo.example.com \"web\" is invalid: spec.a: Required value"
        );
        let two = ApiError::invalid("ConfigMap", "", "x", vec![cause("spec.a"), cause("spec.b")]);
        assert_eq!(
            two.message,
            "ConfigMap \"x\" is invalid: [spec.a: Required value, spec.b: Required value]"
        );
        assert_eq!(two.to_status()["details"]["causes"][1]["field"], "spec.b");
    }
}
