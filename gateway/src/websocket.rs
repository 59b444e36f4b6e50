//! What every dialect's WebSocket shares: admission (draining, Origin allowlist), the size
//! limits of an upgrade, presence bookkeeping, and the one pump that moves a socket's frames —
//! replies, catch-up and events, each written with a timeout — whatever its dialect.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::http::{HeaderMap, StatusCode};
use chat_proto::chat::LogHeadRequest;
use chat_proto::presence::SessionPresence;
use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};

use crate::dialect::Dialect;
use crate::error::ApiError;
use crate::hub::{Connection, Mailbox, close_code};
use crate::state::AppState;
use chat_proto::auth::Identity;

pub type Sink = SplitSink<WebSocket, Message>;
type Stream = SplitStream<WebSocket>;

/// What a dialect does with the frames its client sends.
pub trait Requests: Send {
    /// Handles a text frame, writing its replies with [`write`].
    fn text(
        &mut self,
        text: &str,
        sink: &mut Sink,
    ) -> impl Future<Output = Result<(), WriteFailed>> + Send;

    /// The reply to a binary frame (every dialect speaks JSON in text frames).
    fn binary(&self) -> Utf8Bytes;

    /// What the socket writes before anything live: a catch-up its URL asked for. Live events
    /// wait in the outbox meanwhile, so the client sees the log in order.
    fn opening(&mut self, _sink: &mut Sink) -> impl Future<Output = Result<(), Opening>> + Send {
        async { Ok(()) }
    }
}

/// Why a socket's opening writes failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Opening {
    /// Writing to the client failed.
    Write(WriteFailed),
    /// What the opening needed could not be read now; the client should come back (1013).
    Unavailable,
}

/// Runs a socket of `identity` speaking `dialect` from its registration to its close, and
/// returns the close it ended with. `make` builds the dialect's request handler once the
/// socket is online and its start in the log is known.
pub async fn run<R: Requests>(
    socket: WebSocket,
    state: AppState,
    identity: Identity,
    dialect: Dialect,
    make: impl FnOnce(AppState, Arc<Connection>, i64) -> R,
) -> Option<(u16, &'static str)> {
    let (connection, mut mailbox) = state.hub.register(&identity, dialect);
    let (mut sink, mut stream) = socket.split();
    // A reconnect storm opens thousands of sockets at once: they take turns going online and
    // reading the log's head, so the services see a bounded number of those in flight. The turn
    // ends before anything is written to the client: a client slow to read holds no one up.
    let turn = state.openings.acquire().await;
    // The futures of the service calls are boxed: a socket's task holds, for its whole life, a
    // future as large as the largest it awaits, and most sockets are idle most of the time.
    let start = Box::pin(open(&state, &connection)).await;
    drop(turn);
    let opened = match start {
        Some(start) => {
            let mut requests = make(state.clone(), connection.clone(), start);
            match Box::pin(requests.opening(&mut sink)).await {
                Ok(()) => Ok((requests, start)),
                Err(Opening::Write(failed)) => Err(write_failure_close(&connection, failed)),
                Err(Opening::Unavailable) => Err(Some(UNAVAILABLE)),
            }
        }
        None => Err(Some(UNAVAILABLE)),
    };
    let close = match opened {
        Ok((mut requests, start)) => {
            let socket = (&mut sink, &mut stream);
            pump(&connection, &mut mailbox, socket, start, &mut requests).await
        }
        Err(close) => close,
    };
    close_socket(&mut sink, &mut stream, close).await;
    state.hub.unregister(&connection);
    Box::pin(offline(&state, &connection)).await;
    tracing::debug!(
        socket_id = %connection.socket_id,
        dialect = connection.dialect.name(),
        close = ?close.map(|c| c.0),
        "socket closed"
    );
    close
}

