//! The event log's entries: what each write records, and for whom.
//!
//! Every store writes one [`Append`] per conversation event in the transaction of the change,
//! so an event exists exactly when its change committed. Who receives an event is decided here
//! and nowhere else: a message reaches every current member (the sending socket excepted, when
//! delivered live), a group's creation its first members, a join the members after it, a leave
//! the members after it and the one who left, a receipt the message's sender (while a member).

use chat_proto::chat::conversation_event::Kind;
use chat_proto::chat::{
    Conversation, ConversationEvent, ConversationKind, GroupCreated, LogEntry, MemberChanged,
    Message, Origin, Receipt,
};
use chrono::{DateTime, Utc};
use prost::Message as _;
use uuid::Uuid;

use crate::error::ChatError;
use crate::store::ReceiptKind;

/// The most events one read of the log returns.
pub const MAX_PAGE: u32 = 1000;

/// A membership change of a group, by `actor`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    Joined { user: Uuid, actor: Uuid },
    Left { user: Uuid, actor: Uuid },
}

/// An event to write into the log, with its recipients.
#[derive(Debug, Clone)]
pub struct Append {
    pub conversation: Uuid,
    pub recipients: Vec<Uuid>,
    /// A [`LogEntry`] without position and recipients, encoded.
    pub entry: Vec<u8>,
}

fn uuids<'a>(ids: impl IntoIterator<Item = &'a String>) -> Result<Vec<Uuid>, ChatError> {
    ids.into_iter()
        .map(|id| Uuid::parse_str(id).map_err(|error| ChatError::Internal(error.into())))
        .collect()
}

fn member_ids(group: &Conversation) -> impl Iterator<Item = &String> {
    group.members.iter().map(|m| &m.user_id)
}

impl Append {
    fn new(
        conversation: Uuid,
        recipients: Vec<Uuid>,
        event: ConversationEvent,
        origin: Option<Origin>,
        kind: ConversationKind,
    ) -> Self {
        let entry = LogEntry {
            position: 0,
            event: Some(event),
            recipient_ids: Vec::new(),
            origin,
            conversation_kind: kind.into(),
        };
        Self {
            conversation,
            recipients,
            entry: entry.encode_to_vec(),
        }
    }

    /// A message just stored, for the conversation's current `members`.
    pub fn message(
        message: &Message,
        kind: i32,
        members: &[String],
        origin: Option<Origin>,
    ) -> Result<Self, ChatError> {
        let conversation = Uuid::parse_str(&message.conversation_id)
            .map_err(|error| ChatError::Internal(error.into()))?;
        let event = ConversationEvent {
            conversation_id: message.conversation_id.clone(),
            at_ms: message.created_at_ms,
            kind: Some(Kind::Message(message.clone())),
            position: 0,
        };
        let kind = ConversationKind::try_from(kind).unwrap_or(ConversationKind::Group);
        Ok(Self::new(
            conversation,
            uuids(members)?,
            event,
            origin,
            kind,
        ))
    }

    /// A group as just created (`group` with its first members), by its owner.
    pub fn group_created(group: &Conversation) -> Result<Self, ChatError> {
        let event = ConversationEvent {
            conversation_id: group.id.clone(),
            at_ms: group.created_at_ms,
            kind: Some(Kind::GroupCreated(GroupCreated {
                name: group.name.clone(),
                owner_id: group.owner_id.clone(),
                member_ids: member_ids(group).cloned().collect(),
            })),
            position: 0,
        };
        Ok(Self::new(
            uuid(&group.id)?,
            uuids(member_ids(group))?,
            event,
            None,
            ConversationKind::Group,
        ))
    }

    /// The event of `change` to `group`, which is shown after the change.
    pub fn of_change(
        group: &Conversation,
        change: Change,
        at: DateTime<Utc>,
    ) -> Result<Self, ChatError> {
        match change {
            Change::Joined { user, actor } => Self::member_joined(group, user, actor, at),
            Change::Left { user, actor } => Self::member_left(group, user, actor, at),
        }
    }

    /// `user` joined (or was added by `actor` to) `group`, which is shown after the change.
    fn member_joined(
        group: &Conversation,
        user: Uuid,
        actor: Uuid,
        at: DateTime<Utc>,
    ) -> Result<Self, ChatError> {
        let recipients = uuids(member_ids(group))?;
        Self::membership(group, recipients, user, actor, at, true)
    }

    /// `user` left (or was removed by `actor` from) `group`, which is shown after the change:
    /// the remaining members are told, and so is the one who left.
    fn member_left(
        group: &Conversation,
        user: Uuid,
        actor: Uuid,
        at: DateTime<Utc>,
    ) -> Result<Self, ChatError> {
        let mut recipients = uuids(member_ids(group))?;
        if !recipients.contains(&user) {
            recipients.push(user);
        }
        Self::membership(group, recipients, user, actor, at, false)
    }

