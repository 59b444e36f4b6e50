//! Chat groups: the shared model's public groups, which anyone may read and enter.
//! `GET /http/chat_groups` lists them, `GET /http/chat_groups/{id}` reads one's messages,
//! `POST /http/chat_groups/{id} {"is_enter"}` enters or leaves it (chat-service logs the
//! change for the members, whose sockets get `group_chat_activitity`), `POST` and `PUT
//! /http/chat_groups` create and rename one (every online user gets `group_chat_update`), and
//! the socket's `chat_type: "group"` frames send into one.

use std::collections::HashMap;

use axum::Json;
use axum::extract::ws::Utf8Bytes;
use axum::extract::{Path, State};
use chat_proto::auth::GetUsersRequest;
use chat_proto::chat::{
    Conversation, ConversationKind, CreateGroupRequest, GetConversationRequest,
    ListPublicGroupsRequest, MembershipRequest, RenameGroupRequest,
};
use chat_proto::events::GroupUpdated;
use chat_proto::events::delivery::Payload;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use super::error::{ErrorJson, WebappError};
use super::history::{self, Window};
use super::input::{Call, Flag, Int};
use super::users::{UserJson, online};
use super::{announce, render, time};
use crate::hub::Connection;
use crate::state::AppState;

/// A group as the list shows it.
#[derive(Serialize, ToSchema)]
#[schema(as = webapp::ChatGroup)]
pub struct ChatGroup {
    /// The group's id (a number); `chat_group_id` repeats it.
    id: i64,
    chat_group_id: i64,
    name: String,
    /// The owner's id (a number); 0 when the owner's account is gone.
    owner_id: i64,
    /// Whether the caller is in the group.
    is_member: bool,
    /// How many users are in it.
    members: usize,
    /// When it was created, ISO 8601.
    created_at: String,
}

/// A message of a group.
#[derive(Serialize, ToSchema)]
#[schema(as = webapp::GroupMessage)]
pub struct GroupMessage {
    /// The message's id (a number).
    id: i64,
    /// The sender's id (a number).
    user_id: i64,
    chat_group_id: i64,
    message: String,
    timestamp: String,
}

/// The owners' numbers of these groups, by their ids.
async fn owner_numbers(
    state: &AppState,
    groups: &[Conversation],
) -> Result<HashMap<String, i64>, WebappError> {
    let owners = groups
        .iter()
        .map(|g| g.owner_id.clone())
        .filter(|o| !o.is_empty());
    let users = state
        .services
        .auth
        .clone()
        .get_users(GetUsersRequest {
            user_ids: owners.collect(),
            numbers: Vec::new(),
        })
        .await?
        .into_inner()
        .users;
    Ok(users.into_iter().map(|u| (u.id, u.number)).collect())
}

fn shown(group: &Conversation, caller: &str, owners: &HashMap<String, i64>) -> ChatGroup {
    ChatGroup {
        id: group.number,
        chat_group_id: group.number,
        name: group.name.clone(),
        owner_id: owners.get(&group.owner_id).copied().unwrap_or_default(),
        is_member: group.members.iter().any(|m| m.user_id == caller),
        members: group.members.len(),
        created_at: time::format(group.created_at_ms),
    }
}

async fn shown_one(
    state: &AppState,
    group: &Conversation,
    caller: &str,
) -> Result<ChatGroup, WebappError> {
    let owners = owner_numbers(state, std::slice::from_ref(group)).await?;
    Ok(shown(group, caller, &owners))
}

/// The group with this number, as the caller may see it (any public group; a private one of
/// theirs): anything else is `group_not_found`.
pub async fn readable_group(
    state: &AppState,
    user_id: &str,
    number: i64,
    members_only: bool,
) -> Result<Conversation, WebappError> {
    let found = state
        .services
        .chat
        .clone()
        .get_conversation(GetConversationRequest {
            user_id: user_id.to_owned(),
            conversation_id: String::new(),
            number,
            members_only,
        })
        .await;
    match found {
        Ok(found) if found.get_ref().kind == ConversationKind::Group as i32 => {
            Ok(found.into_inner())
        }
        Ok(_) => Err(WebappError::group_not_found()),
        Err(status) => {
            let refused = crate::error::ApiError::from_status(status);
            let not_a_member = refused.service == Some(crate::error::ErrorCode::NotAMember);
            match WebappError::from(refused) {
                error if error.status.is_server_error() => Err(error),
                error if members_only && not_a_member => Err(error),
                _ => Err(WebappError::group_not_found()),
            }
        }
    }
}