/// Moves frames until the socket ends, returning the close it ends with.
async fn pump<R: Requests>(
    connection: &Connection,
    mailbox: &mut Mailbox,
    (sink, stream): (&mut Sink, &mut Stream),
    start: i64,
    requests: &mut R,
) -> Option<(u16, &'static str)> {
    loop {
        let written = tokio::select! {
            biased;
            changed = mailbox.close.changed() => {
                return if changed.is_ok() { *mailbox.close.borrow() } else { None };
            }
            () = connection.frames_waiting() => write_outbox(sink, start, connection).await,
            incoming = stream.next() => match incoming {
                Some(Ok(Message::Text(text))) => {
                    // Boxed: a request's future (its service calls) exists only while it runs.
                    Box::pin(crate::request_id::scope(requests.text(text.as_str(), sink))).await
                }
                Some(Ok(Message::Binary(_))) => write(sink, requests.binary()).await,
                Some(Ok(Message::Close(_))) => {
                    answer_close(sink).await;
                    return None;
                }
                None => return None,
                Some(Ok(_)) => Ok(()),
                Some(Err(error)) => return read_error_close(&error),
            },
        };
        if let Err(failed) = written {
            return write_failure_close(connection, failed);
        }
    }
}

/// Sockets one replica opens at once (marked online, positioned in the log); the others wait
/// their turn before their first frame.
pub const OPENING_AT_ONCE: usize = 128;

/// Largest message a client may send; larger ones close the socket with 1009.
pub const MAX_MESSAGE_BYTES: usize = 64 * 1024;
/// How long presence keeps a socket online without a heartbeat from its replica.
pub const PRESENCE_TTL: Duration = Duration::from_secs(60);
/// How often a replica refreshes its sockets' presence.
pub const PRESENCE_HEARTBEAT: Duration = Duration::from_secs(20);

/// How long a closing socket waits for the client's close reply.
const CLOSE_REPLY_WAIT: Duration = Duration::from_secs(2);
/// How long one write to a client may take; a client that does not read for this long is
/// too slow to keep up, and its socket is closed.
pub const WRITE_TIMEOUT: Duration = Duration::from_secs(2);

/// Why a write to a client failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteFailed {
    /// The socket is gone.
    Closed,
    /// The client stopped reading.
    TooSlow,
}

/// Writes one frame within [`WRITE_TIMEOUT`].
pub async fn write(sink: &mut Sink, frame: Utf8Bytes) -> Result<(), WriteFailed> {
    within_write_timeout(sink.send(Message::Text(frame))).await?;
    metrics::counter!("gateway_frames_written_total").increment(1);
    Ok(())
}

/// Runs a write to the client within [`WRITE_TIMEOUT`].
async fn within_write_timeout<E>(
    writing: impl Future<Output = Result<(), E>>,
) -> Result<(), WriteFailed> {
    match tokio::time::timeout(WRITE_TIMEOUT, writing).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(_)) => Err(WriteFailed::Closed),
        Err(_) => Err(WriteFailed::TooSlow),
    }
}

/// The most frames one flush of the outbox carries.
const FRAMES_PER_FLUSH: usize = 64;

/// Writes what waits in the connection's outbox (up to [`FRAMES_PER_FLUSH`]) with one flush,
/// all within [`WRITE_TIMEOUT`]; events the client gets by catch-up (at or below the position
/// the socket started after) are skipped.
async fn write_outbox(
    sink: &mut Sink,
    start: i64,
    connection: &Connection,
) -> Result<(), WriteFailed> {
    let mut written = 0;
    let feed_and_flush = async {
        let mut taken = 0;
        while taken < FRAMES_PER_FLUSH {
            let Some(outgoing) = connection.take() else {
                break;
            };
            taken += 1;
            if outgoing.position == 0 || outgoing.position > start {
                sink.feed(Message::Text(outgoing.frame)).await?;
                written += 1;
            }
        }
        if taken == FRAMES_PER_FLUSH {
            connection.more_waiting();
        }
        if written == 0 {
            return Ok(());
        }
        sink.flush().await
    };
    within_write_timeout(feed_and_flush).await?;
    metrics::counter!("gateway_frames_written_total").increment(written);
    metrics::counter!("gateway_events_delivered_total").increment(written);
    Ok(())
}

