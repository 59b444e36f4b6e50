//! What the gRPC edge of presence-service can fail with, and the one place that turns it into a
//! `tonic::Status` with a stable `x-error-code`.

use tonic::metadata::MetadataValue;
use tonic::{Code, Status};

use crate::store::StoreError;

/// Metadata key carrying the stable snake_case error code clients match on.
pub const ERROR_CODE_KEY: &str = "x-error-code";

#[derive(Debug, thiserror::Error)]
pub enum PresenceError {
    /// The request breaks a documented limit; the message says which, and is sent to the caller.
    #[error("{0}")]
    Validation(String),
    /// The store failed; logged here, sent only as "internal error".
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl PresenceError {
    /// The stable code clients match on.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Validation(_) => "validation_failed",
            Self::Store(_) => "internal",
        }
    }
}

impl From<PresenceError> for Status {
    fn from(error: PresenceError) -> Self {
        let code = error.code();
        let mut status = match &error {
            PresenceError::Validation(message) => Status::new(Code::InvalidArgument, message),
            PresenceError::Store(cause) => {
                tracing::error!(error = %cause, "presence request failed");
                Status::new(Code::Internal, "internal error")
            }
        };
        status
            .metadata_mut()
            .insert(ERROR_CODE_KEY, MetadataValue::from_static(code));
        status
    }
}
