//! The backend-independent half of every store: rows as plain Rust values, and the rules for
//! turning them into the proto structs [`crate::ChatStore`] returns.

use chat_proto::chat::{
    Conversation, ConversationKind, LatestMessage, LatestMessageList, Member, Message, MessagePage,
};
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::error::ChatError;
use crate::store::{MessageRange, StoreResult};

/// The id of a new message or conversation: a time-ordered UUID (version 7, RFC 9562) — 48 bits
/// of milliseconds, then 74 random bits. Each store's unique index on ids then takes new rows at
/// its end, in pages a batch shares, instead of one random page per row (SQLite's WAL writes and
/// syncs every page a commit dirties; Postgres logs a whole page the first time a checkpoint
/// interval touches it).
pub fn new_id() -> Uuid {
    Uuid::now_v7()
}

/// Times leave the service as whole milliseconds.
pub fn ms(at: DateTime<Utc>) -> i64 {
    at.timestamp_millis()
}

pub fn kind_from_name(name: &str) -> ConversationKind {
    match name {
        "direct" => ConversationKind::Direct,
        "bot" => ConversationKind::Bot,
        _ => ConversationKind::Group,
    }
}

#[derive(Debug, Clone)]
pub struct ConversationRecord {
    pub id: Uuid,
    pub number: i64,
    pub kind: String,
    pub name: String,
    pub owner: Option<Uuid>,
    pub is_public: bool,
    pub external_id: Option<String>,
    pub last_seq: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<ConversationRecord> for Conversation {
    fn from(row: ConversationRecord) -> Self {
        Conversation {
            id: row.id.to_string(),
            number: row.number,
            kind: kind_from_name(&row.kind).into(),
            name: row.name,
            owner_id: row.owner.map(|id| id.to_string()).unwrap_or_default(),
            is_public: row.is_public,
            external_id: row.external_id.unwrap_or_default(),
            created_at_ms: ms(row.created_at),
            updated_at_ms: ms(row.updated_at),
            last_seq: row.last_seq,
            members: Vec::new(),
        }
    }
}

/// A current member of a conversation.
#[derive(Debug, Clone)]
pub struct MemberRecord {
    pub conversation: Uuid,
    pub user: Uuid,
    pub role: String,
    pub joined_at: DateTime<Utc>,
    pub last_delivered_seq: i64,
    pub last_read_seq: i64,
}

#[derive(Debug, Clone)]
pub struct MessageRecord {
    pub id: Uuid,
    pub number: i64,
    pub conversation: Uuid,
    pub seq: i64,
    pub sender: Uuid,
    pub sender_number: i64,
    pub conversation_number: i64,
    pub body: String,
    pub client_message_id: Option<String>,
    pub signature: Option<String>,
    pub created_at: DateTime<Utc>,
}

impl From<MessageRecord> for Message {
    fn from(row: MessageRecord) -> Self {
        Message {
            id: row.id.to_string(),
            number: row.number,
            conversation_id: row.conversation.to_string(),
            seq: row.seq,
            sender_id: row.sender.to_string(),
            body: row.body,
            created_at_ms: ms(row.created_at),
            client_message_id: row.client_message_id.unwrap_or_default(),
            signature: row.signature.unwrap_or_default(),
            sender_number: row.sender_number,
            conversation_number: row.conversation_number,
        }
    }
}

/// Conversations with their members (given in display order), in the order of `ids`; ids that
/// match no conversation are left out.
pub fn with_members(
    conversations: Vec<ConversationRecord>,
    members: Vec<MemberRecord>,
    ids: &[Uuid],
) -> Vec<Conversation> {
    let mut found: Vec<(Uuid, Conversation)> = conversations
        .into_iter()
        .map(|row| (row.id, Conversation::from(row)))
        .collect();
    for member in members {
        if let Some((_, conversation)) = found.iter_mut().find(|(id, _)| *id == member.conversation)
        {
            conversation.members.push(Member {
                user_id: member.user.to_string(),
                role: member.role,
                joined_at_ms: ms(member.joined_at),
                last_delivered_seq: member.last_delivered_seq,
                last_read_seq: member.last_read_seq,
            });
        }
    }
    found.sort_by_key(|(id, _)| ids.iter().position(|wanted| wanted == id));
    found
        .into_iter()
        .map(|(_, conversation)| conversation)
        .collect()
}

/// What makes a direct conversation one per pair: the two user ids in order.
pub fn direct_key(a: Uuid, b: Uuid) -> String {
    let (first, second) = if a <= b { (a, b) } else { (b, a) };
    format!("{first}:{second}")
}

/// The kind and `direct_key` of a pair's direct conversation, or of a user's bot conversation
/// with a bot (`bot:` and the pair's key, so it is apart from their direct one).
pub fn pair_key(user: Uuid, peer: Uuid, bot: bool) -> (&'static str, String) {
    if bot {
        ("bot", format!("bot:{}", direct_key(user, peer)))
    } else {
        ("direct", direct_key(user, peer))
    }
}

/// A comma-separated column list with each column prefixed by a table alias.
pub fn prefixed(columns: &str, alias: &str) -> String {
    columns
        .split(',')
        .map(|column| format!("{alias}.{}", column.trim()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Pairs each latest message with its conversation, in the messages' order; a message whose
/// conversation was not found (deleted meanwhile) is left out.
pub fn latest_list(
    conversations: Vec<Conversation>,
    messages: Vec<Message>,
    has_more: bool,
) -> LatestMessageList {
    let items = messages
        .into_iter()
        .filter_map(|message| {
            let conversation = conversations
                .iter()
                .find(|c| c.id == message.conversation_id)?
                .clone();
            Some(LatestMessage {
                conversation: Some(conversation),
                message: Some(message),
            })
        })
        .collect();
    LatestMessageList { items, has_more }
}

/// A new group's members with their roles: the creator first as owner, then everyone else once.
pub fn initial_members(creator: Uuid, members: &[Uuid]) -> Vec<(Uuid, &'static str)> {
    let mut all = vec![(creator, "owner")];
    for member in members {
        if !all.iter().any(|(user, _)| user == member) {
            all.push((*member, "member"));
        }
    }
    all
}

/// A conversation as `user` may see it: members see their conversations, anyone a public group.
pub fn readable(conversation: Option<Conversation>, user: Uuid) -> StoreResult<Conversation> {
    let found = conversation.ok_or(ChatError::ConversationNotFound)?;
    let user = user.to_string();
    if found.is_public || found.members.iter().any(|m| m.user_id == user) {
        Ok(found)
    } else {
        Err(ChatError::NotAMember)
    }
}

/// How one page of history is read: at most 100 messages, and (unless the range starts after
/// a bound) newest first, so that the page nearest the bound comes back.
#[derive(Debug, Clone, Copy)]
pub struct HistoryQuery {
    pub limit: i64,
    pub backwards: bool,
    /// The inclusive lower time bound: clients see whole milliseconds, so a message stored at
    /// X.4 ms shows as X, and "after X" starts at X + 1 ms.
    pub from: Option<DateTime<Utc>>,
}

impl HistoryQuery {
    pub fn new(range: &MessageRange) -> Self {
        HistoryQuery {
            limit: i64::from(range.limit.clamp(1, 100)),
            backwards: range.after_seq.is_none() && range.after.is_none(),
            from: range
                .after
                .map(|after| after + chrono::TimeDelta::milliseconds(1)),
        }
    }

    /// Rows to fetch: one more than the page, to learn whether there is more.
    pub fn fetch(&self) -> i64 {
        self.limit + 1
    }

    /// The page in ascending seq from the rows fetched in the query's direction.
    pub fn page(&self, rows: Vec<Message>) -> MessagePage {
        let has_more = rows.len() as i64 > self.limit;
        let mut messages: Vec<Message> = rows.into_iter().take(self.limit as usize).collect();
        if self.backwards {
            messages.reverse();
        }
        MessagePage { messages, has_more }
    }
}
