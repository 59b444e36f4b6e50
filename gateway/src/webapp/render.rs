//! The socket's frames, as the document shows them: `room_chat_message`,
//! `group_chat_message`, `group_chat_activitity` (sic), `user_activity`, `user_update`,
//! `group_chat_update`, `bot_chat_message` — each event rendered once for every socket of this
//! dialect.

use axum::extract::ws::Utf8Bytes;
use chat_proto::chat::conversation_event::Kind;
use chat_proto::chat::{ConversationKind, Message};
use chat_proto::events::Delivery;
use chat_proto::events::delivery::Payload;
use serde_json::{Value, json};

use super::time;

fn frame(value: Value) -> Utf8Bytes {
    Utf8Bytes::from(value.to_string())
}

/// A message of a 1:1 room: `room_chat_message`.
pub fn room_message(message: &Message) -> Utf8Bytes {
    frame(json!({
        "type": "room_chat_message",
        "user_id": message.sender_number,
        "chat_room_id": message.conversation_number,
        "message": message.body,
        "timestamp": time::format(message.created_at_ms),
        "id": message.number,
    }))
}

/// A message of a group: `group_chat_message`.
pub fn group_message(message: &Message) -> Utf8Bytes {
    frame(json!({
        "type": "group_chat_message",
        "user_id": message.sender_number,
        "chat_group_id": message.conversation_number,
        "message": message.body,
        "timestamp": time::format(message.created_at_ms),
        "id": message.number,
    }))
}

/// The frame a socket of this dialect gets for a delivery, if it shows it at all.
pub fn event(delivery: &Delivery) -> Option<Utf8Bytes> {
    match delivery.payload.as_ref()? {
        Payload::Conversation(event) => match event.kind.as_ref()? {
            Kind::Message(message) => {
                match ConversationKind::try_from(delivery.conversation_kind).ok()? {
                    ConversationKind::Direct => Some(room_message(message)),
                    ConversationKind::Group => Some(group_message(message)),
                    ConversationKind::Bot => {
                        let sender = delivery.sender.as_ref().map_or("", |s| &s.username);
                        Some(super::bot::logged(message, sender))
                    }
                    ConversationKind::Unspecified => None,
                }
            }
            Kind::MemberJoined(change) | Kind::MemberLeft(change) => {
                let entered = matches!(event.kind, Some(Kind::MemberJoined(_)));
                let by_themselves = change.user_id == change.actor_id;
                let message = match (entered, by_themselves) {
                    (true, true) => "a user entered the group",
                    (true, false) => "a user was added to the group",
                    (false, true) => "a user left the group",
                    (false, false) => "a user was removed from the group",
                };
                Some(frame(json!({
                    "type": "group_chat_activitity",
                    "message": message,
                    "is_enter": entered,
                })))
            }
            _ => None,
        },
        Payload::UserActivity(activity) => Some(frame(json!({
            "type": "user_activity",
            "user_id": activity.user_number,
            "login": activity.login,
        }))),
        Payload::UserUpdated(user) => Some(frame(json!({
            "type": "user_update",
            "user_id": user.user_number,
            "first_name": user.first_name,
            "last_name": user.last_name,
        }))),
        Payload::GroupUpdated(group) => Some(frame(json!({
            "type": "group_chat_update",
            "chat_group_id": group.group_number,
            "name": group.name,
            "owner_id": group.owner_number,
        }))),
        Payload::Typing(_) | Payload::SessionRevoked(_) | Payload::UserRevoked(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use chat_proto::chat::conversation_event::Kind;
    use chat_proto::chat::{ConversationEvent, ConversationKind, Message};
    use chat_proto::events::delivery::Payload;
    use chat_proto::events::{Delivery, UserActivity};
    use serde_json::{Value, json};

    use super::event;

    fn rendered(delivery: &Delivery) -> Value {
        serde_json::from_str(event(delivery).expect("shown").as_str()).expect("JSON")
    }

    #[test]
    fn a_direct_message_is_a_room_chat_message() {
        let message = Message {
            body: "Hi".into(),
            sender_number: 7,
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
            conversation_kind: ConversationKind::Direct as i32,
            ..Delivery::default()
        };
        assert_eq!(
            rendered(&delivery),
            json!({"type": "room_chat_message", "user_id": 7, "chat_room_id": 9, "message": "Hi",
                   "timestamp": "2023-07-28T13:20:09.896Z", "id": 65})
        );
    }

    #[test]
    fn activity_is_shown_with_a_json_boolean() {
        let delivery = Delivery {
            payload: Some(Payload::UserActivity(UserActivity {
                user_number: 3,
                login: false,
            })),
            ..Delivery::default()
        };
        assert_eq!(
            rendered(&delivery),
            json!({"type": "user_activity", "user_id": 3, "login": false})
        );
    }
}
