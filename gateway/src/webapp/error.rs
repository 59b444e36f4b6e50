//! The dialect's errors, which the document does not show: over HTTP
//! `{"error":{"code","message"}}` with the usual statuses, on the socket
//! `{"type":"error","code","message"}`, the socket staying open. Codes are stable snake_case;
//! a gateway error (and so a service's status) becomes one only here.

use std::borrow::Cow;

use axum::Json;
use axum::extract::ws::Utf8Bytes;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::json;
use utoipa::ToSchema;

use crate::error::ApiError;

/// `{"error":{"code","message"}}`: the body of every error under `/http`.
#[derive(Serialize, ToSchema)]
#[schema(as = webapp::ErrorJson)]
#[allow(dead_code)]
pub struct ErrorJson {
    error: ErrorDetail,
}

#[derive(Serialize, ToSchema)]
#[schema(as = webapp::ErrorDetail)]
#[allow(dead_code)]
pub struct ErrorDetail {
    /// Stable, snake_case: `invalid_json`, `invalid_data`, `unauthorized`, `wrong_credentials`,
    /// `user_not_found`, `room_not_found`, `group_not_found`, `forbidden`, `too_many_attempts`,
    /// `service_unavailable`, ….
    code: String,
    message: String,
}

#[derive(Debug, Clone)]
pub struct WebappError {
    pub status: StatusCode,
    pub code: Cow<'static, str>,
    pub message: String,
}

impl WebappError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code: Cow::Borrowed(code),
            message: message.into(),
        }
    }

    pub fn invalid_data(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_data", message)
    }

    pub fn unauthorized() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "a valid token is required (an authentication header)",
        )
    }

    pub fn room_not_found() -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "room_not_found",
            "no such chat room of yours",
        )
    }

    pub fn group_not_found() -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "group_not_found",
            "no such chat group",
        )
    }

    pub fn user_not_found() -> Self {
        Self::new(StatusCode::NOT_FOUND, "user_not_found", "no such user")
    }

    /// The socket's error frame.
    pub fn frame(&self) -> Utf8Bytes {
        let frame = json!({"type": "error", "code": self.code, "message": self.message});
        Utf8Bytes::from(frame.to_string())
    }
}

/// Client errors are 400, except what has a status of its own (401, 403, 404, 409, 429).
impl From<ApiError> for WebappError {
    fn from(error: ApiError) -> Self {
        let status = match error.status {
            StatusCode::UNPROCESSABLE_ENTITY => StatusCode::BAD_REQUEST,
            other => other,
        };
        use crate::error::ErrorCode as E;
        let code = match (error.service, error.code.as_ref()) {
            (Some(E::InvalidToken | E::TokenExpired), _) => Cow::Borrowed("unauthorized"),
            // The service's and the gateway's own validation alike.
            (Some(E::ValidationFailed), _) | (None, "validation_failed") => {
                Cow::Borrowed("invalid_data")
            }
            _ => error.code,
        };
        Self {
            status,
            code,
            message: error.message,
        }
    }
}

impl From<tonic::Status> for WebappError {
    fn from(status: tonic::Status) -> Self {
        ApiError::from_status(status).into()
    }
}

impl IntoResponse for WebappError {
    fn into_response(self) -> Response {
        let code = crate::request_id::ErrorCode(self.code.to_string());
        let body = json!({"error": {"code": self.code, "message": self.message}});
        let mut response = (self.status, Json(body)).into_response();
        response.extensions_mut().insert(code);
        response
    }
}