fn number_of(text: &str) -> Result<i64, WebappError> {
    text.trim()
        .parse()
        .map_err(|_| WebappError::group_not_found())
}

#[utoipa::path(get, path = "/http/chat_groups", tag = "webapp",
    summary = "Every public chat group",
    operation_id = "webapp_list_chat_groups", security(("authentication" = []), ("bearer" = [])),
    responses((status = 200, description = "the groups, by id", body = [ChatGroup]),
        (status = 401, description = "`unauthorized`: no valid token", body = ErrorJson)))]
pub async fn list_chat_groups(
    State(state): State<AppState>,
    call: Call<Value>,
) -> Result<Json<Vec<ChatGroup>>, WebappError> {
    let groups = state
        .services
        .chat
        .clone()
        .list_public_groups(ListPublicGroupsRequest {})
        .await?
        .into_inner()
        .conversations;
    let owners = owner_numbers(&state, &groups).await?;
    let caller = &call.caller.id;
    Ok(Json(
        groups.iter().map(|g| shown(g, caller, &owners)).collect(),
    ))
}

#[utoipa::path(get, path = "/http/chat_groups/{group_id}", tag = "webapp",
    summary = "A group's messages, oldest first: the newest 100, those since `timestamp`, or \
        the 100 before it with `before`",
    operation_id = "webapp_group_messages", security(("authentication" = []), ("bearer" = [])),
    params(("group_id" = i64, Path, description = "the group's id"), Window),
    responses((status = 200, description = "the messages, oldest first", body = [GroupMessage]),
        (status = 400, description = "`invalid_data`: a timestamp or flag that does not parse",
            body = ErrorJson),
        (status = 401, description = "`unauthorized`: no valid token", body = ErrorJson),
        (status = 404, description = "`group_not_found`: no such group the caller may read",
            body = ErrorJson)))]
pub async fn group_messages(
    State(state): State<AppState>,
    Path(group_id): Path<String>,
    call: Call<Window>,
) -> Result<Json<Vec<GroupMessage>>, WebappError> {
    let caller = &call.caller.id;
    let group = readable_group(&state, caller, number_of(&group_id)?, false).await?;
    let messages = history::read(&state, caller, &group.id, &call.data).await?;
    let shown = messages
        .iter()
        .map(|m| GroupMessage {
            id: m.number,
            user_id: m.sender_number,
            chat_group_id: m.conversation_number,
            message: m.body.clone(),
            timestamp: time::format(m.created_at_ms),
        })
        .collect();
    Ok(Json(shown))
}

/// `data` of entering or leaving.
#[derive(Deserialize, ToSchema)]
#[schema(as = webapp::Entering)]
pub struct Entering {
    /// `true` to enter the group, `false` to leave it.
    #[schema(value_type = bool)]
    is_enter: Flag,
}

#[utoipa::path(post, path = "/http/chat_groups/{group_id}", tag = "webapp",
    summary = "Enter (is_enter true) or leave (false) a group; its members get \
        group_chat_activitity",
    operation_id = "webapp_enter_chat_group", security(("authentication" = []), ("bearer" = [])),
    params(("group_id" = i64, Path, description = "the group's id")),
    request_body = Entering,
    responses((status = 200, description = "the group after the change", body = ChatGroup),
        (status = 400, description = "`invalid_json` or `invalid_data`: no is_enter",
            body = ErrorJson),
        (status = 401, description = "`unauthorized`: no valid token", body = ErrorJson),
        (status = 403, description = "`not_a_member`: leaving a group the caller is not in",
            body = ErrorJson),
        (status = 404, description = "`group_not_found`: no such group", body = ErrorJson)))]
