//! The caller's profile: `GET /http/users/profile` and `PUT /http/users/profile` (names, and a
//! password, which the token authorizes), after which every online user gets `user_update`.

use axum::Json;
use axum::extract::State;
use chat_proto::auth::{GetUsersRequest, UpdateUserRequest, User};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use super::announce;
use super::error::{ErrorJson, WebappError};
use super::input::Call;
use crate::state::AppState;

/// The caller's private information.
#[derive(Serialize, ToSchema)]
#[schema(as = webapp::Profile)]
pub struct Profile {
    /// The user's id (a number); `user_id` repeats it.
    id: i64,
    user_id: i64,
    email: String,
    username: String,
    first_name: String,
    last_name: String,
    /// When the account was created, ISO 8601.
    created_at: String,
}

impl From<&User> for Profile {
    fn from(user: &User) -> Self {
        Self {
            id: user.number,
            user_id: user.number,
            email: user.email.clone(),
            username: user.username.clone(),
            first_name: user.first_name.clone(),
            last_name: user.last_name.clone(),
            created_at: super::time::format(user.created_at_ms),
        }
    }
}

/// Each field is optional; only those given change.
#[derive(Deserialize, ToSchema)]
#[schema(as = webapp::ProfileChanges)]
pub struct ProfileChanges {
    first_name: Option<String>,
    last_name: Option<String>,
    password: Option<String>,
}

async fn current(state: &AppState, user_id: &str) -> Result<User, WebappError> {
    state
        .services
        .auth
        .clone()
        .get_users(GetUsersRequest {
            user_ids: vec![user_id.to_owned()],
            numbers: Vec::new(),
        })
        .await?
        .into_inner()
        .users
        .into_iter()
        .next()
        .ok_or_else(WebappError::unauthorized)
}

#[utoipa::path(get, path = "/http/users/profile", tag = "webapp",
    summary = "The caller's private information",
    operation_id = "webapp_profile", security(("authentication" = []), ("bearer" = [])),
    responses((status = 200, description = "the caller", body = Profile),
        (status = 401, description = "`unauthorized`: no valid token", body = ErrorJson)))]
pub async fn profile(
    State(state): State<AppState>,
    call: Call<Value>,
) -> Result<Json<Profile>, WebappError> {
    Ok(Json(Profile::from(
        &current(&state, &call.caller.id).await?,
    )))
}

#[utoipa::path(put, path = "/http/users/profile", tag = "webapp",
    summary = "Change the caller's names or password; every online user gets user_update",
    operation_id = "webapp_update_profile", security(("authentication" = []), ("bearer" = [])),
    request_body = ProfileChanges,
    responses((status = 200, description = "the caller as changed", body = Profile),
        (status = 400, description = "`invalid_json` or `invalid_data`: a mistyped field, or a \
            value refused (an empty password, a name with a control character)",
            body = ErrorJson),
        (status = 401, description = "`unauthorized`: no valid token", body = ErrorJson)))]
pub async fn update_profile(
    State(state): State<AppState>,
    call: Call<ProfileChanges>,
) -> Result<Json<Profile>, WebappError> {
    let changes = call.data;
    let changed = state
        .services
        .auth
        .clone()
        .update_user(UpdateUserRequest {
            user_id: call.caller.id,
            password: changes.password,
            first_name: changes.first_name,
            last_name: changes.last_name,
            ..UpdateUserRequest::default()
        })
        .await?
        .into_inner();
    announce::user_updated(&state, &changed).await;
    Ok(Json(Profile::from(&changed)))
}
