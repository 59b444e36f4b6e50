//! The dialect's errors. On the socket: `{"error":true,"type":…,"message":…}` (and a stable
//! `code` beside), the socket staying open. Over HTTP, which the document does not show:
//! `{"error":true,"code":…,"message":…}` with the usual statuses. A shared error (and so a
//! service's status) becomes one of these only here.

use std::borrow::Cow;

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

use crate::error::ApiError;

/// Why a socket request failed.
#[derive(Debug, Clone)]
pub struct Failure {
    pub code: Cow<'static, str>,
    pub message: String,
}

impl Failure {
    pub fn new(code: &'static str, message: impl Into<String>) -> Self {
        Self {
            code: Cow::Borrowed(code),
            message: message.into(),
        }
    }

    pub fn invalid_params(message: impl std::fmt::Display) -> Self {
        Self::new("invalid_params", format!("Invalid params: {message}"))
    }

    pub fn group_not_found() -> Self {
        Self::new("group_not_found", "Group not found")
    }

    pub fn not_a_member() -> Self {
        Self::new("not_a_member", "User is not a member of this group")
    }

    pub fn user_not_found() -> Self {
        Self::new("user_not_found", "User not found")
    }
}

/// The shared codes in the document's words; a service's own message otherwise.
impl From<ApiError> for Failure {
    fn from(error: ApiError) -> Self {
        use crate::error::ErrorCode as E;
        match error.service {
            Some(E::ConversationNotFound | E::WrongConversationKind) => Self::group_not_found(),
            Some(E::NotAMember) => Self::not_a_member(),
            Some(E::UserNotFound) => Self::user_not_found(),
            _ => Self {
                code: error.code,
                message: error.message,
            },
        }
    }
}

impl From<tonic::Status> for Failure {
    fn from(status: tonic::Status) -> Self {
        ApiError::from_status(status).into()
    }
}

/// An HTTP error of the dialect.
#[derive(Debug, Clone)]
pub struct HttpError {
    pub status: StatusCode,
    pub code: Cow<'static, str>,
    pub message: String,
}

/// The body of every HTTP error under `/api`.
#[derive(Serialize, ToSchema)]
#[schema(as = messenger::ErrorBody)]
pub struct ErrorBody {
    /// Always `true`.
    error: bool,
    /// Stable: `validation_failed`, `invalid_json`, `unauthorized`, `wrong_credentials`,
    /// `email_taken`, `forbidden`, `user_not_found`, `too_many_attempts`, ….
    code: String,
    message: String,
}

impl HttpError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code: Cow::Borrowed(code),
            message: message.into(),
        }
    }

    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "unauthorized", message)
    }
}

/// Client errors are 400 (as an Express server answers them), conflicts 409; a login's email
/// is the username too, so either being taken reads as the email being taken.
impl From<ApiError> for HttpError {
    fn from(error: ApiError) -> Self {
        use crate::error::ErrorCode as E;
        let (code, message) = match error.service {
            Some(E::UsernameTaken | E::EmailTaken) => (
                Cow::Borrowed("email_taken"),
                "A user with this email already exists".to_owned(),
            ),
            Some(E::InvalidToken | E::TokenExpired) => (error.code, "Unauthorized".to_owned()),
            _ => (error.code, error.message),
        };
        let status = match error.status {
            StatusCode::UNPROCESSABLE_ENTITY => StatusCode::BAD_REQUEST,
            other => other,
        };
        Self {
            status,
            code,
            message,
        }
    }
}

impl From<tonic::Status> for HttpError {
    fn from(status: tonic::Status) -> Self {
        ApiError::from_status(status).into()
    }
}

impl IntoResponse for HttpError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            error: true,
            code: self.code.into_owned(),
            message: self.message,
        };
        (self.status, Json(body)).into_response()
    }
}
