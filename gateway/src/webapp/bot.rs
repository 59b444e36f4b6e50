//! The bot chat: every user's bot conversation (a conversation of kind bot with the bot's
//! service account, see [`crate::bot`]). `GET /http/chat_bot` reads it the document's way; a
//! socket frame `{"chat_type":"bot","message"}` stores the user's message, asks the bot, stores
//! its answer and answers `bot_chat_message` with both. The user's other sockets get the two
//! messages from the log, each as a `bot_chat_message` of one.

use axum::Json;
use axum::extract::State;
use axum::extract::ws::Utf8Bytes;
use chat_proto::chat::{Message, Origin, SendMessageRequest};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::ToSchema;

use super::error::{ErrorJson, WebappError};
use super::history::{self, Window};
use super::input::Call;
use super::time;
use crate::bot::{self, MAX_MESSAGE_BYTES};
use crate::hub::Connection;
use crate::state::AppState;

/// A message of the bot chat.
#[derive(Serialize, ToSchema)]
#[schema(as = webapp::BotMessage)]
pub struct BotMessage {
    /// The message's id (a number).
    id: i64,
    /// `true` for the user's message, `false` for the bot's answer.
    is_user: bool,
    message: String,
    timestamp: String,
}

impl BotMessage {
    fn new(message: &Message, is_user: bool) -> Self {
        Self {
            id: message.number,
            is_user,
            message: message.body.clone(),
            timestamp: time::format(message.created_at_ms),
        }
    }
}

/// `bot_chat_message` with these messages.
pub fn bot_chat_message(messages: &[BotMessage]) -> Utf8Bytes {
    Utf8Bytes::from(json!({"type": "bot_chat_message", "messages": messages}).to_string())
}

#[utoipa::path(get, path = "/http/chat_bot", tag = "webapp",
    summary = "The caller's bot chat, oldest first: the newest 100 messages, those since \
        `timestamp`, or the 100 before it with `before`",
    operation_id = "webapp_chat_bot", security(("authentication" = []), ("bearer" = [])),
    params(Window),
    responses((status = 200, description = "the messages, oldest first", body = [BotMessage]),
        (status = 400, description = "`invalid_data`: a timestamp or flag that does not parse",
            body = ErrorJson),
        (status = 401, description = "`unauthorized`: no valid token", body = ErrorJson)))]
pub async fn chat_bot(
    State(state): State<AppState>,
    call: Call<Window>,
) -> Result<Json<Vec<BotMessage>>, WebappError> {
    let me = &call.caller.id;
    let conversation = bot::conversation(&state, me).await?;
    let messages = history::read(&state, me, &conversation.id, &call.data).await?;
    Ok(Json(
        messages
            .iter()
            .map(|m| BotMessage::new(m, m.sender_id == *me))
            .collect(),
    ))
}

#[derive(Deserialize)]
struct BotFrame {
    message: String,
}

/// A `chat_type: "bot"` frame: the user's message is stored before the bot is asked, so it is
/// kept whatever the bot does; the bot's answer (or word that it is unavailable) is stored as
/// the bot's. Answers `bot_chat_message` with both.
pub async fn send(
    state: &AppState,
    me: &Connection,
    frame: Value,
) -> Result<Vec<Utf8Bytes>, WebappError> {
    let asked: BotFrame = serde_json::from_value(frame)
        .map_err(|e| WebappError::invalid_data(format!("a bot message: {e}")))?;
    if asked.message.trim().is_empty() {
        return Err(WebappError::invalid_data("message must not be empty"));
    }
    if asked.message.len() > MAX_MESSAGE_BYTES {
        return Err(WebappError::invalid_data(format!(
            "message must be at most {MAX_MESSAGE_BYTES} bytes"
        )));
    }
    let conversation = bot::conversation(state, &me.user_id).await?;
    let asked = super::messages::send(state, me, conversation.id.clone(), asked.message).await?;
    let asker = bot::asker(state, &me.user_id).await?;
    let answer = bot::answer(state, &asker, &asked).await;
    let account = bot::account(state).await?;
    let answered = state
        .services
        .chat
        .clone()
        .send_message(SendMessageRequest {
            sender_id: account.id.clone(),
            sender_number: account.number,
            conversation_id: conversation.id,
            body: answer,
            // This socket gets the answer in the reply; the user's other sockets from the log.
            origin: Some(Origin {
                connection_id: me.socket_id.clone(),
                username: account.username.clone(),
                first_name: account.first_name.clone(),
            }),
            ..SendMessageRequest::default()
        })
        .await?
        .into_inner()
        .message
        .ok_or_else(|| WebappError::from(tonic::Status::internal("a send answered no message")))?;
    Ok(vec![bot_chat_message(&[
        BotMessage::new(&asked, true),
        BotMessage::new(&answered, false),
    ])])
}

/// A message of a bot conversation as the log delivers it: `bot_chat_message` with it alone;
/// the bot's answers are those its service account sent.
pub fn logged(message: &Message, sender_username: &str) -> Utf8Bytes {
    let is_user = !bot::is_service_account(sender_username);
    bot_chat_message(&[BotMessage::new(message, is_user)])
}
