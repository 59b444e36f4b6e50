//! Direct and bot conversations in SQLite (one of each kind per pair of users, by `direct_key`), and the latest
//! message of each of a user's conversations.

use chat_proto::chat::{Conversation, LatestMessageList};
use chrono::Utc;
use sqlx::SqlitePool;
use uuid::Uuid;

use super::rows::{
    MESSAGE_COLUMNS, conversations_with_direct_members, conversations_with_members, message,
    micros, uuid,
};
use super::write;
use crate::records;
use crate::store::StoreResult;

pub async fn get_or_create(
    writer: &SqlitePool,
    reader: &SqlitePool,
    user: Uuid,
    peer: Uuid,
    create: bool,
    bot: bool,
) -> StoreResult<Option<Conversation>> {
    let (kind, key) = records::pair_key(user, peer, bot);
    if let Some(found) = find(reader, &key).await? {
        return Ok(Some(found));
    }
    if !create {
        return Ok(None);
    }
    // The write lock is held from the start: a racing creator waits, then its insert does
    // nothing and it reads the one conversation.
    let now = micros(Utc::now());
    let mut tx = write(writer).await?;
    let created = sqlx::query(
        "INSERT INTO conversations (id, kind, direct_key, created_at, updated_at) \
         VALUES ($1, $4, $2, $3, $3) ON CONFLICT (direct_key) DO NOTHING",
    )
    .bind(records::new_id().hyphenated())
    .bind(&key)
    .bind(now)
    .bind(kind)
    .execute(&mut *tx)
    .await?
    .rows_affected()
        > 0;
    if created {
        for member in [user, peer] {
            sqlx::query(
                "INSERT INTO members (conversation_id, user_id, role, joined_at) \
                 SELECT id, $2, 'member', $3 FROM conversations WHERE direct_key = $1",
            )
            .bind(&key)
            .bind(member.hyphenated())
            .bind(now)
            .execute(&mut *tx)
            .await?;
        }
    }
    tx.commit().await?;
    find(writer, &key).await
}

async fn find(pool: &SqlitePool, key: &str) -> StoreResult<Option<Conversation>> {
    let mut conn = pool.acquire().await?;
    let row =
        sqlx::query("SELECT id FROM conversations WHERE direct_key = $1 AND deleted_at IS NULL")
            .bind(key)
            .fetch_optional(&mut *conn)
            .await?;
    let Some(row) = row else {
        return Ok(None);
    };
    let found = conversations_with_members(&mut conn, &[uuid(&row, "id")?]).await?;
    Ok(found.into_iter().next())
}

pub async fn latest(
    reader: &SqlitePool,
    user: Uuid,
    limit: u32,
    offset: u32,
) -> StoreResult<LatestMessageList> {
    let mut conn = reader.acquire().await?;
    // One index step per conversation of the user (the unique (conversation_id, seq) index).
    let rows = sqlx::query(&format!(
        "SELECT {} FROM members me \
         JOIN conversations c ON c.id = me.conversation_id AND c.deleted_at IS NULL \
         JOIN messages msg ON msg.id = (SELECT m.id FROM messages m \
             WHERE m.conversation_id = c.id AND m.deleted_at IS NULL \
             ORDER BY m.seq DESC LIMIT 1) \
         WHERE me.user_id = $1 AND me.left_at IS NULL \
         ORDER BY msg.created_at DESC, c.number DESC LIMIT $2 OFFSET $3",
        records::prefixed(MESSAGE_COLUMNS, "msg")
    ))
    .bind(user.hyphenated())
    .bind(i64::from(limit) + 1)
    .bind(i64::from(offset))
    .fetch_all(&mut *conn)
    .await?;
    let has_more = rows.len() > limit as usize;
    let ids = rows
        .iter()
        .take(limit as usize)
        .map(|row| uuid(row, "conversation_id"))
        .collect::<Result<Vec<_>, _>>()?;
    let messages = rows
        .iter()
        .take(limit as usize)
        .map(message)
        .collect::<Result<Vec<_>, _>>()?;
    let conversations = conversations_with_direct_members(&mut conn, &ids).await?;
    Ok(records::latest_list(conversations, messages, has_more))
}
