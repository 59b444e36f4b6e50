//! The native WebSocket's RPC methods: 20 catch-up, 40 send, 41 delivered, 42 read,
//! 60 typing started, 61 typing ended. Errors answer with event 99 and the socket stays open.

use axum::extract::ws::{Message, Utf8Bytes};
use chat_proto::chat::conversation_event::Kind;
use chat_proto::chat::{
    CatchUpRequest, ConversationEvent, GetConversationRequest, Receipt, ReceiptRequest,
    SendMessageRequest,
};
use chat_proto::events::Typing;
use chat_proto::events::delivery::Payload;
use chat_proto::presence::TypingRequest;
use futures_util::SinkExt;
use serde::Deserialize;
use serde_json::Value;

use super::events;
use super::socket::Sink;
use crate::delivery;
use crate::error::ApiError;
use crate::hub::Connection;
use crate::state::AppState;

pub const CATCH_UP: i64 = 20;
pub const SEND: i64 = 40;
pub const DELIVERED: i64 = 41;
pub const READ: i64 = 42;
pub const TYPING_START: i64 = 60;
pub const TYPING_END: i64 = 61;

/// How long a "typing" lasts when the client never says it stopped.
const TYPING_TTL_MS: u64 = 10_000;
/// Events per catch-up page read from chat-service.
const CATCH_UP_PAGE: u32 = 500;

pub struct Rpc<'a> {
    state: &'a AppState,
    connection: &'a Connection,
}

#[derive(Deserialize)]
struct SendBody {
    group_id: String,
    data: String,
    #[serde(default)]
    client_message_id: Option<String>,
}

#[derive(Deserialize)]
struct MessageRef {
    message_id: String,
}

#[derive(Deserialize)]
struct GroupRef {
    group_id: String,
}

/// Why a request failed: what to tell the client in event 99.
struct Failure {
    code: String,
    message: String,
}

impl From<ApiError> for Failure {
    fn from(error: ApiError) -> Self {
        Self {
            code: error.code.into_owned(),
            message: error.message,
        }
    }
}

impl From<tonic::Status> for Failure {
    fn from(status: tonic::Status) -> Self {
        ApiError::from_status(status).into()
    }
}

fn body<T: serde::de::DeserializeOwned>(request: &Value) -> Result<T, Failure> {
    let body = request.get("body").cloned().unwrap_or(Value::Null);
    serde_json::from_value(body).map_err(|error| Failure {
        code: "validation_failed".into(),
        message: format!("invalid body: {error}"),
    })
}

impl<'a> Rpc<'a> {
    pub fn new(state: &'a AppState, connection: &'a Connection) -> Self {
        Self { state, connection }
    }

    /// Handles one text frame. `Err` only when the socket itself is gone.
    pub async fn handle(&mut self, text: &str, sink: &mut Sink) -> Result<(), axum::Error> {
        let request: Value = match serde_json::from_str(text) {
            Ok(value @ Value::Object(_)) => value,
            Ok(_) => {
                return send(
                    sink,
                    events::error("invalid_request", "expected a JSON object", None),
                )
                .await;
            }
            Err(error) => {
                let message = format!("malformed JSON: {error}");
                return send(sink, events::error("invalid_json", &message, None)).await;
            }
        };
        let Some(method) = request.get("method").and_then(Value::as_i64) else {
            return send(
                sink,
                events::error("invalid_request", "method must be a number", None),
            )
            .await;
        };
        let outcome = match method {
            CATCH_UP => self.catch_up(&request, sink).await,
            SEND => self.send_message(&request, sink).await,
            DELIVERED => self.receipt(&request, false).await,
            READ => self.receipt(&request, true).await,
            TYPING_START => self.typing(&request, true).await,
            TYPING_END => self.typing(&request, false).await,
            _ => Err(Failure {
                code: "unknown_method".into(),
                message: format!("unknown method {method}"),
            }),
        };
        match outcome {
            Ok(()) => Ok(()),
            Err(Failure { code, message }) => {
                send(sink, events::error(&code, &message, Some(method))).await
            }
        }
    }

