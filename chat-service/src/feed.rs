//! The catch-up feed's ordering and its opaque cursor, shared by every store.
//!
//! Events are ordered by time, then by rank (membership events before the messages of the same
//! instant, receipts after), then by a per-rank order number. Stores read rows in that order
//! as [`FeedRow`]s; [`page`] turns them into the events clients see.
//!
//! Receipts are not stored as events: each member's delivered and read watermarks (with the
//! time they last moved) stand for one receipt each, naming the catching-up user's latest
//! message at or under the watermark that existed at that time. A member's own send moves their
//! watermarks onto their message without moving the times, so it neither hides the receipts they
//! gave before nor makes up new ones.

use chat_proto::chat::conversation_event::Kind;
use chat_proto::chat::{
    CatchUpResponse, Conversation, ConversationEvent, GroupCreated, MemberChanged, Message, Receipt,
};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::ChatError;
use crate::records::ms;
use crate::store::FeedCursor;

pub const RANK_EVENT: i32 = 0;
pub const RANK_MESSAGE: i32 = 1;
pub const RANK_DELIVERED: i32 = 2;
pub const RANK_READ: i32 = 3;

pub fn encode_cursor(cursor: FeedCursor) -> String {
    format!(
        "{}.{}.{}",
        cursor.at.timestamp_micros(),
        cursor.rank,
        cursor.order
    )
}

pub fn decode_cursor(text: &str) -> Result<FeedCursor, ChatError> {
    let invalid = || ChatError::Validation("invalid catch-up cursor".into());
    let mut parts = text.split('.');
    let (Some(at), Some(rank), Some(order), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(invalid());
    };
    let at: i64 = at.parse().map_err(|_| invalid())?;
    Ok(FeedCursor {
        at: DateTime::<Utc>::from_timestamp_micros(at).ok_or_else(invalid)?,
        rank: rank.parse().map_err(|_| invalid())?,
        order: order.parse().map_err(|_| invalid())?,
    })
}

/// The most events one catch-up page holds.
pub const MAX_PAGE: u32 = 1000;

/// Where a page starts: right after `cursor`, or with the first event at or after `since`.
pub fn start(since: DateTime<Utc>, cursor: Option<FeedCursor>) -> FeedCursor {
    cursor.unwrap_or(FeedCursor {
        at: since,
        rank: -1,
        order: -1,
    })
}

/// A membership event as a store records it.
#[derive(Debug, Clone, Copy)]
pub struct NewEvent<'a> {
    /// `group_created`, `member_joined` or `member_left`.
    pub kind: &'a str,
    /// Who joined or left.
    pub user: Option<Uuid>,
    pub actor: Uuid,
    /// A [`CreatedGroup`] as JSON, for `group_created`.
    pub payload: Option<&'a str>,
}

impl<'a> NewEvent<'a> {
    /// A group's creation by `actor`, with the group as created ([`CreatedGroup`] as JSON).
    pub fn created(actor: Uuid, payload: &'a str) -> Self {
        NewEvent {
            kind: "group_created",
            user: None,
            actor,
            payload: Some(payload),
        }
    }

    pub fn joined(user: Uuid, actor: Uuid) -> Self {
        NewEvent {
            kind: "member_joined",
            user: Some(user),
            actor,
            payload: None,
        }
    }

    pub fn left(user: Uuid, actor: Uuid) -> Self {
        NewEvent {
            kind: "member_left",
            user: Some(user),
            actor,
            payload: None,
        }
    }
}

/// What a `group_created` event stores: the group as it was created, so that later renames,
/// additions and removals do not change what catch-up shows of its creation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreatedGroup {
    pub name: String,
    pub member_ids: Vec<Uuid>,
}

impl CreatedGroup {
    /// The event's payload for a group just created, its members as the store lists them.
    pub fn of(group: &Conversation) -> Result<Self, ChatError> {
        let member_ids = group
            .members
            .iter()
            .map(|member| Uuid::parse_str(&member.user_id))
            .collect::<Result<_, _>>()
            .map_err(|error| ChatError::Internal(error.into()))?;
        Ok(CreatedGroup {
            name: group.name.clone(),
            member_ids,
        })
    }

    pub fn to_json(&self) -> Result<String, ChatError> {
        serde_json::to_string(self).map_err(|error| ChatError::Internal(error.into()))
    }

