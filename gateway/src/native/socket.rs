//! The native WebSocket at a session's `messaging_url`: resolve the connection id, upgrade with
//! tight buffers, then pump frames between the client, its RPC handler and its outbox.

use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use chat_proto::auth::{Identity, ResolveConnectionRequest};
use futures_util::stream::SplitSink;
use futures_util::{SinkExt, StreamExt};

use super::events;
use super::rpc::Rpc;
use crate::dialect::Dialect;
use crate::error::ApiError;
use crate::state::AppState;
use crate::websocket;

#[utoipa::path(get, path = "/{connection_id}", tag = "native",
    summary = "A session's WebSocket (its messaging_url): methods 20, 40, 41, 42, 60, 61",
    params(("connection_id" = String, Path, description = "from the session's messaging_url")),
    responses((status = 101, description = "the WebSocket"),
        (status = 400, description = "not a WebSocket request", body = super::schema::ErrorJson),
        (status = 401, description = "unknown or revoked connection id",
            body = super::schema::ErrorJson)))]
pub async fn upgrade(
    State(state): State<AppState>,
    Path(connection_id): Path<String>,
    headers: HeaderMap,
    upgrade: Result<WebSocketUpgrade, axum::extract::ws::rejection::WebSocketUpgradeRejection>,
) -> Response {
    if let Err(error) = websocket::admit(&state, &headers) {
        return error.into_response();
    }
    let identity = match state
        .services
        .auth
        .clone()
        .resolve_connection(ResolveConnectionRequest { connection_id })
        .await
    {
        Ok(identity) => identity.into_inner(),
        Err(status) if status.code() == tonic::Code::NotFound => {
            return ApiError::unauthorized("unknown or revoked messaging URL").into_response();
        }
        Err(status) => return ApiError::from_status(status).into_response(),
    };
    match upgrade {
        Ok(upgrade) => websocket::limits(upgrade)
            .on_upgrade(move |socket| run(socket, state, identity))
            .into_response(),
        Err(rejection) => {
            ApiError::bad_request("websocket_required", rejection.body_text()).into_response()
        }
    }
}

pub type Sink = SplitSink<WebSocket, Message>;

async fn run(socket: WebSocket, state: AppState, identity: Identity) {
    let (connection, mut mailbox) = state.hub.register(&identity, Dialect::Native);
    websocket::online(&state, &connection).await;
    let (mut sink, mut stream) = socket.split();
    let mut rpc = Rpc::new(&state, &connection);
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
            incoming = stream.next() => match incoming {
                Some(Ok(Message::Text(text))) => {
                    if crate::request_id::scope(rpc.handle(text.as_str(), &mut sink)).await.is_err() {
                        break None;
                    }
                }
                Some(Ok(Message::Binary(_))) => {
                    let error = events::error("invalid_json", "send JSON in text frames", None);
                    if sink.send(Message::Text(error)).await.is_err() {
                        break None;
                    }
                }
                Some(Ok(Message::Close(_))) | None => break None,
                Some(Ok(_)) => {}
                Some(Err(error)) => break websocket::read_error_close(&error),
            },
        }
    };
    websocket::close(&mut sink, &mut stream, close).await;
    state.hub.unregister(&connection);
    websocket::offline(&state, &connection).await;
    tracing::debug!(socket_id = %connection.socket_id, close = ?close.map(|c| c.0), "socket closed");
}
