//! The gateway's listener: it accepts TCP connections and serves HTTP/1.1 and WebSocket upgrades
//! on them, under limits that keep connections which never finish, or too many from one
//! address, from holding the server's memory and file descriptors:
//!
//! - a request's head (the WebSocket handshake included) must arrive within
//!   `--request-read-timeout` of the connection opening or going idle between requests, and its
//!   body within the same time of its head;
//! - a client address may hold at most `--max-connections-per-address` connections at once
//!   (HTTP and WebSocket alike); one more is answered `429` and closed;
//! - a WebSocket that binds by a frame (the web app's) must do so within
//!   `--unauthenticated-socket-timeout` ([`ConnectionLimits::unauthenticated_socket_timeout`]).

use std::collections::HashMap;
use std::future::Future;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::Request;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tower::ServiceExt;

const REQUEST_READ_TIMEOUT_SECS: u64 = 10;
const UNAUTHENTICATED_SOCKET_TIMEOUT_SECS: u64 = 10;
const MAX_CONNECTIONS_PER_ADDRESS: usize = 1024;

/// The limits every connection is served under; each is a flag and an environment variable of
/// the gateway and of the single process.
#[derive(Debug, Clone, clap::Args)]
pub struct ConnectionLimits {
    /// Seconds a client has to send a request's head — the WebSocket handshake included — once
    /// its connection opens or goes idle between requests, and then its body; a connection that
    /// is slower is closed. 0 waits forever.
    #[arg(
        long = "request-read-timeout",
        env = "REQUEST_READ_TIMEOUT_SECS",
        value_name = "SECONDS",
        default_value_t = REQUEST_READ_TIMEOUT_SECS
    )]
    pub request_read_timeout_secs: u64,
    /// Seconds a WebSocket that authenticates by its first frame (the web app's `/socket`) may
    /// stay open without doing so; it is then closed with 1008. 0 waits forever.
    #[arg(
        long = "unauthenticated-socket-timeout",
        env = "UNAUTHENTICATED_SOCKET_TIMEOUT_SECS",
        value_name = "SECONDS",
        default_value_t = UNAUTHENTICATED_SOCKET_TIMEOUT_SECS
    )]
    pub unauthenticated_socket_timeout_secs: u64,
    /// Connections one client address may hold open at once, HTTP and WebSocket alike; one more
    /// is answered 429 and closed. Behind a proxy every connection comes from the proxy's
    /// address: raise this or set 0 (no cap) there, and cap at the proxy.
    #[arg(
        long = "max-connections-per-address",
        env = "MAX_CONNECTIONS_PER_ADDRESS",
        value_name = "COUNT",
        default_value_t = MAX_CONNECTIONS_PER_ADDRESS
    )]
    pub max_connections_per_address: usize,
}

impl Default for ConnectionLimits {
    fn default() -> Self {
        Self {
            request_read_timeout_secs: REQUEST_READ_TIMEOUT_SECS,
            unauthenticated_socket_timeout_secs: UNAUTHENTICATED_SOCKET_TIMEOUT_SECS,
            max_connections_per_address: MAX_CONNECTIONS_PER_ADDRESS,
        }
    }
}

impl ConnectionLimits {
    pub fn request_read_timeout(&self) -> Option<Duration> {
        seconds(self.request_read_timeout_secs)
    }

    pub fn unauthenticated_socket_timeout(&self) -> Option<Duration> {
        seconds(self.unauthenticated_socket_timeout_secs)
    }
}

fn seconds(value: u64) -> Option<Duration> {
    (value > 0).then(|| Duration::from_secs(value))
}

/// How many connections each client address holds.
#[derive(Clone, Default)]
struct Addresses(Arc<Mutex<HashMap<IpAddr, usize>>>);

impl Addresses {
    /// Counts a connection from `ip`, unless `ip` already holds `cap` (0: no cap).
    fn admit(&self, ip: IpAddr, cap: usize) -> Option<AddressSlot> {
        let mut counts = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let count = counts.entry(ip).or_insert(0);
        if cap > 0 && *count >= cap {
            return None;
        }
        *count += 1;
        Some(AddressSlot {
            addresses: self.clone(),
            ip,
        })
    }
}

/// One connection's place in its address's count, given back when the connection — or the
/// WebSocket it became — is dropped.
struct AddressSlot {
    addresses: Addresses,
    ip: IpAddr,
}

impl Drop for AddressSlot {
    fn drop(&mut self) {
        let mut counts = self.addresses.0.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(count) = counts.get_mut(&self.ip) {
            *count -= 1;
            if *count == 0 {
                counts.remove(&self.ip);
            }
        }
        metrics::gauge!("gateway_tcp_connections_open").decrement(1);
    }
}

/// A client's TCP stream with its address slot: an upgraded WebSocket keeps the stream, and
/// with it the slot, until the socket is dropped.
struct Counted {
    stream: TcpStream,
    _slot: AddressSlot,
}

impl AsyncRead for Counted {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_read(cx, buf)
    }
}

impl AsyncWrite for Counted {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }
}

