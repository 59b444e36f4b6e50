//! The dialect's errors: `{"error": "<text>"}` with the status and text the document lists for
//! each route ("Invalid chatID", "Invalid parameters", "Bad request", "ChatID not found",
//! "Internal server error"), and 401 `{"error": "Unauthorized"}` for a missing or wrong key or
//! token. A service's status becomes one of these only here.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

use crate::error::ApiError;

pub const INVALID_CHAT_ID: &str = "Invalid chatID";
pub const INVALID_PARAMETERS: &str = "Invalid parameters";
pub const BAD_REQUEST: &str = "Bad request";
pub const CHAT_NOT_FOUND: &str = "ChatID not found";
pub const INTERNAL: &str = "Internal server error";
pub const UNAUTHORIZED: &str = "Unauthorized";

/// The body of every error of the dialect.
#[derive(Serialize, ToSchema)]
#[schema(as = platform::Error)]
pub struct ErrorBody {
    /// What went wrong, in the document's words.
    pub error: String,
}

#[derive(Debug, Clone)]
pub struct PlatformError {
    pub status: StatusCode,
    pub error: String,
}

impl PlatformError {
    pub fn new(status: StatusCode, error: impl Into<String>) -> Self {
        Self {
            status,
            error: error.into(),
        }
    }

    pub fn bad_request(text: &str) -> Self {
        Self::new(StatusCode::BAD_REQUEST, text)
    }

    pub fn unauthorized(text: &str) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, text)
    }

    pub fn chat_not_found() -> Self {
        Self::new(StatusCode::NOT_FOUND, CHAT_NOT_FOUND)
    }

    /// A service's answer on a route whose client errors read `client_error`: 401 stays 401,
    /// 404 is an unknown chat, other refusals are the route's 400, and failures the document's
    /// 500 (503 while a service is unavailable).
    pub fn of(error: ApiError, client_error: &str) -> Self {
        match error.status {
            StatusCode::UNAUTHORIZED => Self::unauthorized(UNAUTHORIZED),
            StatusCode::NOT_FOUND => Self::chat_not_found(),
            StatusCode::SERVICE_UNAVAILABLE => {
                Self::new(StatusCode::SERVICE_UNAVAILABLE, "Service unavailable")
            }
            status if status.is_server_error() => {
                Self::new(StatusCode::INTERNAL_SERVER_ERROR, INTERNAL)
            }
            _ => Self::bad_request(client_error),
        }
    }

    /// A gRPC status, as [`PlatformError::of`].
    pub fn status(status: tonic::Status, client_error: &str) -> Self {
        Self::of(ApiError::from_status(status), client_error)
    }
}

impl IntoResponse for PlatformError {
    fn into_response(self) -> Response {
        (self.status, Json(ErrorBody { error: self.error })).into_response()
    }
}
