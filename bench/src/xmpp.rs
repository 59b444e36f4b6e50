//! The Prosody peer (bench/peers/prosody): XMPP group chat with every room archived, driven
//! over WebSocket (RFC 7395). A client opens the stream, logs in with SASL ANONYMOUS, restarts
//! the stream, binds a resource and joins its group's room (XEP-0045); a member's message comes
//! back to it from the room under its own nick (the acknowledgement: the room has archived it
//! and sent it out) and reaches the other occupants under the sender's nick (deliveries).
//! Every stanza sent declares `jabber:client`: over WebSocket there is no stream element to
//! inherit the namespace from, and Prosody refuses a stanza without it.

pub mod xml;

use std::net::IpAddr;

use anyhow::{Context, bail};
use futures_util::SinkExt;
use reqwest::Url;
use tokio_tungstenite::tungstenite::Message;

use crate::payload::Stamp;
use crate::socket::{self, CONNECT_TIMEOUT, Ws};
use xml::{Element, escape};

/// The peer's virtual host and its MUC component (bench/peers/prosody/prosody.cfg.lua).
pub const DOMAIN: &str = "localhost";
pub const ROOMS: &str = "conference.localhost";
const PATH: &str = "/xmpp-websocket";
const FRAMING: &str = "urn:ietf:params:xml:ns:xmpp-framing";

/// The room JID of a group.
pub fn room(name: &str) -> String {
    format!("{name}@{ROOMS}")
}

/// The nick of the `member`-th client of a run, unique within the run.
pub fn nick(member: u32) -> String {
    format!("m{member}")
}

/// The URL a client of the peer at `base` (`http://127.0.0.1:PORT`) opens, with the room it
/// joins under `nick` in the query. The query is the tool's own note: [`open`] takes it off
/// before connecting.
pub fn url(base: &Url, room: Option<&str>, nick: &str) -> anyhow::Result<Url> {
    let mut url = base.clone();
    url.set_scheme("ws")
        .map_err(|()| anyhow::anyhow!("{base}: cannot be a ws:// URL"))?;
    url.set_path(PATH);
    {
        let mut query = url.query_pairs_mut();
        query.clear().append_pair("nick", nick);
        if let Some(room) = room {
            query.append_pair("room", room);
        }
    }
    Ok(url)
}

/// Connects, logs in, binds a resource and, if the URL names a room, joins it; without a room,
/// an XMPP ping answered shows the session is ready.
pub async fn open(url: &Url, source: Option<IpAddr>) -> anyhow::Result<Ws> {
    let mut server = url.clone();
    server.set_query(None);
    let pairs: Vec<(String, String)> = url.query_pairs().into_owned().collect();
    let note = |key: &str| {
        pairs
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    };
    let nick = note("nick").with_context(|| format!("{url}: no nick"))?;
    let mut ws = socket::connect_speaking(&server, source, Some("xmpp")).await?;
    tokio::time::timeout(CONNECT_TIMEOUT, start(&mut ws, note("room"), nick))
        .await
        .with_context(|| format!("no XMPP session at {server} in time"))??;
    Ok(ws)
}

async fn start(ws: &mut Ws, room: Option<&str>, nick: &str) -> anyhow::Result<()> {
    let open = format!("<open xmlns='{FRAMING}' to='{DOMAIN}' version='1.0'/>");
    ws.send(Message::text(open.clone())).await?;
    let features = stream_features(ws).await?;
    let offered = features
        .child("mechanisms")
        .is_some_and(|m| m.children.iter().any(|c| c.text == "ANONYMOUS"));
    if !offered {
        bail!("the server does not offer SASL ANONYMOUS: {features:?}");
    }
    // RFC 6120 6.4.2: "=" is an empty initial response.
    ws.send(Message::text(
        "<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='ANONYMOUS'>=</auth>",
    ))
    .await?;
    let outcome = next(ws).await?;
    if outcome.name != "success" {
        bail!("SASL ANONYMOUS refused: {outcome:?}");
    }
    ws.send(Message::text(open)).await?;
    stream_features(ws).await?;
    ws.send(Message::text(
        "<iq xmlns='jabber:client' type='set' id='bind'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'>\
         <resource>chat-bench</resource></bind></iq>",
    ))
    .await?;
    expect_result(ws, "bind").await?;
    match room {
        Some(room) => join(ws, room, nick).await,
        None => {
            ws.send(Message::text(format!(
                "<iq xmlns='jabber:client' type='get' id='ready' to='{DOMAIN}'><ping xmlns='urn:xmpp:ping'/></iq>"
            )))
            .await?;
            expect_result(ws, "ready").await
        }
    }
}

/// Enters `room` as `nick`, without history, and waits for the room's presence of the client
/// itself (status 110): from then on the client is an occupant and receives the room's traffic.
async fn join(ws: &mut Ws, room: &str, nick: &str) -> anyhow::Result<()> {
    let occupant = format!("{room}/{nick}");
    ws.send(Message::text(format!(
        "<presence xmlns='jabber:client' to='{}'><x xmlns='http://jabber.org/protocol/muc'>\
         <history maxstanzas='0'/></x></presence>",
        escape(&occupant)
    )))
    .await?;
    loop {
        let stanza = next(ws).await?;
        if stanza.name != "presence" || stanza.attribute("from") != Some(occupant.as_str()) {
            // Other occupants' presence, announced before ours.
            continue;
        }
        if stanza.attribute("type") == Some("error") {
            bail!("{occupant}: joining refused: {}", describe(&stanza));
        }
        let itself = stanza.child("x").is_some_and(|x| {
            x.children
                .iter()
                .any(|s| s.name == "status" && s.attribute("code") == Some("110"))
        });
        if itself {
            return Ok(());
        }
    }
}

