//! The document's HTTP part: registration, authorization (a JWT), updating and deleting the
//! user. A user registered here has their email as their username, so that the same account
//! signs in to every dialect.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chat_proto::auth::{RegisterRequest, RevokeSessionRequest, User};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::account::{Account, Body};
use super::error::{ErrorBody, HttpError};
use super::render::time;
use crate::sessions::close_session_everywhere;
use crate::state::AppState;

/// The platform of sessions this dialect's logins open, as auth-service records it.
pub const PLATFORM: &str = "messenger";

/// A user as `/api` shows one: the stable integer `id`, the email, the names.
#[derive(Serialize, ToSchema)]
#[schema(as = messenger::UserJson)]
#[serde(rename_all = "camelCase")]
pub struct UserJson {
    pub id: i64,
    pub email: Option<String>,
    pub first_name: String,
    pub last_name: String,
    /// ISO-8601 with milliseconds, UTC.
    pub created_at: String,
}

impl From<&User> for UserJson {
    fn from(user: &User) -> Self {
        Self {
            id: user.number,
            email: (!user.email.is_empty()).then(|| user.email.clone()),
            first_name: user.first_name.clone(),
            last_name: user.last_name.clone(),
            created_at: time(user.created_at_ms),
        }
    }
}

/// `firstName` and `lastName` may also be sent as `first_name`, `last_name`.
#[derive(Deserialize, ToSchema)]
#[schema(as = messenger::Registration)]
#[serde(rename_all = "camelCase")]
pub struct Registration {
    #[schema(min_length = 1, max_length = 64)]
    email: String,
    #[schema(min_length = 1, max_length = 256)]
    password: String,
    #[serde(default, alias = "first_name")]
    first_name: String,
    #[serde(default, alias = "last_name")]
    last_name: String,
}

#[derive(Deserialize, ToSchema)]
#[schema(as = messenger::Credentials)]
pub struct Credentials {
    /// The email registered; `login` and `username` are read as well.
    #[serde(alias = "login", alias = "username")]
    #[schema(min_length = 1, max_length = 254)]
    email: String,
    #[schema(min_length = 1, max_length = 256)]
    password: String,
}

#[derive(Serialize, ToSchema)]
#[schema(as = messenger::LoginJson)]
#[serde(rename_all = "camelCase")]
pub struct LoginJson {
    /// The access token (JWT) for `Authorization: Bearer` and the WebSocket handshake.
    token: String,
    /// When the token expires, ISO-8601.
    expires_at: String,
    user: UserJson,
}

/// Every field is optional; only those sent change.
#[derive(Deserialize, ToSchema, Default)]
#[schema(as = messenger::Changes)]
#[serde(rename_all = "camelCase")]
pub struct Changes {
    pub email: Option<String>,
    pub password: Option<String>,
    #[serde(alias = "first_name")]
    pub first_name: Option<String>,
    #[serde(alias = "last_name")]
    pub last_name: Option<String>,
}

#[derive(Serialize, ToSchema)]
#[schema(as = messenger::Deleted)]
pub struct Deleted {
    pub success: bool,
    pub message: String,
}

#[utoipa::path(post, path = "/api/auth/register", tag = "messenger",
    summary = "Register a user (the email is also the username)",
    request_body = Registration,
    operation_id = "messenger_register",
    responses((status = 201, description = "the user registered", body = UserJson),
        (status = 400, description = "`invalid_json` or `validation_failed`: a body that does \
            not parse, or a missing or invalid field", body = ErrorBody),
        (status = 409, description = "`email_taken`: the email is taken", body = ErrorBody)))]
pub async fn register(
    State(state): State<AppState>,
    Body(registration): Body<Registration>,
) -> Result<(StatusCode, Json<UserJson>), HttpError> {
    let user = state
        .services
        .auth
        .clone()
        .register(RegisterRequest {
            username: registration.email.clone(),
            email: registration.email,
            password: registration.password,
            first_name: registration.first_name,
            last_name: registration.last_name,
            display_name: String::new(),
            service_account: false,
        })
        .await?
        .into_inner();
    Ok((StatusCode::CREATED, Json(UserJson::from(&user))))
}

#[utoipa::path(post, path = "/api/users", tag = "messenger",
    summary = "Register a user (the same as POST /api/auth/register)",
    request_body = Registration,
    operation_id = "messenger_create_user",
    responses((status = 201, description = "the user registered", body = UserJson),
        (status = 400, description = "`invalid_json` or `validation_failed`: a body that does \
            not parse, or a missing or invalid field", body = ErrorBody),
        (status = 409, description = "`email_taken`: the email is taken", body = ErrorBody)))]
pub async fn create_user(
    state: State<AppState>,
    body: Body<Registration>,
) -> Result<(StatusCode, Json<UserJson>), HttpError> {
    register(state, body).await
}

