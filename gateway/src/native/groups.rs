//! Native REST: groups (create, join, leave, list, get) and their message history.

use axum::Json;
use axum::extract::{Path, State};
use chat_proto::auth::GetUsersRequest;
use chat_proto::chat::{
    Conversation, ConversationKind, CreateGroupRequest, GetConversationRequest,
    ListConversationsRequest, MembershipRequest,
};
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::ToSchema;

use super::schema::{ErrorJson, GroupJson};

use crate::auth::CurrentUser;
use crate::error::ApiError;
use crate::json::JsonBody;
use crate::state::AppState;

#[derive(Deserialize, ToSchema)]
#[schema(as = native::NewGroup)]
pub struct NewGroup {
    #[schema(min_length = 1, max_length = 200)]
    name: String,
    #[serde(default)]
    user_ids: Vec<String>,
    #[serde(default)]
    is_public: bool,
}

#[utoipa::path(post, path = "/groups", tag = "native",
    summary = "Create a group of the caller (its owner) and user_ids; members get event 70",
    operation_id = "native_create_group", security(("bearer" = [])), request_body = NewGroup,
    responses((status = 200, description = "the group created", body = GroupJson),
        (status = 400, description = "`invalid_json`: malformed JSON", body = ErrorJson),
        (status = 401, description = "no valid access token", body = ErrorJson),
        (status = 422, description = "`validation_failed`, or `unknown_users`: a user_id that is \
            no user's",
            body = ErrorJson)))]
pub async fn create_group(
    State(state): State<AppState>,
    user: CurrentUser,
    JsonBody(group): JsonBody<NewGroup>,
) -> Result<Json<Value>, ApiError> {
    ensure_users_exist(&state, &group.user_ids).await?;
    let created = state
        .services
        .chat
        .clone()
        .create_group(CreateGroupRequest {
            creator_id: user.id.clone(),
            name: group.name,
            member_ids: group.user_ids,
            is_public: group.is_public,
            external_id: String::new(),
        })
        .await?
        .into_inner();
    let mut body = group_json(&created);
    body["group_id"] = json!(created.id);
    Ok(Json(body))
}

/// `user_id` left out: the caller themselves.
#[derive(Deserialize, Default, ToSchema)]
#[schema(as = native::MemberBody)]
pub struct MemberBody {
    user_id: Option<String>,
}

#[utoipa::path(put, path = "/groups/{group_id}/join", tag = "native",
    summary = "Join a group, or add user_id to it; members get event 72",
    operation_id = "native_join_group", security(("bearer" = [])),
    params(("group_id" = String, Path, description = "the group's id")), request_body = MemberBody,
    responses((status = 200, description = "the group as it is now", body = GroupJson),
        (status = 400, description = "`invalid_json`: malformed JSON", body = ErrorJson),
        (status = 401, description = "no valid access token", body = ErrorJson),
        (status = 403, description = "`forbidden` or `not_a_member`", body = ErrorJson),
        (status = 404, description = "`conversation_not_found`", body = ErrorJson),
        (status = 422, description = "`validation_failed`", body = ErrorJson)))]
pub async fn join_group(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(group_id): Path<String>,
    JsonBody(body): JsonBody<MemberBody>,
) -> Result<Json<Value>, ApiError> {
    let subject = body.user_id.unwrap_or_else(|| user.id.clone());
    if subject != user.id {
        ensure_users_exist(&state, std::slice::from_ref(&subject)).await?;
    }
    let change = state
        .services
        .chat
        .clone()
        .join_group(MembershipRequest {
            actor_id: user.id.clone(),
            conversation_id: group_id,
            user_id: subject.clone(),
        })
        .await?
        .into_inner();
    let group = change.conversation.unwrap_or_default();
    Ok(Json(group_json(&group)))
}

#[utoipa::path(put, path = "/groups/{group_id}/left", tag = "native",
    summary = "Leave a group, or (its owner) remove user_id; members get event 73",
    operation_id = "native_leave_group", security(("bearer" = [])),
    params(("group_id" = String, Path, description = "the group's id")), request_body = MemberBody,
    responses((status = 200, description = "the group as it is now", body = GroupJson),
        (status = 400, description = "`invalid_json`: malformed JSON", body = ErrorJson),
        (status = 401, description = "no valid access token", body = ErrorJson),
        (status = 403, description = "`forbidden` or `not_a_member`", body = ErrorJson),
        (status = 404, description = "`conversation_not_found`", body = ErrorJson),
        (status = 422, description = "`validation_failed`", body = ErrorJson)))]
