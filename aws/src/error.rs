//! AWS errors normalised to the kinds the controllers decide on; no SDK types leak out.

use std::fmt;

/// What kind of failure an AWS call had: decides retry, backoff and the condition reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// The resource does not exist (ClusterNotFound, ServiceNotFound, missing target group, …).
    NotFound,
    /// A token bucket is empty (ThrottlingException, TooManyRequests, Rate exceeded).
    Throttled,
    /// IAM denies the call (AccessDenied, UnauthorizedOperation, expired credentials).
    AccessDenied,
    /// AWS refuses the request as given (InvalidParameter, ClientException, validation).
    InvalidRequest,
    /// The resource is in a state that forbids the call (already exists, not ACTIVE, an active
    /// deployment, a concurrent change).
    Conflict,
    /// A failure that may pass on its own (5xx, timeouts, connection errors).
    Transient,
}

impl ErrorKind {
    /// Label for metrics and event reasons.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::NotFound => "NotFound",
            ErrorKind::Throttled => "Throttled",
            ErrorKind::AccessDenied => "AccessDenied",
            ErrorKind::InvalidRequest => "InvalidRequest",
            ErrorKind::Conflict => "Conflict",
            ErrorKind::Transient => "Transient",
        }
    }

    /// Whether retrying the same call later can succeed without anyone changing anything.
    pub fn is_retryable(self) -> bool {
        matches!(
            self,
            ErrorKind::Throttled | ErrorKind::Transient | ErrorKind::Conflict
        )
    }
}

/// A failed AWS call: the kind the controllers decide on, and everything AWS said about it —
/// its error code and message, the HTTP status and request id when there was an answer, and
/// the operation that failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AwsError {
    /// Normalised kind.
    pub kind: ErrorKind,
    /// AWS's error code (e.g. `ClusterNotFoundException`), or a transport description.
    pub code: String,
    /// AWS's message, as AWS wrote it.
    pub message: String,
    /// The HTTP status of AWS's answer (none when nothing answered).
    pub http_status: Option<u16>,
    /// AWS's request id, for a support case or CloudTrail.
    pub request_id: Option<String>,
    /// The AWS action that failed (`CreateService`), set by the call guard.
    pub operation: Option<&'static str>,
}

impl AwsError {
    /// Builds an error.
    pub fn new(kind: ErrorKind, code: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            kind,
            code: code.into(),
            message: message.into(),
            http_status: None,
            request_id: None,
            operation: None,
        }
    }

    /// Classifies an AWS error code into a kind (shared by the SDK adapters and the simulator).
    pub fn from_code(code: &str, message: impl Into<String>, http_status: Option<u16>) -> Self {
        let kind = classify(code, http_status);
        Self {
            http_status,
            ..Self::new(kind, code, message)
        }
    }

    /// Whether AWS refused to create something because it exists already
    /// (`ApplicationAlreadyExistsException`, `DeploymentGroupAlreadyExistsException`, …).
    pub fn is_already_exists(&self) -> bool {
        self.code.ends_with("AlreadyExistsException")
    }

    /// The same error, with AWS's request id.
    pub fn with_request_id(mut self, request_id: Option<String>) -> Self {
        self.request_id = request_id;
        self
    }

    /// The same error, naming the action that failed (kept when already named).
    pub fn during(mut self, operation: &'static str) -> Self {
        self.operation.get_or_insert(operation);
        self
    }

    /// What AWS answered, for a status message: `InternalFailure (HTTP 500): We encountered an
    /// internal error`. The operation and request id are left to the caller and the log.
    pub fn answer(&self) -> String {
        let mut s = self.code.clone();
        if let Some(status) = self.http_status {
            s.push_str(&format!(" (HTTP {status})"));
        }
        if !self.message.is_empty() {
            s.push_str(": ");
            s.push_str(&self.message);
        }
        s
    }
}

