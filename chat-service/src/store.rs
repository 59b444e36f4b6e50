//! The storage contract of the chat service. Every backend (Postgres, SQLite) implements it and
//! passes the same conformance suite; the gRPC adapter only validates and translates.

use std::future::Future;

use chat_proto::chat::{
    Conversation, LatestMessageList, LogEntry, MembershipChange, Message, MessagePage, Origin,
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
    /// An id the group is also found by (a platform's scoped chatID); unique among groups that
    /// are not deleted: `ExternalIdTaken` otherwise.
    pub external_id: Option<String>,
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
    /// Who sent it, as the gateway knows them; recorded with the message's event.
    pub origin: Option<Origin>,
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

/// A range of the event log: positions after `after`, up to `up_to` when given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LogRange {
    pub after: i64,
    pub up_to: Option<i64>,
    pub limit: u32,
}

/// The relay's hold on the log: while a replica holds it, no other replica publishes.
pub trait RelayLease: Send + 'static {
    /// How far the log has been published (by any relay before this one).
    fn published(&mut self) -> impl Future<Output = StoreResult<i64>> + Send;

    /// Gives positions to what has committed and has none yet, then returns up to `limit`
    /// positioned events after `after`, in order, with all their recipients.
    fn next(
        &mut self,
        after: i64,
        limit: u32,
    ) -> impl Future<Output = StoreResult<Vec<LogEntry>>> + Send;

    fn set_published(&mut self, position: i64) -> impl Future<Output = StoreResult<()>> + Send;
}

pub trait ChatStore: Clone + Send + Sync + 'static {
    type Lease: RelayLease;

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

    /// Every public group that is not deleted, with its current members, by number.
    fn public_groups(&self) -> impl Future<Output = StoreResult<Vec<Conversation>>> + Send;

    /// Renames a group: only its owner may (`Forbidden` for anyone else), a direct or bot
    /// conversation is `WrongKind`. Returns the group, renamed, with its current members.
    fn rename_group(
        &self,
        actor: Uuid,
        conversation: Uuid,
        name: String,
    ) -> impl Future<Output = StoreResult<Conversation>> + Send;

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

    /// The one bot conversation of `user` with the bot service account `bot`, with its two
    /// members; created on first use when `create` is set, even when two callers race. Apart
    /// from their direct conversation, if they have one.
    fn bot_conversation(
        &self,
        user: Uuid,
        bot: Uuid,
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

    /// Stores `messages` as one batch, in their order, and answers each as `send_message`
    /// would: what the send queue does with sends that arrive together.
    fn send_messages(
        &self,
        messages: Vec<NewMessage>,
    ) -> impl Future<Output = Vec<StoreResult<SendMessageResponse>>> + Send;

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

    /// The position of the newest positioned event; 0 for an empty log.
    fn log_head(&self) -> impl Future<Output = StoreResult<i64>> + Send;

    /// The position of the last event logged before `since` (0 when there is none).
    fn log_position_before(
        &self,
        since: DateTime<Utc>,
    ) -> impl Future<Output = StoreResult<i64>> + Send;

    /// Positioned events in `range` that reach any of `users`, in log order, each with its
    /// recipients narrowed to `users`: up to `range.limit` of them.
    fn read_log(
        &self,
        users: &[Uuid],
        range: LogRange,
    ) -> impl Future<Output = StoreResult<Vec<LogEntry>>> + Send;

    /// The group with this external id, with its current members, unless deleted.
    fn conversation_by_external_id(
        &self,
        external_id: &str,
    ) -> impl Future<Output = StoreResult<Option<Conversation>>> + Send;

    /// Deletes a group by its owner `actor`: every current member leaves, the owner last, each
    /// leave recorded and logged as [`ChatStore::leave_group`] does (actor: the owner); then the
    /// group is marked deleted and its external id freed. All in one transaction. Returns the
    /// members removed. `ConversationNotFound`, `WrongKind` for a direct conversation,
    /// `Forbidden` for anyone but the owner.
    fn delete_group(
        &self,
        actor: Uuid,
        conversation: Uuid,
    ) -> impl Future<Output = StoreResult<Vec<Uuid>>> + Send;

    /// The relay's lease, if this replica may publish the log now (`None`: another does).
    /// How many conversations and how many messages are stored (not deleted): the operator's
    /// counts.
    fn counts(&self) -> impl Future<Output = StoreResult<(i64, i64)>> + Send;

    /// For the operator's export: the messages of `conversation` with a seq after `after_seq`,
    /// ascending, at most `limit`, whoever its members are; `None` when there is no such
    /// conversation (or it is deleted).
    fn export_messages(
        &self,
        conversation: Uuid,
        after_seq: i64,
        limit: u32,
    ) -> impl Future<Output = StoreResult<Option<Vec<Message>>>> + Send;

    fn relay_lease(&self) -> impl Future<Output = StoreResult<Option<Self::Lease>>> + Send;
}