#[utoipa::path(post, path = "/api/auth/login", tag = "messenger",
    summary = "Authorize: the access token (JWT) of a user",
    operation_id = "messenger_login", request_body = Credentials,
    responses((status = 200, description = "an access token and the user", body = LoginJson),
        (status = 400, description = "`invalid_json` or `validation_failed`: a body that does \
            not parse, or a missing or invalid field", body = ErrorBody),
        (status = 401, description = "`wrong_credentials`: wrong email or password",
            body = ErrorBody),
        (status = 429, description = "too many failed attempts", body = ErrorBody)))]
pub async fn login(
    State(state): State<AppState>,
    Body(credentials): Body<Credentials>,
) -> Result<Json<LoginJson>, HttpError> {
    let login = crate::auth::login_by_email_or_name(
        &state,
        credentials.email,
        credentials.password,
        PLATFORM,
    )
    .await
    .map_err(|status| {
        if crate::auth::is_wrong_credentials(&status) {
            HttpError::new(
                StatusCode::UNAUTHORIZED,
                "wrong_credentials",
                "Wrong email or password",
            )
        } else {
            HttpError::from(status)
        }
    })?;
    let user = login.user.unwrap_or_default();
    Ok(Json(LoginJson {
        token: login.access_token,
        expires_at: time(login.expires_at_ms),
        user: UserJson::from(&user),
    }))
}

/// Ends the session the caller's token names: the token stops working on every replica, and
/// its sockets close (1008).
#[utoipa::path(post, path = "/api/auth/logout", tag = "messenger",
    summary = "Log out: the token stops working and its sockets close (1008) everywhere",
    operation_id = "messenger_logout", security(("bearer" = [])),
    responses((status = 200, description = "`{success, message}`", body = Deleted),
        (status = 401, description = "`unauthorized`: no valid access token", body = ErrorBody)))]
pub async fn logout(
    State(state): State<AppState>,
    Account(caller): Account,
) -> Result<Json<Deleted>, HttpError> {
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
    Ok(Json(Deleted {
        success: true,
        message: "Logged out".to_owned(),
    }))
}

#[utoipa::path(get, path = "/api/users/me", tag = "messenger", summary = "The caller",
    operation_id = "messenger_me", security(("bearer" = [])),
    responses((status = 200, description = "the caller", body = UserJson),
        (status = 401, description = "`unauthorized`: no valid access token", body = ErrorBody)))]
pub async fn me(
    State(state): State<AppState>,
    Account(caller): Account,
) -> Result<Json<UserJson>, HttpError> {
    let user = super::changes::current(&state, &caller.id).await?;
    Ok(Json(UserJson::from(&user)))
}

#[utoipa::path(patch, path = "/api/users/me", tag = "messenger",
    summary = "Update the caller: any of email, password, firstName, lastName",
    operation_id = "messenger_update_me", security(("bearer" = [])), request_body = Changes,
    responses((status = 200, description = "the caller as changed", body = UserJson),
        (status = 400, description = "`invalid_json` or `validation_failed`: a body that does \
            not parse, or a missing or invalid field", body = ErrorBody),
        (status = 401, description = "`unauthorized`: no valid access token", body = ErrorBody),
        (status = 409, description = "`email_taken`: the new email is taken", body = ErrorBody)))]
pub async fn update_me(
    State(state): State<AppState>,
    Account(caller): Account,
    Body(changes): Body<Changes>,
) -> Result<Json<UserJson>, HttpError> {
    super::changes::update(&state, &caller.id, changes).await
}

#[utoipa::path(put, path = "/api/users/me", tag = "messenger",
    summary = "Update the caller (the same as PATCH /api/users/me)",
    operation_id = "messenger_update_me_put", security(("bearer" = [])), request_body = Changes,
    responses((status = 200, description = "the caller as changed", body = UserJson),
        (status = 400, description = "`invalid_json` or `validation_failed`: a body that does \
            not parse, or a missing or invalid field", body = ErrorBody),
        (status = 401, description = "`unauthorized`: no valid access token", body = ErrorBody),
        (status = 409, description = "`email_taken`: the new email is taken", body = ErrorBody)))]
pub async fn update_me_put(
    state: State<AppState>,
    account: Account,
    body: Body<Changes>,
) -> Result<Json<UserJson>, HttpError> {
    update_me(state, account, body).await
}

#[utoipa::path(delete, path = "/api/users/me", tag = "messenger",
    summary = "Delete the caller: every session ends and every socket closes (1008)",
    operation_id = "messenger_delete_me", security(("bearer" = [])),
    responses((status = 200, description = "the caller deleted", body = Deleted),
        (status = 401, description = "`unauthorized`: no valid access token", body = ErrorBody)))]
pub async fn delete_me(
    State(state): State<AppState>,
    Account(caller): Account,
) -> Result<Json<Deleted>, HttpError> {
    super::changes::delete(&state, &caller.id).await
}
