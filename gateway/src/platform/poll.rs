//! `GET /messages`: what reached the user since their cursor — messages (with their signature
//! and key id) and delivery receipts of their own messages — read from the commit-ordered event
//! log, so nothing is missed or returned twice across polls. What a poll returns counts as
//! delivered: the user's delivered watermark moves to the newest message of each chat, and the
//! senders get the receipt in whatever dialect they use. With `wait`, an empty poll waits up to
//! that many seconds (at most 30) for the next event, woken by this replica's event path.

use std::collections::HashMap;
use std::time::Duration;

use axum::Json;
use axum::extract::{Query, State};
use chat_proto::auth::GetUsersRequest;
use chat_proto::chat::conversation_event::Kind;
use chat_proto::chat::{CatchUpRequest, ConversationEvent, GetConversationRequest, ReceiptRequest};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::error::{ErrorBody, INVALID_PARAMETERS, PlatformError};
use super::user::PlatformUser;
use crate::dialect::Dialect;
use crate::state::AppState;

/// The longest a poll may wait.
pub const MAX_WAIT_SECS: u64 = 30;
/// Events one poll reads from the log at most.
const PAGE: u32 = 500;

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PollQuery {
    /// The `nextCursor` of the previous poll; leave it out for everything from the start.
    cursor: Option<String>,
    /// Seconds to wait (0 to 30) for something to arrive when nothing has.
    wait: Option<String>,
}

#[derive(Serialize, ToSchema)]
#[schema(as = platform::IncomingMessage)]
pub struct IncomingMessage {
    #[serde(rename = "messageID")]
    message_id: String,
    #[serde(rename = "chatID")]
    chat_id: String,
    #[serde(rename = "senderGUID")]
    sender_guid: String,
    #[serde(rename = "senderUserID")]
    sender_user_id: String,
    text: String,
    #[serde(rename = "clientMessageID")]
    client_message_id: String,
    seq: i64,
    /// Unix ms, as a string.
    #[serde(rename = "creationTime")]
    creation_time: String,
    /// The sender's signature (base64) of `chatID\nclientMessageID\ntext`.
    signature: String,
    /// The key that signature verifies with: `GET /keys/{keyID}`.
    #[serde(rename = "keyID")]
    key_id: String,
}

#[derive(Serialize, ToSchema)]
#[schema(as = platform::IncomingReceipt)]
pub struct IncomingReceipt {
    /// Always `delivered`.
    #[serde(rename = "type")]
    kind: &'static str,
    /// The newest of the caller's messages the user has received (every earlier one too).
    #[serde(rename = "messageID")]
    message_id: String,
    #[serde(rename = "chatID")]
    chat_id: String,
    seq: i64,
    #[serde(rename = "userGUID")]
    user_guid: String,
    #[serde(rename = "userID")]
    user_id: String,
}

#[derive(Serialize, ToSchema)]
#[schema(as = platform::Poll)]
pub struct Poll {
    messages: Vec<IncomingMessage>,
    receipts: Vec<IncomingReceipt>,
    /// Pass it as `cursor` to the next poll.
    #[serde(rename = "nextCursor")]
    next_cursor: String,
    /// More has arrived than this answer holds: poll again at once.
    #[serde(rename = "hasMore")]
    has_more: bool,
}

fn number(text: Option<&str>) -> Result<Option<u64>, PlatformError> {
    text.map(|t| t.parse::<u64>())
        .transpose()
        .map_err(|_| PlatformError::bad_request(INVALID_PARAMETERS))
}

#[utoipa::path(get, path = "/messages", tag = "platform",
    summary = "Messages and delivery receipts since a cursor; long-polls with wait",
    operation_id = "platform_poll_messages", security(("bearer" = [])), params(PollQuery),
    responses((status = 200, description = "what arrived, and the cursor of the next poll", body = Poll),
        (status = 400, description = "`Invalid parameters`: a cursor or wait that is not a \
            number, or a wait above 30", body = ErrorBody),
        (status = 401, description = "`Unauthorized`", body = ErrorBody),
        (status = 403, description = "`Not a platform user`", body = ErrorBody),
        (status = 500, description = "`Internal server error`", body = ErrorBody)))]
pub async fn poll_messages(
    State(state): State<AppState>,
    caller: PlatformUser,
    Query(query): Query<PollQuery>,
) -> Result<Json<Poll>, PlatformError> {
    let cursor = number(query.cursor.as_deref())?.unwrap_or(0);
    let cursor =
        i64::try_from(cursor).map_err(|_| PlatformError::bad_request(INVALID_PARAMETERS))?;
    let wait = number(query.wait.as_deref())?.unwrap_or(0);
    if wait > MAX_WAIT_SECS {
        return Err(PlatformError::bad_request(INVALID_PARAMETERS));
    }
    let (mut events, mut more) = read(&state, &caller, cursor).await?;
    if events.is_empty() && wait > 0 {
        (events, more) = wait_for(&state, &caller, cursor, Duration::from_secs(wait)).await?;
    }
    answer(&state, &caller, cursor, events, more)
        .await
        .map(Json)
}

