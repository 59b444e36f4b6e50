//! What the gRPC edge of presence-service can fail with, and the one place that turns it into a
//! `tonic::Status` with a stable `x-error-code`.

pub use chat_proto::errors::ErrorCode;
use tonic::{Code, Status};

use crate::store::StoreError;

/// Metadata key carrying the stable snake_case error code clients match on.
pub const ERROR_CODE_KEY: &str = chat_proto::errors::METADATA_KEY;

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
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::Validation(_) => ErrorCode::ValidationFailed,
            Self::Store(_) => ErrorCode::Internal,
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
        code.attach(&mut status);
        status
    }
}
