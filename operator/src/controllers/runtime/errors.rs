//! The errors every controller's reconcile returns: a failed AWS read, step or clean-up, or a
//! failed Kubernetes write. Each knows its category (metric label, event reason), whether
//! waiting can fix it, and the message a person reads in the object's status.

use aws::AwsError;

/// A mutating AWS step that failed: the step's name (the AWS action) and AWS's answer.
#[derive(Debug, thiserror::Error)]
#[error("{step} failed")]
pub struct StepError {
    /// The step's name (the AWS action).
    pub step: &'static str,
    /// AWS's answer.
    #[source]
    pub source: AwsError,
}

impl StepError {
    /// A constructor for `map_err`: `.map_err(StepError::of("CreateService"))`.
    pub fn of(step: &'static str) -> impl FnOnce(AwsError) -> StepError {
        move |source| StepError { step, source }
    }

    /// Whether retrying the same step later can succeed without anyone changing anything.
    pub fn is_retryable(&self) -> bool {
        self.source.kind.is_retryable()
    }

    /// What a person reads: `CreateService was refused by AWS: InvalidParameterException
    /// (HTTP 400): …`.
    pub fn refusal(&self) -> String {
        format!("{} was refused by AWS: {}", self.step, self.source.answer())
    }
}

/// Why a reconcile failed; retried with per-object backoff, and reported in the status.
#[derive(Debug, thiserror::Error)]
pub enum ReconcileError {
    /// Reading AWS failed.
    #[error("reading AWS failed")]
    Observe(#[source] AwsError),
    /// A mutating AWS call failed with a retryable error.
    #[error("AWS step failed")]
    Step(#[source] StepError),
    /// Deleting AWS resources failed.
    #[error("deleting AWS resources failed")]
    Cleanup(#[source] AwsError),
    /// Writing to Kubernetes failed.
    #[error("writing to Kubernetes failed")]
    Kube(#[source] kube::Error),
}

impl ReconcileError {
    /// AWS's answer, when AWS failed.
    pub fn aws_error(&self) -> Option<&AwsError> {
        match self {
            ReconcileError::Observe(e) | ReconcileError::Cleanup(e) => Some(e),
            ReconcileError::Step(e) => Some(&e.source),
            ReconcileError::Kube(_) => None,
        }
    }

    /// Metric label and event reason.
    pub fn category(&self) -> &'static str {
        match self.aws_error() {
            Some(e) => e.kind.as_str(),
            None => "Kubernetes",
        }
    }

    /// What a person reads in the status: what failed and everything AWS answered.
    pub fn message(&self) -> String {
        match self {
            ReconcileError::Observe(e) => format!("reading AWS failed: {e}"),
            ReconcileError::Step(e) => e.source.clone().during(e.step).to_string(),
            ReconcileError::Cleanup(e) => format!("deleting AWS resources failed: {e}"),
            ReconcileError::Kube(e) => format!("writing to Kubernetes failed: {e}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws::ErrorKind;

    #[test]
    fn messages_carry_aws_answer_and_operation() {
        let aws = AwsError::from_code("InternalFailure", "try again", Some(500))
            .with_request_id(Some("r-1".into()));
        let step = ReconcileError::Step(StepError {
            step: "CreateService",
            source: aws.clone(),
        });
        assert_eq!(
            step.message(),
            "CreateService failed: InternalFailure (HTTP 500): try again (request id r-1)"
        );
        assert_eq!(step.category(), "Transient");
        let read = ReconcileError::Observe(aws.during("DescribeServices"));
        assert_eq!(
            read.message(),
            "reading AWS failed: DescribeServices failed: InternalFailure (HTTP 500): try again (request id r-1)"
        );
        let refused = StepError {
            step: "UpdateService",
            source: AwsError::from_code("InvalidParameterException", "bad subnet", Some(400)),
        };
        assert!(!refused.is_retryable());
        assert_eq!(
            refused.refusal(),
            "UpdateService was refused by AWS: InvalidParameterException (HTTP 400): bad subnet"
        );
        assert_eq!(
            AwsError::new(ErrorKind::Throttled, "ThrottlingException", "Rate exceeded").kind,
            ErrorKind::Throttled
        );
    }
}