/// The close a failed write deserves: 1013 for a client too slow to read, counted once.
pub fn write_failure_close(
    connection: &Connection,
    failure: WriteFailed,
) -> Option<(u16, &'static str)> {
    match failure {
        WriteFailed::Closed => None,
        WriteFailed::TooSlow => {
            connection.close_slow();
            Some((close_code::TRY_AGAIN_LATER, "too slow to keep up"))
        }
    }
}

/// Marks a socket online on this replica and returns the log position it starts after: events
/// up to it reach the client by catch-up, those after it live. `None` when chat-service cannot
/// tell now; the socket should then be closed with 1013.
pub async fn open(state: &AppState, connection: &Connection) -> Option<i64> {
    // Online first: every event positioned after the head read below is then routed here.
    online(state, connection).await;
    let head = crate::services::read_twice(|| {
        let mut chat = state.services.chat.clone();
        async move { chat.log_head(LogHeadRequest {}).await }
    });
    match head.await {
        Ok(head) => {
            let start = head.into_inner().position;
            connection.handed_up_to(start);
            Some(start)
        }
        Err(status) => {
            tracing::warn!(code = ?status.code(), message = status.message(), "cannot read the log head for a new socket");
            None
        }
    }
}

/// Answers a client's close frame: the reply is queued when the close is read, and goes out
/// only with the next write or flush (RFC 6455, 5.5.1; without it the client sees 1006).
pub async fn answer_close(sink: &mut Sink) {
    let _ = tokio::time::timeout(CLOSE_REPLY_WAIT, sink.close()).await;
}

/// The close for a socket whose start could not be read.
pub const UNAVAILABLE: (u16, &str) = (close_code::TRY_AGAIN_LATER, "service unavailable");

/// Ends a socket: with `close`, sends the close frame and waits briefly for the client's reply,
/// discarding what it still sends. Closing the TCP connection with unread frames in it would
/// reset it, and a reset can make the client lose the close frame (and its code) on the way.
pub async fn close_socket(
    sink: &mut Sink,
    stream: &mut Stream,
    close: Option<(u16, &'static str)>,
) {
    let Some((code, reason)) = close else {
        return;
    };
    let frame = CloseFrame {
        code,
        reason: reason.into(),
    };
    match tokio::time::timeout(CLOSE_REPLY_WAIT, sink.send(Message::Close(Some(frame)))).await {
        Ok(Ok(())) => {}
        _ => return,
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
        .read_buffer_size(2 * 1024)
        .write_buffer_size(4 * 1024)
        .max_write_buffer_size(4 * MAX_MESSAGE_BYTES)
        .max_message_size(MAX_MESSAGE_BYTES)
        .max_frame_size(MAX_MESSAGE_BYTES)
}

/// The close a failed read deserves (RFC 6455, 7.4.1): 1009 for an oversized message, 1007 for
/// a text frame that is not UTF-8, 1002 for a broken frame (a reserved opcode or bit, an
/// unmasked client frame, a control frame over 125 bytes, a fragmented one); none for a socket
/// that is simply gone.
pub fn read_error_close(error: &axum::Error) -> Option<(u16, &'static str)> {
    use tokio_tungstenite::tungstenite::Error;
    let cause = std::error::Error::source(error)?.downcast_ref::<Error>()?;
    match cause {
        Error::Capacity(_) => Some((close_code::TOO_BIG, "message too big")),
        Error::Utf8(_) => Some((close_code::INVALID_DATA, "text frame is not UTF-8")),
        Error::Protocol(_) => Some((close_code::PROTOCOL_ERROR, "protocol violation")),
        _ => None,
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
async fn online(state: &AppState, connection: &Connection) {
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
