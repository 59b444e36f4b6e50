//! Rooms: the caller's conversations of the shared model, by number. Creating one creates a
//! group with the caller and the users named; reading one needs its membership, and an
//! unknown room and someone else's answer alike (`room_not_found`).

use std::collections::HashMap;

use axum::Json;
use axum::extract::{Path, State};
use chat_proto::auth::{GetUsersRequest, User};
use chat_proto::chat::{
    Conversation, CreateGroupRequest, GetConversationRequest, ListConversationsRequest,
};
use serde::Deserialize;
use utoipa::ToSchema;

use super::error::{EchatError, ErrorJson};
use super::json::EchatJson;
use super::render::{RoomJson, UserJson};
use super::session::Caller;
use crate::state::AppState;

/// Most users one GetUsers call looks up.
const LOOKUP_BATCH: usize = 1000;
/// Longest group name chat-service takes.
const MAX_NAME_CHARS: usize = 200;

#[utoipa::path(get, path = "/v1/rooms", tag = "echat",
    summary = "The caller's rooms (every conversation they are in), most recently active first",
    security(("session_id" = [])),
    operation_id = "echat_list_rooms",
    responses((status = 200, description = "the caller's rooms", body = Vec<RoomJson>),
        (status = 401, description = "`unauthorized`: no valid session", body = ErrorJson)))]
pub async fn list_rooms(
    State(state): State<AppState>,
    Caller(caller): Caller,
) -> Result<Json<Vec<RoomJson>>, EchatError> {
    let list = state
        .services
        .chat
        .clone()
        .list_conversations(ListConversationsRequest {
            user_id: caller.user_id.clone(),
        })
        .await?
        .into_inner();
    let members: Vec<String> = list
        .conversations
        .iter()
        .flat_map(|c| c.members.iter().map(|m| m.user_id.clone()))
        .collect();
    let users = users_by_id(&state, members).await?;
    let rooms = list
        .conversations
        .iter()
        .map(|c| room(c, &users, &caller.user_id))
        .collect();
    Ok(Json(rooms))
}

#[derive(Deserialize, ToSchema)]
#[schema(as = echat::NewRoom)]
pub struct NewRoom {
    users: Vec<RoomUser>,
}

/// A user as the document names one; only the id counts.
#[derive(Deserialize, ToSchema)]
#[schema(as = echat::RoomUser)]
pub struct RoomUser {
    id: i64,
}

#[utoipa::path(post, path = "/v1/rooms", tag = "echat",
    summary = "Create a room of the caller and the users named",
    operation_id = "echat_create_room", security(("session_id" = [])), request_body = NewRoom,
    responses((status = 200, description = "the room created", body = RoomJson),
        (status = 401, description = "`unauthorized`: no valid session", body = ErrorJson),
        (status = 422, description = "`invalid_json`, or `user_not_found`: an id that is no user's",
            body = ErrorJson)))]
pub async fn create_room(
    State(state): State<AppState>,
    Caller(caller): Caller,
    EchatJson(new): EchatJson<NewRoom>,
) -> Result<Json<RoomJson>, EchatError> {
    let mut numbers: Vec<i64> = Vec::new();
    for user in &new.users {
        if user.id != caller.user_number && !numbers.contains(&user.id) {
            numbers.push(user.id);
        }
    }
    let found = if numbers.is_empty() {
        Vec::new()
    } else {
        state
            .services
            .auth
            .clone()
            .get_users(GetUsersRequest {
                user_ids: Vec::new(),
                numbers: numbers.clone(),
            })
            .await?
            .into_inner()
            .users
    };
    // The caller first, then the users in the order they were named.
    let mut users = vec![UserJson {
        id: caller.user_number,
        login: caller.username.clone(),
    }];
    let mut member_ids = Vec::new();
    for number in &numbers {
        let user = found
            .iter()
            .find(|u| u.number == *number)
            .ok_or_else(|| EchatError::user_not_found(format!("no user has the id {number}")))?;
        users.push(UserJson::from(user));
        member_ids.push(user.id.clone());
    }
    let created = state
        .services
        .chat
        .clone()
        .create_group(CreateGroupRequest {
            creator_id: caller.user_id.clone(),
            name: room_name(&users),
            member_ids,
            is_public: false,
            external_id: String::new(),
        })
        .await?
        .into_inner();
    Ok(Json(RoomJson {
        id: created.number,
        users,
    }))
}

#[utoipa::path(get, path = "/v1/rooms/{room_id}", tag = "echat", summary = "One room",
    operation_id = "echat_get_room", security(("session_id" = [])),
    params(("room_id" = i64, Path, description = "the room's id")),
    responses((status = 200, description = "the room", body = RoomJson),
        (status = 401, description = "`unauthorized`: no valid session", body = ErrorJson),
        (status = 422, description = "`room_not_found`: no such room among the caller's",
            body = ErrorJson)))]
pub async fn get_room(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(room_id): Path<String>,
) -> Result<Json<RoomJson>, EchatError> {
    let conversation = member_room(&state, &caller.user_id, &room_id).await?;
    let members = conversation.members.iter().map(|m| m.user_id.clone());
    let users = users_by_id(&state, members.collect()).await?;
    Ok(Json(room(&conversation, &users, &caller.user_id)))
}

/// The conversation numbered `room_id`, if the caller is one of its members.
pub async fn member_room(
    state: &AppState,
    user_id: &str,
    room_id: &str,
) -> Result<Conversation, EchatError> {
    let number: i64 = room_id.parse().map_err(|_| EchatError::room_not_found())?;
    if number <= 0 {
        return Err(EchatError::room_not_found());
    }
    let conversation = state
        .services
        .chat
        .clone()
        .get_conversation(GetConversationRequest {
            user_id: user_id.to_owned(),
            conversation_id: String::new(),
            number,
            // Public groups are readable by anyone in the shared model; a room is only its
            // members' (chat-service refuses others as not_a_member: room_not_found here).
            members_only: true,
        })
        .await?
        .into_inner();
    Ok(conversation)
}

/// A room as the document lists it: the other members (by id), then the caller.
fn room(conversation: &Conversation, users: &HashMap<String, User>, me: &str) -> RoomJson {
    let mut others: Vec<&User> = Vec::new();
    let mut mine = None;
    for member in &conversation.members {
        match users.get(&member.user_id) {
            Some(user) if member.user_id == me => mine = Some(user),
            Some(user) => others.push(user),
            None => {}
        }
    }
    others.sort_by_key(|user| user.number);
    RoomJson {
        id: conversation.number,
        users: others.into_iter().chain(mine).map(UserJson::from).collect(),
    }
}

/// A new room's name: its members' logins, at most as long as a group name may be.
fn room_name(users: &[UserJson]) -> String {
    let logins: Vec<&str> = users.iter().map(|u| u.login.as_str()).collect();
    logins.join(", ").chars().take(MAX_NAME_CHARS).collect()
}

/// The users behind member ids, looked up in batches.
async fn users_by_id(
    state: &AppState,
    mut ids: Vec<String>,
) -> Result<HashMap<String, User>, EchatError> {
    ids.sort();
    ids.dedup();
    let mut users = HashMap::with_capacity(ids.len());
    for batch in ids.chunks(LOOKUP_BATCH) {
        let found = state
            .services
            .auth
            .clone()
            .get_users(GetUsersRequest {
                user_ids: batch.to_vec(),
                numbers: Vec::new(),
            })
            .await?
            .into_inner();
        users.extend(found.users.into_iter().map(|u| (u.id.clone(), u)));
    }
    Ok(users)
}
