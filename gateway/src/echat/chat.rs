//! A room's WebSocket, `/v1/rooms/{id}/chat`: authenticated and checked for membership before
//! the upgrade, then `{"text":…}` in, and every message of the room out — the caller's own
//! included, as the document's chat shows both sides. Errors answer with an error frame and the
//! socket stays open.

use axum::extract::ws::{Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use chat_proto::auth::Identity;
use chat_proto::chat::SendMessageRequest;
use serde::Deserialize;

use super::error::{EchatError, ErrorJson};
use super::rooms::member_room;
use super::session::Caller;
use crate::delivery;
use crate::dialect::Dialect;
use crate::state::AppState;
use crate::websocket::{self, Sink, WriteFailed};

#[utoipa::path(get, path = "/v1/rooms/{room_id}/chat", tag = "echat",
    summary = "A room's WebSocket: send {\"text\"}, receive every message of the room",
    operation_id = "echat_open_socket", security(("session_id" = [])),
    params(("room_id" = i64, Path, description = "the room's id")),
    responses((status = 101, description = "the WebSocket"),
        (status = 401, description = "`unauthorized`: no valid session", body = ErrorJson),
        (status = 403, description = "`origin_not_allowed`: a browser Origin not allowed",
            body = ErrorJson),
        (status = 422, description = "`room_not_found`, or `invalid_json`: not a WebSocket request",
            body = ErrorJson)))]
pub async fn upgrade(
    State(state): State<AppState>,
    Path(room_id): Path<String>,
    headers: HeaderMap,
    caller: Result<Caller, EchatError>,
    upgrade: Result<WebSocketUpgrade, axum::extract::ws::rejection::WebSocketUpgradeRejection>,
) -> Response {
    if let Err(error) = websocket::admit(&state, &headers) {
        return EchatError::from(error).into_response();
    }
    let Caller(caller) = match caller {
        Ok(caller) => caller,
        Err(error) => return error.into_response(),
    };
    let room = match member_room(&state, &caller.user_id, &room_id).await {
        Ok(room) => room,
        Err(error) => return error.into_response(),
    };
    match upgrade {
        Ok(upgrade) => websocket::limits(upgrade)
            .on_upgrade(move |socket| run(socket, state, caller, room.id))
            .into_response(),
        Err(rejection) => EchatError::invalid_json(rejection.body_text()).into_response(),
    }
}

#[derive(Deserialize)]
struct Outgoing {
    text: String,
}

async fn run(socket: WebSocket, state: AppState, caller: Identity, conversation_id: String) {
    let dialect = Dialect::Echat {
        conversation_id: conversation_id.clone(),
    };
    let room = RoomRequests {
        caller: caller.clone(),
        conversation_id,
    };
    websocket::run(socket, state, caller, dialect, move |state, _, _| {
        (state, room)
    })
    .await;
}

/// A room socket's requests: each text frame is a message to the room.
struct RoomRequests {
    caller: Identity,
    conversation_id: String,
}

impl websocket::Requests for (AppState, RoomRequests) {
    async fn text(&mut self, text: &str, sink: &mut Sink) -> Result<(), WriteFailed> {
        let (state, room) = &*self;
        match send(state, &room.caller, &room.conversation_id, text).await {
            Ok(()) => Ok(()),
            Err(error) => websocket::write(sink, error.frame()).await,
        }
    }

    fn binary(&self) -> Utf8Bytes {
        EchatError::invalid_json("send JSON in text frames").frame()
    }
}

/// Stores `{"text":…}` as the caller's message; chat-service logs it for every member's
/// sockets, this one included.
async fn send(
    state: &AppState,
    caller: &Identity,
    conversation_id: &str,
    frame: &str,
) -> Result<(), EchatError> {
    let outgoing: Outgoing = serde_json::from_str(frame)
        .map_err(|error| EchatError::invalid_json(format!("expected {{\"text\":…}}: {error}")))?;
    state
        .services
        .chat
        .clone()
        .send_message(SendMessageRequest {
            sender_id: caller.user_id.clone(),
            sender_number: caller.user_number,
            conversation_id: conversation_id.to_owned(),
            body: outgoing.text,
            // No origin socket: the room shows the message on this socket too.
            origin: Some(delivery::origin(caller, "")),
            ..SendMessageRequest::default()
        })
        .await?;
    Ok(())
}
