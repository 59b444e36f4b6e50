//! The native WebSocket's RPC methods: 20 catch-up, 40 send, 41 delivered, 42 read,
//! 60 typing started, 61 typing ended. Errors answer with event 99 and the socket stays open.

use std::sync::Arc;

use axum::extract::ws::Utf8Bytes;
use chat_proto::chat::{CatchUpRequest, ReceiptRequest, SendMessageRequest};
use serde::Deserialize;
use serde_json::Value;

use super::events;
use super::socket::Sink;
use crate::error::ApiError;
use crate::hub::Connection;
use crate::state::AppState;
use crate::websocket::{self, Opening, WriteFailed};

pub const CATCH_UP: i64 = 20;
pub const SEND: i64 = 40;
pub const DELIVERED: i64 = 41;
pub const READ: i64 = 42;
pub const TYPING_START: i64 = 60;
pub const TYPING_END: i64 = 61;

/// Events per catch-up page read from chat-service.
const CATCH_UP_PAGE: u32 = 500;

pub struct Rpc {
    state: AppState,
    connection: Arc<Connection>,
    /// The log position the socket started after: catch-up serves up to it, the live stream
    /// everything after it.
    start: i64,
    /// The position the socket's URL resumes after: caught up before anything live.
    resume: Option<i64>,
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

/// Why a request failed: what to tell the client in event 99, or that the socket failed.
enum Failure {
    Request { code: String, message: String },
    Socket(WriteFailed),
}

fn invalid(message: impl Into<String>) -> Failure {
    Failure::Request {
        code: "validation_failed".into(),
        message: message.into(),
    }
}

impl From<ApiError> for Failure {
    fn from(error: ApiError) -> Self {
        Self::Request {
            code: error.code.into_owned(),
            message: error.message,
        }
    }
}

impl From<WriteFailed> for Failure {
    fn from(failed: WriteFailed) -> Self {
        Self::Socket(failed)
    }
}

impl From<tonic::Status> for Failure {
    fn from(status: tonic::Status) -> Self {
        ApiError::from_status(status).into()
    }
}

fn body<T: serde::de::DeserializeOwned>(request: &Value) -> Result<T, Failure> {
    let body = request.get("body").cloned().unwrap_or(Value::Null);
    serde_json::from_value(body).map_err(|error| invalid(format!("invalid body: {error}")))
}

/// A field of the request, at its top level or in its body.
fn field<'r>(request: &'r Value, name: &str) -> Option<&'r Value> {
    request
        .get(name)
        .or_else(|| request.get("body").and_then(|b| b.get(name)))
}

impl websocket::Requests for Rpc {
    async fn text(&mut self, text: &str, sink: &mut Sink) -> Result<(), WriteFailed> {
        self.handle(text, sink).await
    }

    fn binary(&self) -> Utf8Bytes {
        events::error("invalid_json", "send JSON in text frames", None)
    }

    async fn opening(&mut self, sink: &mut Sink) -> Result<(), Opening> {
        let Some(after) = self.resume.take() else {
            return Ok(());
        };
        match self.replay(Some(after), 0, sink).await {
            Ok(()) => Ok(()),
            Err(Failure::Socket(failed)) => Err(Opening::Write(failed)),
            Err(Failure::Request { code, message }) => {
                tracing::warn!(%code, %message, "cannot catch a new socket up");
                Err(Opening::Unavailable)
            }
        }
    }
}

impl Rpc {
    /// A socket's handler; with `resume`, the socket is caught up from after that position
    /// before anything live reaches it.
    pub fn new(
        state: AppState,
        connection: Arc<Connection>,
        start: i64,
        resume: Option<i64>,
    ) -> Self {
        Self {
            state,
            connection,
            start,
            resume,
        }
    }

