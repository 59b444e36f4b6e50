//! Errors of the public API: an HTTP status, a stable snake_case code and a message. The one
//! place a gRPC status from a service becomes an HTTP error is [`ApiError::from_status`].

use std::borrow::Cow;

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
pub use chat_proto::errors::ErrorCode;
use serde_json::json;

#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: StatusCode,
    /// The code shown to the client: the service's ([`ErrorCode::as_str`]) or the gateway's own.
    pub code: Cow<'static, str>,
    /// The service's code, when a service refused: what the dialects' tables match on.
    pub service: Option<ErrorCode>,
    pub message: String,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code: Cow::Borrowed(code),
            service: None,
            message: message.into(),
        }
    }

    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }

    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "unauthorized", message)
    }

    pub fn not_found(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, code, message)
    }

    pub fn unprocessable(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, code, message)
    }

    /// Translates a service's gRPC status: the code the service put in `x-error-code`, the HTTP
    /// status its gRPC code stands for. Internal details never reach the client.
    pub fn from_status(status: tonic::Status) -> Self {
        use tonic::Code;
        let (http, default_code) = match status.code() {
            Code::InvalidArgument | Code::OutOfRange => {
                (StatusCode::UNPROCESSABLE_ENTITY, "validation_failed")
            }
            Code::Unauthenticated => (StatusCode::UNAUTHORIZED, "unauthorized"),
            Code::PermissionDenied => (StatusCode::FORBIDDEN, "forbidden"),
            Code::NotFound => (StatusCode::NOT_FOUND, "not_found"),
            Code::AlreadyExists | Code::Aborted => (StatusCode::CONFLICT, "conflict"),
            Code::FailedPrecondition => (StatusCode::CONFLICT, "failed_precondition"),
            Code::ResourceExhausted => (StatusCode::TOO_MANY_REQUESTS, "too_many_requests"),
            Code::Unavailable | Code::DeadlineExceeded | Code::Cancelled => {
                (StatusCode::SERVICE_UNAVAILABLE, "service_unavailable")
            }
            _ => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
        };
        // A code this gateway does not know (a newer service's) reads as its gRPC code's.
        let service = ErrorCode::of(&status);
        let code = Cow::Borrowed(service.map_or(default_code, ErrorCode::as_str));
        let message = if http.is_server_error() {
            tracing::warn!(grpc_code = ?status.code(), message = status.message(), "service call failed");
            match http {
                StatusCode::SERVICE_UNAVAILABLE => "a service is unavailable, try again".to_owned(),
                _ => "internal error".to_owned(),
            }
        } else {
            status.message().to_owned()
        };
        Self {
            status: http,
            code,
            service,
            message,
        }
    }
}

impl From<tonic::Status> for ApiError {
    fn from(status: tonic::Status) -> Self {
        Self::from_status(status)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let code = crate::request_id::ErrorCode(self.code.to_string());
        let body = json!({ "error": { "code": self.code, "message": self.message } });
        let mut response = (self.status, Json(body)).into_response();
        response.extensions_mut().insert(code);
        response
    }
}