/// The answer to a connection over its address's cap, written before it is closed.
fn too_many_connections() -> Vec<u8> {
    let body = r#"{"error":"too_many_connections","message":"this address holds as many connections as it may; close some and retry"}"#;
    format!(
        "HTTP/1.1 429 Too Many Requests\r\ncontent-type: application/json\r\nretry-after: 10\r\n\
         connection: close\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// Serves `router` on `listener` until `shutdown` resolves; then stops accepting, lets each
/// connection finish the request in hand (idle ones close at once), and returns when every
/// HTTP connection has closed. Upgraded WebSockets are not waited for: their own drain closes
/// them.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: &ConnectionLimits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) {
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new());
    // None is set too: with a timer, hyper would otherwise apply a default of its own.
    http.header_read_timeout(limits.request_read_timeout());
    let body_timeout = limits.request_read_timeout();
    let cap = limits.max_connections_per_address;
    let addresses = Addresses::default();
    // Every connection task holds a receiver: `closing` tells them to finish, and the sender's
    // `closed()` says when the last has.
    let (closing, connections) = watch::channel(false);
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    accept_failed(error).await;
                    continue;
                }
            },
        };
        let Some(slot) = addresses.admit(peer.ip(), cap) else {
            refuse(stream, peer);
            continue;
        };
        metrics::gauge!("gateway_tcp_connections_open").increment(1);
        // Without TCP_NODELAY, Nagle's algorithm and delayed ACKs hold small event frames
        // back for tens of milliseconds.
        if let Err(error) = stream.set_nodelay(true) {
            tracing::debug!(%error, "cannot set TCP_NODELAY");
        }
        let io = TokioIo::new(Counted {
            stream,
            _slot: slot,
        });
        let service = router
            .clone()
            .map_request(move |request: Request<Incoming>| match body_timeout {
                Some(timeout) => request.map(|body| Body::new(deadline::Body::new(body, timeout))),
                None => request.map(Body::new),
            });
        let connection = http
            .serve_connection(io, TowerToHyperService::new(service))
            .with_upgrades();
        let mut closing = connections.clone();
        tokio::spawn(async move {
            let mut connection = std::pin::pin!(connection);
            let mut told = false;
            loop {
                tokio::select! {
                    result = connection.as_mut() => {
                        if let Err(error) = result {
                            tracing::trace!(%error, %peer, "connection ended");
                        }
                        break;
                    }
                    changed = closing.wait_for(|closing| *closing), if !told => {
                        told = true;
                        if changed.is_ok() {
                            connection.as_mut().graceful_shutdown();
                        }
                    }
                }
            }
        });
    }
    drop(listener);
    drop(connections);
    let _ = closing.send(true);
    closing.closed().await;
}

/// Waits out an accept error: a full file table (EMFILE, ENFILE) or memory shortage clears
/// only as connections close, so the loop pauses rather than spins; a connection reset before
/// it was accepted is nothing.
async fn accept_failed(error: io::Error) {
    use io::ErrorKind::*;
    if matches!(
        error.kind(),
        ConnectionAborted | ConnectionReset | Interrupted
    ) {
        return;
    }
    metrics::counter!("gateway_accept_errors_total").increment(1);
    tracing::warn!(%error, "cannot accept a connection; pausing accepts for 100 ms");
    tokio::time::sleep(Duration::from_millis(100)).await;
}

/// Answers a connection over its address's cap with 429 and closes it, without reading it.
fn refuse(mut stream: TcpStream, peer: SocketAddr) {
    metrics::counter!("gateway_connections_refused_total", "reason" => "per_address_cap")
        .increment(1);
    tracing::debug!(%peer, "connection over its address's cap refused");
    tokio::spawn(async move {
        let answer = async {
            stream.write_all(&too_many_connections()).await?;
            stream.shutdown().await
        };
        let _ = tokio::time::timeout(Duration::from_secs(1), answer).await;
    });
}

/// A request body that must arrive whole within a time of its head.
mod deadline {
    use std::future::Future as _;
    use std::pin::Pin;
    use std::task::{Context, Poll};
    use std::time::Duration;

    use axum::body::Bytes;
    use http_body::{Frame, SizeHint};
    use hyper::body::Incoming;
    use tokio::time::Sleep;

    pub struct Body {
        inner: Incoming,
        deadline: Pin<Box<Sleep>>,
    }

    impl Body {
        pub fn new(inner: Incoming, within: Duration) -> Self {
            Self {
                inner,
                deadline: Box::pin(tokio::time::sleep(within)),
            }
        }
    }

    /// The error a body too slow to arrive ends with.
    #[derive(Debug)]
    pub struct TooSlow;

    impl std::fmt::Display for TooSlow {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("the request body did not arrive in time")
        }
    }

    impl std::error::Error for TooSlow {}

    impl http_body::Body for Body {
        type Data = Bytes;
        type Error = Box<dyn std::error::Error + Send + Sync>;

        fn poll_frame(
            mut self: Pin<&mut Self>,
            cx: &mut Context<'_>,
        ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
            let this = &mut *self;
            match Pin::new(&mut this.inner).poll_frame(cx) {
                Poll::Ready(frame) => Poll::Ready(frame.map(|f| f.map_err(Into::into))),
                Poll::Pending => match this.deadline.as_mut().poll(cx) {
                    Poll::Ready(()) => Poll::Ready(Some(Err(Box::new(TooSlow)))),
                    Poll::Pending => Poll::Pending,
                },
            }
        }

        fn is_end_stream(&self) -> bool {
            self.inner.is_end_stream()
        }

        fn size_hint(&self) -> SizeHint {
            self.inner.size_hint()
        }
    }
}