fn classify(code: &str, http_status: Option<u16>) -> ErrorKind {
    match code {
        "ThrottlingException"
        | "Throttling"
        | "TooManyRequestsException"
        | "RequestLimitExceeded"
        | "RateExceeded"
        | "ThrottledException" => ErrorKind::Throttled,
        "ClusterNotFoundException"
        | "ServiceNotFoundException"
        | "ResourceNotFoundException"
        | "ObjectNotFoundException"
        | "ApplicationDoesNotExistException"
        | "DeploymentGroupDoesNotExistException"
        | "DeploymentDoesNotExistException"
        | "DeploymentConfigDoesNotExistException"
        | "TargetGroupNotFound"
        | "ListenerNotFound"
        | "RuleNotFound"
        | "ResourceNotFound"
        | "NoSuchEntity"
        | "ParameterNotFound"
        // SNS: the topic does not exist.
        | "NotFound" => ErrorKind::NotFound,
        "AccessDeniedException"
        | "AccessDenied"
        | "UnauthorizedOperation"
        | "ExpiredTokenException"
        | "UnrecognizedClientException"
        | "InvalidClientTokenId"
        // SNS and its KMS key.
        | "AuthorizationError"
        | "KMSAccessDenied" => ErrorKind::AccessDenied,
        "ServiceNotActiveException"
        | "ResourceInUseException"
        | "ApplicationAlreadyExistsException"
        | "DeploymentGroupAlreadyExistsException"
        | "DeploymentConfigAlreadyExistsException"
        | "DeploymentLimitExceededException"
        | "DeploymentAlreadyCompletedException"
        | "ConflictException"
        | "ConcurrentUpdateException"
        | "ConcurrentModificationException"
        | "UpdateInProgressException" => ErrorKind::Conflict,
        "ServerException"
        | "InternalServiceError"
        | "InternalFailure"
        | "ServiceUnavailable"
        | "ServiceUnavailableException"
        | "Transport"
        | "Timeout" => ErrorKind::Transient,
        _ => match http_status {
            Some(429) => ErrorKind::Throttled,
            Some(s) if s >= 500 => ErrorKind::Transient,
            Some(403) => ErrorKind::AccessDenied,
            Some(404) => ErrorKind::NotFound,
            None => ErrorKind::Transient,
            _ => ErrorKind::InvalidRequest,
        },
    }
}

impl fmt::Display for AwsError {
    /// `CreateService failed: InternalFailure (HTTP 500): message (request id 1234)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(operation) = self.operation {
            write!(f, "{operation} failed: ")?;
        }
        f.write_str(&self.answer())?;
        if let Some(id) = &self.request_id {
            write!(f, " (request id {id})")?;
        }
        Ok(())
    }
}

impl std::error::Error for AwsError {}

/// Result of an AWS call.
pub type AwsResult<T> = Result<T, AwsError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_map_to_kinds() {
        let cases = [
            ("ThrottlingException", None, ErrorKind::Throttled),
            ("ClusterNotFoundException", Some(400), ErrorKind::NotFound),
            ("AccessDeniedException", Some(400), ErrorKind::AccessDenied),
            (
                "InvalidParameterException",
                Some(400),
                ErrorKind::InvalidRequest,
            ),
            ("ClientException", Some(400), ErrorKind::InvalidRequest),
            ("ServiceNotActiveException", Some(400), ErrorKind::Conflict),
            ("ServerException", Some(500), ErrorKind::Transient),
            ("Whatever", Some(503), ErrorKind::Transient),
            ("Whatever", Some(429), ErrorKind::Throttled),
            (
                "LimitExceededException",
                Some(400),
                ErrorKind::InvalidRequest,
            ),
        ];
        for (code, status, kind) in cases {
            assert_eq!(AwsError::from_code(code, "m", status).kind, kind, "{code}");
        }
    }

    #[test]
    fn display_says_everything_aws_said() {
        let error = AwsError::from_code(
            "InternalFailure",
            "We encountered an internal error",
            Some(500),
        )
        .with_request_id(Some("4f0c".into()))
        .during("CreateService");
        assert_eq!(
            error.to_string(),
            "CreateService failed: InternalFailure (HTTP 500): We encountered an internal error (request id 4f0c)"
        );
        assert_eq!(
            error.answer(),
            "InternalFailure (HTTP 500): We encountered an internal error"
        );
        let bare = AwsError::new(ErrorKind::Transient, "Timeout", "no answer in 30 s");
        assert_eq!(bare.to_string(), "Timeout: no answer in 30 s");
        assert_eq!(bare.during("A").during("B").operation, Some("A"));
    }
}
