//! Kill points for the API server's clients: the `skip + 1`-th request matching a `Hang` is
//! never answered — either without being applied (the client died before sending it) or after
//! being applied (it died while the answer was on its way). The test then kills the client for
//! real. A hung request is released, unanswered, when the server shuts down.

use http::Method;

/// A request to leave unanswered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hang {
    /// Only requests with this method match.
    pub method: Method,
    /// Only requests to exactly this path match.
    pub path: String,
    /// Requests whose query contains this never match (e.g. the test's own field manager).
    pub unless_query_contains: Option<String>,
    /// Matching requests let through before the one that hangs.
    pub skip: usize,
    /// Apply the request before hanging (the reply is lost) rather than not at all.
    pub apply: bool,
}

/// The armed hang and whether it struck.
#[derive(Debug, Default)]
pub(crate) struct Hangs {
    armed: Option<Hang>,
    seen: usize,
    struck: bool,
}

impl Hangs {
    /// Arms `hang`.
    pub fn arm(&mut self, hang: Hang) {
        self.armed = Some(hang);
        self.seen = 0;
        self.struck = false;
    }

    /// Whether this request hangs: `Some(apply)` when it does.
    pub fn take(&mut self, method: &Method, path: &str, query: &str) -> Option<bool> {
        let hang = self.armed.as_ref().filter(|_| !self.struck)?;
        let matches = hang.method == *method
            && hang.path == path
            && hang
                .unless_query_contains
                .as_deref()
                .is_none_or(|q| !query.contains(q));
        if !matches {
            return None;
        }
        self.seen += 1;
        if self.seen <= hang.skip {
            return None;
        }
        self.struck = true;
        Some(hang.apply)
    }

    /// Whether the armed hang struck.
    pub fn has_struck(&self) -> bool {
        self.struck
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_request_after_the_skipped_ones_hangs_once() {
        let mut h = Hangs::default();
        h.arm(Hang {
            method: Method::PATCH,
            path: "/apis/g/v1/namespaces/d/things/a/status".into(),
            unless_query_contains: Some("fieldManager=kubectl".into()),
            skip: 1,
            apply: true,
        });
        let path = "/apis/g/v1/namespaces/d/things/a/status";
        assert_eq!(
            h.take(&Method::PATCH, path, "fieldManager=ecs-operator"),
            None
        );
        assert_eq!(h.take(&Method::PATCH, path, "fieldManager=kubectl"), None);
        assert_eq!(h.take(&Method::GET, path, ""), None);
        assert_eq!(
            h.take(&Method::PATCH, path, "fieldManager=ecs-operator"),
            Some(true)
        );
        assert!(h.has_struck());
        assert_eq!(h.take(&Method::PATCH, path, ""), None);
    }
}
