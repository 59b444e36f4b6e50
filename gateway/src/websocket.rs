//! What every dialect's WebSocket shares: admission (draining, Origin allowlist), the size
//! limits of an upgrade, presence bookkeeping, and the close code for a failed read.

use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::http::{HeaderMap, StatusCode};
use chat_proto::presence::SessionPresence;
use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};

use crate::error::ApiError;
use crate::hub::{Connection, close_code};
use crate::state::AppState;

/// Largest message a client may send; larger ones close the socket with 1009.
pub const MAX_MESSAGE_BYTES: usize = 64 * 1024;
/// How long presence keeps a socket online without a heartbeat from its replica.
pub const PRESENCE_TTL: Duration = Duration::from_secs(60);
/// How often a replica refreshes its sockets' presence.
pub const PRESENCE_HEARTBEAT: Duration = Duration::from_secs(20);

/// How long a closing socket waits for the client's close reply.
const CLOSE_REPLY_WAIT: Duration = Duration::from_secs(2);

/// Ends a socket: with `close`, sends the close frame and waits briefly for the client's reply,
/// discarding what it still sends. Closing the TCP connection with unread frames in it would
/// reset it, and a reset can make the client lose the close frame (and its code) on the way.
pub async fn close(
    sink: &mut SplitSink<WebSocket, Message>,
    stream: &mut SplitStream<WebSocket>,
    close: Option<(u16, &'static str)>,
) {
    let Some((code, reason)) = close else {
        return;
    };
    let frame = CloseFrame {
        code,
        reason: reason.into(),
    };
    if sink.send(Message::Close(Some(frame))).await.is_err() {
        return;
    }
    let reply = async {
        while let Some(Ok(frame)) = stream.next().await {
            if let Message::Close(_) = frame {
                break;
            }
        }
    };
    let _ = tokio::time::timeout(CLOSE_REPLY_WAIT, reply).await;
}

/// Refuses upgrades while draining, and browser origins outside the allowlist.
pub fn admit(state: &AppState, headers: &HeaderMap) -> Result<(), ApiError> {
    if state.is_draining() {
        return Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "draining",
            "this replica is shutting down; reconnect",
        ));
    }
    let allowed = &state.options.allowed_origins;
    if allowed.iter().all(|o| o.is_empty()) {
        return Ok(());
    }
    match headers
        .get(axum::http::header::ORIGIN)
        .and_then(|o| o.to_str().ok())
    {
        // Non-browser clients send no Origin.
        None => Ok(()),
        Some(origin) if allowed.iter().any(|a| a == origin || a == "*") => Ok(()),
        Some(_) => Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "origin_not_allowed",
            "this Origin may not open WebSockets here",
        )),
    }
}

/// Small buffers keep idle connections cheap; frames and messages are capped at 64 KiB.
pub fn limits(upgrade: WebSocketUpgrade) -> WebSocketUpgrade {
    upgrade
        .read_buffer_size(4 * 1024)
        .write_buffer_size(4 * 1024)
        .max_write_buffer_size(4 * MAX_MESSAGE_BYTES)
        .max_message_size(MAX_MESSAGE_BYTES)
        .max_frame_size(MAX_MESSAGE_BYTES)
}

/// The close a failed read deserves: 1009 for an oversized message, none for a broken socket.
pub fn read_error_close(error: &axum::Error) -> Option<(u16, &'static str)> {
    let text = format!("{error:#}");
    if text.contains("Space limit exceeded") || text.contains("too long") {
        Some((close_code::TOO_BIG, "message too big"))
    } else {
        None
    }
}

fn presence_of(state: &AppState, connection: &Connection) -> SessionPresence {
    SessionPresence {
        user_id: connection.user_id.clone(),
        session_id: connection.socket_id.clone(),
        node_id: state.options.node_id.clone(),
        ttl_ms: PRESENCE_TTL.as_millis() as u64,
    }
}

/// Marks a socket online on this replica, so events from other replicas are routed here.
pub async fn online(state: &AppState, connection: &Connection) {
    let request = presence_of(state, connection);
    if let Err(status) = state
        .services
        .presence
        .clone()
        .session_online(request)
        .await
    {
        tracing::warn!(code = ?status.code(), message = status.message(), "cannot mark a socket online");
    }
}

pub async fn offline(state: &AppState, connection: &Connection) {
    let request = presence_of(state, connection);
    if let Err(status) = state
        .services
        .presence
        .clone()
        .session_offline(request)
        .await
    {
        tracing::warn!(code = ?status.code(), message = status.message(), "cannot mark a socket offline");
    }
}