pub async fn leave_group(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(group_id): Path<String>,
    JsonBody(body): JsonBody<MemberBody>,
) -> Result<Json<Value>, ApiError> {
    let subject = body.user_id.unwrap_or_else(|| user.id.clone());
    let change = state
        .services
        .chat
        .clone()
        .leave_group(MembershipRequest {
            actor_id: user.id.clone(),
            conversation_id: group_id,
            user_id: subject.clone(),
        })
        .await?
        .into_inner();
    let group = change.conversation.unwrap_or_default();
    Ok(Json(group_json(&group)))
}

#[utoipa::path(get, path = "/groups", tag = "native",
    summary = "The conversations the caller is in, most recently active first",
    operation_id = "native_list_groups", security(("bearer" = [])),
    responses((status = 200, description = "the caller's conversations", body = Vec<GroupJson>),
        (status = 401, description = "no valid access token", body = ErrorJson)))]
pub async fn list_groups(
    State(state): State<AppState>,
    user: CurrentUser,
) -> Result<Json<Value>, ApiError> {
    let list = state
        .services
        .chat
        .clone()
        .list_conversations(ListConversationsRequest { user_id: user.id })
        .await?
        .into_inner();
    Ok(Json(Value::Array(
        list.conversations.iter().map(group_json).collect(),
    )))
}

#[utoipa::path(get, path = "/groups/{group_id}", tag = "native", summary = "One group",
    operation_id = "native_get_group", security(("bearer" = [])),
    params(("group_id" = String, Path, description = "the group's id")),
    responses((status = 200, description = "the group", body = GroupJson),
        (status = 401, description = "no valid access token", body = ErrorJson),
        (status = 403, description = "`not_a_member`", body = ErrorJson),
        (status = 404, description = "`conversation_not_found`", body = ErrorJson)))]
pub async fn get_group(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(group_id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let group = state
        .services
        .chat
        .clone()
        .get_conversation(GetConversationRequest {
            user_id: user.id,
            conversation_id: group_id,
            number: 0,
            members_only: false,
        })
        .await?
        .into_inner();
    Ok(Json(group_json(&group)))
}

/// Refuses user ids that name nobody, before they reach a group.
async fn ensure_users_exist(state: &AppState, user_ids: &[String]) -> Result<(), ApiError> {
    if user_ids.is_empty() {
        return Ok(());
    }
    let found = state
        .services
        .auth
        .clone()
        .get_users(GetUsersRequest {
            user_ids: user_ids.to_vec(),
            numbers: Vec::new(),
        })
        .await?
        .into_inner();
    let unknown: Vec<&String> = user_ids
        .iter()
        .filter(|id| !found.users.iter().any(|u| &u.id == *id))
        .collect();
    if unknown.is_empty() {
        Ok(())
    } else {
        Err(ApiError::unprocessable(
            "unknown_users",
            format!("no such users: {unknown:?}"),
        ))
    }
}

/// `direct`, `group` or `bot`: what kind of conversation it is (an added field).
fn kind_name(kind: i32) -> &'static str {
    match ConversationKind::try_from(kind) {
        Ok(ConversationKind::Direct) => "direct",
        Ok(ConversationKind::Bot) => "bot",
        _ => "group",
    }
}

pub fn member_ids(group: &Conversation) -> Vec<String> {
    group.members.iter().map(|m| m.user_id.clone()).collect()
}

pub(super) fn group_json(group: &Conversation) -> Value {
    json!({
        "id": group.id,
        "number": group.number,
        "kind": kind_name(group.kind),
        "name": group.name,
        "owner_id": group.owner_id,
        "is_public": group.is_public,
        "created_at": group.created_at_ms,
        "updated_at": group.updated_at_ms,
        "last_seq": group.last_seq,
        "user_ids": member_ids(group),
        "members": group.members.iter().map(|m| json!({
            "user_id": m.user_id,
            "role": m.role,
            "joined_at": m.joined_at_ms,
            "last_delivered_seq": m.last_delivered_seq,
            "last_read_seq": m.last_read_seq,
        })).collect::<Vec<_>>(),
    })
}
