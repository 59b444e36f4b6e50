//! The storage contract of the chat service. Every backend (Postgres, SQLite) implements it and
//! passes the same conformance suite; the gRPC adapter only validates and translates.

use std::future::Future;

use chat_proto::chat::{
    CatchUpResponse, Conversation, LatestMessageList, MembershipChange, MessagePage,
    ReceiptResponse, SendMessageResponse,
};
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::error::ChatError;

pub type StoreResult<T> = Result<T, ChatError>;

/// A group as its creator asks for it; the creator becomes its owner and first member.
#[derive(Debug, Clone)]
pub struct NewGroup {
    pub creator: Uuid,
    pub name: String,
    pub members: Vec<Uuid>,
    pub is_public: bool,
}

#[derive(Debug, Clone)]
pub struct NewMessage {
    pub sender: Uuid,
    /// The sender's user number, stored with the message for dialects with integer ids.
    pub sender_number: i64,
    pub conversation: Uuid,
    pub body: String,
    pub client_message_id: Option<String>,
    pub signature: Option<String>,
}

/// Which page of history to read. Bounds are exclusive; with no bound the newest page comes back.
#[derive(Debug, Clone, Copy, Default)]
pub struct MessageRange {
    pub before_seq: Option<i64>,
    pub after_seq: Option<i64>,
    pub before: Option<DateTime<Utc>>,
    pub after: Option<DateTime<Utc>>,
    pub limit: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReceiptKind {
    Delivered,
    Read,
}

/// Position in the catch-up feed: events strictly after it come next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FeedCursor {
    pub at: DateTime<Utc>,
    pub rank: i32,
    pub order: i64,
}

pub trait ChatStore: Send + Sync + 'static {
    fn create_group(
        &self,
        group: NewGroup,
    ) -> impl Future<Output = StoreResult<Conversation>> + Send;

    /// Adds `user` to a group; who may is decided by [`crate::rules::may_join`].
    fn join_group(
        &self,
        actor: Uuid,
        conversation: Uuid,
        user: Uuid,
    ) -> impl Future<Output = StoreResult<MembershipChange>> + Send;

    /// Removes `user` from a group; who may is decided by [`crate::rules::may_remove`].
    fn leave_group(
        &self,
        actor: Uuid,
        conversation: Uuid,
        user: Uuid,
    ) -> impl Future<Output = StoreResult<MembershipChange>> + Send;

    fn list_conversations(
        &self,
        user: Uuid,
    ) -> impl Future<Output = StoreResult<Vec<Conversation>>> + Send;

    /// One conversation with its current members, for a member (or anyone, when it is public).
    fn get_conversation(
        &self,
        user: Uuid,
        conversation: Uuid,
    ) -> impl Future<Output = StoreResult<Conversation>> + Send;

    /// The id of the conversation with this number, if there is one that is not deleted.
    fn conversation_by_number(
        &self,
        number: i64,
    ) -> impl Future<Output = StoreResult<Option<Uuid>>> + Send;

    /// The one direct conversation of `user` and `peer` (two different users), with its two
    /// members; created on first use when `create` is set, even when two callers race.
    fn direct_conversation(
        &self,
        user: Uuid,
        peer: Uuid,
        create: bool,
    ) -> impl Future<Output = StoreResult<Option<Conversation>>> + Send;

    /// The conversations `user` is a member of that have messages, each with its latest
    /// message, the most recent first: `limit` of them after skipping `offset`. Conversations
    /// come without members, except direct ones (their two members).
    fn latest_messages(
        &self,
        user: Uuid,
        limit: u32,
        offset: u32,
    ) -> impl Future<Output = StoreResult<LatestMessageList>> + Send;

    fn send_message(
        &self,
        message: NewMessage,
    ) -> impl Future<Output = StoreResult<SendMessageResponse>> + Send;

    fn list_messages(
        &self,
        user: Uuid,
        conversation: Uuid,
        range: MessageRange,
    ) -> impl Future<Output = StoreResult<MessagePage>> + Send;

    fn mark(
        &self,
        user: Uuid,
        message: Uuid,
        kind: ReceiptKind,
    ) -> impl Future<Output = StoreResult<ReceiptResponse>> + Send;

    /// The user's feed since `since`, oldest first, `limit` events after `cursor`.
    fn catch_up(
        &self,
        user: Uuid,
        since: DateTime<Utc>,
        cursor: Option<FeedCursor>,
        limit: u32,
    ) -> impl Future<Output = StoreResult<CatchUpResponse>> + Send;
}
