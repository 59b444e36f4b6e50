//! Direct and bot conversations in Postgres (one of each kind per pair of users, by `direct_key`), and the latest
//! message of each of a user's conversations.

use chat_proto::chat::{Conversation, LatestMessageList};
use chrono::Utc;
use sqlx::{PgPool, Row};
use uuid::Uuid;

use super::rows::{MESSAGE_COLUMNS, conversations_with_direct_members, message};
use crate::records;
use crate::store::StoreResult;

pub async fn get_or_create(
    pool: &PgPool,
    user: Uuid,
    peer: Uuid,
    create: bool,
    bot: bool,
) -> StoreResult<Option<Conversation>> {
    let (kind, key) = records::pair_key(user, peer, bot);
    if let Some(found) = find(pool, &key).await? {
        return Ok(Some(found));
    }
    if !create {
        return Ok(None);
    }
    // A racing creator's insert makes ours do nothing; both then read the one that won. The
    // members go in with the conversation, so nobody sees it without them.
    let now = Utc::now();
    let mut tx = pool.begin().await?;
    let created: Option<Uuid> = sqlx::query_scalar(
        "INSERT INTO conversations (id, kind, direct_key, created_at, updated_at) \
         VALUES ($1, $4, $2, $3, $3) ON CONFLICT (direct_key) DO NOTHING RETURNING id",
    )
    .bind(records::new_id())
    .bind(&key)
    .bind(now)
    .bind(kind)
    .fetch_optional(&mut *tx)
    .await?;
    if let Some(id) = created {
        sqlx::query(
            "INSERT INTO members (conversation_id, user_id, role, joined_at) \
             SELECT $1, u, 'member', $3 FROM UNNEST($2::uuid[]) AS u",
        )
        .bind(id)
        .bind([user, peer])
        .bind(now)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    find(pool, &key).await
}

async fn find(pool: &PgPool, key: &str) -> StoreResult<Option<Conversation>> {
    let mut conn = pool.acquire().await?;
    let id: Option<Uuid> = sqlx::query_scalar(
        "SELECT id FROM conversations WHERE direct_key = $1 AND deleted_at IS NULL",
    )
    .bind(key)
    .fetch_optional(&mut *conn)
    .await?;
    let Some(id) = id else {
        return Ok(None);
    };
    let found = super::rows::conversations_with_members(&mut conn, &[id]).await?;
    Ok(found.into_iter().next())
}

pub async fn latest(
    pool: &PgPool,
    user: Uuid,
    limit: u32,
    offset: u32,
) -> StoreResult<LatestMessageList> {
    let mut conn = pool.acquire().await?;
    // One index step per conversation of the user (messages_seq_unique, newest seq first).
    let rows = sqlx::query(&format!(
        "SELECT msg.* FROM members me \
         JOIN conversations c ON c.id = me.conversation_id AND c.deleted_at IS NULL \
         JOIN LATERAL (SELECT {MESSAGE_COLUMNS} FROM messages m \
             WHERE m.conversation_id = c.id AND m.deleted_at IS NULL \
             ORDER BY m.seq DESC LIMIT 1) msg ON TRUE \
         WHERE me.user_id = $1 AND me.left_at IS NULL \
         ORDER BY msg.created_at DESC, c.number DESC LIMIT $2 OFFSET $3"
    ))
    .bind(user)
    .bind(i64::from(limit) + 1)
    .bind(i64::from(offset))
    .fetch_all(&mut *conn)
    .await?;
    let has_more = rows.len() > limit as usize;
    let ids = rows
        .iter()
        .take(limit as usize)
        .map(|row| row.try_get("conversation_id"))
        .collect::<Result<Vec<Uuid>, _>>()?;
    let messages = rows
        .iter()
        .take(limit as usize)
        .map(message)
        .collect::<Result<Vec<_>, _>>()?;
    let conversations = conversations_with_direct_members(&mut conn, &ids).await?;
    Ok(records::latest_list(conversations, messages, has_more))
}
