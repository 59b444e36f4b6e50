//! Deliveries: what the hub renders for its connections. Conversation events come from
//! chat-service's log; typing and revocations are made by gateways. A message's delivery says
//! who sent it and into what kind of conversation, so that a dialect showing a sender's name,
//! or telling direct conversations from groups, renders it once without a lookup.

use chat_proto::auth::Identity;
use chat_proto::chat::conversation_event::Kind;
use chat_proto::chat::{LogEntry, Origin};
use chat_proto::events::delivery::Payload;
use chat_proto::events::{Delivery, Sender};

/// A delivery of `payload` to `user_ids`, except the connection `except` (empty for none).
pub fn to(user_ids: Vec<String>, except: String, payload: Payload) -> Delivery {
    Delivery {
        user_ids,
        except_connection_id: except,
        payload: Some(payload),
        ..Delivery::default()
    }
}

/// Who a connection or request speaks for, as a message's sender.
pub fn sender(identity: &Identity) -> Sender {
    Sender {
        number: identity.user_number,
        username: identity.username.clone(),
        first_name: identity.first_name.clone(),
    }
}

/// Who makes a write, as chat-service records it with the write's event: the socket that
/// gets its own reply instead (empty for none), and the names dialects show.
pub fn origin(identity: &Identity, connection_id: &str) -> Origin {
    Origin {
        connection_id: connection_id.to_owned(),
        username: identity.username.clone(),
        first_name: identity.first_name.clone(),
    }
}

/// The delivery of a logged event to its recipients.
pub fn logged(entry: &LogEntry) -> Option<Delivery> {
    let event = entry.event.clone()?;
    let origin = entry.origin.clone().unwrap_or_default();
    let sender = match &event.kind {
        Some(Kind::Message(message)) => Some(Sender {
            number: message.sender_number,
            username: origin.username,
            first_name: origin.first_name,
        }),
        _ => None,
    };
    Some(Delivery {
        sender,
        conversation_kind: entry.conversation_kind,
        ..to(
            entry.recipient_ids.clone(),
            origin.connection_id,
            Payload::Conversation(event),
        )
    })
}