/// The server's `<open/>` and the `<stream:features/>` after it.
async fn stream_features(ws: &mut Ws) -> anyhow::Result<Element> {
    let open = next(ws).await?;
    if open.name != "open" {
        bail!("expected the server's <open/>, got {open:?}");
    }
    let features = next(ws).await?;
    if features.name != "stream:features" {
        bail!("expected <stream:features/>, got {features:?}");
    }
    Ok(features)
}

async fn expect_result(ws: &mut Ws, id: &str) -> anyhow::Result<()> {
    loop {
        let stanza = next(ws).await?;
        if stanza.name == "iq" && stanza.attribute("id") == Some(id) {
            if stanza.attribute("type") == Some("result") {
                return Ok(());
            }
            bail!("iq {id} failed: {}", describe(&stanza));
        }
    }
}

/// The next element the server sends; a stream error or close ends the session.
async fn next(ws: &mut Ws) -> anyhow::Result<Element> {
    loop {
        let text = socket::next_text(ws).await.context("in the handshake")?;
        let Some(element) = xml::parse(&text)? else {
            continue;
        };
        match element.name.as_str() {
            "stream:error" => bail!("stream error: {}", describe(&element)),
            "close" => bail!("the server closed the stream"),
            _ => return Ok(element),
        }
    }
}

/// An error stanza's condition and text, for a report.
fn describe(stanza: &Element) -> String {
    let error = if stanza.name == "stream:error" {
        Some(stanza)
    } else {
        stanza.child("error")
    };
    let Some(error) = error else {
        return format!("{stanza:?}");
    };
    let mut conditions = error.children.iter().map(|c| match c.name.as_str() {
        "text" => format!("({})", c.text),
        name => name.to_owned(),
    });
    let mut text = conditions.next().unwrap_or_else(|| "no condition".into());
    for more in conditions {
        text.push(' ');
        text.push_str(&more);
    }
    text
}

/// A groupchat message to `room` carrying `stamp` in its id and its body.
pub fn groupchat(room: &str, stamp: &Stamp, size: usize) -> String {
    format!(
        "<message xmlns='jabber:client' to='{}' type='groupchat' id='{}'><body>{}</body></message>",
        escape(room),
        escape(&stamp.client_message_id()),
        escape(&stamp.text(size))
    )
}

/// What a stanza received in traffic means to a member named `nick`.
#[derive(Debug, PartialEq, Eq)]
pub enum Received {
    /// The room's reflection of the member's own message.
    Ack(Stamp),
    /// Another occupant's message.
    Delivery(Stamp),
    /// A message with a body the tool did not write.
    Foreign,
    Error(String),
    /// Presence, the room's subject, pings: nothing to count.
    Nothing,
}

pub fn receive(frame: &str, nick: &str) -> Received {
    let stanza = match xml::parse(frame) {
        Ok(Some(stanza)) => stanza,
        Ok(None) => return Received::Nothing,
        Err(error) => return Received::Error(format!("{error:#}")),
    };
    if stanza.name == "stream:error" || stanza.attribute("type") == Some("error") {
        return Received::Error(format!("<{}> error: {}", stanza.name, describe(&stanza)));
    }
    if stanza.name != "message" || stanza.attribute("type") != Some("groupchat") {
        return Received::Nothing;
    }
    let Some(body) = stanza.child("body") else {
        return Received::Nothing;
    };
    let from_nick = stanza
        .attribute("from")
        .and_then(|from| from.split_once('/'))
        .map(|(_, resource)| resource);
    let by_body = Stamp::parse_text(&body.text);
    if from_nick == Some(nick) {
        let by_id = stanza
            .attribute("id")
            .and_then(Stamp::parse_client_message_id);
        match by_id.or(by_body) {
            Some(stamp) => Received::Ack(stamp),
            None => Received::Foreign,
        }
    } else {
        match by_body {
            Some(stamp) => Received::Delivery(stamp),
            None => Received::Foreign,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_carry_the_room_and_nick() {
        let base = Url::parse("http://127.0.0.1:3203").unwrap();
        let url = url(&base, Some("g@conference.localhost"), "m3").unwrap();
        assert_eq!(
            url.as_str(),
            "ws://127.0.0.1:3203/xmpp-websocket?nick=m3&room=g%40conference.localhost"
        );
    }

    #[test]
    fn reflections_are_acks_and_the_rest_deliveries() {
        let stamp = Stamp {
            sender: 3,
            seq: 1,
            sent_ns: 99,
        };
        let sent = groupchat("g@conference.localhost", &stamp, 40);
        let echo = |from: &str| {
            sent.replacen(
                "<message ",
                &format!("<message from='g@conference.localhost/{from}' "),
                1,
            )
        };
        assert_eq!(receive(&echo("m3"), "m3"), Received::Ack(stamp));
        assert_eq!(receive(&echo("m3"), "m4"), Received::Delivery(stamp));
        assert_eq!(
            receive(
                "<message type='groupchat' from='g@conference.localhost'><subject/></message>",
                "m4"
            ),
            Received::Nothing
        );
        assert_eq!(
            receive(
                "<message type='groupchat' from='g@conference.localhost/x'><body>hi</body></message>",
                "m4"
            ),
            Received::Foreign
        );
        assert!(matches!(
            receive(
                "<message type='error'><error type='wait'><resource-constraint \
                 xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></message>",
                "m4"
            ),
            Received::Error(e) if e.contains("resource-constraint")
        ));
        assert_eq!(
            receive("<presence from='g@conference.localhost/m1'/>", "m4"),
            Received::Nothing
        );
    }
}
