//! The document's paths with a trailing slash (`/v1/users/`, `/v1/rooms/`), which its examples
//! use beside the plain ones: the same handlers, each documented as its own operation.

use axum::Json;
use axum::extract::{Query, State};
use serde_json::Value;

use super::account::{Search, search_users};
use super::error::{EchatError, ErrorJson};
use super::json::EchatJson;
use super::render::{RoomJson, UserJson};
use super::rooms::{NewRoom, create_room, list_rooms};
use super::session::Caller;
use crate::state::AppState;

#[utoipa::path(get, path = "/v1/users/", tag = "echat",
    summary = "Users whose login contains q (the same as /v1/users)",
    operation_id = "echat_search_users_slash", security(("session_id" = [])), params(Search),
    responses((status = 200, description = "the users found", body = Vec<UserJson>),
        (status = 401, description = "`unauthorized`: no valid session", body = ErrorJson),
        (status = 422, description = "`invalid_query`: a query parameter that does not parse",
            body = ErrorJson)))]
pub async fn search_users_slash(
    state: State<AppState>,
    caller: Caller,
    query: Result<Query<Search>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Value>, EchatError> {
    search_users(state, caller, query).await
}

#[utoipa::path(get, path = "/v1/rooms/", tag = "echat",
    summary = "The caller's rooms (the same as /v1/rooms)", security(("session_id" = [])),
    operation_id = "echat_list_rooms_slash",
    responses((status = 200, description = "the caller's rooms", body = Vec<RoomJson>),
        (status = 401, description = "`unauthorized`: no valid session", body = ErrorJson)))]
pub async fn list_rooms_slash(
    state: State<AppState>,
    caller: Caller,
) -> Result<Json<Vec<RoomJson>>, EchatError> {
    list_rooms(state, caller).await
}

#[utoipa::path(post, path = "/v1/rooms/", tag = "echat",
    summary = "Create a room (the same as POST /v1/rooms)",
    operation_id = "echat_create_room_slash", security(("session_id" = [])), request_body = NewRoom,
    responses((status = 200, description = "the room created", body = RoomJson),
        (status = 401, description = "`unauthorized`: no valid session", body = ErrorJson),
        (status = 422, description = "`invalid_json`, or `user_not_found`: an id that is no user's",
            body = ErrorJson)))]
pub async fn create_room_slash(
    state: State<AppState>,
    caller: Caller,
    body: EchatJson<NewRoom>,
) -> Result<Json<RoomJson>, EchatError> {
    create_room(state, caller, body).await
}
