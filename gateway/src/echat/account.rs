//! Accounts: registration and login (each opens a session of the shared model and answers its
//! token as `session_id`), logout, the caller's account, and user search.

use axum::Json;
use axum::extract::{Query, State};
use axum::http::header::SET_COOKIE;
use axum::response::{IntoResponse, Response};
use chat_proto::auth::{
    CreateSessionRequest, LoginRequest, RegisterRequest, RevokeSessionRequest, SearchUsersRequest,
    Session,
};
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::{IntoParams, ToSchema};

use super::error::{EchatError, ErrorJson};
use super::json::EchatJson;
use super::render::UserJson;
use super::session::{Caller, expired_cookie, session_cookie};
use crate::sessions::close_session_everywhere;
use crate::state::AppState;

/// The platform of sessions this dialect opens, as auth-service records it.
pub const PLATFORM: &str = "e_chat_server";

#[derive(Deserialize, ToSchema)]
#[schema(as = echat::Credentials)]
pub struct Credentials {
    /// The username: 1 to 64 characters, no spaces or control characters.
    #[schema(min_length = 1, max_length = 64)]
    login: String,
    #[schema(min_length = 1, max_length = 256)]
    password: String,
}

/// `{"session_id"}`: the session's opaque token.
#[derive(serde::Serialize, ToSchema)]
#[schema(as = echat::SessionIdJson)]
pub struct SessionIdJson {
    session_id: String,
}

#[utoipa::path(post, path = "/v1/register", tag = "echat",
    summary = "Register a login and open a session (also set as the session_id cookie)",
    operation_id = "echat_register", request_body = Credentials,
    responses((status = 200, description = "the new session (also set as the session_id cookie)",
            body = SessionIdJson),
        (status = 422, description = "`invalid_json`, `validation_failed` or `user_already_exists`",
            body = ErrorJson)))]
pub async fn register(
    State(state): State<AppState>,
    EchatJson(credentials): EchatJson<Credentials>,
) -> Result<Response, EchatError> {
    let user = state
        .services
        .auth
        .clone()
        .register(RegisterRequest {
            username: credentials.login,
            password: credentials.password,
            ..RegisterRequest::default()
        })
        .await?
        .into_inner();
    open_session(&state, user.id).await
}

#[utoipa::path(post, path = "/v1/login", tag = "echat", summary = "Open a new session",
    operation_id = "echat_login", request_body = Credentials,
    responses((status = 200, description = "the new session (also set as the session_id cookie)",
            body = SessionIdJson),
        (status = 422, description = "`invalid_json`, `validation_failed`, `user_not_found` or \
            `wrong_credentials`",
            body = ErrorJson),
        (status = 429, description = "`too_many_attempts`: too many failed logins",
            body = ErrorJson)))]
pub async fn login(
    State(state): State<AppState>,
    EchatJson(credentials): EchatJson<Credentials>,
) -> Result<Response, EchatError> {
    let login = state
        .services
        .auth
        .clone()
        .login(LoginRequest {
            username: credentials.login,
            email: String::new(),
            password: credentials.password,
            session: Some(device()),
        })
        .await?
        .into_inner();
    Ok(answer(login.session.unwrap_or_default()))
}

/// What auth-service records of this dialect's sessions.
fn device() -> CreateSessionRequest {
    CreateSessionRequest {
        platform: PLATFORM.to_owned(),
        ..CreateSessionRequest::default()
    }
}

/// A new session of the user: its token is the `session_id`, in the body and in a cookie.
async fn open_session(state: &AppState, user_id: String) -> Result<Response, EchatError> {
    let session = state
        .services
        .auth
        .clone()
        .create_session(CreateSessionRequest {
            user_id,
            ..device()
        })
        .await?
        .into_inner();
    Ok(answer(session))
}

fn answer(session: Session) -> Response {
    let cookie = session_cookie(&session.session_token);
    let body = json!({ "session_id": session.session_token });
    ([(SET_COOKIE, cookie)], Json(body)).into_response()
}

/// Ends the caller's session: its token stops working and its sockets close on every replica.
#[utoipa::path(post, path = "/v1/logout", tag = "echat",
    summary = "End the session: its sockets close (1008) on every replica",
    operation_id = "echat_logout", security(("session_id" = [])),
    responses((status = 200, description = "`{}`", body = Object),
        (status = 401, description = "`unauthorized`: no valid session", body = ErrorJson)))]
pub async fn logout(
    State(state): State<AppState>,
    Caller(caller): Caller,
) -> Result<Response, EchatError> {
    state
        .services
        .auth
        .clone()
        .revoke_session(RevokeSessionRequest {
            user_id: caller.user_id.clone(),
            session_id: caller.session_id.clone(),
        })
        .await?;
    close_session_everywhere(&state, &caller.user_id, &caller.session_id).await;
    Ok(([(SET_COOKIE, expired_cookie())], Json(json!({}))).into_response())
}

#[utoipa::path(get, path = "/v1/info", tag = "echat", summary = "The caller",
    operation_id = "echat_info", security(("session_id" = [])),
    responses((status = 200, description = "the caller", body = UserJson),
        (status = 401, description = "`unauthorized`: no valid session", body = ErrorJson)))]
pub async fn info(Caller(caller): Caller) -> Json<UserJson> {
    Json(UserJson {
        id: caller.user_number,
        login: caller.username,
    })
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Search {
    #[serde(default)]
    q: String,
    /// Not in the document: at most this many users (default 20, at most 100).
    limit: Option<u32>,
}

/// Users whose login contains `q`, case-insensitively in any script.
#[utoipa::path(get, path = "/v1/users", tag = "echat",
    summary = "Users whose login contains q, in any case and script",
    operation_id = "echat_search_users", security(("session_id" = [])), params(Search),
    responses((status = 200, description = "the users found", body = Vec<UserJson>),
        (status = 401, description = "`unauthorized`: no valid session", body = ErrorJson),
        (status = 422, description = "`invalid_query`: a query parameter that does not parse",
            body = ErrorJson)))]
pub async fn search_users(
    State(state): State<AppState>,
    _caller: Caller,
    query: Result<Query<Search>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Value>, EchatError> {
    let Query(search) =
        query.map_err(|rejection| EchatError::invalid_query(rejection.body_text()))?;
    let found = state
        .services
        .auth
        .clone()
        .search_users(SearchUsersRequest {
            query: search.q,
            limit: search.limit.unwrap_or(0),
        })
        .await?
        .into_inner();
    let users: Vec<UserJson> = found.users.iter().map(UserJson::from).collect();
    Ok(Json(json!(users)))
}
