//! Client WebSockets: bound to a chosen loopback source address, small buffers (so that the
//! tool itself can hold many), and a ping answered before a socket counts as connected.

use std::net::IpAddr;
use std::time::Duration;

use anyhow::{Context, bail};
use futures_util::{SinkExt, StreamExt};
use reqwest::Url;
use tokio::net::{TcpSocket, TcpStream};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

use crate::target;

pub type Ws = WebSocketStream<TcpStream>;

/// How long a connect, or its first ping, may take.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);

fn config() -> WebSocketConfig {
    WebSocketConfig::default()
        .read_buffer_size(4 * 1024)
        .write_buffer_size(0)
        .max_message_size(Some(1 << 20))
        .max_frame_size(Some(1 << 20))
}

/// Opens a WebSocket to `url` (loopback only) from `source`, if given.
pub async fn connect(url: &Url, source: Option<IpAddr>) -> anyhow::Result<Ws> {
    connect_speaking(url, source, None).await
}

/// Opens a WebSocket asking for `subprotocol` (`Sec-WebSocket-Protocol`), if given; the
/// handshake fails unless the server agrees to it.
pub async fn connect_speaking(
    url: &Url,
    source: Option<IpAddr>,
    subprotocol: Option<&str>,
) -> anyhow::Result<Ws> {
    let address = target::socket_address(url)?;
    if url.scheme() != "ws" {
        bail!("{url}: only plain ws:// is driven");
    }
    let socket = if address.is_ipv4() {
        TcpSocket::new_v4()?
    } else {
        TcpSocket::new_v6()?
    };
    if let Some(ip) = source {
        socket
            .bind((ip, 0).into())
            .with_context(|| format!("cannot bind a client socket to {ip}"))?;
    }
    let mut request = url.as_str().into_client_request()?;
    if let Some(subprotocol) = subprotocol {
        request
            .headers_mut()
            .insert("Sec-WebSocket-Protocol", subprotocol.parse()?);
    }
    let attempt = async {
        let stream = socket
            .connect(address)
            .await
            .with_context(|| format!("cannot connect to {address}"))?;
        stream.set_nodelay(true)?;
        let (ws, _) = tokio_tungstenite::client_async_with_config(request, stream, Some(config()))
            .await
            .with_context(|| format!("WebSocket handshake with {url}"))?;
        anyhow::Ok(ws)
    };
    tokio::time::timeout(CONNECT_TIMEOUT, attempt)
        .await
        .with_context(|| format!("connecting to {url} took over {CONNECT_TIMEOUT:?}"))?
}

/// The next text frame; a close or the end of the socket is an error.
pub async fn next_text(ws: &mut Ws) -> anyhow::Result<String> {
    loop {
        match ws.next().await {
            Some(Ok(Message::Text(text))) => return Ok(text.to_string()),
            Some(Ok(Message::Close(frame))) => bail!("closed by the server: {frame:?}"),
            Some(Ok(_)) => {}
            Some(Err(error)) => return Err(error.into()),
            None => bail!("socket ended"),
        }
    }
}

/// Pings and waits for the pong: once answered, the gateway's connection loop runs, so the
/// socket is registered and events reach it. Text frames arriving first are returned.
pub async fn ready(ws: &mut Ws) -> anyhow::Result<Vec<String>> {
    ws.send(Message::Ping(b"ready".to_vec().into())).await?;
    let mut early = Vec::new();
    let wait = async {
        loop {
            match ws.next().await {
                Some(Ok(Message::Pong(_))) => return anyhow::Ok(()),
                Some(Ok(Message::Text(text))) => early.push(text.to_string()),
                Some(Ok(Message::Close(frame))) => bail!("closed before ready: {frame:?}"),
                Some(Ok(_)) => {}
                Some(Err(error)) => return Err(error.into()),
                None => bail!("socket ended before ready"),
            }
        }
    };
    tokio::time::timeout(CONNECT_TIMEOUT, wait)
        .await
        .context("no pong in time")??;
    Ok(early)
}

/// Connects and waits until ready.
pub async fn open(url: &Url, source: Option<IpAddr>) -> anyhow::Result<Ws> {
    let mut ws = connect(url, source).await?;
    let early = ready(&mut ws).await?;
    if !early.is_empty() {
        bail!("unexpected events before any request: {early:?}");
    }
    Ok(ws)
}
