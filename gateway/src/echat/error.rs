//! The dialect's errors: `{"error":{"code","message"}}` with the document's codes and statuses.
//! The one place a gateway error (and so a service's status) becomes one is
//! `From<ApiError> for EchatError`.

use std::borrow::Cow;

use axum::Json;
use axum::extract::ws::Utf8Bytes;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::{Value, json};
use utoipa::ToSchema;

use crate::error::ApiError;

/// `{"error":{"code","message"}}`: the body of every error under `/v1`, for the OpenAPI
/// document (`EchatError::body` builds it).
#[derive(Serialize, ToSchema)]
#[schema(as = echat::ErrorJson)]
#[allow(dead_code)]
pub struct ErrorJson {
    error: ErrorDetail,
}

#[derive(Serialize, ToSchema)]
#[schema(as = echat::ErrorDetail)]
#[allow(dead_code)]
pub struct ErrorDetail {
    /// Stable, snake_case: `invalid_json`, `unauthorized`, `user_already_exists`,
    /// `user_not_found`, `wrong_credentials`, `room_not_found`, `invalid_query`,
    /// `too_many_attempts`, ….
    code: String,
    message: String,
}

#[derive(Debug, Clone)]
pub struct EchatError {
    pub status: StatusCode,
    pub code: Cow<'static, str>,
    pub message: String,
}

impl EchatError {
    fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code: Cow::Borrowed(code),
            message: message.into(),
        }
    }

    pub fn invalid_json(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_json", message)
    }

    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "unauthorized", message)
    }

    /// An unknown room and a room of which the caller is not a member answer alike.
    pub fn room_not_found() -> Self {
        Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "room_not_found",
            "no such room among yours",
        )
    }

    pub fn user_not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, "user_not_found", message)
    }

    pub fn invalid_query(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_query", message)
    }

    pub fn body(&self) -> Value {
        json!({ "error": { "code": self.code, "message": self.message } })
    }

    /// The error as a WebSocket text frame; the socket stays open.
    pub fn frame(&self) -> Utf8Bytes {
        Utf8Bytes::from(self.body().to_string())
    }
}

/// Renames the shared codes the document names otherwise, and answers 422 where the document
/// does (client errors) and 401 for a missing or dead session; other statuses (429, 5xx, a
/// refused Origin) stay what they are.
impl From<ApiError> for EchatError {
    fn from(error: ApiError) -> Self {
        use crate::error::ErrorCode as E;
        let code = match (error.service, error.code.as_ref()) {
            (Some(E::UsernameTaken | E::EmailTaken), _) => Cow::Borrowed("user_already_exists"),
            (Some(E::ConversationNotFound | E::NotAMember), _) => Cow::Borrowed("room_not_found"),
            (
                Some(
                    E::InvalidToken | E::TokenExpired | E::SessionNotFound | E::ConnectionNotFound,
                ),
                _,
            ) => Cow::Borrowed("unauthorized"),
            // The gateway's own code for a body that is not JSON.
            (None, "invalid_body") => Cow::Borrowed("invalid_json"),
            _ => error.code,
        };
        let status = match code.as_ref() {
            "unauthorized" => StatusCode::UNAUTHORIZED,
            "room_not_found" => StatusCode::UNPROCESSABLE_ENTITY,
            _ => match error.status {
                StatusCode::BAD_REQUEST
                | StatusCode::UNAUTHORIZED
                | StatusCode::NOT_FOUND
                | StatusCode::CONFLICT
                | StatusCode::UNPROCESSABLE_ENTITY => StatusCode::UNPROCESSABLE_ENTITY,
                other => other,
            },
        };
        Self {
            status,
            code,
            message: error.message,
        }
    }
}

impl From<tonic::Status> for EchatError {
    fn from(status: tonic::Status) -> Self {
        ApiError::from_status(status).into()
    }
}

impl IntoResponse for EchatError {
    fn into_response(self) -> Response {
        let code = crate::request_id::ErrorCode(self.code.to_string());
        let mut response = (self.status, Json(self.body())).into_response();
        response.extensions_mut().insert(code);
        response
    }
}

#[cfg(test)]
mod tests {
    use axum::http::StatusCode;

    use super::EchatError;
    use crate::error::ApiError;

    #[test]
    fn shared_codes_become_the_documents() {
        let cases = [
            (
                StatusCode::CONFLICT,
                "username_taken",
                422,
                "user_already_exists",
            ),
            (
                StatusCode::NOT_FOUND,
                "user_not_found",
                422,
                "user_not_found",
            ),
            (
                StatusCode::UNAUTHORIZED,
                "wrong_credentials",
                422,
                "wrong_credentials",
            ),
            (
                StatusCode::NOT_FOUND,
                "session_not_found",
                401,
                "unauthorized",
            ),
            (StatusCode::FORBIDDEN, "not_a_member", 422, "room_not_found"),
            (
                StatusCode::FORBIDDEN,
                "origin_not_allowed",
                403,
                "origin_not_allowed",
            ),
            (
                StatusCode::TOO_MANY_REQUESTS,
                "too_many_attempts",
                429,
                "too_many_attempts",
            ),
            (StatusCode::SERVICE_UNAVAILABLE, "draining", 503, "draining"),
        ];
        for (status, code, want_status, want_code) in cases {
            // A service's code as from_status reads it; the gateway's own codes parse to none.
            let mut refused = ApiError::new(status, code, "m");
            refused.service = crate::error::ErrorCode::parse(code);
            let error = EchatError::from(refused);
            assert_eq!(
                (error.status.as_u16(), error.code.as_ref()),
                (want_status, want_code),
                "{code}"
            );
        }
    }
}