/// Waits until an event for the caller reaches this replica (this poll marked online, as a
/// socket is, so the relay routes the user's events here), or `wait` passes; then reads.
async fn wait_for(
    state: &AppState,
    caller: &PlatformUser,
    cursor: i64,
    wait: Duration,
) -> Result<(Vec<ConversationEvent>, bool), PlatformError> {
    let identity = chat_proto::auth::Identity {
        user_id: caller.user.id.clone(),
        user_number: caller.user.number,
        username: caller.user.username.clone(),
        session_id: caller.user.session_id.clone(),
        first_name: String::new(),
    };
    let (connection, _mailbox) = state.hub.register(&identity, Dialect::PlatformPoll);
    let read_after_online = async {
        crate::websocket::open(state, &connection).await;
        // Whatever committed before the poll was marked online is in the log by now.
        let (events, more) = read(state, caller, cursor).await?;
        if events.is_empty() {
            let _ = tokio::time::timeout(wait, connection.frames_waiting()).await;
            return read(state, caller, cursor).await;
        }
        Ok((events, more))
    };
    let result = read_after_online.await;
    state.hub.unregister(&connection);
    crate::websocket::offline(state, &connection).await;
    result
}

/// The caller's messages and receipts after `cursor`, and whether more follow.
async fn read(
    state: &AppState,
    caller: &PlatformUser,
    cursor: i64,
) -> Result<(Vec<ConversationEvent>, bool), PlatformError> {
    let page = state
        .services
        .chat
        .clone()
        .catch_up(CatchUpRequest {
            user_id: caller.user.id.clone(),
            after_position: Some(cursor),
            limit: PAGE,
            ..CatchUpRequest::default()
        })
        .await
        .map_err(|status| PlatformError::status(status, INVALID_PARAMETERS))?
        .into_inner();
    Ok((page.events, !page.next_cursor.is_empty()))
}

/// The poll's answer: messages and receipts of the caller's platform's chats, marked delivered.
async fn answer(
    state: &AppState,
    caller: &PlatformUser,
    cursor: i64,
    events: Vec<ConversationEvent>,
    has_more: bool,
) -> Result<Poll, PlatformError> {
    let next_cursor = events.last().map_or(cursor, |e| e.position).to_string();
    let mut chat = state.services.chat.clone();
    // Each chat's id as the platform knows it; conversations that are not the platform's
    // chats (the user's groups in other dialects) are left out.
    let mut chat_ids: HashMap<String, Option<String>> = HashMap::new();
    let prefix = format!("{}/", caller.platform_id);
    for event in &events {
        if chat_ids.contains_key(&event.conversation_id) {
            continue;
        }
        let found = chat
            .get_conversation(GetConversationRequest {
                user_id: caller.user.id.clone(),
                conversation_id: event.conversation_id.clone(),
                number: 0,
                members_only: false,
            })
            .await
            .ok()
            .and_then(|c| {
                c.into_inner()
                    .external_id
                    .strip_prefix(&prefix)
                    .map(str::to_owned)
            });
        chat_ids.insert(event.conversation_id.clone(), found);
    }
    let chat_of =
        |event: &ConversationEvent| chat_ids.get(&event.conversation_id).cloned().flatten();
    let mut people: Vec<String> = events
        .iter()
        .filter_map(|event| match &event.kind {
            Some(Kind::Message(message)) => Some(message.sender_id.clone()),
            Some(Kind::Delivered(receipt)) => Some(receipt.user_id.clone()),
            _ => None,
        })
        .collect();
    people.sort();
    people.dedup();
    let users = state
        .services
        .auth
        .clone()
        .get_users(GetUsersRequest {
            user_ids: people,
            numbers: Vec::new(),
        })
        .await
        .map_err(|status| PlatformError::status(status, INVALID_PARAMETERS))?
        .into_inner()
        .users;
    let user_id = |guid: &str| {
        users
            .iter()
            .find(|u| u.id == guid)
            .map(|u| u.platform_user_id.clone())
            .unwrap_or_default()
    };
    let mut messages = Vec::new();
    let mut receipts = Vec::new();
    // The newest message from someone else per conversation: what becomes delivered.
    let mut newest: HashMap<String, (i64, String)> = HashMap::new();
    for event in &events {
        let Some(chat_id) = chat_of(event) else {
            continue;
        };
        match &event.kind {
            Some(Kind::Message(message)) => {
                let (key_id, signature) = message
                    .signature
                    .split_once(':')
                    .map(|(k, s)| (k.to_owned(), s.to_owned()))
                    .unwrap_or_default();
                if message.sender_id != caller.user.id {
                    let entry = newest
                        .entry(message.conversation_id.clone())
                        .or_insert((0, String::new()));
                    if message.seq > entry.0 {
                        *entry = (message.seq, message.id.clone());
                    }
                }
                messages.push(IncomingMessage {
                    message_id: message.id.clone(),
                    chat_id,
                    sender_guid: message.sender_id.clone(),
                    sender_user_id: user_id(&message.sender_id),
                    text: message.body.clone(),
                    client_message_id: message.client_message_id.clone(),
                    seq: message.seq,
                    creation_time: message.created_at_ms.to_string(),
                    signature,
                    key_id,
                });
            }
            Some(Kind::Delivered(receipt)) if receipt.user_id != caller.user.id => {
                receipts.push(IncomingReceipt {
                    kind: "delivered",
                    message_id: receipt.message_id.clone(),
                    chat_id,
                    seq: receipt.seq,
                    user_guid: receipt.user_id.clone(),
                    user_id: user_id(&receipt.user_id),
                });
            }
            _ => {}
        }
    }
    for (_, (_, message_id)) in newest {
        // A message the user may no longer read (they left since) is not theirs to mark.
        if let Err(status) = chat
            .mark_delivered(ReceiptRequest {
                user_id: caller.user.id.clone(),
                message_id,
            })
            .await
            && !matches!(
                status.code(),
                tonic::Code::PermissionDenied | tonic::Code::NotFound
            )
        {
            return Err(PlatformError::status(status, INVALID_PARAMETERS));
        }
    }
    Ok(Poll {
        messages,
        receipts,
        next_cursor,
        has_more,
    })
}
