//! The socket at `/socket`: opened without credentials, bound to a user by its first frame
//! `{"token": <token>}` (or at once by an `authentication`/`Authorization` header or a `token`
//! query parameter); answered `{"type":"init","user_id":…}`. Every later frame carries the
//! token again; a frame with `chat_type` sends a message. Binding tells every online user
//! `user_activity` with `login: true`; the user's last socket going away (on any replica),
//! `login: false`.

use std::sync::Arc;

use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use chat_proto::auth::{Identity, VerifyTokenRequest};
use serde::Deserialize;
use serde_json::{Value, json};

use super::error::{ErrorJson, WebappError};
use super::{announce, bot, groups, rooms};
use crate::dialect::Dialect;
use crate::hub::{Connection, close_code};
use crate::state::AppState;
use crate::websocket::{self, Sink, WriteFailed};

#[derive(Deserialize)]
pub struct TokenQuery {
    token: Option<String>,
}

#[utoipa::path(get, path = "/socket", tag = "webapp",
    summary = "The web app's WebSocket: bind it with {\"token\"}, then send chat frames",
    operation_id = "webapp_open_socket",
    params(("token" = Option<String>, Query,
        description = "the token, binding the socket at once (else the first frame binds it)")),
    responses(
        (status = 101, description = "the WebSocket: frames as in docs/webapp-api.md"),
        (status = 400, description = "not a WebSocket upgrade", body = ErrorJson),
        (status = 401, description = "`unauthorized`: a token given on the handshake that is \
            not valid", body = ErrorJson),
        (status = 403, description = "`origin_not_allowed`: a browser Origin not allowed",
            body = ErrorJson)))]
pub async fn upgrade(
    State(state): State<AppState>,
    headers: HeaderMap,
    query: Result<Query<TokenQuery>, axum::extract::rejection::QueryRejection>,
    upgrade: Result<WebSocketUpgrade, axum::extract::ws::rejection::WebSocketUpgradeRejection>,
) -> Response {
    let Ok(upgrade) = upgrade else {
        let message = "GET /socket with Upgrade: websocket";
        return WebappError::new(
            axum::http::StatusCode::BAD_REQUEST,
            "not_a_websocket",
            message,
        )
        .into_response();
    };
    if let Err(error) = websocket::admit(&state, &headers) {
        return WebappError::from(error).into_response();
    }
    let given = super::input::header_token(&headers).or_else(|| {
        query
            .ok()
            .and_then(|Query(q)| q.token)
            .filter(|t| !t.is_empty())
    });
    let bound = match given {
        Some(token) => match identify(&state, &token).await {
            Ok(identity) => Some((identity, token)),
            Err(error) => return error.into_response(),
        },
        None => None,
    };
    websocket::limits(upgrade)
        .on_upgrade(move |socket| run(socket, state, bound))
        .into_response()
}

/// The live session a token names.
async fn identify(state: &AppState, token: &str) -> Result<Identity, WebappError> {
    let verified = state
        .services
        .auth
        .clone()
        .verify_token(VerifyTokenRequest {
            token: token.to_owned(),
        })
        .await;
    match verified {
        Ok(identity) => Ok(identity.into_inner()),
        Err(status) => match WebappError::from(status) {
            error if error.status.is_server_error() => Err(error),
            _ => Err(WebappError::unauthorized()),
        },
    }
}

async fn run(mut socket: WebSocket, state: AppState, bound: Option<(Identity, String)>) {
    let bound = match bound {
        Some(bound) => Some(bound),
        None => init(&mut socket, &state).await,
    };
    let Some((identity, token)) = bound else {
        return;
    };
    let number = identity.user_number;
    let user_id = identity.user_id.clone();
    // Once the socket is online: the client is told it is bound, everyone else that it is.
    let make = move |state: AppState, connection: Arc<Connection>, _start| {
        connection.push(0, init_frame(&connection));
        let announcing = state.clone();
        tokio::spawn(async move { announce::activity(&announcing, number, true).await });
        WebappRequests {
            state,
            connection,
            token,
        }
    };
    let close = websocket::run(socket, state.clone(), identity, Dialect::Webapp, make).await;
    // A logout has told everyone already; otherwise the last socket anywhere going away does.
    let revoked = matches!(close, Some((close_code::POLICY, _)));
    if !revoked && !announce::is_online(&state, &user_id).await {
        announce::activity(&state, number, false).await;
    }
}