pub async fn enter_chat_group(
    State(state): State<AppState>,
    Path(group_id): Path<String>,
    call: Call<Entering>,
) -> Result<Json<ChatGroup>, WebappError> {
    let caller = call.caller.id;
    let group = readable_group(&state, &caller, number_of(&group_id)?, false).await?;
    let request = MembershipRequest {
        actor_id: caller.clone(),
        conversation_id: group.id,
        user_id: caller.clone(),
    };
    let mut chat = state.services.chat.clone();
    let change = if call.data.is_enter.0 {
        chat.join_group(request).await?
    } else {
        chat.leave_group(request).await?
    }
    .into_inner();
    let group = change.conversation.unwrap_or_default();
    Ok(Json(shown_one(&state, &group, &caller).await?))
}

#[utoipa::path(get, path = "/http/users/group/{group_id}", tag = "webapp",
    summary = "The users in a group, online or offline",
    operation_id = "webapp_group_users", security(("authentication" = []), ("bearer" = [])),
    params(("group_id" = i64, Path, description = "the group's id")),
    responses((status = 200, description = "the group's members", body = [UserJson]),
        (status = 401, description = "`unauthorized`: no valid token", body = ErrorJson),
        (status = 404, description = "`group_not_found`: no such group the caller may read",
            body = ErrorJson)))]
pub async fn group_users(
    State(state): State<AppState>,
    Path(group_id): Path<String>,
    call: Call<Value>,
) -> Result<Json<Vec<UserJson>>, WebappError> {
    let group = readable_group(&state, &call.caller.id, number_of(&group_id)?, false).await?;
    let users = state
        .services
        .auth
        .clone()
        .get_users(GetUsersRequest {
            user_ids: group.members.iter().map(|m| m.user_id.clone()).collect(),
            numbers: Vec::new(),
        })
        .await?
        .into_inner()
        .users;
    let online = online(&state, &users).await?;
    Ok(Json(
        users
            .iter()
            .map(|u| UserJson::new(u, online.contains(&u.id)))
            .collect(),
    ))
}

/// `data` of creating a group.
#[derive(Deserialize, ToSchema)]
#[schema(as = webapp::NewChatGroup)]
pub struct NewChatGroup {
    #[schema(min_length = 1, max_length = 200)]
    name: String,
}

/// Tells every online user the group's name and owner.
async fn announce_group(state: &AppState, group: &ChatGroup) {
    let payload = Payload::GroupUpdated(GroupUpdated {
        group_number: group.id,
        name: group.name.clone(),
        owner_number: group.owner_id,
    });
    announce::to_everyone_online(state, payload).await;
}

#[utoipa::path(post, path = "/http/chat_groups", tag = "webapp",
    summary = "Create a public group, owned by the caller and with them in it; every online \
        user gets group_chat_update",
    operation_id = "webapp_create_chat_group", security(("authentication" = []), ("bearer" = [])),
    request_body = NewChatGroup,
    responses((status = 200, description = "the group", body = ChatGroup),
        (status = 400, description = "`invalid_json` or `invalid_data`: no name, or an empty \
            or too long one", body = ErrorJson),
        (status = 401, description = "`unauthorized`: no valid token", body = ErrorJson)))]
pub async fn create_chat_group(
    State(state): State<AppState>,
    call: Call<NewChatGroup>,
) -> Result<Json<ChatGroup>, WebappError> {
    let caller = call.caller.id;
    let group = state
        .services
        .chat
        .clone()
        .create_group(CreateGroupRequest {
            creator_id: caller.clone(),
            name: call.data.name,
            member_ids: Vec::new(),
            is_public: true,
            external_id: String::new(),
        })
        .await?
        .into_inner();
    let shown = shown_one(&state, &group, &caller).await?;
    announce_group(&state, &shown).await;
    Ok(Json(shown))
}

/// `data` of renaming a group: the document's `{"name": int}` cannot name the group, so its
/// id comes as `chat_group_id` (or `id`, or in the path) and the name as a string.
#[derive(Deserialize, ToSchema)]
#[schema(as = webapp::Renaming)]
pub struct Renaming {
    #[serde(default, alias = "id")]
    #[schema(value_type = Option<i64>)]
    chat_group_id: Option<Int>,
    name: String,
}

