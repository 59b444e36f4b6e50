//! 1:1 chat rooms: the direct conversations of the shared model (the same one per pair that
//! the messenger's private messages and the native API see). `GET /http/chat_rooms`,
//! `GET /http/chat_rooms/{room-id}`, and the socket's `chat_type: "room"` frames, which create
//! the room on first use.

use axum::Json;
use axum::extract::{Path, State};
use chat_proto::auth::GetUsersRequest;
use chat_proto::chat::{
    Conversation, ConversationKind, GetConversationRequest, GetDirectConversationRequest,
    ListConversationsRequest, Message,
};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use super::error::{ErrorJson, WebappError};
use super::history::{self, Window};
use super::input::{Call, Int};
use super::{render, time};
use crate::hub::Connection;
use crate::state::AppState;

/// A room as the list shows it.
#[derive(Serialize, ToSchema)]
#[schema(as = webapp::ChatRoom)]
pub struct ChatRoom {
    /// The room's id (a number); `chat_room_id` repeats it.
    id: i64,
    chat_room_id: i64,
    /// The other user's id (a number).
    other_user_id: i64,
    first_name: String,
    last_name: String,
    /// When its latest message was sent (or the room created), ISO 8601.
    timestamp: String,
}

/// A message of a room.
#[derive(Serialize, ToSchema)]
#[schema(as = webapp::RoomMessage)]
pub struct RoomMessage {
    /// The message's id (a number).
    id: i64,
    /// The sender's id (a number).
    user_id: i64,
    chat_room_id: i64,
    message: String,
    timestamp: String,
}

impl From<&Message> for RoomMessage {
    fn from(message: &Message) -> Self {
        Self {
            id: message.number,
            user_id: message.sender_number,
            chat_room_id: message.conversation_number,
            message: message.body.clone(),
            timestamp: time::format(message.created_at_ms),
        }
    }
}

#[utoipa::path(get, path = "/http/chat_rooms", tag = "webapp",
    summary = "The caller's chat rooms (1:1), the most recent first",
    operation_id = "webapp_list_chat_rooms", security(("authentication" = []), ("bearer" = [])),
    responses((status = 200, description = "the rooms", body = [ChatRoom]),
        (status = 401, description = "`unauthorized`: no valid token", body = ErrorJson)))]
pub async fn list_chat_rooms(
    State(state): State<AppState>,
    call: Call<Value>,
) -> Result<Json<Vec<ChatRoom>>, WebappError> {
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
    let rooms: Vec<(Conversation, String)> = conversations
        .into_iter()
        .filter(|c| c.kind == ConversationKind::Direct as i32)
        .filter_map(|c| {
            let other = c.members.iter().find(|m| m.user_id != me)?.user_id.clone();
            Some((c, other))
        })
        .collect();
    let users = state
        .services
        .auth
        .clone()
        .get_users(GetUsersRequest {
            user_ids: rooms.iter().map(|(_, other)| other.clone()).collect(),
            numbers: Vec::new(),
        })
        .await?
        .into_inner()
        .users;
    // Rooms with a deleted user are left out: there is no one to talk to.
    let listed = rooms
        .iter()
        .filter_map(|(room, other)| {
            let user = users.iter().find(|u| u.id == *other)?;
            Some(ChatRoom {
                id: room.number,
                chat_room_id: room.number,
                other_user_id: user.number,
                first_name: user.first_name.clone(),
                last_name: user.last_name.clone(),
                timestamp: time::format(room.updated_at_ms),
            })
        })
        .collect();
    Ok(Json(listed))
}

/// The caller's room with this number: another's room, a group or nothing is `room_not_found`.
pub async fn member_room(
    state: &AppState,
    user_id: &str,
    room: &str,
) -> Result<Conversation, WebappError> {
    let number: i64 = room
        .trim()
        .parse()
        .map_err(|_| WebappError::room_not_found())?;
    let found = state
        .services
        .chat
        .clone()
        .get_conversation(GetConversationRequest {
            user_id: user_id.to_owned(),
            conversation_id: String::new(),
            number,
            members_only: true,
        })
        .await;
    match found {
        Ok(found) if found.get_ref().kind == ConversationKind::Direct as i32 => {
            Ok(found.into_inner())
        }
        Ok(_) => Err(WebappError::room_not_found()),
        Err(status) => match WebappError::from(status) {
            error if error.status.is_server_error() => Err(error),
            _ => Err(WebappError::room_not_found()),
        },
    }
}

#[utoipa::path(get, path = "/http/chat_rooms/{room_id}", tag = "webapp",
    summary = "A room's messages, oldest first: the newest 100, those since `timestamp`, or \
        the 100 before it with `before`",
    operation_id = "webapp_room_messages", security(("authentication" = []), ("bearer" = [])),
    params(("room_id" = i64, Path, description = "the room's id"), Window),
    responses((status = 200, description = "the messages, oldest first", body = [RoomMessage]),
        (status = 400, description = "`invalid_data`: a timestamp or flag that does not parse",
            body = ErrorJson),
        (status = 401, description = "`unauthorized`: no valid token", body = ErrorJson),
        (status = 404, description = "`room_not_found`: no such room of the caller's",
            body = ErrorJson)))]
pub async fn room_messages(
    State(state): State<AppState>,
    Path(room_id): Path<String>,
    call: Call<Window>,
) -> Result<Json<Vec<RoomMessage>>, WebappError> {
    let room = member_room(&state, &call.caller.id, &room_id).await?;
    let messages = history::read(&state, &call.caller.id, &room.id, &call.data).await?;
    Ok(Json(messages.iter().map(RoomMessage::from).collect()))
}

#[derive(Deserialize)]
struct RoomFrame {
    other_user_id: Int,
    message: String,
}

/// A `chat_type: "room"` frame: stores the message in the caller's room with the other user,
/// creating it on first use. The sender's socket gets the `room_chat_message` back (it tells
/// the room's id); the receiver's sockets get it from the log.
pub async fn send(
    state: &AppState,
    me: &Connection,
    frame: Value,
) -> Result<Vec<axum::extract::ws::Utf8Bytes>, WebappError> {
    let frame: RoomFrame =
        serde_json::from_value(frame).map_err(|e| WebappError::invalid_data(e.to_string()))?;
    let peer = state
        .services
        .auth
        .clone()
        .get_users(GetUsersRequest {
            user_ids: Vec::new(),
            numbers: vec![frame.other_user_id.0],
        })
        .await?
        .into_inner()
        .users
        .into_iter()
        .next()
        .ok_or_else(WebappError::user_not_found)?;
    if peer.id == me.user_id {
        return Err(WebappError::invalid_data("a room is with another user"));
    }
    if crate::bot::is_service_account(&peer.username) {
        let message = "the bot is written to with chat_type \"bot\"";
        return Err(WebappError::invalid_data(message));
    }
    let room = state
        .services
        .chat
        .clone()
        .get_direct_conversation(GetDirectConversationRequest {
            user_id: me.user_id.clone(),
            peer_id: peer.id,
            create: true,
            bot: false,
        })
        .await?
        .into_inner();
    let sent = super::messages::send(state, me, room.id, frame.message).await?;
    Ok(vec![render::room_message(&sent)])
}
