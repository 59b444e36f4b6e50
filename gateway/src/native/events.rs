//! The native protocol's event envelopes `{"type","timestamp","body"}` and their bodies.
//! Bodies carry what seed 000 shows, in its field order, plus ids a client can use.

use axum::extract::ws::Utf8Bytes;
use chat_proto::chat::conversation_event::Kind;
use chat_proto::chat::{ConversationEvent, Message};
use chat_proto::events::delivery::Payload;
use serde::Serialize;

pub const MESSAGE: u16 = 20;
pub const MESSAGE_SENT: u16 = 21;
pub const MESSAGE_DELIVERED: u16 = 22;
pub const MESSAGE_READ: u16 = 23;
pub const TYPING_STARTED: u16 = 40;
pub const TYPING_ENDED: u16 = 41;
pub const GROUP_CREATED: u16 = 70;
pub const MEMBER_JOINED: u16 = 72;
pub const MEMBER_LEFT: u16 = 73;
/// Not in seed 000, which shows no error event: answers a request the server cannot carry out.
pub const ERROR: u16 = 99;

#[derive(Serialize)]
struct Envelope<B> {
    #[serde(rename = "type")]
    kind: u16,
    timestamp: i64,
    /// The event's position in the log, for events that have one: method 20 with it resumes
    /// exactly after this event.
    #[serde(skip_serializing_if = "is_zero")]
    position: i64,
    body: B,
}

fn is_zero(position: &i64) -> bool {
    *position == 0
}

pub fn envelope(kind: u16, timestamp: i64, body: impl Serialize) -> Utf8Bytes {
    logged_envelope(kind, timestamp, 0, body)
}

fn logged_envelope(kind: u16, timestamp: i64, position: i64, body: impl Serialize) -> Utf8Bytes {
    let text = serde_json::to_string(&Envelope {
        kind,
        timestamp,
        position,
        body,
    })
    .unwrap_or_else(|_| String::from("{}"));
    Utf8Bytes::from(text)
}

#[derive(Serialize)]
struct MessageBody<'a> {
    message_id: &'a str,
    data: &'a str,
    group_id: &'a str,
    user_id: &'a str,
    seq: i64,
    created_at: i64,
    #[serde(skip_serializing_if = "str::is_empty")]
    client_message_id: &'a str,
}

#[derive(Serialize)]
struct SentBody<'a> {
    message_id: &'a str,
    group_id: &'a str,
    seq: i64,
    created_at: i64,
    #[serde(skip_serializing_if = "str::is_empty")]
    client_message_id: &'a str,
}

#[derive(Serialize)]
struct ReceiptBody<'a> {
    message_id: &'a str,
    group_id: &'a str,
    user_id: &'a str,
    seq: i64,
}

#[derive(Serialize)]
struct GroupBody<'a> {
    group_id: &'a str,
    name: &'a str,
    user_ids: Vec<&'a str>,
    owner_id: &'a str,
}

#[derive(Serialize)]
struct MemberBody<'a> {
    group_id: &'a str,
    user_id: &'a str,
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    code: &'a str,
    message: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    method: Option<i64>,
}

/// Event 21, the sender's acknowledgement; its timestamp is the message's, so a retried send
/// gets the very same acknowledgement.
pub fn message_sent(message: &Message) -> Utf8Bytes {
    envelope(
        MESSAGE_SENT,
        message.created_at_ms,
        SentBody {
            message_id: &message.id,
            group_id: &message.conversation_id,
            seq: message.seq,
            created_at: message.created_at_ms,
            client_message_id: &message.client_message_id,
        },
    )
}

pub fn error(code: &str, message: &str, method: Option<i64>) -> Utf8Bytes {
    metrics::counter!("gateway_socket_errors_total", "code" => code.to_owned()).increment(1);
    envelope(
        ERROR,
        chrono::Utc::now().timestamp_millis(),
        ErrorBody {
            code,
            message,
            method,
        },
    )
}

pub fn conversation_event(event: &ConversationEvent) -> Option<Utf8Bytes> {
    let group_id = event.conversation_id.as_str();
    let position = event.position;
    Some(match event.kind.as_ref()? {
        Kind::Message(message) => logged_envelope(
            MESSAGE,
            message.created_at_ms,
            position,
            MessageBody {
                message_id: &message.id,
                data: &message.body,
                group_id,
                user_id: &message.sender_id,
                seq: message.seq,
                created_at: message.created_at_ms,
                client_message_id: &message.client_message_id,
            },
        ),
        Kind::GroupCreated(group) => {
            // The members first and the creator last, as seed 000 lists them.
            let mut user_ids: Vec<&str> = group
                .member_ids
                .iter()
                .map(String::as_str)
                .filter(|id| *id != group.owner_id)
                .collect();
            if group.member_ids.contains(&group.owner_id) {
                user_ids.push(&group.owner_id);
            }
            logged_envelope(
                GROUP_CREATED,
                event.at_ms,
                position,
                GroupBody {
                    group_id,
                    name: &group.name,
                    user_ids,
                    owner_id: &group.owner_id,
                },
            )
        }
        Kind::MemberJoined(change) | Kind::MemberLeft(change) => {
            let kind = match event.kind {
                Some(Kind::MemberJoined(_)) => MEMBER_JOINED,
                _ => MEMBER_LEFT,
            };
            logged_envelope(
                kind,
                event.at_ms,
                position,
                MemberBody {
                    group_id,
                    user_id: &change.user_id,
                },
            )
        }
        Kind::Delivered(receipt) | Kind::Read(receipt) => {
            let kind = match event.kind {
                Some(Kind::Delivered(_)) => MESSAGE_DELIVERED,
                _ => MESSAGE_READ,
            };
            logged_envelope(
                kind,
                event.at_ms,
                position,
                ReceiptBody {
                    message_id: &receipt.message_id,
                    group_id,
                    user_id: &receipt.user_id,
                    seq: receipt.seq,
                },
            )
        }
    })
}

/// The frame a native connection gets for a delivery, if any.
pub fn render(payload: &Payload) -> Option<Utf8Bytes> {
    match payload {
        Payload::Conversation(event) => conversation_event(event),
        Payload::Typing(typing) => Some(envelope(
            if typing.typing {
                TYPING_STARTED
            } else {
                TYPING_ENDED
            },
            typing.at_ms,
            MemberBody {
                group_id: &typing.conversation_id,
                user_id: &typing.user_id,
            },
        )),
        Payload::SessionRevoked(_)
        | Payload::UserRevoked(_)
        | Payload::UserActivity(_)
        | Payload::UserUpdated(_)
        | Payload::GroupUpdated(_) => None,
    }
}