/// Waits for the frame that binds the socket; answers anything else with an error frame, and
/// closes the socket (1008) when none comes in time or its token is not valid.
async fn init(socket: &mut WebSocket, state: &AppState) -> Option<(Identity, String)> {
    // How long a socket may stay unbound (`--unauthenticated-socket-timeout`).
    let wait = state.options.connections.unauthenticated_socket_timeout();
    let deadline = wait.map(|wait| tokio::time::Instant::now() + wait);
    loop {
        let next = async {
            match deadline {
                Some(deadline) => tokio::time::timeout_at(deadline, socket.recv()).await,
                None => Ok(socket.recv().await),
            }
        };
        let frame = match next.await {
            Ok(Some(Ok(frame))) => frame,
            Ok(_) => return None,
            Err(_) => {
                close(socket, "no {\"token\"} frame in time").await;
                return None;
            }
        };
        let text = match frame {
            Message::Text(text) => text,
            Message::Close(_) => {
                // Answers the client's close (the reply goes out with a flush).
                let closing = futures_util::SinkExt::close(socket);
                let _ = tokio::time::timeout(websocket::WRITE_TIMEOUT, closing).await;
                return None;
            }
            Message::Binary(_) => {
                let error = WebappError::invalid_data("send JSON in text frames");
                send(socket, error.frame()).await?;
                continue;
            }
            _ => continue,
        };
        let token = match serde_json::from_str::<Value>(text.as_str()) {
            Ok(frame) => frame
                .get("token")
                .and_then(Value::as_str)
                .map(str::to_owned),
            Err(error) => {
                let error = WebappError::new(
                    axum::http::StatusCode::BAD_REQUEST,
                    "invalid_json",
                    format!("malformed JSON: {error}"),
                );
                send(socket, error.frame()).await?;
                continue;
            }
        };
        let Some(token) = token else {
            let error = WebappError::unauthorized();
            send(socket, error.frame()).await?;
            continue;
        };
        match identify(state, &token).await {
            Ok(identity) => return Some((identity, token)),
            Err(error) => {
                send(socket, error.frame()).await?;
                close(socket, "unauthorized").await;
                return None;
            }
        }
    }
}

async fn send(socket: &mut WebSocket, frame: Utf8Bytes) -> Option<()> {
    tokio::time::timeout(websocket::WRITE_TIMEOUT, socket.send(Message::Text(frame)))
        .await
        .ok()?
        .ok()
}

async fn close(socket: &mut WebSocket, reason: &'static str) {
    let frame = CloseFrame {
        code: close_code::POLICY,
        reason: reason.into(),
    };
    let _ = tokio::time::timeout(
        websocket::WRITE_TIMEOUT,
        socket.send(Message::Close(Some(frame))),
    )
    .await;
}

/// The frames of a bound socket.
struct WebappRequests {
    state: AppState,
    connection: Arc<Connection>,
    /// The token that bound the socket; a frame with another is verified again.
    token: String,
}

/// `{"type":"init"}`: the socket is bound to this user.
fn init_frame(connection: &Connection) -> Utf8Bytes {
    Utf8Bytes::from(json!({"type": "init", "user_id": connection.user_number}).to_string())
}

impl WebappRequests {
    /// Answers one frame: the frames to write back.
    async fn answer(&mut self, text: &str) -> Result<Vec<Utf8Bytes>, WebappError> {
        let frame: Value = serde_json::from_str(text).map_err(|error| {
            WebappError::new(
                axum::http::StatusCode::BAD_REQUEST,
                "invalid_json",
                format!("malformed JSON: {error}"),
            )
        })?;
        let Value::Object(frame) = frame else {
            return Err(WebappError::invalid_data("a frame is a JSON object"));
        };
        let token = frame.get("token").and_then(Value::as_str);
        if let Some(token) = token.filter(|token| *token != self.token) {
            let identity = identify(&self.state, token).await?;
            if identity.user_id != self.connection.user_id {
                let message = "this socket is bound to another user";
                return Err(WebappError::new(
                    axum::http::StatusCode::FORBIDDEN,
                    "forbidden",
                    message,
                ));
            }
        }
        let chat_type = frame.get("chat_type").cloned();
        let frame = Value::Object(frame);
        match chat_type {
            None | Some(Value::Null) => Ok(vec![init_frame(&self.connection)]),
            Some(Value::String(kind)) if kind == "room" => {
                rooms::send(&self.state, &self.connection, frame).await
            }
            Some(Value::String(kind)) if kind == "group" => {
                groups::send(&self.state, &self.connection, frame).await
            }
            Some(Value::String(kind)) if kind == "bot" => {
                bot::send(&self.state, &self.connection, frame).await
            }
            Some(other) => Err(WebappError::invalid_data(format!(
                "chat_type must be \"room\", \"group\" or \"bot\", not {other}"
            ))),
        }
    }
}

impl websocket::Requests for WebappRequests {
    async fn text(&mut self, text: &str, sink: &mut Sink) -> Result<(), WriteFailed> {
        let frames = match self.answer(text).await {
            Ok(frames) => frames,
            Err(error) => vec![error.frame()],
        };
        for frame in frames {
            websocket::write(sink, frame).await?;
        }
        Ok(())
    }

    fn binary(&self) -> Utf8Bytes {
        WebappError::invalid_data("send JSON in text frames").frame()
    }
}
