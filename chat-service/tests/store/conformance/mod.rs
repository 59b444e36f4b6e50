//! The cases, each an async function over any [`ChatStore`], and the steps they share.

mod admin;
mod direct;
mod event_log;
mod external;
mod groups;
mod history;
mod log_order;
mod log_reads;
mod logged;
mod messages;
mod numbers;
mod receipts;

pub use admin::*;
pub use direct::*;
pub use event_log::*;
pub use external::*;
pub use groups::*;
pub use history::*;
pub use log_order::*;
pub use log_reads::*;
pub use messages::*;
pub use numbers::*;
pub use receipts::*;

use std::fmt::Debug;

use chat_proto::chat::{Conversation, Message};
use chat_service::error::ChatError;
use chat_service::store::{ChatStore, MessageRange, NewGroup, NewMessage, StoreResult};
use uuid::Uuid;

// Fixed ids keep failure output readable; every test has a database of its own.
pub const ALICE: Uuid = Uuid::from_u128(0xa11ce000_0000_4000_8000_000000000001);
pub const BOB: Uuid = Uuid::from_u128(0xb0b00000_0000_4000_8000_000000000002);
pub const CAROL: Uuid = Uuid::from_u128(0xca201000_0000_4000_8000_000000000003);
pub const DAVE: Uuid = Uuid::from_u128(0xda7e0000_0000_4000_8000_000000000004);

pub fn id(text: &str) -> Uuid {
    Uuid::parse_str(text).expect("the store returns UUIDs")
}

pub fn ids(users: &[Uuid]) -> Vec<String> {
    users.iter().map(Uuid::to_string).collect()
}

pub async fn group<S: ChatStore>(
    store: &S,
    creator: Uuid,
    members: &[Uuid],
    is_public: bool,
) -> Uuid {
    let created = store
        .create_group(NewGroup {
            creator,
            name: "Team".into(),
            members: members.to_vec(),
            is_public,
            external_id: None,
        })
        .await
        .expect("create a group");
    id(&created.id)
}

pub fn message(sender: Uuid, conversation: Uuid, body: &str) -> NewMessage {
    NewMessage {
        sender,
        sender_number: 0,
        conversation,
        body: body.into(),
        client_message_id: None,
        signature: None,
        origin: None,
    }
}

pub async fn send<S: ChatStore>(
    store: &S,
    sender: Uuid,
    conversation: Uuid,
    body: &str,
) -> Message {
    store
        .send_message(message(sender, conversation, body))
        .await
        .expect("send a message")
        .message
        .expect("the stored message")
}

pub async fn conversation<S: ChatStore>(store: &S, user: Uuid, id: Uuid) -> Conversation {
    store
        .get_conversation(user, id)
        .await
        .expect("get the conversation")
}

pub fn member_ids(conversation: &Conversation) -> Vec<String> {
    conversation
        .members
        .iter()
        .map(|m| m.user_id.clone())
        .collect()
}

/// The error a refused call failed with.
#[track_caller]
pub fn refused<T: Debug>(result: StoreResult<T>) -> ChatError {
    result.expect_err("the store should have refused")
}

/// Lets the clock move on, so that what comes next has a later millisecond.
pub async fn tick() {
    tokio::time::sleep(std::time::Duration::from_millis(3)).await;
}

/// Every message of a conversation, oldest first, read page by page.
pub async fn all_messages<S: ChatStore>(store: &S, user: Uuid, conversation: Uuid) -> Vec<Message> {
    let mut all = Vec::new();
    loop {
        let page = store
            .list_messages(
                user,
                conversation,
                MessageRange {
                    // From the start: `after_seq` reads forwards.
                    after_seq: Some(all.last().map_or(0, |m: &Message| m.seq)),
                    limit: 100,
                    ..MessageRange::default()
                },
            )
            .await
            .expect("list messages");
        all.extend(page.messages);
        if !page.has_more {
            return all;
        }
    }
}
