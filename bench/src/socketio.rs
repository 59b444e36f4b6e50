//! The Socket.IO peer (bench/peers/socketio): the same load shapes driven at the server people
//! most often run instead, to measure both in one run. Engine.IO 4 over the WebSocket
//! transport only; the peer relays a member's `send` to its room as an `event` shaped like the
//! native protocol's message event (20) and acknowledges it as event 21, so the readers are
//! shared.

use std::net::IpAddr;

use anyhow::{Context, bail};
use futures_util::SinkExt;
use reqwest::Url;
use tokio_tungstenite::tungstenite::Message;

use crate::socket::{self, CONNECT_TIMEOUT, Ws};

/// The WebSocket URL of a member of `room` on the peer at `base` (`http://127.0.0.1:PORT`).
pub fn url(base: &Url, room: &str) -> anyhow::Result<Url> {
    let mut url = base.clone();
    url.set_scheme("ws")
        .map_err(|()| anyhow::anyhow!("{base}: cannot be a ws:// URL"))?;
    url.set_path("/socket.io/");
    url.query_pairs_mut()
        .clear()
        .append_pair("EIO", "4")
        .append_pair("transport", "websocket")
        .append_pair("room", room);
    Ok(url)
}

/// Connects and joins the default namespace: Engine.IO's open packet (`0{…}`), then `40` both
/// ways. Once the namespace answers, the server has put the socket in its room.
pub async fn open(url: &Url, source: Option<IpAddr>) -> anyhow::Result<Ws> {
    let mut ws = socket::connect(url, source).await?;
    let handshake = async {
        let mut opened = false;
        loop {
            let text = socket::next_text(&mut ws)
                .await
                .context("in the handshake")?;
            if !opened && text.starts_with('0') {
                opened = true;
                ws.send(Message::text("40")).await?;
            } else if opened && text.starts_with("40") {
                return anyhow::Ok(());
            } else if text.starts_with("44") {
                bail!("the namespace refused the connection: {text}");
            }
        }
    };
    tokio::time::timeout(CONNECT_TIMEOUT, handshake)
        .await
        .with_context(|| format!("no Socket.IO handshake from {url} in time"))??;
    Ok(ws)
}

/// A `send` event carrying a native request (its `body` is what the peer reads).
pub fn send(request: &str) -> String {
    format!("42[\"send\",{request}]")
}

/// The event JSON inside a Socket.IO `event` packet; `None` for every other packet (pings,
/// namespace packets).
pub fn event(packet: &str) -> Option<&str> {
    packet
        .strip_prefix("42[\"event\",")?
        .strip_suffix(']')
        .map(str::trim)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_and_packets() {
        let base = Url::parse("http://127.0.0.1:3201").unwrap();
        assert_eq!(
            url(&base, "g-1").unwrap().as_str(),
            "ws://127.0.0.1:3201/socket.io/?EIO=4&transport=websocket&room=g-1"
        );
        assert_eq!(send(r#"{"a":1}"#), r#"42["send",{"a":1}]"#);
        assert_eq!(
            event(r#"42["event",{"type":20,"body":{}}]"#),
            Some(r#"{"type":20,"body":{}}"#)
        );
        assert_eq!(event("2"), None);
        assert_eq!(event(r#"42["other",{}]"#), None);
    }
}
