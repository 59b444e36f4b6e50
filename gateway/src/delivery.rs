//! The deliveries dialects hand to fan-out. A message's delivery says who sent it and into what
//! kind of conversation, so that a dialect showing a sender's name, or telling direct
//! conversations from groups, renders it once without a lookup.

use chat_proto::auth::Identity;
use chat_proto::chat::conversation_event::Kind;
use chat_proto::chat::{ConversationEvent, SendMessageResponse};
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

/// The delivery of a message just stored to the conversation's members; `None` for a retry,
/// whose message went out with the first attempt.
pub fn message(sent: SendMessageResponse, sender: Sender, except: String) -> Option<Delivery> {
    if sent.duplicate {
        return None;
    }
    let message = sent.message?;
    let event = ConversationEvent {
        conversation_id: message.conversation_id.clone(),
        at_ms: message.created_at_ms,
        kind: Some(Kind::Message(message)),
    };
    Some(Delivery {
        sender: Some(sender),
        conversation_kind: sent.conversation_kind,
        ..to(sent.member_ids, except, Payload::Conversation(event))
    })
}