async fn rename(
    state: &AppState,
    caller: &str,
    number: Option<i64>,
    name: String,
) -> Result<Json<ChatGroup>, WebappError> {
    let number = number.ok_or_else(|| WebappError::invalid_data("chat_group_id is required"))?;
    let found = state
        .services
        .chat
        .clone()
        .rename_group(RenameGroupRequest {
            actor_id: caller.to_owned(),
            conversation_id: String::new(),
            number,
            name,
        })
        .await;
    let group = match found {
        Ok(group) => group.into_inner(),
        Err(status) => {
            use crate::error::ErrorCode as E;
            let refused = crate::error::ApiError::from_status(status);
            if let Some(E::ConversationNotFound | E::WrongConversationKind) = refused.service {
                return Err(WebappError::group_not_found());
            }
            return Err(refused.into());
        }
    };
    let shown = shown_one(state, &group, caller).await?;
    announce_group(state, &shown).await;
    Ok(Json(shown))
}

#[utoipa::path(put, path = "/http/chat_groups", tag = "webapp",
    summary = "Rename a group (only its owner may); every online user gets group_chat_update",
    operation_id = "webapp_rename_chat_group", security(("authentication" = []), ("bearer" = [])),
    request_body = Renaming,
    responses((status = 200, description = "the group, renamed", body = ChatGroup),
        (status = 400, description = "`invalid_json` or `invalid_data`: no chat_group_id, or \
            no name, or an empty or too long one", body = ErrorJson),
        (status = 401, description = "`unauthorized`: no valid token", body = ErrorJson),
        (status = 403, description = "`forbidden`: the caller does not own the group",
            body = ErrorJson),
        (status = 404, description = "`group_not_found`: no such group", body = ErrorJson)))]
pub async fn rename_chat_group(
    State(state): State<AppState>,
    call: Call<Renaming>,
) -> Result<Json<ChatGroup>, WebappError> {
    let number = call.data.chat_group_id.map(|Int(n)| n);
    rename(&state, &call.caller.id, number, call.data.name).await
}

#[utoipa::path(put, path = "/http/chat_groups/{group_id}", tag = "webapp",
    summary = "Rename a group named in the path (the same as PUT /http/chat_groups)",
    operation_id = "webapp_rename_chat_group_by_id",
    security(("authentication" = []), ("bearer" = [])),
    params(("group_id" = i64, Path, description = "the group's id")),
    request_body = Renaming,
    responses((status = 200, description = "the group, renamed", body = ChatGroup),
        (status = 400, description = "`invalid_json` or `invalid_data`: no name, or an empty \
            or too long one", body = ErrorJson),
        (status = 401, description = "`unauthorized`: no valid token", body = ErrorJson),
        (status = 403, description = "`forbidden`: the caller does not own the group",
            body = ErrorJson),
        (status = 404, description = "`group_not_found`: no such group", body = ErrorJson)))]
pub async fn rename_chat_group_by_id(
    State(state): State<AppState>,
    Path(group_id): Path<String>,
    call: Call<Renaming>,
) -> Result<Json<ChatGroup>, WebappError> {
    let number = number_of(&group_id)?;
    rename(&state, &call.caller.id, Some(number), call.data.name).await
}

#[derive(Deserialize)]
struct GroupFrame {
    chat_group_id: Int,
    message: String,
}

/// A `chat_type: "group"` frame: stores the message in a group the caller is in. The
/// sender's socket gets the `group_chat_message` back; the members' other sockets get it
/// from the log.
pub async fn send(
    state: &AppState,
    me: &Connection,
    frame: Value,
) -> Result<Vec<Utf8Bytes>, WebappError> {
    let frame: GroupFrame =
        serde_json::from_value(frame).map_err(|e| WebappError::invalid_data(e.to_string()))?;
    let group = readable_group(state, &me.user_id, frame.chat_group_id.0, true).await?;
    let sent = super::messages::send(state, me, group.id, frame.message).await?;
    Ok(vec![render::group_message(&sent)])
}
