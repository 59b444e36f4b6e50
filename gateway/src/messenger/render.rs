//! The dialect's JSON: the reply envelope `{type, success, params:{data, message, senderName}}`,
//! the error `{error:true, type, message}`, times as ISO-8601 with milliseconds and `Z`, names,
//! and the push a recipient gets when a message arrives — rendered once per event.

use axum::extract::ws::Utf8Bytes;
use chat_proto::chat::ConversationKind;
use chat_proto::chat::conversation_event::Kind;
use chat_proto::events::Delivery;
use chat_proto::events::delivery::Payload;
use serde::Serialize;
use serde_json::{Map, Value, json};

/// The name shown for a user who was deleted (their messages stay).
pub const DELETED_USER: &str = "Deleted user";

/// A time as the document shows it: `2023-07-28T13:20:09.896Z`.
pub fn time(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .unwrap_or_default()
        .format("%Y-%m-%dT%H:%M:%S%.3fZ")
        .to_string()
}

/// How a user is named: their first name, or their username when they have none.
pub fn name(first_name: &str, username: &str) -> String {
    if first_name.trim().is_empty() {
        username.to_owned()
    } else {
        first_name.to_owned()
    }
}

#[derive(Serialize)]
struct Envelope<'a> {
    #[serde(rename = "type")]
    kind: &'a str,
    success: bool,
    params: Params,
}

/// `data`, `message` and `senderName` in the document's order, then any extra fields.
#[derive(Serialize)]
struct Params {
    data: Value,
    message: Option<String>,
    #[serde(rename = "senderName")]
    sender_name: Option<String>,
    #[serde(flatten)]
    extra: Map<String, Value>,
}

#[derive(Serialize)]
struct ErrorFrame<'a> {
    error: bool,
    #[serde(rename = "type")]
    kind: Option<&'a str>,
    message: &'a str,
    code: &'a str,
}

fn frame(value: &impl Serialize) -> Utf8Bytes {
    Utf8Bytes::from(serde_json::to_string(value).unwrap_or_else(|_| String::from("{}")))
}

/// A successful reply, with any `extra` fields after the document's three params.
pub fn reply(kind: &str, data: Value, extra: Map<String, Value>) -> Utf8Bytes {
    let params = Params {
        data,
        message: None,
        sender_name: None,
        extra,
    };
    frame(&Envelope {
        kind,
        success: true,
        params,
    })
}

/// An error: `type` is the request's type, or null when it could not be read.
pub fn error(kind: Option<&str>, code: &str, message: &str) -> Utf8Bytes {
    frame(&ErrorFrame {
        error: true,
        kind,
        message,
        code,
    })
}

/// The push every other member's socket gets for a message: `privateMessage` in a direct
/// conversation, `messageInGroup` otherwise, with the sender's id beside their name. The id of
/// the sender comes with it: their own sockets are not pushed what they sent.
pub fn push(delivery: &Delivery) -> Option<(String, Utf8Bytes)> {
    let Some(Payload::Conversation(event)) = &delivery.payload else {
        return None;
    };
    let Some(Kind::Message(message)) = &event.kind else {
        return None;
    };
    let sender_name = match &delivery.sender {
        Some(sender) => name(&sender.first_name, &sender.username),
        None => format!("user {}", message.sender_number),
    };
    let mut extra = Map::new();
    extra.insert("senderId".into(), json!(message.sender_number));
    extra.insert("id".into(), json!(message.number));
    extra.insert("createdAt".into(), json!(time(message.created_at_ms)));
    // A bot conversation is a private chat with the bot's account.
    let private = [ConversationKind::Direct, ConversationKind::Bot]
        .iter()
        .any(|kind| delivery.conversation_kind == *kind as i32);
    let kind = if private {
        "privateMessage"
    } else {
        extra.insert("groupId".into(), json!(message.conversation_number));
        "messageInGroup"
    };
    let params = Params {
        data: Value::Null,
        message: Some(message.body.clone()),
        sender_name: Some(sender_name),
        extra,
    };
    let frame = frame(&Envelope {
        kind,
        success: true,
        params,
    });
    Some((message.sender_id.clone(), frame))
}

#[cfg(test)]
mod tests {
    use chat_proto::chat::conversation_event::Kind;
    use chat_proto::chat::{ConversationEvent, ConversationKind, Message};
    use chat_proto::events::delivery::Payload;
    use chat_proto::events::{Delivery, Sender};
    use serde_json::{Value, json};

    use super::{push, reply, time};

    #[test]
    fn times_have_milliseconds_and_a_zone() {
        assert_eq!(time(1_690_550_409_896), "2023-07-28T13:20:09.896Z");
    }

    #[test]
    fn a_reply_has_the_documents_three_params_first() {
        let frame = reply("newGroup", Value::Null, serde_json::Map::new());
        assert_eq!(
            frame.as_str(),
            r#"{"type":"newGroup","success":true,"params":{"data":null,"message":null,"senderName":null}}"#
        );
    }

    #[test]
    fn a_direct_message_pushes_as_the_document_shows() {
        let message = Message {
            sender_id: "u1".into(),
            body: "Hi".into(),
            sender_number: 1,
            number: 65,
            conversation_number: 9,
            created_at_ms: 1_690_550_409_896,
            ..Message::default()
        };
        let delivery = Delivery {
            payload: Some(Payload::Conversation(ConversationEvent {
                kind: Some(Kind::Message(message)),
                ..ConversationEvent::default()
            })),
            sender: Some(Sender {
                number: 1,
                username: "email@mail.com0".into(),
                first_name: "Patrick0".into(),
            }),
            conversation_kind: ConversationKind::Direct as i32,
            ..Delivery::default()
        };
        let (sender, frame) = push(&delivery).expect("a message is pushed");
        assert_eq!(sender, "u1");
        let pushed: Value = serde_json::from_str(frame.as_str()).expect("JSON");
        assert_eq!(pushed["type"], "privateMessage");
        assert_eq!(pushed["success"], true);
        assert_eq!(
            pushed["params"],
            json!({"data": null, "message": "Hi", "senderName": "Patrick0", "senderId": 1,
                   "id": 65, "createdAt": "2023-07-28T13:20:09.896Z"})
        );
    }
}
