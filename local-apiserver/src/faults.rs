//! Fault injection for tests: scripted `Status` answers for the next N requests that match a
//! method and a path substring, consumed in the order they were injected.

use http::Method;

use crate::error::ApiError;

/// A scripted failure: the next `count` requests matching `method` (any if `None`) and whose
/// `path?query` contains `path_contains` (any if `None`) answer a `Status` with `code`,
/// `reason` and `message` instead of being served.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fault {
    /// Only requests with this method match.
    pub method: Option<Method>,
    /// Only requests whose `path?query` contains this match.
    pub path_contains: Option<String>,
    /// How many matching requests fail.
    pub count: usize,
    /// HTTP status code of the answer.
    pub code: u16,
    /// `Status.reason`, e.g. `InternalError`, `Conflict`, `TooManyRequests`.
    pub reason: String,
    /// `Status.message`.
    pub message: String,
}

impl Fault {
    /// One failing request of any method and path.
    pub fn new(code: u16, reason: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            method: None,
            path_contains: None,
            count: 1,
            code,
            reason: reason.into(),
            message: message.into(),
        }
    }

    /// A 500 InternalError.
    pub fn internal_error() -> Self {
        Self::new(500, "InternalError", "injected fault: internal error")
    }

    /// A 409 Conflict.
    pub fn conflict() -> Self {
        Self::new(
            409,
            "Conflict",
            "injected fault: the object has been modified; please apply your changes to the latest version and try again",
        )
    }

    /// A 429 TooManyRequests.
    pub fn too_many_requests() -> Self {
        Self::new(429, "TooManyRequests", "injected fault: too many requests")
    }

    /// Restricts the fault to `method`.
    pub fn method(mut self, method: Method) -> Self {
        self.method = Some(method);
        self
    }

    /// Restricts the fault to requests whose `path?query` contains `fragment`.
    pub fn path_contains(mut self, fragment: impl Into<String>) -> Self {
        self.path_contains = Some(fragment.into());
        self
    }

    /// Fails the next `count` matching requests.
    pub fn times(mut self, count: usize) -> Self {
        self.count = count;
        self
    }

    fn matches(&self, method: &Method, target: &str) -> bool {
        self.count > 0
            && self.method.as_ref().is_none_or(|m| m == method)
            && self
                .path_contains
                .as_deref()
                .is_none_or(|p| target.contains(p))
    }
}

/// Pending faults.
#[derive(Debug, Default)]
pub(crate) struct Faults {
    pending: Vec<Fault>,
}

impl Faults {
    /// Adds a fault.
    pub fn add(&mut self, fault: Fault) {
        if fault.count > 0 {
            self.pending.push(fault);
        }
    }

    /// Consumes one use of the first fault matching the request, if any.
    pub fn take(&mut self, method: &Method, target: &str) -> Option<ApiError> {
        let i = self
            .pending
            .iter()
            .position(|f| f.matches(method, target))?;
        let fault = &mut self.pending[i];
        fault.count -= 1;
        let err = ApiError::new(fault.code, &fault.reason, fault.message.clone());
        if fault.count == 0 {
            self.pending.remove(i);
        }
        Some(err)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn faults_match_method_and_path_and_run_out() {
        let mut faults = Faults::default();
        faults.add(
            Fault::conflict()
                .method(Method::PATCH)
                .path_contains("/status")
                .times(2),
        );
        faults.add(Fault::internal_error());
        assert_eq!(
            faults
                .take(&Method::PATCH, "/apis/x/v1/namespaces/d/things/a/status")
                .unwrap()
                .code,
            409
        );
        assert_eq!(
            faults
                .take(&Method::GET, "/api/v1/configmaps")
                .unwrap()
                .code,
            500,
            "catch-all fault"
        );
        assert_eq!(
            faults
                .take(&Method::PATCH, "/apis/x/v1/namespaces/d/things/a/status")
                .unwrap()
                .code,
            409
        );
        assert!(
            faults
                .take(&Method::PATCH, "/apis/x/v1/namespaces/d/things/a/status")
                .is_none()
        );
    }

    #[test]
    fn zero_count_faults_are_ignored() {
        let mut faults = Faults::default();
        faults.add(Fault::internal_error().times(0));
        assert!(faults.take(&Method::GET, "/").is_none());
    }
}
