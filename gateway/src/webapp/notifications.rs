//! Unread counts, from the read watermarks chat-service keeps per member:
//! `GET /http/notifications` counts, per room and group of the caller, the messages after
//! their read watermark; `PUT /http/notifications {"chat_room_id"}` (or `chat_group_id`)
//! moves it to the newest message — a read receipt, which native clients see as event 23.

use axum::Json;
use axum::extract::State;
use chat_proto::chat::{
    Conversation, ConversationKind, ListConversationsRequest, ListMessagesRequest, ReceiptRequest,
};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use super::error::{ErrorJson, WebappError};
use super::groups::readable_group;
use super::input::{Call, Int};
use super::rooms::member_room;
use crate::state::AppState;

/// A room's unread messages.
#[derive(Serialize, ToSchema)]
#[schema(as = webapp::RoomUnread)]
pub struct RoomUnread {
    chat_room_id: i64,
    unread: i64,
}

/// A group's unread messages.
#[derive(Serialize, ToSchema)]
#[schema(as = webapp::GroupUnread)]
pub struct GroupUnread {
    chat_group_id: i64,
    unread: i64,
}

/// The caller's unread messages: only rooms and groups with some are listed.
#[derive(Serialize, ToSchema)]
#[schema(as = webapp::Notifications)]
pub struct Notifications {
    chat_rooms: Vec<RoomUnread>,
    chat_groups: Vec<GroupUnread>,
    /// Every unread message, in rooms and groups.
    total: i64,
}

/// The messages of `conversation` after `user_id`'s read watermark.
fn unread(conversation: &Conversation, user_id: &str) -> i64 {
    let read = conversation
        .members
        .iter()
        .find(|m| m.user_id == user_id)
        .map_or(0, |m| m.last_read_seq);
    (conversation.last_seq - read).max(0)
}

#[utoipa::path(get, path = "/http/notifications", tag = "webapp",
    summary = "Unread messages per chat room and group of the caller",
    operation_id = "webapp_notifications", security(("authentication" = []), ("bearer" = [])),
    responses((status = 200, description = "the unread counts", body = Notifications),
        (status = 401, description = "`unauthorized`: no valid token", body = ErrorJson)))]
pub async fn notifications(
    State(state): State<AppState>,
    call: Call<Value>,
) -> Result<Json<Notifications>, WebappError> {
    let me = call.caller.id;
    let conversations = state
        .services
        .chat
        .clone()
        .list_conversations(ListConversationsRequest {
            user_id: me.clone(),
        })
        .await?
        .into_inner()
        .conversations;
    let mut shown = Notifications {
        chat_rooms: Vec::new(),
        chat_groups: Vec::new(),
        total: 0,
    };
    for conversation in &conversations {
        let count = unread(conversation, &me);
        if count == 0 {
            continue;
        }
        match ConversationKind::try_from(conversation.kind) {
            Ok(ConversationKind::Direct) => shown.chat_rooms.push(RoomUnread {
                chat_room_id: conversation.number,
                unread: count,
            }),
            Ok(ConversationKind::Group) => shown.chat_groups.push(GroupUnread {
                chat_group_id: conversation.number,
                unread: count,
            }),
            _ => continue,
        }
        shown.total += count;
    }
    Ok(Json(shown))
}

/// `data` of marking read: a room or a group.
#[derive(Deserialize, ToSchema)]
#[schema(as = webapp::MarkRead)]
pub struct MarkRead {
    #[serde(default)]
    #[schema(value_type = Option<i64>)]
    chat_room_id: Option<Int>,
    #[serde(default)]
    #[schema(value_type = Option<i64>)]
    chat_group_id: Option<Int>,
}

/// What marking read answers.
#[derive(Serialize, ToSchema)]
#[schema(as = webapp::Read)]
pub struct Read {
    /// Always `true`.
    success: bool,
    /// The number of the newest message now read; 0 when there is none.
    last_read_id: i64,
}

#[utoipa::path(put, path = "/http/notifications", tag = "webapp",
    summary = "Mark a room or group read up to its newest message (a read receipt: native \
        clients see event 23)",
    operation_id = "webapp_mark_read", security(("authentication" = []), ("bearer" = [])),
    request_body = MarkRead,
    responses((status = 200, description = "read", body = Read),
        (status = 400, description = "`invalid_json` or `invalid_data`: neither chat_room_id \
            nor chat_group_id", body = ErrorJson),
        (status = 401, description = "`unauthorized`: no valid token", body = ErrorJson),
        (status = 403, description = "`not_a_member`: a group the caller is not in",
            body = ErrorJson),
        (status = 404, description = "`room_not_found` or `group_not_found`", body = ErrorJson)))]
pub async fn mark_read(
    State(state): State<AppState>,
    call: Call<MarkRead>,
) -> Result<Json<Read>, WebappError> {
    let me = call.caller.id;
    let conversation = match (call.data.chat_room_id, call.data.chat_group_id) {
        (Some(Int(room)), None) => member_room(&state, &me, &room.to_string()).await?,
        (None, Some(Int(group))) => readable_group(&state, &me, group, true).await?,
        _ => {
            let message = "one of chat_room_id and chat_group_id is required";
            return Err(WebappError::invalid_data(message));
        }
    };
    let newest = state
        .services
        .chat
        .clone()
        .list_messages(ListMessagesRequest {
            user_id: me.clone(),
            conversation_id: conversation.id,
            limit: 1,
            ..ListMessagesRequest::default()
        })
        .await?
        .into_inner()
        .messages
        .pop();
    let Some(newest) = newest else {
        return Ok(Json(Read {
            success: true,
            last_read_id: 0,
        }));
    };
    state
        .services
        .chat
        .clone()
        .mark_read(ReceiptRequest {
            user_id: me,
            message_id: newest.id,
        })
        .await?;
    Ok(Json(Read {
        success: true,
        last_read_id: newest.number,
    }))
}
