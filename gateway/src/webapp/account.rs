//! Logging in and out: `POST /http/login` opens a session of any user of the product (by
//! email, or by username for users of dialects without one) and answers its token;
//! `GET /http/logout` ends that session everywhere and tells every online user.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chat_proto::auth::RevokeSessionRequest;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::announce;
use super::error::{ErrorJson, WebappError};
use super::input::{Call, Data};
use crate::sessions::close_session_everywhere;
use crate::state::AppState;

/// The platform this dialect's sessions are opened with.
const PLATFORM: &str = "webapp";

#[derive(Deserialize, ToSchema)]
#[schema(as = webapp::Credentials)]
pub struct Credentials {
    /// The email registered; a username (`username`, or an `email` without `@`) for users
    /// registered by other dialects.
    #[serde(alias = "username", alias = "login")]
    #[schema(min_length = 1, max_length = 254)]
    email: String,
    #[schema(min_length = 1, max_length = 256)]
    password: String,
}

#[derive(Serialize, ToSchema)]
#[schema(as = webapp::Token)]
pub struct Token {
    /// The access token: the `authentication` header of every request and the `token` of
    /// every socket frame.
    token: String,
    /// The caller's user id (a number).
    user_id: i64,
}

#[derive(Serialize, ToSchema)]
#[schema(as = webapp::Done)]
pub struct Done {
    /// Always `true`.
    success: bool,
}

impl Done {
    pub fn ok() -> Json<Self> {
        Json(Self { success: true })
    }
}

#[utoipa::path(post, path = "/http/login", tag = "webapp",
    summary = "Log in: the token of a new session",
    operation_id = "webapp_login", request_body = Credentials,
    responses((status = 200, description = "the token", body = Token),
        (status = 400, description = "`invalid_json` or `invalid_data`: a body that does not \
            parse, or a missing field", body = ErrorJson),
        (status = 401, description = "`wrong_credentials`: wrong email or password",
            body = ErrorJson),
        (status = 429, description = "`too_many_attempts`: too many failed logins",
            body = ErrorJson)))]
pub async fn login(
    State(state): State<AppState>,
    Data(credentials): Data<Credentials>,
) -> Result<Json<Token>, WebappError> {
    let login = crate::auth::login_by_email_or_name(
        &state,
        credentials.email,
        credentials.password,
        PLATFORM,
    )
    .await
    .map_err(|status| {
        if crate::auth::is_wrong_credentials(&status) {
            WebappError::new(
                StatusCode::UNAUTHORIZED,
                "wrong_credentials",
                "wrong email or password",
            )
        } else {
            WebappError::from(status)
        }
    })?;
    Ok(Json(Token {
        token: login.access_token,
        user_id: login.user.map(|user| user.number).unwrap_or_default(),
    }))
}

#[utoipa::path(get, path = "/http/logout", tag = "webapp",
    summary = "Log out: the token stops working, its sockets close, every online user gets \
        user_activity with login false",
    operation_id = "webapp_logout", security(("authentication" = []), ("bearer" = [])),
    responses((status = 200, description = "`{\"success\": true}`", body = Done),
        (status = 401, description = "`unauthorized`: no valid token", body = ErrorJson)))]
pub async fn logout(
    State(state): State<AppState>,
    call: Call<serde_json::Value>,
) -> Result<Json<Done>, WebappError> {
    let caller = call.caller;
    state
        .services
        .auth
        .clone()
        .revoke_session(RevokeSessionRequest {
            user_id: caller.id.clone(),
            session_id: caller.session_id.clone(),
        })
        .await?;
    close_session_everywhere(&state, &caller.id, &caller.session_id).await;
    announce::activity(&state, caller.number, false).await;
    Ok(Done::ok())
}
