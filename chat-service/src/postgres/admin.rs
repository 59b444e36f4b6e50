//! The operator's reads (`admin.v1.ChatAdmin`) in Postgres: counts, and a conversation's
//! messages for export whoever its members are.

use chat_proto::chat::Message;
use sqlx::PgPool;
use uuid::Uuid;

use super::rows::{MESSAGE_COLUMNS, message};
use crate::store::StoreResult;

pub async fn counts(pool: &PgPool) -> StoreResult<(i64, i64)> {
    let counts = sqlx::query_as(
        "SELECT (SELECT count(*) FROM conversations WHERE deleted_at IS NULL), \
                (SELECT count(*) FROM messages WHERE deleted_at IS NULL)",
    )
    .fetch_one(pool)
    .await?;
    Ok(counts)
}

pub async fn export(
    pool: &PgPool,
    conversation: Uuid,
    after_seq: i64,
    limit: u32,
) -> StoreResult<Option<Vec<Message>>> {
    let exists: Option<i32> =
        sqlx::query_scalar("SELECT 1 FROM conversations WHERE id = $1 AND deleted_at IS NULL")
            .bind(conversation)
            .fetch_optional(pool)
            .await?;
    if exists.is_none() {
        return Ok(None);
    }
    let rows = sqlx::query(&format!(
        "SELECT {MESSAGE_COLUMNS} FROM messages WHERE conversation_id = $1 AND seq > $2 \
         AND deleted_at IS NULL ORDER BY seq LIMIT $3"
    ))
    .bind(conversation)
    .bind(after_seq)
    .bind(i64::from(limit))
    .fetch_all(pool)
    .await?;
    let messages = rows.iter().map(message).collect::<Result<Vec<_>, _>>()?;
    Ok(Some(messages))
}
