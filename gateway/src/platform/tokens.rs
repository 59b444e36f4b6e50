//! `POST /token` (the backend provisions a user and gets a token pair for them) and
//! `POST /token/refresh` (a refresh token exchanged for a new pair; single use).

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use chat_proto::auth::{IssuePlatformTokenRequest, PlatformTokenPair, RefreshPlatformTokenRequest};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::backend::{Backend, parse, valid_id};
use super::error::{ErrorBody, INVALID_PARAMETERS, PlatformError};
use crate::error::ApiError;
use crate::state::AppState;

#[derive(Deserialize, ToSchema)]
#[schema(as = platform::TokenRequest)]
pub struct TokenRequest {
    /// The platform's own id of the user: `[a-zA-Z0-9.-]`, case-sensitive.
    #[serde(rename = "userID")]
    #[schema(min_length = 1, max_length = 128, pattern = "^[a-zA-Z0-9.-]+$")]
    user_id: String,
    /// Optional; shown to other users. Sent again, it changes the user's display name.
    #[serde(default, rename = "displayName")]
    display_name: Option<String>,
}

#[derive(Deserialize, ToSchema)]
#[schema(as = platform::RefreshRequest)]
#[serde(rename_all = "camelCase")]
pub struct RefreshRequest {
    refresh_token: String,
}

/// A token pair.
#[derive(Serialize, ToSchema)]
#[schema(as = platform::TokenPair)]
pub struct TokenPair {
    /// A JWT for `Authorization: Bearer` on the user's routes (and every other dialect's).
    #[serde(rename = "accessToken")]
    access_token: String,
    /// When the access token expires, Unix ms (as a string, like the document's times).
    #[serde(rename = "accessTokenExpiresAt")]
    access_token_expires_at: String,
    /// Seconds the access token is valid from now.
    #[serde(rename = "expiresIn")]
    expires_in: i64,
    /// Opaque; exchanged once at `POST /token/refresh` for a new pair.
    #[serde(rename = "refreshToken")]
    refresh_token: String,
    #[serde(rename = "refreshTokenExpiresAt")]
    refresh_token_expires_at: String,
    /// Always `Bearer`.
    #[serde(rename = "tokenType")]
    token_type: &'static str,
    /// The user's GUID, as `GUIDList` and `ownerGUID` show it.
    #[serde(rename = "GUID")]
    guid: String,
    #[serde(rename = "userID")]
    user_id: String,
    /// Whether this call created the user.
    created: bool,
}

impl From<PlatformTokenPair> for TokenPair {
    fn from(pair: PlatformTokenPair) -> Self {
        let user = pair.user.unwrap_or_default();
        let now = chrono::Utc::now().timestamp_millis();
        Self {
            access_token: pair.access_token,
            access_token_expires_at: pair.access_expires_at_ms.to_string(),
            expires_in: ((pair.access_expires_at_ms - now) / 1000).max(0),
            refresh_token: pair.refresh_token,
            refresh_token_expires_at: pair.refresh_expires_at_ms.to_string(),
            token_type: "Bearer",
            guid: user.id,
            user_id: user.platform_user_id,
            created: pair.created,
        }
    }
}

#[utoipa::path(post, path = "/token", tag = "platform",
    summary = "Provision a user (created on first call) and get their token pair",
    operation_id = "platform_issue_token", security(("platform_key" = [])),
    request_body = TokenRequest,
    responses((status = 200, description = "the user's token pair", body = TokenPair),
        (status = 400, description = "`Invalid parameters`: a body that does not parse, or a \
            userID outside [a-zA-Z0-9.-]", body = ErrorBody),
        (status = 401, description = "`Unauthorized`: a missing or wrong API key",
            body = ErrorBody),
        (status = 500, description = "`Internal server error`", body = ErrorBody)))]
pub async fn issue_token(
    State(state): State<AppState>,
    backend: Backend,
    body: Bytes,
) -> Result<Json<TokenPair>, PlatformError> {
    let request: TokenRequest = parse(&body, INVALID_PARAMETERS)?;
    if !valid_id(&request.user_id) {
        return Err(PlatformError::bad_request(INVALID_PARAMETERS));
    }
    let pair = state
        .services
        .auth
        .clone()
        .issue_platform_token(IssuePlatformTokenRequest {
            platform_id: backend.platform_id,
            user_id: request.user_id,
            display_name: request.display_name.unwrap_or_default(),
            platform_name: backend.name,
        })
        .await
        .map_err(|status| PlatformError::status(status, INVALID_PARAMETERS))?
        .into_inner();
    Ok(Json(pair.into()))
}

#[utoipa::path(post, path = "/token/refresh", tag = "platform",
    summary = "Exchange a refresh token for a new pair (each refresh token works once)",
    description = "No API key is needed: the refresh token is the credential. A refresh \
        token presented a second time revokes its whole family: the session, its access \
        tokens and every refresh token of it.",
    operation_id = "platform_refresh_token", request_body = RefreshRequest,
    responses((status = 200, description = "a new token pair", body = TokenPair),
        (status = 400, description = "`Invalid parameters`: a body that does not parse",
            body = ErrorBody),
        (status = 401, description = "`Invalid refresh token`, `Refresh token expired`, or \
            `Refresh token reused` (its family is now revoked)", body = ErrorBody),
        (status = 500, description = "`Internal server error`", body = ErrorBody)))]
pub async fn refresh_token(
    State(state): State<AppState>,
    body: Bytes,
) -> Result<Json<TokenPair>, PlatformError> {
    let request: RefreshRequest = parse(&body, INVALID_PARAMETERS)?;
    let pair = state
        .services
        .auth
        .clone()
        .refresh_platform_token(RefreshPlatformTokenRequest {
            refresh_token: request.refresh_token,
        })
        .await
        .map_err(|status| {
            let error = ApiError::from_status(status);
            use crate::error::ErrorCode as E;
            let text = match error.service {
                Some(E::RefreshTokenReused) => "Refresh token reused",
                Some(E::TokenExpired) => "Refresh token expired",
                _ if error.status == StatusCode::UNAUTHORIZED => "Invalid refresh token",
                _ => return PlatformError::of(error, INVALID_PARAMETERS),
            };
            PlatformError::unauthorized(text)
        })?
        .into_inner();
    Ok(Json(pair.into()))
}
