//! The WebSocket at `/`: the access JWT of `Authorization: Bearer <token>` on the handshake
//! (or, for browsers, which cannot set headers there, a `token` query parameter), verified by
//! auth-service; none or a bad one is 401 before the upgrade. A plain `GET /` without an
//! upgrade says where the API and its documentation are — or, to a browser (`Accept` preferring
//! `text/html`), serves the web chat client ([`crate::web`]).

use axum::Json;
use std::sync::Arc;

use axum::extract::ws::{Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use chat_proto::auth::{Identity, VerifyTokenRequest};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::error::{ErrorBody, HttpError};
use super::{render, requests};
use crate::auth::bearer_token;
use crate::dialect::Dialect;
use crate::error::ApiError;
use crate::hub::Connection;
use crate::state::AppState;
use crate::websocket::{self, Sink, WriteFailed};

/// What a plain `GET /` answers.
#[derive(Serialize, ToSchema)]
#[schema(as = messenger::Pointer)]
pub struct Pointer {
    name: &'static str,
    docs: &'static str,
    openapi: &'static str,
    websocket: &'static str,
}

#[derive(Deserialize)]
pub struct TokenQuery {
    token: Option<String>,
}

#[utoipa::path(get, path = "/", tag = "messenger",
    summary = "The messenger's WebSocket (upgrade with Authorization: Bearer); without an upgrade, where the API is",
    operation_id = "messenger_open_socket", security(("bearer" = [])),
    params(("token" = Option<String>, Query,
        description = "the access token, for clients that cannot send the header")),
    responses(
        (status = 101, description = "the WebSocket: requests and replies as in docs/messenger-api.md"),
        (status = 200, description = "a request without an upgrade: where the API is, or, when \
            `Accept` prefers `text/html` (a browser), the web chat client's page",
            content((Pointer = "application/json"), (String = "text/html"))),
        (status = 401, description = "`unauthorized`: no token, or an invalid one",
            body = ErrorBody),
        (status = 403, description = "`origin_not_allowed`: a browser Origin not allowed",
            body = ErrorBody)))]
pub async fn upgrade(
    State(state): State<AppState>,
    headers: HeaderMap,
    query: Result<Query<TokenQuery>, axum::extract::rejection::QueryRejection>,
    upgrade: Result<WebSocketUpgrade, axum::extract::ws::rejection::WebSocketUpgradeRejection>,
) -> Response {
    let Ok(upgrade) = upgrade else {
        if crate::web::prefers_html(&headers) {
            return crate::web::index(&headers);
        }
        return Json(Pointer {
            name: "chat-backend",
            docs: "/api/",
            openapi: "/api/openapi.json",
            websocket: "GET / with Upgrade: websocket and Authorization: Bearer <token of POST /api/auth/login>",
        })
        .into_response();
    };
    if let Err(error) = websocket::admit(&state, &headers) {
        return HttpError::from(error).into_response();
    }
    let token = bearer_token(&headers).map(str::to_owned).or_else(|| {
        query
            .ok()
            .and_then(|Query(q)| q.token)
            .filter(|t| !t.is_empty())
    });
    let Some(token) = token else {
        return HttpError::unauthorized("Unauthorized").into_response();
    };
    let verified = state
        .services
        .auth
        .clone()
        .verify_token(VerifyTokenRequest { token })
        .await;
    let identity = match verified {
        Ok(identity) => identity.into_inner(),
        Err(status) => {
            let error = ApiError::from_status(status);
            if error.status.is_server_error() {
                return HttpError::from(error).into_response();
            }
            return HttpError::unauthorized("Unauthorized").into_response();
        }
    };
    websocket::limits(upgrade)
        .on_upgrade(move |socket| run(socket, state, identity))
        .into_response()
}

async fn run(socket: WebSocket, state: AppState, identity: Identity) {
    websocket::run(
        socket,
        state,
        identity,
        Dialect::Messenger,
        MessengerRequests::new,
    )
    .await;
}

/// The messenger's requests, each answered by one reply frame.
struct MessengerRequests {
    state: AppState,
    connection: Arc<Connection>,
}

impl MessengerRequests {
    fn new(state: AppState, connection: Arc<Connection>, _start: i64) -> Self {
        Self { state, connection }
    }
}

impl websocket::Requests for MessengerRequests {
    async fn text(&mut self, text: &str, sink: &mut Sink) -> Result<(), WriteFailed> {
        let reply = requests::handle(&self.state, &self.connection, text).await;
        websocket::write(sink, reply).await
    }

    fn binary(&self) -> Utf8Bytes {
        render::error(None, "invalid_json", "Send JSON in text frames")
    }
}
