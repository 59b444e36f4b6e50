//! Chats by the platform's own ids: `PUT/GET/DELETE /backend/chats/{chatID}/users` and
//! `DELETE /backend/chats/{chatID}`, also served without `backend/` as the document's workflow
//! writes them. A chat is a group of the shared model whose external id is the platform's id
//! and the `chatID`; its first creator's (first listed) user owns it.

use std::collections::HashMap;

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use chat_proto::auth::{GetPlatformUsersRequest, GetUsersRequest, User};
use chat_proto::chat::{
    Conversation, CreateGroupRequest, DeleteGroupRequest, GetConversationByExternalIdRequest,
    MembershipRequest,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::backend::{Backend, parse, valid_id};
use super::error::{
    BAD_REQUEST, ErrorBody, INTERNAL, INVALID_CHAT_ID, INVALID_PARAMETERS, PlatformError,
};
use crate::error::ApiError;
use crate::state::AppState;

/// Most users one request may list.
const MAX_USERS: usize = 1000;

#[derive(Deserialize, ToSchema)]
#[schema(as = platform::ChatUsers)]
#[serde(rename_all = "camelCase")]
pub struct ChatUsers {
    /// The platform's user ids (`[a-zA-Z0-9.-]`, case-sensitive), each provisioned by
    /// `POST /token` first.
    users: Vec<String>,
    /// Optional, any text: the chat's name when this call creates it (the chatID otherwise);
    /// ignored for a chat that exists.
    #[serde(default)]
    chat_name: Option<String>,
}

#[derive(Deserialize, ToSchema)]
#[schema(as = platform::UsersToRemove)]
pub struct UsersToRemove {
    /// The platform's user ids to remove; the owner among them deletes the chat.
    users: Vec<String>,
}

#[derive(Serialize, ToSchema)]
#[schema(as = platform::GuidList)]
pub struct GuidList {
    /// The GUIDs of the users listed, in the order listed.
    #[serde(rename = "GUIDList")]
    guid_list: Vec<String>,
}

#[derive(Serialize, ToSchema)]
#[schema(as = platform::ChatUser)]
pub struct ChatUser {
    #[serde(rename = "GUID")]
    guid: String,
    #[serde(rename = "userID")]
    user_id: String,
    #[serde(rename = "displayName", skip_serializing_if = "Option::is_none")]
    display_name: Option<String>,
}

#[derive(Serialize, ToSchema)]
#[schema(as = platform::Chat)]
pub struct ChatJson {
    #[serde(rename = "chatID")]
    chat_id: String,
    #[serde(rename = "chatName")]
    chat_name: String,
    #[serde(rename = "ownerGUID")]
    owner_guid: String,
    /// Unix ms, as a string.
    #[serde(rename = "creationTime")]
    creation_time: String,
    /// Unix ms of the last change (a member added or removed), as a string.
    #[serde(rename = "updateTime")]
    update_time: String,
    /// The current members: the owner first, then the others in the order they joined.
    users: Vec<ChatUser>,
}

#[derive(Serialize, ToSchema)]
#[schema(as = platform::ChatEnvelope)]
pub struct ChatEnvelope {
    chat: ChatJson,
}

/// The `chatID` of the path, or the route's 400.
fn chat_id(
    path: Result<Path<String>, PathRejection>,
    error: &str,
) -> Result<String, PlatformError> {
    match path {
        Ok(Path(id)) if valid_id(&id) => Ok(id),
        _ => Err(PlatformError::bad_request(error)),
    }
}

/// Users listed by a request: each id valid, at least one, at most [`MAX_USERS`].
fn listed(users: &[String], error: &str) -> Result<(), PlatformError> {
    if users.is_empty() || users.len() > MAX_USERS || !users.iter().all(|u| valid_id(u)) {
        return Err(PlatformError::bad_request(error));
    }
    Ok(())
}

/// The platform's users named, by their own ids; any unknown (not provisioned, or another
/// platform's) is the route's 400, before anything changes.
async fn platform_users(
    state: &AppState,
    backend: &Backend,
    users: &[String],
    error: &str,
) -> Result<HashMap<String, User>, PlatformError> {
    let found = state
        .services
        .auth
        .clone()
        .get_platform_users(GetPlatformUsersRequest {
            platform_id: backend.platform_id.clone(),
            user_ids: users.to_vec(),
        })
        .await
        .map_err(|status| PlatformError::status(status, error))?
        .into_inner()
        .users;
    let by_id: HashMap<String, User> = found
        .into_iter()
        .map(|user| (user.platform_user_id.clone(), user))
        .collect();
    if users.iter().any(|user| !by_id.contains_key(user)) {
        return Err(PlatformError::bad_request(error));
    }
    Ok(by_id)
}

/// The platform's chat, if it has one of this id.
async fn find_chat(
    state: &AppState,
    backend: &Backend,
    chat_id: &str,
    error: &str,
) -> Result<Option<Conversation>, PlatformError> {
    let found = state
        .services
        .chat
        .clone()
        .get_conversation_by_external_id(GetConversationByExternalIdRequest {
            external_id: backend.chat_key(chat_id),
        })
        .await;
    match found {
        Ok(conversation) => Ok(Some(conversation.into_inner())),
        Err(status) if status.code() == tonic::Code::NotFound => Ok(None),
        Err(status) => Err(PlatformError::status(status, error)),
    }
}

async fn add_users(
    state: AppState,
    backend: Backend,
    path: Result<Path<String>, PathRejection>,
    body: Bytes,
) -> Result<Json<GuidList>, PlatformError> {
    let chat_id = chat_id(path, INVALID_PARAMETERS)?;
    let request: ChatUsers = parse(&body, INVALID_PARAMETERS)?;
    listed(&request.users, INVALID_PARAMETERS)?;
    let users = platform_users(&state, &backend, &request.users, INVALID_PARAMETERS).await?;
    let guids: Vec<String> = request
        .users
        .iter()
        .map(|user| users[user].id.clone())
        .collect();
    let mut chat = state.services.chat.clone();
    let existing = match find_chat(&state, &backend, &chat_id, INVALID_PARAMETERS).await? {
        Some(chat) => chat,
        None => {
            let name = request
                .chat_name
                .filter(|name| !name.trim().is_empty())
                .unwrap_or_else(|| chat_id.clone());
            let created = chat
                .create_group(CreateGroupRequest {
                    creator_id: guids[0].clone(),
                    name,
                    member_ids: guids[1..].to_vec(),
                    is_public: false,
                    external_id: backend.chat_key(&chat_id),
                })
                .await;
            match created {
                Ok(_) => return Ok(Json(GuidList { guid_list: guids })),
                // Another call created it first: add to theirs.
                Err(status) if status.code() == tonic::Code::AlreadyExists => {
                    find_chat(&state, &backend, &chat_id, INVALID_PARAMETERS)
                        .await?
                        .ok_or_else(|| PlatformError::new(StatusCode::CONFLICT, INTERNAL))?
                }
                Err(status) => return Err(PlatformError::status(status, INVALID_PARAMETERS)),
            }
        }
    };
    for guid in &guids {
        if existing.members.iter().any(|m| &m.user_id == guid) {
            continue;
        }
        chat.join_group(MembershipRequest {
            actor_id: existing.owner_id.clone(),
            conversation_id: existing.id.clone(),
            user_id: guid.clone(),
        })
        .await
        .map_err(|status| PlatformError::status(status, INVALID_PARAMETERS))?;
    }
    Ok(Json(GuidList { guid_list: guids }))
}

async fn list_users(
    state: AppState,
    backend: Backend,
    path: Result<Path<String>, PathRejection>,
) -> Result<Json<ChatEnvelope>, PlatformError> {
    let chat_id = chat_id(path, INVALID_CHAT_ID)?;
    let chat = find_chat(&state, &backend, &chat_id, INVALID_CHAT_ID)
        .await?
        .ok_or_else(PlatformError::chat_not_found)?;
    // The owner first, then the others in the order they joined.
    let mut members = chat.members.clone();
    members.sort_by_key(|m| (m.user_id != chat.owner_id, m.joined_at_ms));
    let ids: Vec<String> = members.iter().map(|m| m.user_id.clone()).collect();
    let found = state
        .services
        .auth
        .clone()
        .get_users(GetUsersRequest {
            user_ids: ids.clone(),
            numbers: Vec::new(),
        })
        .await
        .map_err(|status| PlatformError::status(status, INVALID_CHAT_ID))?
        .into_inner()
        .users;
    let by_id: HashMap<&str, &User> = found.iter().map(|u| (u.id.as_str(), u)).collect();
    let users = ids
        .iter()
        .filter_map(|id| by_id.get(id.as_str()))
        .map(|user| ChatUser {
            guid: user.id.clone(),
            user_id: if user.platform_user_id.is_empty() {
                user.username.clone()
            } else {
                user.platform_user_id.clone()
            },
            display_name: (!user.display_name.is_empty()).then(|| user.display_name.clone()),
        })
        .collect();
    Ok(Json(ChatEnvelope {
        chat: ChatJson {
            chat_id,
            chat_name: chat.name,
            owner_guid: chat.owner_id,
            creation_time: chat.created_at_ms.to_string(),
            update_time: chat.updated_at_ms.to_string(),
            users,
        },
    }))
}

async fn remove_users(
    state: AppState,
    backend: Backend,
    path: Result<Path<String>, PathRejection>,
    body: Bytes,
) -> Result<StatusCode, PlatformError> {
    let chat_id = chat_id(path, BAD_REQUEST)?;
    let request: UsersToRemove = parse(&body, BAD_REQUEST)?;
    listed(&request.users, BAD_REQUEST)?;
    let users = platform_users(&state, &backend, &request.users, BAD_REQUEST).await?;
    let chat = find_chat(&state, &backend, &chat_id, BAD_REQUEST)
        .await?
        .ok_or_else(PlatformError::chat_not_found)?;
    let mut service = state.services.chat.clone();
    if users.values().any(|user| user.id == chat.owner_id) {
        return delete(&state, &chat, BAD_REQUEST).await;
    }
    for user in users.values() {
        if !chat.members.iter().any(|m| m.user_id == user.id) {
            continue;
        }
        let left = service
            .leave_group(MembershipRequest {
                actor_id: chat.owner_id.clone(),
                conversation_id: chat.id.clone(),
                user_id: user.id.clone(),
            })
            .await;
        match left {
            Ok(_) => {}
            // Removed by a call racing this one.
            Err(status) if status.code() == tonic::Code::InvalidArgument => {}
            Err(status) => return Err(PlatformError::status(status, BAD_REQUEST)),
        }
    }
    Ok(StatusCode::OK)
}

async fn delete(
    state: &AppState,
    chat: &Conversation,
    error: &str,
) -> Result<StatusCode, PlatformError> {
    state
        .services
        .chat
        .clone()
        .delete_group(DeleteGroupRequest {
            actor_id: chat.owner_id.clone(),
            conversation_id: chat.id.clone(),
        })
        .await
        .map_err(|status| PlatformError::of(ApiError::from_status(status), error))?;
    Ok(StatusCode::OK)
}

async fn delete_chat(
    state: AppState,
    backend: Backend,
    path: Result<Path<String>, PathRejection>,
) -> Result<StatusCode, PlatformError> {
    let chat_id = chat_id(path, INVALID_CHAT_ID)?;
    let chat = find_chat(&state, &backend, &chat_id, INVALID_CHAT_ID)
        .await?
        .ok_or_else(PlatformError::chat_not_found)?;
    delete(&state, &chat, INVALID_CHAT_ID).await
}

/// The routes twice, with and without `backend/`: each needs its own documented handler.
macro_rules! chat_routes {
    (
        $users_path:tt, $chat_path:tt,
        $put:ident = $put_op:tt, $get:ident = $get_op:tt,
        $remove:ident = $remove_op:tt, $delete:ident = $delete_op:tt
    ) => {
        #[utoipa::path(put, path = $users_path, tag = "platform",
            summary = "Add users to a chat, creating it (owned by the first user listed) if missing",
            operation_id = $put_op,
            security(("platform_key" = [])), request_body = ChatUsers,
            params(("chatID" = String, Path, description = "The platform's chat id: [a-zA-Z0-9.-], case-sensitive")),
            responses((status = 200, description = "the users' GUIDs, in the order listed", body = GuidList),
                (status = 400, description = "`Invalid parameters`: an invalid chatID or body, or a user not provisioned by this platform", body = ErrorBody),
                (status = 401, description = "`Unauthorized`: a missing or wrong API key", body = ErrorBody),
                (status = 500, description = "`Internal server error`", body = ErrorBody)))]
        pub async fn $put(
            State(state): State<AppState>,
            backend: Backend,
            path: Result<Path<String>, PathRejection>,
            body: Bytes,
        ) -> Result<Json<GuidList>, PlatformError> {
            add_users(state, backend, path, body).await
        }

        #[utoipa::path(get, path = $users_path, tag = "platform",
            summary = "The chat with its users",
            operation_id = $get_op,
            security(("platform_key" = [])),
            params(("chatID" = String, Path, description = "The platform's chat id")),
            responses((status = 200, description = "the chat", body = ChatEnvelope),
                (status = 400, description = "`Invalid chatID`", body = ErrorBody),
                (status = 401, description = "`Unauthorized`: a missing or wrong API key", body = ErrorBody),
                (status = 404, description = "`ChatID not found`: no such chat on this platform", body = ErrorBody),
                (status = 500, description = "`Internal server error`", body = ErrorBody)))]
        pub async fn $get(
            State(state): State<AppState>,
            backend: Backend,
            path: Result<Path<String>, PathRejection>,
        ) -> Result<Json<ChatEnvelope>, PlatformError> {
            list_users(state, backend, path).await
        }

        #[utoipa::path(delete, path = $users_path, tag = "platform",
            summary = "Remove users from a chat; the owner among them deletes the chat",
            operation_id = $remove_op,
            security(("platform_key" = [])), request_body = UsersToRemove,
            params(("chatID" = String, Path, description = "The platform's chat id")),
            responses((status = 200, description = "removed (users who were not members are skipped)"),
                (status = 400, description = "`Bad request`: an invalid chatID or body, or a user not provisioned by this platform", body = ErrorBody),
                (status = 401, description = "`Unauthorized`: a missing or wrong API key", body = ErrorBody),
                (status = 404, description = "`ChatID not found`", body = ErrorBody),
                (status = 500, description = "`Internal server error`", body = ErrorBody)))]
        pub async fn $remove(
            State(state): State<AppState>,
            backend: Backend,
            path: Result<Path<String>, PathRejection>,
            body: Bytes,
        ) -> Result<StatusCode, PlatformError> {
            remove_users(state, backend, path, body).await
        }

        #[utoipa::path(delete, path = $chat_path, tag = "platform",
            summary = "Delete a chat: every participant is removed, then the chat",
            operation_id = $delete_op,
            security(("platform_key" = [])),
            params(("chatID" = String, Path, description = "The platform's chat id")),
            responses((status = 200, description = "deleted"),
                (status = 400, description = "`Invalid chatID`", body = ErrorBody),
                (status = 401, description = "`Unauthorized`: a missing or wrong API key", body = ErrorBody),
                (status = 404, description = "`ChatID not found`", body = ErrorBody),
                (status = 500, description = "`Internal server error`", body = ErrorBody)))]
        pub async fn $delete(
            State(state): State<AppState>,
            backend: Backend,
            path: Result<Path<String>, PathRejection>,
        ) -> Result<StatusCode, PlatformError> {
            delete_chat(state, backend, path).await
        }
    };
}

chat_routes!(
    "/backend/chats/{chatID}/users",
    "/backend/chats/{chatID}",
    add_users_backend = "platform_add_chat_users",
    get_users_backend = "platform_get_chat_users",
    remove_users_backend = "platform_remove_chat_users",
    delete_chat_backend = "platform_delete_chat"
);
chat_routes!(
    "/chats/{chatID}/users",
    "/chats/{chatID}",
    add_users_short = "platform_add_chat_users_short",
    get_users_short = "platform_get_chat_users_short",
    remove_users_short = "platform_remove_chat_users_short",
    delete_chat_short = "platform_delete_chat_short"
);
