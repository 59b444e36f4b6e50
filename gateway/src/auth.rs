//! Who is calling: the `Authorization: Bearer <token>` header, verified by auth-service.

use axum::extract::FromRequestParts;
use axum::http::HeaderMap;
use axum::http::request::Parts;
use chat_proto::auth::VerifyTokenRequest;

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