    fn membership(
        group: &Conversation,
        recipients: Vec<Uuid>,
        user: Uuid,
        actor: Uuid,
        at: DateTime<Utc>,
        joined: bool,
    ) -> Result<Self, ChatError> {
        let change = MemberChanged {
            user_id: user.to_string(),
            actor_id: actor.to_string(),
        };
        let event = ConversationEvent {
            conversation_id: group.id.clone(),
            at_ms: at.timestamp_millis(),
            kind: Some(if joined {
                Kind::MemberJoined(change)
            } else {
                Kind::MemberLeft(change)
            }),
            position: 0,
        };
        Ok(Self::new(
            uuid(&group.id)?,
            recipients,
            event,
            None,
            ConversationKind::Group,
        ))
    }

    /// `reader` received or read `message`: its sender is told, unless it is their own or the
    /// sender is no longer among the conversation's current `members` (a former member gets
    /// nothing after their leave).
    pub fn receipt(
        message: &Message,
        reader: Uuid,
        kind: ReceiptKind,
        at: DateTime<Utc>,
        members: &[String],
    ) -> Result<Option<Self>, ChatError> {
        let sender = uuid(&message.sender_id)?;
        if sender == reader || !members.contains(&message.sender_id) {
            return Ok(None);
        }
        let receipt = Receipt {
            message_id: message.id.clone(),
            seq: message.seq,
            user_id: reader.to_string(),
            sender_id: message.sender_id.clone(),
        };
        let event = ConversationEvent {
            conversation_id: message.conversation_id.clone(),
            at_ms: at.timestamp_millis(),
            kind: Some(match kind {
                ReceiptKind::Delivered => Kind::Delivered(receipt),
                ReceiptKind::Read => Kind::Read(receipt),
            }),
            position: 0,
        };
        Ok(Some(Self::new(
            uuid(&message.conversation_id)?,
            vec![sender],
            event,
            None,
            ConversationKind::Unspecified,
        )))
    }
}

fn uuid(id: &str) -> Result<Uuid, ChatError> {
    Uuid::parse_str(id).map_err(|error| ChatError::Internal(error.into()))
}

/// A positioned row of the log as a store reads it back.
#[derive(Debug, Clone)]
pub struct LoggedRow {
    pub position: i64,
    pub recipients: Vec<Uuid>,
    pub entry: Vec<u8>,
}

impl LoggedRow {
    /// The entry with its position and recipients (only those in `only`, when given).
    pub fn decode(self, only: Option<&[Uuid]>) -> Result<LogEntry, ChatError> {
        let mut entry = LogEntry::decode(self.entry.as_slice())
            .map_err(|error| ChatError::Internal(error.into()))?;
        entry.position = self.position;
        if let Some(event) = entry.event.as_mut() {
            event.position = self.position;
        }
        entry.recipient_ids = self
            .recipients
            .iter()
            .filter(|id| only.is_none_or(|only| only.contains(id)))
            .map(Uuid::to_string)
            .collect();
        Ok(entry)
    }
}

/// A catch-up cursor: the position of the last event of the previous page.
pub fn encode_cursor(position: i64) -> String {
    format!("p{position}")
}

pub fn decode_cursor(text: &str) -> Result<i64, ChatError> {
    text.strip_prefix('p')
        .and_then(|p| p.parse::<i64>().ok())
        .filter(|p| *p >= 0)
        .ok_or_else(|| ChatError::Validation("invalid catch-up cursor".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_garbage_is_refused() {
        assert_eq!(decode_cursor(&encode_cursor(42)).unwrap(), 42);
        assert!(decode_cursor("42").is_err());
        assert!(decode_cursor("p-1").is_err());
        assert!(decode_cursor("px").is_err());
    }

    #[test]
    fn a_receipt_reaches_the_sender_only_while_they_are_a_member() {
        let sender = Uuid::new_v4();
        let message = Message {
            id: Uuid::new_v4().to_string(),
            conversation_id: Uuid::new_v4().to_string(),
            sender_id: sender.to_string(),
            seq: 1,
            ..Message::default()
        };
        let now = Utc::now();
        let reader = Uuid::new_v4();
        let members = vec![sender.to_string(), reader.to_string()];
        assert!(
            Append::receipt(&message, sender, ReceiptKind::Read, now, &members)
                .unwrap()
                .is_none()
        );
        let other = Append::receipt(&message, reader, ReceiptKind::Read, now, &members)
            .unwrap()
            .expect("a receipt for the sender");
        assert_eq!(other.recipients, vec![sender]);
        // A sender who has left hears nothing more of the conversation.
        let without_sender = &members[1..];
        assert!(
            Append::receipt(&message, reader, ReceiptKind::Read, now, without_sender)
                .unwrap()
                .is_none()
        );
    }

    #[test]
    fn decoding_narrows_recipients_and_sets_positions() {
        let message = Message {
            id: Uuid::new_v4().to_string(),
            conversation_id: Uuid::new_v4().to_string(),
            sender_id: Uuid::new_v4().to_string(),
            ..Message::default()
        };
        let (a, b) = (Uuid::new_v4(), Uuid::new_v4());
        let members = vec![a.to_string(), b.to_string()];
        let append = Append::message(&message, 2, &members, None).unwrap();
        let row = LoggedRow {
            position: 7,
            recipients: append.recipients.clone(),
            entry: append.entry,
        };
        let entry = row.decode(Some(&[b])).unwrap();
        assert_eq!(entry.position, 7);
        assert_eq!(entry.event.unwrap().position, 7);
        assert_eq!(entry.recipient_ids, vec![b.to_string()]);
    }
}
