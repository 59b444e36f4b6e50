//! Events as one readable line each, and the requests the catch-up tests make.

use chat_proto::chat::conversation_event::Kind;
use chat_proto::chat::{ConversationEvent, MembershipRequest, ReceiptRequest};

use crate::helpers::{ALICE, BOB, CAROL, DAVE};

fn name(user: &str) -> &'static str {
    match user {
        ALICE => "alice",
        BOB => "bob",
        CAROL => "carol",
        DAVE => "dave",
        _ => "someone else",
    }
}

/// One line per event, so that a feed compares as a readable list.
pub fn summary(event: &ConversationEvent) -> String {
    match event.kind.as_ref().expect("an event kind") {
        Kind::GroupCreated(g) => {
            let members: Vec<_> = g.member_ids.iter().map(|m| name(m)).collect();
            format!(
                "created {} by {} with {}",
                g.name,
                name(&g.owner_id),
                members.join(",")
            )
        }
        Kind::Message(m) => format!("{} #{}: {}", name(&m.sender_id), m.seq, m.body),
        Kind::MemberJoined(c) => format!("{} added by {}", name(&c.user_id), name(&c.actor_id)),
        Kind::MemberLeft(c) => format!("{} removed by {}", name(&c.user_id), name(&c.actor_id)),
        Kind::Delivered(r) => format!(
            "{} got {}'s #{}",
            name(&r.user_id),
            name(&r.sender_id),
            r.seq
        ),
        Kind::Read(r) => format!(
            "{} read {}'s #{}",
            name(&r.user_id),
            name(&r.sender_id),
            r.seq
        ),
    }
}

pub fn summaries(events: &[ConversationEvent]) -> Vec<String> {
    events.iter().map(summary).collect()
}

pub fn positions(events: &[ConversationEvent]) -> Vec<i64> {
    events.iter().map(|e| e.position).collect()
}

pub fn membership(actor: &str, conversation: &str, user: &str) -> MembershipRequest {
    MembershipRequest {
        actor_id: actor.into(),
        conversation_id: conversation.into(),
        user_id: user.into(),
    }
}

pub fn receipt(user: &str, message: &str) -> ReceiptRequest {
    ReceiptRequest {
        user_id: user.into(),
        message_id: message.into(),
    }
}
