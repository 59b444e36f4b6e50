//! A room's WebSocket, `/v1/rooms/{id}/chat`: authenticated and checked for membership before
//! the upgrade, then `{"text":…}` in, and every message of the room out — the caller's own
//! included, as the document's chat shows both sides. Errors answer with an error frame and the
//! socket stays open.

use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use chat_proto::auth::Identity;
use chat_proto::chat::SendMessageRequest;
use futures_util::{SinkExt, StreamExt};
use serde::Deserialize;

use super::error::EchatError;
use super::rooms::member_room;
use super::session::Caller;
use crate::delivery;
use crate::dialect::Dialect;
use crate::state::AppState;
use crate::websocket;

#[utoipa::path(get, path = "/v1/rooms/{room_id}/chat", tag = "echat",
    summary = "A room's WebSocket: send {\"text\"}, receive every message of the room",
    security(("session_id" = [])), params(("room_id" = i64, Path)),
    responses((status = 101, description = "the WebSocket"), (status = 401, body = crate::native::schema::ErrorJson),
        (status = 422, body = crate::native::schema::ErrorJson)))]
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
    let (connection, mut mailbox) = state.hub.register(&caller, dialect);
    websocket::online(&state, &connection).await;
    let (mut sink, mut stream) = socket.split();
    let close: Option<(u16, &'static str)> = loop {
        tokio::select! {
            biased;
            changed = mailbox.close.changed() => {
                break if changed.is_ok() { *mailbox.close.borrow() } else { None };
            }
            frame = mailbox.outbox.recv() => match frame {
                Some(frame) => {
                    if sink.send(Message::Text(frame)).await.is_err() {
                        break None;
                    }
                }
                None => break None,
            },
            incoming = stream.next() => {
                let failure = match incoming {
                    Some(Ok(Message::Text(text))) => {
                        crate::request_id::scope(send(&state, &caller, &conversation_id, text.as_str()))
                            .await
                            .err()
                    }
                    Some(Ok(Message::Binary(_))) => {
                        Some(EchatError::invalid_json("send JSON in text frames"))
                    }
                    Some(Ok(Message::Close(_))) | None => break None,
                    Some(Ok(_)) => None,
                    Some(Err(error)) => break websocket::read_error_close(&error),
                };
                if let Some(error) = failure
                    && sink.send(Message::Text(error.frame())).await.is_err()
                {
                    break None;
                }
            }
        }
    };
    websocket::close(&mut sink, &mut stream, close).await;
    state.hub.unregister(&connection);
    websocket::offline(&state, &connection).await;
    tracing::debug!(socket_id = %connection.socket_id, close = ?close.map(|c| c.0), "room socket closed");
}

/// Stores `{"text":…}` as the caller's message and hands it to every member's sockets, this
/// one included.
async fn send(
    state: &AppState,
    caller: &Identity,
    conversation_id: &str,
    frame: &str,
) -> Result<(), EchatError> {
    let outgoing: Outgoing = serde_json::from_str(frame)
        .map_err(|error| EchatError::invalid_json(format!("expected {{\"text\":…}}: {error}")))?;
    let sent = state
        .services
        .chat
        .clone()
        .send_message(SendMessageRequest {
            sender_id: caller.user_id.clone(),
            sender_number: caller.user_number,
            conversation_id: conversation_id.to_owned(),
            body: outgoing.text,
            ..SendMessageRequest::default()
        })
        .await?
        .into_inner();
    if let Some(delivery) = delivery::message(sent, delivery::sender(caller), String::new()) {
        state.fanout.send(delivery).await;
    }
    Ok(())
}