    pub fn from_json(payload: Option<&str>) -> Result<Self, ChatError> {
        let payload = payload.ok_or_else(|| {
            ChatError::Internal(anyhow::anyhow!("group-created event without payload"))
        })?;
        serde_json::from_str(payload).map_err(|error| ChatError::Internal(error.into()))
    }
}

/// One row of a store's feed query.
#[derive(Debug, Clone)]
pub struct FeedRow {
    pub at: DateTime<Utc>,
    pub rank: i32,
    pub order: i64,
    pub conversation: Uuid,
    /// `group_created`, `member_joined` or `member_left` for membership events.
    pub event_kind: String,
    /// Who joined or left, or who received or read the message.
    pub subject: Option<Uuid>,
    pub actor: Option<Uuid>,
    /// A membership event's payload: a [`CreatedGroup`] as JSON for `group_created`.
    pub payload: Option<String>,
    /// The message a message or receipt row is about.
    pub message: Option<Message>,
}

/// The page from up to `limit + 1` rows (the extra one says whether more follow), for `user`
/// (whose messages the receipts are about).
pub fn page(user: Uuid, rows: Vec<FeedRow>, limit: u32) -> Result<CatchUpResponse, ChatError> {
    let more = rows.len() > limit as usize;
    let mut events = Vec::with_capacity(rows.len().min(limit as usize));
    let mut last = None;
    for row in rows.into_iter().take(limit as usize) {
        last = Some(FeedCursor {
            at: row.at,
            rank: row.rank,
            order: row.order,
        });
        let Some(kind) = kind(user, &row)? else {
            continue;
        };
        events.push(ConversationEvent {
            conversation_id: row.conversation.to_string(),
            at_ms: ms(row.at),
            kind: Some(kind),
        });
    }
    let next_cursor = match (more, last) {
        (true, Some(cursor)) => encode_cursor(cursor),
        _ => String::new(),
    };
    Ok(CatchUpResponse {
        events,
        next_cursor,
    })
}

fn kind(user: Uuid, row: &FeedRow) -> Result<Option<Kind>, ChatError> {
    let id = |who: Option<Uuid>| who.map(|id| id.to_string()).unwrap_or_default();
    let message = || {
        row.message
            .clone()
            .ok_or_else(|| ChatError::Internal(anyhow::anyhow!("feed row without message")))
    };
    let receipt = || -> Result<Receipt, ChatError> {
        let message = message()?;
        Ok(Receipt {
            message_id: message.id,
            seq: message.seq,
            user_id: id(row.subject),
            sender_id: user.to_string(),
        })
    };
    let change = || MemberChanged {
        user_id: id(row.subject),
        actor_id: id(row.actor),
    };
    Ok(Some(match row.rank {
        RANK_MESSAGE => Kind::Message(message()?),
        RANK_DELIVERED => Kind::Delivered(receipt()?),
        RANK_READ => Kind::Read(receipt()?),
        RANK_EVENT => match row.event_kind.as_str() {
            "group_created" => {
                let created = CreatedGroup::from_json(row.payload.as_deref())?;
                Kind::GroupCreated(GroupCreated {
                    name: created.name,
                    owner_id: id(row.actor),
                    member_ids: created.member_ids.iter().map(Uuid::to_string).collect(),
                })
            }
            "member_joined" => Kind::MemberJoined(change()),
            _ => Kind::MemberLeft(change()),
        },
        _ => return Ok(None),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_garbage_is_refused() {
        let cursor = FeedCursor {
            at: DateTime::<Utc>::from_timestamp_micros(1_532_786_953_431_123).unwrap(),
            rank: RANK_READ,
            order: 42,
        };
        assert_eq!(decode_cursor(&encode_cursor(cursor)).unwrap(), cursor);
        assert!(decode_cursor("1.2").is_err());
        assert!(decode_cursor("a.b.c").is_err());
    }

    #[test]
    fn created_groups_round_trip_through_their_payload() {
        let created = CreatedGroup {
            name: "Team".into(),
            member_ids: vec![Uuid::new_v4(), Uuid::new_v4()],
        };
        let json = created.to_json().unwrap();
        assert_eq!(CreatedGroup::from_json(Some(&json)).unwrap(), created);
        assert!(CreatedGroup::from_json(None).is_err());
        assert!(CreatedGroup::from_json(Some("{}")).is_err());
    }
}
