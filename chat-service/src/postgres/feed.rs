//! Catch-up in Postgres: one time-ordered feed of a user's conversations — membership events,
//! messages, and the receipts others gave to the user's messages — read in keyset pages.

use chat_proto::chat::conversation_event::Kind;
use chat_proto::chat::{CatchUpResponse, ConversationEvent, GroupCreated, MemberChanged, Receipt};
use chrono::{DateTime, Utc};
use sqlx::{PgPool, Row};
use uuid::Uuid;

use super::rows::{conversations_with_members, message, ms};
use crate::feed::{RANK_DELIVERED, RANK_EVENT, RANK_MESSAGE, RANK_READ};
use crate::store::{FeedCursor, StoreResult};

const FEED_SQL: &str = "
WITH mine AS (
    SELECT conversation_id, left_at FROM members
    WHERE user_id = $1 AND (left_at IS NULL OR left_at >= $2)
), feed AS (
    SELECT e.created_at AS at, 0 AS rank, e.id AS ord, e.conversation_id, e.kind AS event_kind,
           e.user_id AS subject_id, e.actor_id, NULL::uuid AS message_id
    FROM conversation_events e JOIN mine USING (conversation_id)
    WHERE e.created_at >= $2 AND (mine.left_at IS NULL OR e.created_at <= mine.left_at)
    UNION ALL
    SELECT m.created_at, 1, m.number, m.conversation_id, 'message', NULL, NULL, m.id
    FROM messages m JOIN mine USING (conversation_id)
    WHERE m.created_at >= $2 AND (mine.left_at IS NULL OR m.created_at <= mine.left_at)
      AND m.deleted_at IS NULL
    UNION ALL
    SELECT r.delivered_at, 2, m.number, r.conversation_id, 'delivered', r.user_id, NULL, m.id
    FROM members r JOIN mine USING (conversation_id)
    JOIN messages m ON m.conversation_id = r.conversation_id AND m.seq = r.last_delivered_seq
    WHERE r.delivered_at >= $2 AND r.user_id <> $1 AND m.sender_id = $1
      AND (mine.left_at IS NULL OR r.delivered_at <= mine.left_at)
    UNION ALL
    SELECT r.read_at, 3, m.number, r.conversation_id, 'read', r.user_id, NULL, m.id
    FROM members r JOIN mine USING (conversation_id)
    JOIN messages m ON m.conversation_id = r.conversation_id AND m.seq = r.last_read_seq
    WHERE r.read_at >= $2 AND r.user_id <> $1 AND m.sender_id = $1
      AND (mine.left_at IS NULL OR r.read_at <= mine.left_at)
)
SELECT feed.at, feed.rank, feed.ord, feed.conversation_id, feed.event_kind, feed.subject_id,
       feed.actor_id, msg.id, msg.number, msg.seq, msg.sender_id, msg.body,
       msg.client_message_id, msg.signature, msg.created_at
FROM feed LEFT JOIN messages msg ON msg.id = feed.message_id
WHERE (feed.at, feed.rank, feed.ord) > ($3, $4, $5)
ORDER BY feed.at, feed.rank, feed.ord
LIMIT $6";

pub async fn catch_up(
    pool: &PgPool,
    user: Uuid,
    since: DateTime<Utc>,
    cursor: Option<FeedCursor>,
    limit: u32,
) -> StoreResult<CatchUpResponse> {
    let limit = limit.clamp(1, 1000);
    let start = cursor.unwrap_or(FeedCursor {
        at: since,
        rank: -1,
        order: -1,
    });
    let mut conn = pool.acquire().await?;
    let rows = sqlx::query(FEED_SQL)
        .bind(user)
        .bind(since)
        .bind(start.at)
        .bind(start.rank)
        .bind(start.order)
        .bind(i64::from(limit) + 1)
        .fetch_all(&mut *conn)
        .await?;
    let more = rows.len() > limit as usize;
    let mut events = Vec::with_capacity(rows.len().min(limit as usize));
    let mut last = None;
    let mut created = Vec::new();
    for row in rows.iter().take(limit as usize) {
        let at: DateTime<Utc> = row.try_get("at")?;
        let rank: i32 = row.try_get("rank")?;
        let order: i64 = row.try_get("ord")?;
        last = Some(FeedCursor { at, rank, order });
        let conversation_id: Uuid = row.try_get("conversation_id")?;
        let subject = || -> Result<String, sqlx::Error> {
            Ok(row
                .try_get::<Option<Uuid>, _>("subject_id")?
                .map(|id| id.to_string())
                .unwrap_or_default())
        };
        let kind = match rank {
            RANK_MESSAGE => Kind::Message(message(row)?),
            RANK_DELIVERED | RANK_READ => {
                let receipt = Receipt {
                    message_id: row.try_get::<Uuid, _>("id")?.to_string(),
                    seq: row.try_get("seq")?,
                    user_id: subject()?,
                    sender_id: user.to_string(),
                };
                if rank == RANK_DELIVERED {
                    Kind::Delivered(receipt)
                } else {
                    Kind::Read(receipt)
                }
            }
            RANK_EVENT => {
                let actor = row
                    .try_get::<Option<Uuid>, _>("actor_id")?
                    .map(|id| id.to_string())
                    .unwrap_or_default();
                match row.try_get::<String, _>("event_kind")?.as_str() {
                    "group_created" => {
                        created.push((events.len(), conversation_id));
                        Kind::GroupCreated(GroupCreated {
                            name: String::new(),
                            owner_id: actor,
                            member_ids: Vec::new(),
                        })
                    }
                    "member_joined" => Kind::MemberJoined(MemberChanged {
                        user_id: subject()?,
                        actor_id: actor,
                    }),
                    _ => Kind::MemberLeft(MemberChanged {
                        user_id: subject()?,
                        actor_id: actor,
                    }),
                }
            }
            _ => continue,
        };
        events.push(ConversationEvent {
            conversation_id: conversation_id.to_string(),
            at_ms: ms(at),
            kind: Some(kind),
        });
    }
    // Group-created events carry the group's name and (current) members.
    if !created.is_empty() {
        let ids: Vec<Uuid> = created.iter().map(|(_, id)| *id).collect();
        let groups = conversations_with_members(&mut conn, &ids).await?;
        for (index, id) in created {
            let id = id.to_string();
            if let (Some(group), Some(Kind::GroupCreated(event))) = (
                groups.iter().find(|g| g.id == id),
                events[index].kind.as_mut(),
            ) {
                event.name = group.name.clone();
                event.member_ids = group.members.iter().map(|m| m.user_id.clone()).collect();
            }
        }
    }
    let next_cursor = match (more, last) {
        (true, Some(cursor)) => crate::feed::encode_cursor(cursor),
        _ => String::new(),
    };
    Ok(CatchUpResponse {
        events,
        next_cursor,
    })
}
