//! Native REST: registration, login, sessions (devices) and logout.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use chat_proto::auth::{CreateSessionRequest, LoginRequest, RegisterRequest, RevokeSessionRequest};
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::ToSchema;

use super::schema::{CreatedUser, ErrorJson, LoginJson, SessionJson};

use crate::auth::CurrentUser;
use crate::error::ApiError;
use crate::json::JsonBody;
use crate::sessions::close_session_everywhere;
use crate::state::AppState;

#[derive(Deserialize, ToSchema)]
#[schema(as = native::NewUser)]
pub struct NewUser {
    #[schema(min_length = 1, max_length = 64)]
    username: String,
    #[serde(default)]
    #[schema(max_length = 254)]
    email: String,
    #[schema(min_length = 1, max_length = 256)]
    password: String,
    #[serde(default)]
    first_name: String,
    #[serde(default)]
    last_name: String,
}

#[utoipa::path(post, path = "/users", tag = "native", operation_id = "native_create_user",
    summary = "Register a user",
    request_body = NewUser,
    responses((status = 200, description = "the user registered", body = CreatedUser),
        (status = 400, description = "`invalid_json`: malformed JSON", body = ErrorJson),
        (status = 409, description = "`username_taken` or `email_taken`", body = ErrorJson),
        (status = 422, description = "`validation_failed`: a missing or invalid field",
            body = ErrorJson)))]
pub async fn create_user(
    State(state): State<AppState>,
    JsonBody(user): JsonBody<NewUser>,
) -> Result<Json<Value>, ApiError> {
    let created = state
        .services
        .auth
        .clone()
        .register(RegisterRequest {
            username: user.username,
            email: user.email,
            password: user.password,
            first_name: user.first_name,
            last_name: user.last_name,
            display_name: String::new(),
            service_account: false,
        })
        .await?
        .into_inner();
    Ok(Json(json!({
        "id": created.id,
        "number": created.number,
        "username": created.username,
    })))
}

#[derive(Deserialize, ToSchema)]
#[schema(as = native::Credentials)]
pub struct Credentials {
    #[serde(default)]
    #[schema(max_length = 64)]
    username: String,
    #[serde(default)]
    #[schema(max_length = 254)]
    email: String,
    #[schema(min_length = 1, max_length = 256)]
    password: String,
}

#[utoipa::path(post, path = "/login", tag = "native",
    summary = "Log in by username or email: an access token (JWT)",
    operation_id = "native_login", request_body = Credentials,
    responses((status = 200, description = "an access token", body = LoginJson),
        (status = 400, description = "`invalid_json`: malformed JSON", body = ErrorJson),
        (status = 401, description = "`wrong_credentials`", body = ErrorJson),
        (status = 404, description = "`user_not_found`", body = ErrorJson),
        (status = 422, description = "`validation_failed`: no username or email, or an invalid one",
            body = ErrorJson),
        (status = 429, description = "`too_many_attempts`: too many failed logins",
            body = ErrorJson)))]
pub async fn login(
    State(state): State<AppState>,
    JsonBody(credentials): JsonBody<Credentials>,
) -> Result<Json<Value>, ApiError> {
    if credentials.username.is_empty() && credentials.email.is_empty() {
        return Err(ApiError::unprocessable(
            "validation_failed",
            "username or email is required",
        ));
    }
    let login = state
        .services
        .auth
        .clone()
        .login(LoginRequest {
            username: credentials.username,
            email: credentials.email,
            password: credentials.password,
            session: Some(CreateSessionRequest::default()),
        })
        .await?
        .into_inner();
    let user_id = login.user.map(|u| u.id).unwrap_or_default();
    let session_id = login.session.map(|s| s.id).unwrap_or_default();
    Ok(Json(json!({
        "token": login.access_token,
        "expires_at": login.expires_at_ms,
        "user_id": user_id,
        "session_id": session_id,
    })))
}

/// Seed 000 sends `build` as a number; a string holding a number is taken too.
#[derive(Deserialize, ToSchema)]
#[serde(untagged)]
#[schema(as = native::Build)]
enum Build {
    Number(i64),
    Text(String),
}

#[derive(Deserialize, Default, ToSchema)]
#[schema(as = native::NewSession)]
pub struct NewSession {
    #[serde(default)]
    device_id: String,
    #[serde(default)]
    platform: String,
    #[serde(default)]
    model: String,
    build: Option<Build>,
    #[serde(default)]
    name: String,
}

#[utoipa::path(post, path = "/sessions", tag = "native",
    summary = "Open a session of a device: its messaging_url is its WebSocket",
    operation_id = "native_create_session", security(("bearer" = [])), request_body = NewSession,
    responses((status = 200, description = "the session opened", body = SessionJson),
        (status = 400, description = "`invalid_json`: malformed JSON", body = ErrorJson),
        (status = 401, description = "no valid access token", body = ErrorJson),
        (status = 422, description = "`validation_failed`: a field of the wrong type",
            body = ErrorJson)))]
pub async fn create_session(
    State(state): State<AppState>,
    user: CurrentUser,
    JsonBody(session): JsonBody<NewSession>,
) -> Result<Json<Value>, ApiError> {
    let build = match session.build {
        None => 0,
        Some(Build::Number(build)) => build,
        Some(Build::Text(text)) => text
            .trim()
            .parse()
            .map_err(|_| ApiError::unprocessable("validation_failed", "build must be a number"))?,
    };
    let created = state
        .services
        .auth
        .clone()
        .create_session(CreateSessionRequest {
            user_id: user.id,
            device_id: session.device_id,
            platform: session.platform,
            model: session.model,
            build,
            name: session.name,
        })
        .await?
        .into_inner();
    Ok(Json(json!({
        "created_at": created.created_at_ms,
        "id": created.id,
        "messaging_url": format!("{}/{}", state.options.websocket_base, created.connection_id),
        "session_token": created.session_token,
        "token": created.access_token,
        "expires_at": created.expires_at_ms,
    })))
}

/// Logout of one device: the session ends and its sockets close on every replica.
#[utoipa::path(delete, path = "/sessions/{session_id}", tag = "native",
    summary = "Log a device out: its sockets close (1008) on every replica",
    operation_id = "native_delete_session", security(("bearer" = [])),
    params(("session_id" = String, Path, description = "the session's id")),
    responses((status = 204, description = "the session ended"),
        (status = 401, description = "no valid access token", body = ErrorJson),
        (status = 404, description = "`session_not_found`: no such session of the caller",
            body = ErrorJson)))]
pub async fn delete_session(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(session_id): Path<String>,
) -> Result<StatusCode, ApiError> {
    state
        .services
        .auth
        .clone()
        .revoke_session(RevokeSessionRequest {
            user_id: user.id.clone(),
            session_id: session_id.clone(),
        })
        .await?;
    close_session_everywhere(&state, &user.id, &session_id).await;
    Ok(StatusCode::NO_CONTENT)
}
