//! The catch-up feed's ordering and its opaque cursor, shared by every store.
//!
//! Events are ordered by time, then by rank (membership events before the messages of the same
//! instant, receipts after), then by a per-rank order number. Stores read rows in that order
//! as [`FeedRow`]s; [`FeedPage`] turns them into the events clients see.

use chat_proto::chat::conversation_event::Kind;
use chat_proto::chat::{
    CatchUpResponse, Conversation, ConversationEvent, GroupCreated, MemberChanged, Message, Receipt,
};
use chrono::{DateTime, Utc};
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
    /// The message a message or receipt row is about.
    pub message: Option<Message>,
}

/// A page of events whose group-created events still wait for their group's name and members.
#[derive(Debug)]
pub struct FeedPage {
    events: Vec<ConversationEvent>,
    created: Vec<(usize, Uuid)>,
    next_cursor: String,
}

impl FeedPage {
    /// The page from up to `limit + 1` rows (the extra one says whether more follow), for `user`
    /// (whose messages the receipts are about).
    pub fn assemble(user: Uuid, rows: Vec<FeedRow>, limit: u32) -> Result<Self, ChatError> {
        let more = rows.len() > limit as usize;
        let mut page = FeedPage {
            events: Vec::with_capacity(rows.len().min(limit as usize)),
            created: Vec::new(),
            next_cursor: String::new(),
        };
        let mut last = None;
        for row in rows.into_iter().take(limit as usize) {
            last = Some(FeedCursor {
                at: row.at,
                rank: row.rank,
                order: row.order,
            });
            let Some(kind) = page.kind(user, &row)? else {
                continue;
            };
            page.events.push(ConversationEvent {
                conversation_id: row.conversation.to_string(),
                at_ms: ms(row.at),
                kind: Some(kind),
            });
        }
        if let (true, Some(cursor)) = (more, last) {
            page.next_cursor = encode_cursor(cursor);
        }
        Ok(page)
    }

    fn kind(&mut self, user: Uuid, row: &FeedRow) -> Result<Option<Kind>, ChatError> {
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
                    self.created.push((self.events.len(), row.conversation));
                    Kind::GroupCreated(GroupCreated {
                        name: String::new(),
                        owner_id: id(row.actor),
                        member_ids: Vec::new(),
                    })
                }
                "member_joined" => Kind::MemberJoined(change()),
                _ => Kind::MemberLeft(change()),
            },
            _ => return Ok(None),
        }))
    }

    /// The groups whose creation is on this page.
    pub fn created_groups(&self) -> Vec<Uuid> {
        self.created.iter().map(|(_, id)| *id).collect()
    }

    /// The response, group-created events carrying their group's name and current members.
    pub fn finish(mut self, groups: &[Conversation]) -> CatchUpResponse {
        for (index, id) in &self.created {
            let id = id.to_string();
            if let (Some(group), Some(Kind::GroupCreated(event))) = (
                groups.iter().find(|g| g.id == id),
                self.events
                    .get_mut(*index)
                    .and_then(|event| event.kind.as_mut()),
            ) {
                event.name = group.name.clone();
                event.member_ids = group.members.iter().map(|m| m.user_id.clone()).collect();
            }
        }
        CatchUpResponse {
            events: self.events,
            next_cursor: self.next_cursor,
        }
    }
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
}
