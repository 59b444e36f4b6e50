//! `GET /http/users`: every user of the product with whether they are online now (a socket of
//! any dialect on any replica), as the document's human-chat mode lists them.

use std::collections::HashSet;

use axum::Json;
use axum::extract::State;
use chat_proto::auth::{ListUsersRequest, User};
use chat_proto::presence::LocateRequest;
use serde::Serialize;
use utoipa::ToSchema;

use super::error::{ErrorJson, WebappError};
use super::input::Call;
use crate::state::AppState;

/// Users listed (and located) per call.
const PAGE: u32 = 1000;

/// A user's general information.
#[derive(Serialize, ToSchema)]
#[schema(as = webapp::UserJson)]
pub struct UserJson {
    /// The user's id (a number); `user_id` repeats it.
    pub id: i64,
    pub user_id: i64,
    pub first_name: String,
    pub last_name: String,
    /// Whether the user has a socket open now.
    pub online: bool,
    /// `online` or `offline`.
    pub status: &'static str,
}

impl UserJson {
    pub fn new(user: &User, online: bool) -> Self {
        Self {
            id: user.number,
            user_id: user.number,
            first_name: user.first_name.clone(),
            last_name: user.last_name.clone(),
            online,
            status: if online { "online" } else { "offline" },
        }
    }
}

/// Which of `users` are online.
pub async fn online(state: &AppState, users: &[User]) -> Result<HashSet<String>, WebappError> {
    Ok(located(state, users).await?)
}

async fn located(state: &AppState, users: &[User]) -> Result<HashSet<String>, tonic::Status> {
    let located = state
        .services
        .presence
        .clone()
        .locate(LocateRequest {
            user_ids: users.iter().map(|user| user.id.clone()).collect(),
        })
        .await?
        .into_inner();
    Ok(located.online.into_iter().map(|l| l.user_id).collect())
}

#[utoipa::path(get, path = "/http/users", tag = "webapp",
    summary = "Every user, online or offline",
    operation_id = "webapp_list_users", security(("authentication" = []), ("bearer" = [])),
    responses((status = 200, description = "every user, by id", body = [UserJson]),
        (status = 401, description = "`unauthorized`: no valid token", body = ErrorJson)))]
pub async fn list_users(
    State(state): State<AppState>,
    _call: Call<serde_json::Value>,
) -> Result<Json<Vec<UserJson>>, WebappError> {
    let people = everyone_with_presence(&state).await?;
    Ok(Json(
        people
            .iter()
            .map(|(user, online)| UserJson::new(user, *online))
            .collect(),
    ))
}

/// Every person of the product — the bot account is no one to chat with here, it has its own
/// chat — listed from auth-service a page at a time, each with whether they have a socket open
/// now (a socket of any dialect on any replica). The user list and the bot's `online` read it.
pub async fn everyone_with_presence(state: &AppState) -> Result<Vec<(User, bool)>, tonic::Status> {
    let mut people = Vec::new();
    let mut after = 0;
    loop {
        let users = state
            .services
            .auth
            .clone()
            .list_users(ListUsersRequest {
                after_number: after,
                limit: PAGE,
            })
            .await?
            .into_inner()
            .users;
        let online = located(state, &users).await?;
        let next = match users.last() {
            Some(last) if users.len() as u32 >= PAGE => Some(last.number),
            _ => None,
        };
        people.extend(
            users
                .into_iter()
                .filter(|u| !crate::bot::is_service_account(&u.username))
                .map(|u| {
                    let online = online.contains(&u.id);
                    (u, online)
                }),
        );
        match next {
            Some(number) => after = number,
            None => return Ok(people),
        }
    }
}