    /// Method 20: every event since `timestamp` (milliseconds; 0 or absent for everything).
    async fn catch_up(&mut self, request: &Value, sink: &mut Sink) -> Result<(), Failure> {
        let since = request
            .get("timestamp")
            .or_else(|| request.get("body").and_then(|b| b.get("timestamp")))
            .map(|t| t.as_i64().ok_or(()))
            .transpose()
            .map_err(|()| Failure {
                code: "validation_failed".into(),
                message: "timestamp must be milliseconds since the epoch".into(),
            })?
            .unwrap_or(0);
        let mut cursor = String::new();
        loop {
            let page = self
                .state
                .services
                .chat
                .clone()
                .catch_up(CatchUpRequest {
                    user_id: self.connection.user_id.clone(),
                    since_ms: since,
                    cursor,
                    limit: CATCH_UP_PAGE,
                })
                .await?
                .into_inner();
            for event in &page.events {
                if let Some(frame) = events::conversation_event(event) {
                    send(sink, frame).await.map_err(|_| Failure {
                        code: "socket_closed".into(),
                        message: String::new(),
                    })?;
                }
            }
            if page.next_cursor.is_empty() {
                return Ok(());
            }
            cursor = page.next_cursor;
        }
    }

    /// Method 40: store, acknowledge with 21, then deliver 20 to the other members.
    async fn send_message(&mut self, request: &Value, sink: &mut Sink) -> Result<(), Failure> {
        let body: SendBody = body(request)?;
        let sent = self
            .state
            .services
            .chat
            .clone()
            .send_message(SendMessageRequest {
                sender_id: self.connection.user_id.clone(),
                conversation_id: body.group_id,
                body: body.data,
                client_message_id: body.client_message_id.unwrap_or_default(),
                signature: String::new(),
                sender_number: self.connection.user_number,
                number: 0,
            })
            .await?
            .into_inner();
        let Some(message) = &sent.message else {
            return Ok(());
        };
        send(sink, events::message_sent(message))
            .await
            .map_err(|_| Failure {
                code: "socket_closed".into(),
                message: String::new(),
            })?;
        let sender = self.connection.sender.clone();
        let except = self.connection.socket_id.clone();
        if let Some(delivery) = delivery::message(sent, sender, except) {
            self.state.fanout.send(delivery).await;
        }
        Ok(())
    }

    /// Methods 41 and 42: move the watermark; the message's sender gets 22 or 23.
    async fn receipt(&mut self, request: &Value, read: bool) -> Result<(), Failure> {
        let body: MessageRef = body(request)?;
        let request = ReceiptRequest {
            user_id: self.connection.user_id.clone(),
            message_id: body.message_id,
        };
        let mut chat = self.state.services.chat.clone();
        let marked = if read {
            chat.mark_read(request).await?
        } else {
            chat.mark_delivered(request).await?
        }
        .into_inner();
        let Some(message) = marked.message else {
            return Ok(());
        };
        if !marked.advanced || message.sender_id == self.connection.user_id {
            return Ok(());
        }
        let receipt = Receipt {
            message_id: message.id.clone(),
            seq: message.seq,
            user_id: self.connection.user_id.clone(),
            sender_id: message.sender_id.clone(),
        };
        let event = ConversationEvent {
            conversation_id: message.conversation_id.clone(),
            at_ms: chrono::Utc::now().timestamp_millis(),
            kind: Some(if read {
                Kind::Read(receipt)
            } else {
                Kind::Delivered(receipt)
            }),
        };
        self.deliver(vec![message.sender_id], Payload::Conversation(event))
            .await;
        Ok(())
    }

    /// Methods 60 and 61: the other members get 40 or 41.
    async fn typing(&mut self, request: &Value, typing: bool) -> Result<(), Failure> {
        let body: GroupRef = body(request)?;
        let me = self.connection.user_id.clone();
        let group = self
            .state
            .services
            .chat
            .clone()
            .get_conversation(GetConversationRequest {
                user_id: me.clone(),
                conversation_id: body.group_id.clone(),
                number: 0,
            })
            .await?
            .into_inner();
        if !group.members.iter().any(|m| m.user_id == me) {
            return Err(Failure {
                code: "not_a_member".into(),
                message: "you are not a member of this conversation".into(),
            });
        }
        self.state
            .services
            .presence
            .clone()
            .set_typing(TypingRequest {
                conversation_id: group.id.clone(),
                user_id: me.clone(),
                typing,
                ttl_ms: TYPING_TTL_MS,
            })
            .await?;
        let others = group
            .members
            .into_iter()
            .map(|m| m.user_id)
            .filter(|id| *id != me)
            .collect();
        let event = Typing {
            conversation_id: group.id,
            user_id: me,
            typing,
            at_ms: chrono::Utc::now().timestamp_millis(),
        };
        self.deliver(others, Payload::Typing(event)).await;
        Ok(())
    }

    async fn deliver(&self, user_ids: Vec<String>, payload: Payload) {
        let except = self.connection.socket_id.clone();
        let delivery = delivery::to(user_ids, except, payload);
        self.state.fanout.send(delivery).await;
    }
}

async fn send(sink: &mut Sink, frame: Utf8Bytes) -> Result<(), axum::Error> {
    sink.send(Message::Text(frame)).await
}
