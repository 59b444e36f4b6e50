//! Catch-up in Postgres: one time-ordered feed of a user's conversations — membership events,
//! messages, and the receipts others gave to the user's messages — read in keyset pages.

use chat_proto::chat::CatchUpResponse;
use chrono::{DateTime, Utc};
use sqlx::postgres::PgRow;
use sqlx::{PgPool, Row};
use uuid::Uuid;

use super::rows::message;
use crate::feed::{self, FeedRow, MAX_PAGE, start};
use crate::store::{FeedCursor, StoreResult};

// A receipt names the user's latest message at or under the member's watermark that existed
// when the watermark last moved (`messages_by_sender`: one backwards index step per member).
const FEED_SQL: &str = "
WITH mine AS (
    SELECT conversation_id, left_at FROM members
    WHERE user_id = $1 AND (left_at IS NULL OR left_at >= $2)
), feed AS (
    SELECT e.created_at AS at, 0 AS rank, e.id AS ord, e.conversation_id, e.kind AS event_kind,
           e.user_id AS subject_id, e.actor_id, e.payload::text AS payload, NULL::uuid AS message_id
    FROM conversation_events e JOIN mine USING (conversation_id)
    WHERE e.created_at >= $2 AND (mine.left_at IS NULL OR e.created_at <= mine.left_at)
    UNION ALL
    SELECT m.created_at, 1, m.number, m.conversation_id, 'message', NULL, NULL, NULL, m.id
    FROM messages m JOIN mine USING (conversation_id)
    WHERE m.created_at >= $2 AND (mine.left_at IS NULL OR m.created_at <= mine.left_at)
      AND m.deleted_at IS NULL
    UNION ALL
    SELECT r.delivered_at, 2, m.number, r.conversation_id, 'delivered', r.user_id, NULL, NULL,
           m.id
    FROM members r JOIN mine USING (conversation_id)
    CROSS JOIN LATERAL (
        SELECT x.id, x.number FROM messages x
        WHERE x.conversation_id = r.conversation_id AND x.sender_id = $1
          AND x.seq <= r.last_delivered_seq AND x.created_at <= r.delivered_at
          AND x.deleted_at IS NULL
        ORDER BY x.seq DESC LIMIT 1
    ) m
    WHERE r.delivered_at >= $2 AND r.user_id <> $1
      AND (mine.left_at IS NULL OR r.delivered_at <= mine.left_at)
    UNION ALL
    SELECT r.read_at, 3, m.number, r.conversation_id, 'read', r.user_id, NULL, NULL, m.id
    FROM members r JOIN mine USING (conversation_id)
    CROSS JOIN LATERAL (
        SELECT x.id, x.number FROM messages x
        WHERE x.conversation_id = r.conversation_id AND x.sender_id = $1
          AND x.seq <= r.last_read_seq AND x.created_at <= r.read_at
          AND x.deleted_at IS NULL
        ORDER BY x.seq DESC LIMIT 1
    ) m
    WHERE r.read_at >= $2 AND r.user_id <> $1
      AND (mine.left_at IS NULL OR r.read_at <= mine.left_at)
)
SELECT feed.at, feed.rank, feed.ord, feed.conversation_id, feed.event_kind, feed.subject_id,
       feed.actor_id, feed.payload, msg.id, msg.number, msg.seq, msg.sender_id, msg.body,
       msg.client_message_id, msg.signature, msg.created_at, msg.sender_number,
       msg.conversation_number
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
    let limit = limit.clamp(1, MAX_PAGE);
    let start = start(since, cursor);
    let rows = sqlx::query(FEED_SQL)
        .bind(user)
        .bind(since)
        .bind(start.at)
        .bind(start.rank)
        .bind(start.order)
        .bind(i64::from(limit) + 1)
        .fetch_all(pool)
        .await?
        .iter()
        .map(feed_row)
        .collect::<Result<Vec<_>, _>>()?;
    feed::page(user, rows, limit)
}

fn feed_row(row: &PgRow) -> Result<FeedRow, sqlx::Error> {
    let has_message = row.try_get::<Option<Uuid>, _>("id")?.is_some();
    Ok(FeedRow {
        at: row.try_get("at")?,
        rank: row.try_get("rank")?,
        order: row.try_get("ord")?,
        conversation: row.try_get("conversation_id")?,
        event_kind: row.try_get("event_kind")?,
        subject: row.try_get("subject_id")?,
        actor: row.try_get("actor_id")?,
        payload: row.try_get("payload")?,
        message: has_message.then(|| message(row)).transpose()?,
    })
}
