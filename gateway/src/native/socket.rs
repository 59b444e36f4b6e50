//! The native WebSocket at a session's `messaging_url`: resolve the connection id, upgrade with
//! tight buffers, then pump frames between the client, its RPC handler and its outbox.

use axum::extract::ws::{WebSocket, WebSocketUpgrade};
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use chat_proto::auth::{Identity, ResolveConnectionRequest};
use serde::Deserialize;
use utoipa::IntoParams;

use super::rpc::Rpc;
use crate::dialect::Dialect;
use crate::error::ApiError;
use crate::state::AppState;
use crate::websocket;

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SocketQuery {
    /// Resume after this log position (the `position` of the last event seen): every event
    /// after it comes first, in log order, then the live ones — as method 20 would, but
    /// without live events arriving ahead of the missed ones.
    #[param(minimum = 0)]
    position: Option<i64>,
}

#[utoipa::path(get, path = "/{connection_id}", tag = "native",
    summary = "A session's WebSocket (its messaging_url): methods 20, 40, 41, 42, 60, 61",
    operation_id = "native_open_socket",
    params(("connection_id" = String, Path, description = "from the session's messaging_url"),
        SocketQuery),
    responses((status = 101, description = "the WebSocket"),
        (status = 400, description = "`websocket_required`: not a WebSocket request; \
            `invalid_query`: a position that is not an integer", body = super::schema::ErrorJson),
        (status = 401, description = "unknown or revoked connection id",
            body = super::schema::ErrorJson),
        (status = 403, description = "`origin_not_allowed`: a browser Origin not allowed",
            body = super::schema::ErrorJson),
        (status = 422, description = "`validation_failed`: a negative position",
            body = super::schema::ErrorJson)))]
pub async fn upgrade(
    State(state): State<AppState>,
    Path(connection_id): Path<String>,
    query: Result<Query<SocketQuery>, axum::extract::rejection::QueryRejection>,
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
    let resume = match query {
        Ok(Query(SocketQuery { position: Some(p) })) if p < 0 => {
            return ApiError::unprocessable(
                "validation_failed",
                "position must be a log position from an earlier event",
            )
            .into_response();
        }
        Ok(Query(query)) => query.position,
        Err(rejection) => {
            return ApiError::bad_request("invalid_query", rejection.body_text()).into_response();
        }
    };
    match upgrade {
        Ok(upgrade) => websocket::limits(upgrade)
            .on_upgrade(move |socket| run(socket, state, identity, resume))
            .into_response(),
        Err(rejection) => {
            ApiError::bad_request("websocket_required", rejection.body_text()).into_response()
        }
    }
}

pub use crate::websocket::Sink;

async fn run(socket: WebSocket, state: AppState, identity: Identity, resume: Option<i64>) {
    let make = move |state, connection, start| Rpc::new(state, connection, start, resume);
    websocket::run(socket, state, identity, Dialect::Native, make).await;
}
