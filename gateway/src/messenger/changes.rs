//! Changing and deleting an account: at `/api/users/me`, and at `/api/users/{id}` with the
//! caller's own id (another's is 403).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use chat_proto::auth::{DeleteUserRequest, GetUsersRequest, UpdateUserRequest, User};

use super::account::{Account, Body};
use super::error::{ErrorBody, HttpError};
use super::users::{Changes, Deleted, UserJson};
use crate::auth::CurrentUser;
use crate::sessions::close_user_everywhere;
use crate::state::AppState;

#[utoipa::path(patch, path = "/api/users/{id}", tag = "messenger",
    summary = "Update the caller, named by their id (the same as /api/users/me)",
    params(("id" = i64, Path, description = "the caller's own id")),
    operation_id = "messenger_update_by_id", security(("bearer" = [])), request_body = Changes,
    responses((status = 200, description = "the caller as changed", body = UserJson),
        (status = 400, description = "`invalid_json` or `validation_failed`: a body that does \
            not parse, or a missing or invalid field", body = ErrorBody),
        (status = 401, description = "`unauthorized`: no valid access token", body = ErrorBody),
        (status = 403, description = "`forbidden`: another user's id", body = ErrorBody),
        (status = 409, description = "`email_taken`: the new email is taken", body = ErrorBody)))]
pub async fn update_by_id(
    State(state): State<AppState>,
    Account(caller): Account,
    Path(id): Path<String>,
    Body(changes): Body<Changes>,
) -> Result<Json<UserJson>, HttpError> {
    own(&caller, &id)?;
    update(&state, &caller.id, changes).await
}

#[utoipa::path(put, path = "/api/users/{id}", tag = "messenger",
    summary = "Update the caller, named by their id (the same as PATCH /api/users/{id})",
    params(("id" = i64, Path, description = "the caller's own id")),
    operation_id = "messenger_update_by_id_put", security(("bearer" = [])), request_body = Changes,
    responses((status = 200, description = "the caller as changed", body = UserJson),
        (status = 400, description = "`invalid_json` or `validation_failed`: a body that does \
            not parse, or a missing or invalid field", body = ErrorBody),
        (status = 401, description = "`unauthorized`: no valid access token", body = ErrorBody),
        (status = 403, description = "`forbidden`: another user's id", body = ErrorBody),
        (status = 409, description = "`email_taken`: the new email is taken", body = ErrorBody)))]
pub async fn update_by_id_put(
    state: State<AppState>,
    account: Account,
    id: Path<String>,
    body: Body<Changes>,
) -> Result<Json<UserJson>, HttpError> {
    update_by_id(state, account, id, body).await
}

#[utoipa::path(delete, path = "/api/users/{id}", tag = "messenger",
    summary = "Delete the caller, named by their id (the same as /api/users/me)",
    params(("id" = i64, Path, description = "the caller's own id")),
    operation_id = "messenger_delete_by_id", security(("bearer" = [])),
    responses((status = 200, description = "the caller deleted", body = Deleted),
        (status = 401, description = "`unauthorized`: no valid access token", body = ErrorBody),
        (status = 403, description = "`forbidden`: another user's id", body = ErrorBody)))]
pub async fn delete_by_id(
    State(state): State<AppState>,
    Account(caller): Account,
    Path(id): Path<String>,
) -> Result<Json<Deleted>, HttpError> {
    own(&caller, &id)?;
    delete(&state, &caller.id).await
}

fn own(caller: &CurrentUser, id: &str) -> Result<(), HttpError> {
    if id.trim().parse::<i64>().ok() == Some(caller.number) {
        Ok(())
    } else {
        let message = "You can only change your own account";
        Err(HttpError::new(StatusCode::FORBIDDEN, "forbidden", message))
    }
}

/// The caller's account as auth-service has it now.
pub async fn current(state: &AppState, user_id: &str) -> Result<User, HttpError> {
    let found = state
        .services
        .auth
        .clone()
        .get_users(GetUsersRequest {
            user_ids: vec![user_id.to_owned()],
            numbers: Vec::new(),
        })
        .await?
        .into_inner();
    found
        .users
        .into_iter()
        .next()
        .ok_or_else(|| HttpError::unauthorized("Unauthorized"))
}

/// Applies `changes` to the user and answers them as changed.
pub async fn update(
    state: &AppState,
    user_id: &str,
    changes: Changes,
) -> Result<Json<UserJson>, HttpError> {
    let user = current(state, user_id).await?;
    let request = update_request(&user, changes)?;
    let changed = state.services.auth.clone().update_user(request).await?;
    Ok(Json(UserJson::from(&changed.into_inner())))
}

/// The request that applies `changes`: the username follows the email of a user whose
/// username is their email (one registered here).
pub fn update_request(user: &User, changes: Changes) -> Result<UpdateUserRequest, HttpError> {
    if changes
        .email
        .as_deref()
        .is_some_and(|email| email.trim().is_empty())
    {
        let message = "email must not be empty";
        return Err(HttpError::new(
            StatusCode::BAD_REQUEST,
            "validation_failed",
            message,
        ));
    }
    let follows =
        !user.email.is_empty() && user.username.to_lowercase() == user.email.to_lowercase();
    Ok(UpdateUserRequest {
        user_id: user.id.clone(),
        username: changes.email.clone().filter(|_| follows),
        email: changes.email,
        password: changes.password,
        first_name: changes.first_name,
        last_name: changes.last_name,
        display_name: None,
    })
}

/// Deletes the user, then closes their sockets on every replica.
pub async fn delete(state: &AppState, user_id: &str) -> Result<Json<Deleted>, HttpError> {
    state
        .services
        .auth
        .clone()
        .delete_user(DeleteUserRequest {
            user_id: user_id.to_owned(),
        })
        .await?;
    close_user_everywhere(state, user_id).await;
    Ok(Json(Deleted {
        success: true,
        message: "User deleted".to_owned(),
    }))
}
