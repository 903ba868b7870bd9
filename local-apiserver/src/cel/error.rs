//! The error of a CEL rule that could not be compiled or evaluated.

/// A rule that could not be compiled or evaluated.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub(crate) struct CelError(String);

impl CelError {
    pub(crate) fn new(message: impl Into<String>) -> Self {
        Self(message.into())
    }
}
