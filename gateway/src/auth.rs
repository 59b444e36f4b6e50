//! Who is calling: the `Authorization: Bearer <token>` header, verified by auth-service.

use axum::extract::FromRequestParts;
use axum::http::HeaderMap;
use axum::http::request::Parts;
use chat_proto::auth::{CreateSessionRequest, LoginRequest, LoginResponse, VerifyTokenRequest};

use crate::error::ApiError;
use crate::state::AppState;

/// The authenticated user of a request.
#[derive(Debug, Clone)]
pub struct CurrentUser {
    pub id: String,
    pub number: i64,
    pub username: String,
    /// The session the token names: revoking it ends the token.
    pub session_id: String,
}

/// The token of an `Authorization` header, whatever the case of its scheme (`bearer`, `Bearer`).
pub fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    let value = headers
        .get(axum::http::header::AUTHORIZATION)?
        .to_str()
        .ok()?;
    let (scheme, token) = value.trim().split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

/// Logs in with an email (anything with an `@`) or a username, opening a session of
/// `platform`. Wrong credentials answer the status auth-service gives (`wrong_credentials`, or
/// `user_not_found`); the dialects word both as one.
pub async fn login_by_email_or_name(
    state: &AppState,
    email_or_name: String,
    password: String,
    platform: &str,
) -> Result<LoginResponse, tonic::Status> {
    let (username, email) = if email_or_name.contains('@') {
        (String::new(), email_or_name)
    } else {
        (email_or_name, String::new())
    };
    let login = state
        .services
        .auth
        .clone()
        .login(LoginRequest {
            username,
            email,
            password,
            session: Some(CreateSessionRequest {
                platform: platform.to_owned(),
                ..CreateSessionRequest::default()
            }),
        })
        .await?;
    Ok(login.into_inner())
}

/// Whether a login's refusal means the credentials were wrong.
pub fn is_wrong_credentials(status: &tonic::Status) -> bool {
    use crate::error::ErrorCode;
    matches!(
        ErrorCode::of(status),
        Some(ErrorCode::UserNotFound | ErrorCode::WrongCredentials)
    )
}

pub async fn verify(state: &AppState, token: &str) -> Result<CurrentUser, ApiError> {
    let identity = state
        .services
        .auth
        .clone()
        .verify_token(VerifyTokenRequest {
            token: token.to_owned(),
        })
        .await?
        .into_inner();
    Ok(CurrentUser {
        id: identity.user_id,
        number: identity.user_number,
        username: identity.username,
        session_id: identity.session_id,
    })
}

impl FromRequestParts<AppState> for CurrentUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let token = bearer_token(&parts.headers)
            .ok_or_else(|| ApiError::unauthorized("an Authorization: Bearer token is required"))?;
        verify(state, token).await
    }
}
