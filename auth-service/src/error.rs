//! The auth service's one error type and its one mapping to gRPC statuses: a gRPC code, a stable
//! snake_case error code in the `x-error-code` metadata, and a message safe to show.

use std::error::Error;

pub use chat_proto::errors::ErrorCode;
use tonic::{Code, Status};

use crate::store::StoreError;

/// The metadata key carrying the stable error code; clients match on it, not on the message.
pub const ERROR_CODE_KEY: &str = chat_proto::errors::METADATA_KEY;

#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("{0}")]
    Validation(String),
    #[error("username is taken")]
    UsernameTaken,
    #[error("email is taken")]
    EmailTaken,
    #[error("no such user")]
    UserNotFound,
    #[error("wrong credentials")]
    WrongCredentials,
    #[error("too many failed login attempts; try again later")]
    TooManyAttempts,
    #[error("invalid token")]
    InvalidToken,
    #[error("token expired")]
    TokenExpired,
    #[error("no such connection")]
    ConnectionNotFound,
    #[error("no such session")]
    SessionNotFound,
    #[error("invalid API key")]
    InvalidApiKey,
    #[error("refresh token already used: its session is revoked")]
    RefreshTokenReused,
    #[error("the signature does not verify with the user's key")]
    BadSignature,
    #[error("the user has no public key")]
    NoPublicKey,
    #[error("no such key")]
    KeyNotFound,
    #[error("no such registration: the link is unknown, used or expired")]
    RegistrationNotFound,
    #[error("storage is unavailable; try again")]
    Unavailable(#[source] Box<dyn Error + Send + Sync>),
    #[error("internal error")]
    Internal(#[source] Box<dyn Error + Send + Sync>),
}

impl AuthError {
    pub fn internal(cause: impl Into<Box<dyn Error + Send + Sync>>) -> Self {
        AuthError::Internal(cause.into())
    }

    /// The stable code clients match on.
    pub fn code(&self) -> ErrorCode {
        match self {
            AuthError::Validation(_) => ErrorCode::ValidationFailed,
            AuthError::UsernameTaken => ErrorCode::UsernameTaken,
            AuthError::EmailTaken => ErrorCode::EmailTaken,
            AuthError::UserNotFound => ErrorCode::UserNotFound,
            AuthError::WrongCredentials => ErrorCode::WrongCredentials,
            AuthError::TooManyAttempts => ErrorCode::TooManyAttempts,
            AuthError::InvalidToken => ErrorCode::InvalidToken,
            AuthError::TokenExpired => ErrorCode::TokenExpired,
            AuthError::ConnectionNotFound => ErrorCode::ConnectionNotFound,
            AuthError::SessionNotFound => ErrorCode::SessionNotFound,
            AuthError::InvalidApiKey => ErrorCode::InvalidApiKey,
            AuthError::RefreshTokenReused => ErrorCode::RefreshTokenReused,
            AuthError::BadSignature => ErrorCode::BadSignature,
            AuthError::NoPublicKey => ErrorCode::NoPublicKey,
            AuthError::KeyNotFound => ErrorCode::KeyNotFound,
            AuthError::RegistrationNotFound => ErrorCode::RegistrationNotFound,
            AuthError::Unavailable(_) => ErrorCode::ServiceUnavailable,
            AuthError::Internal(_) => ErrorCode::Internal,
        }
    }

    fn grpc_code(&self) -> Code {
        match self {
            AuthError::Validation(_) | AuthError::BadSignature => Code::InvalidArgument,
            AuthError::NoPublicKey => Code::FailedPrecondition,
            AuthError::UsernameTaken | AuthError::EmailTaken => Code::AlreadyExists,
            AuthError::UserNotFound
            | AuthError::ConnectionNotFound
            | AuthError::SessionNotFound
            | AuthError::KeyNotFound
            | AuthError::RegistrationNotFound => Code::NotFound,
            AuthError::WrongCredentials
            | AuthError::InvalidToken
            | AuthError::TokenExpired
            | AuthError::InvalidApiKey
            | AuthError::RefreshTokenReused => Code::Unauthenticated,
            AuthError::TooManyAttempts => Code::ResourceExhausted,
            AuthError::Unavailable(_) => Code::Unavailable,
            AuthError::Internal(_) => Code::Internal,
        }
    }

    /// The status sent to the client. Internal causes are logged here and never sent.
    pub fn status(&self) -> Status {
        match self {
            AuthError::Internal(cause) => {
                tracing::error!(error = %ErrorChain(cause.as_ref()), "auth request failed");
            }
            AuthError::Unavailable(cause) => {
                tracing::warn!(error = %ErrorChain(cause.as_ref()), "auth storage unavailable");
            }
            _ => {}
        }
        let mut status = Status::new(self.grpc_code(), self.to_string());
        self.code().attach(&mut status);
        status
    }
}

impl From<AuthError> for Status {
    fn from(error: AuthError) -> Self {
        error.status()
    }
}

impl From<StoreError> for AuthError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::UsernameTaken => AuthError::UsernameTaken,
            StoreError::EmailTaken => AuthError::EmailTaken,
            StoreError::ExternalIdTaken => {
                AuthError::internal("a platform user raced its creation")
            }
            StoreError::PlatformNameTaken => {
                AuthError::Validation("a platform of this name exists".into())
            }
            StoreError::Unavailable(cause) => AuthError::Unavailable(cause),
            StoreError::Backend(cause) => AuthError::Internal(cause),
        }
    }
}

/// The stable error code of a status returned by the auth service, for its clients.
pub fn error_code(status: &Status) -> Option<&str> {
    status.metadata().get(ERROR_CODE_KEY)?.to_str().ok()
}

/// An error with its sources, `outer: inner: innermost`, for one log field.
struct ErrorChain<'a>(&'a (dyn Error + 'static));

impl std::fmt::Display for ErrorChain<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)?;
        let mut source = self.0.source();
        while let Some(cause) = source {
            write!(f, ": {cause}")?;
            source = cause.source();
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::{AuthError, error_code};

    #[test]
    fn internal_causes_stay_out_of_the_status() {
        let status = AuthError::internal("password for db is hunter2").status();
        assert_eq!(status.code(), tonic::Code::Internal);
        assert!(!status.message().contains("hunter2"));
        assert_eq!(error_code(&status), Some("internal"));
    }

    #[test]
    fn conflicts_are_already_exists_with_their_code() {
        let status = AuthError::UsernameTaken.status();
        assert_eq!(status.code(), tonic::Code::AlreadyExists);
        assert_eq!(error_code(&status), Some("username_taken"));
    }
}