    /// Handles one text frame. `Err` only when the socket itself failed.
    pub async fn handle(&mut self, text: &str, sink: &mut Sink) -> Result<(), WriteFailed> {
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
            _ => Err(Failure::Request {
                code: "unknown_method".into(),
                message: format!("unknown method {method}"),
            }),
        };
        match outcome {
            Ok(()) => Ok(()),
            Err(Failure::Request { code, message }) => {
                send(sink, events::error(&code, &message, Some(method))).await
            }
            Err(Failure::Socket(failed)) => Err(failed),
        }
    }

    /// Method 20: every event after `position` (exact), or else since `timestamp`
    /// (milliseconds; 0 or absent for everything; events of that very millisecond may come
    /// again), up to where this socket's live stream began.
    async fn catch_up(&mut self, request: &Value, sink: &mut Sink) -> Result<(), Failure> {
        let after_position = field(request, "position")
            .map(|p| p.as_i64().filter(|p| *p >= 0).ok_or(()))
            .transpose()
            .map_err(|()| invalid("position must be a log position from an earlier event"))?;
        let since = field(request, "timestamp")
            .map(|t| t.as_i64().ok_or(()))
            .transpose()
            .map_err(|()| invalid("timestamp must be milliseconds since the epoch"))?
            .unwrap_or(0);
        self.replay(after_position, since, sink).await
    }

    /// Writes every event of the user's conversations after `after_position` (or else logged
    /// since `since`), up to where this socket's live stream began.
    async fn replay(
        &mut self,
        after_position: Option<i64>,
        since: i64,
        sink: &mut Sink,
    ) -> Result<(), Failure> {
        if self.start == 0 {
            // The log was empty when this socket opened: everything comes live.
            return Ok(());
        }
        let mut cursor = String::new();
        loop {
            if self.connection.closing() {
                // Revoked, or too far behind: the close goes out instead of the rest.
                return Ok(());
            }
            let request = CatchUpRequest {
                user_id: self.connection.user_id.clone(),
                since_ms: since,
                cursor,
                limit: CATCH_UP_PAGE,
                after_position,
                // Nothing past the start: the live stream has it, and would repeat it.
                up_to_position: self.start,
            };
            let page = crate::services::read_twice(|| {
                let mut chat = self.state.services.chat.clone();
                let request = request.clone();
                async move { chat.catch_up(request).await }
            })
            .await?
            .into_inner();
            for event in &page.events {
                if let Some(frame) = events::conversation_event(event) {
                    send(sink, frame).await?;
                }
            }
            if page.next_cursor.is_empty() {
                return Ok(());
            }
            cursor = page.next_cursor;
        }
    }

    /// Method 40: store, acknowledge with 21. chat-service logs the message for the other
    /// members' sockets (and this user's other sockets) with this socket as its origin.
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
                origin: Some(self.connection.origin()),
            })
            .await?
            .into_inner();
        if let Some(message) = &sent.message {
            send(sink, events::message_sent(message)).await?;
        }
        Ok(())
    }

    /// Methods 41 and 42: move the watermark; chat-service logs 22 or 23 for the sender.
    async fn receipt(&mut self, request: &Value, read: bool) -> Result<(), Failure> {
        let body: MessageRef = body(request)?;
        let request = ReceiptRequest {
            user_id: self.connection.user_id.clone(),
            message_id: body.message_id,
        };
        let mut chat = self.state.services.chat.clone();
        if read {
            chat.mark_read(request).await?;
        } else {
            chat.mark_delivered(request).await?;
        }
        Ok(())
    }

    /// Methods 60 and 61: the other members get 40 or 41.
    async fn typing(&mut self, request: &Value, typing: bool) -> Result<(), Failure> {
        let body: GroupRef = body(request)?;
        crate::typing::set(&self.state, &self.connection, body.group_id, typing).await?;
        Ok(())
    }
}

async fn send(sink: &mut Sink, frame: Utf8Bytes) -> Result<(), WriteFailed> {
    websocket::write(sink, frame).await
}
