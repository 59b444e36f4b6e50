//! The dialect's JSON: users `{"id","login"}`, rooms `{"id","users"}`, messages
//! `{"text","user_id","room_id","created_at"}` with times like `2015-08-05T22:18:45` (UTC), and
//! the frame a room's socket gets for an event — rendered once per event.

use axum::extract::ws::Utf8Bytes;
use chat_proto::auth::User;
use chat_proto::chat::Message;
use chat_proto::chat::conversation_event::Kind;
use chat_proto::events::delivery::Payload;
use serde::Serialize;
use utoipa::ToSchema;

#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = echat::UserJson)]
pub struct UserJson {
    pub id: i64,
    pub login: String,
}

impl From<&User> for UserJson {
    fn from(user: &User) -> Self {
        Self {
            id: user.number,
            login: user.username.clone(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = echat::RoomJson)]
pub struct RoomJson {
    pub id: i64,
    pub users: Vec<UserJson>,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = echat::MessageJson)]
pub struct MessageJson<'a> {
    pub text: &'a str,
    pub user_id: i64,
    pub room_id: i64,
    pub created_at: String,
}

impl<'a> From<&'a Message> for MessageJson<'a> {
    fn from(message: &'a Message) -> Self {
        Self {
            text: &message.body,
            user_id: message.sender_number,
            room_id: message.conversation_number,
            created_at: created_at(message.created_at_ms),
        }
    }
}

/// A time as the document shows it: UTC, whole seconds, no zone.
pub fn created_at(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .unwrap_or_default()
        .format("%Y-%m-%dT%H:%M:%S")
        .to_string()
}

/// A message event's conversation and the frame every socket of that room gets; the dialect
/// shows no other event.
pub fn event(payload: &Payload) -> Option<(&str, Utf8Bytes)> {
    let Payload::Conversation(event) = payload else {
        return None;
    };
    let Some(Kind::Message(message)) = &event.kind else {
        return None;
    };
    let text = serde_json::to_string(&MessageJson::from(message)).ok()?;
    Some((message.conversation_id.as_str(), Utf8Bytes::from(text)))
}

#[cfg(test)]
mod tests {
    use chat_proto::chat::conversation_event::Kind;
    use chat_proto::chat::{ConversationEvent, Message};
    use chat_proto::events::delivery::Payload;

    use super::{created_at, event};

    #[test]
    fn times_are_utc_whole_seconds_without_a_zone() {
        assert_eq!(created_at(1_438_813_125_999), "2015-08-05T22:18:45");
    }

    #[test]
    fn a_message_renders_as_the_document_shows_it() {
        let message = Message {
            conversation_id: "c".into(),
            body: "И тебе привет".into(),
            sender_number: 1,
            conversation_number: 10,
            created_at_ms: 1_438_868_647_000,
            ..Message::default()
        };
        let payload = Payload::Conversation(ConversationEvent {
            conversation_id: "c".into(),
            at_ms: 0,
            kind: Some(Kind::Message(message)),
            position: 1,
        });
        let (room, frame) = event(&payload).expect("a message is shown");
        assert_eq!(room, "c");
        assert_eq!(
            frame.as_str(),
            r#"{"text":"И тебе привет","user_id":1,"room_id":10,"created_at":"2015-08-06T13:44:07"}"#
        );
    }
}
