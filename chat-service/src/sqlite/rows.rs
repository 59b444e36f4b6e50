//! Reading conversations and messages out of SQLite rows: UUIDs are hyphenated TEXT, times
//! INTEGER unix microseconds.

use chat_proto::chat::{Conversation, Message};
use chrono::{DateTime, Utc};
use sqlx::sqlite::SqliteRow;
use sqlx::{Row, SqliteConnection, SqliteExecutor};
use uuid::Uuid;
use uuid::fmt::Hyphenated;

use crate::records::{self, ConversationRecord, MemberRecord, MessageRecord};

pub const CONVERSATION_COLUMNS: &str = "id, number, kind, name, owner_id, is_public, external_id, \
     last_seq, created_at, updated_at";

pub const MESSAGE_COLUMNS: &str = "id, number, conversation_id, seq, sender_id, body, \
     client_message_id, signature, created_at, sender_number, conversation_number";

/// How a time is stored: microseconds, the precision Postgres keeps.
pub fn micros(at: DateTime<Utc>) -> i64 {
    at.timestamp_micros()
}

pub fn time(row: &SqliteRow, column: &str) -> Result<DateTime<Utc>, sqlx::Error> {
    let stored: i64 = row.try_get(column)?;
    DateTime::from_timestamp_micros(stored).ok_or_else(|| sqlx::Error::ColumnDecode {
        index: column.to_owned(),
        source: format!("{stored} is not a time in microseconds").into(),
    })
}

pub fn uuid(row: &SqliteRow, column: &str) -> Result<Uuid, sqlx::Error> {
    Ok(row.try_get::<Hyphenated, _>(column)?.into_uuid())
}

pub fn optional_uuid(row: &SqliteRow, column: &str) -> Result<Option<Uuid>, sqlx::Error> {
    Ok(row
        .try_get::<Option<Hyphenated>, _>(column)?
        .map(Hyphenated::into_uuid))
}

/// Ids as a JSON array, for `IN (SELECT value FROM json_each(?))`: SQLite has no array binds.
pub fn json_ids(ids: &[Uuid]) -> String {
    let quoted: Vec<String> = ids.iter().map(|id| format!("\"{id}\"")).collect();
    format!("[{}]", quoted.join(","))
}

/// Rows as one JSON array, for `SELECT … FROM json_each(?)`: a batch in one statement. Texts
/// travel inside JSON, which would cut one at a NUL; the service refuses those (Postgres cannot
/// store them either). Blobs go as hexadecimal text, for `unhex`.
pub fn json_array(rows: &[serde_json::Value]) -> Result<String, sqlx::Error> {
    serde_json::to_string(rows).map_err(|error| sqlx::Error::Encode(error.into()))
}

pub fn conversation(row: &SqliteRow) -> Result<ConversationRecord, sqlx::Error> {
    Ok(ConversationRecord {
        id: uuid(row, "id")?,
        number: row.try_get("number")?,
        kind: row.try_get("kind")?,
        name: row.try_get("name")?,
        owner: optional_uuid(row, "owner_id")?,
        is_public: row.try_get("is_public")?,
        external_id: row.try_get("external_id")?,
        last_seq: row.try_get("last_seq")?,
        created_at: time(row, "created_at")?,
        updated_at: time(row, "updated_at")?,
    })
}

pub fn message(row: &SqliteRow) -> Result<Message, sqlx::Error> {
    Ok(MessageRecord {
        id: uuid(row, "id")?,
        number: row.try_get("number")?,
        conversation: uuid(row, "conversation_id")?,
        seq: row.try_get("seq")?,
        sender: uuid(row, "sender_id")?,
        sender_number: row.try_get("sender_number")?,
        conversation_number: row.try_get("conversation_number")?,
        body: row.try_get("body")?,
        client_message_id: row.try_get("client_message_id")?,
        signature: row.try_get("signature")?,
        created_at: time(row, "created_at")?,
    }
    .into())
}

/// Loads conversations with their current members, in the order of `ids`.
pub async fn conversations_with_members(
    conn: &mut SqliteConnection,
    ids: &[Uuid],
) -> Result<Vec<Conversation>, sqlx::Error> {
    load(conn, ids, false).await
}

/// Loads conversations in the order of `ids`, with the members of the direct ones only.
pub async fn conversations_with_direct_members(
    conn: &mut SqliteConnection,
    ids: &[Uuid],
) -> Result<Vec<Conversation>, sqlx::Error> {
    load(conn, ids, true).await
}

async fn load(
    conn: &mut SqliteConnection,
    ids: &[Uuid],
    direct_only: bool,
) -> Result<Vec<Conversation>, sqlx::Error> {
    let ids_json = json_ids(ids);
    let conversations = sqlx::query(&format!(
        "SELECT {CONVERSATION_COLUMNS} FROM conversations \
         WHERE id IN (SELECT value FROM json_each($1)) AND deleted_at IS NULL"
    ))
    .bind(&ids_json)
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(conversation)
    .collect::<Result<Vec<_>, _>>()?;
    let members = sqlx::query(
        "SELECT m.conversation_id, m.user_id, m.role, m.joined_at, m.last_delivered_seq, \
         m.last_read_seq FROM members m JOIN conversations c ON c.id = m.conversation_id \
         WHERE m.conversation_id IN (SELECT value FROM json_each($1)) AND m.left_at IS NULL \
         AND (NOT $2 OR c.kind = 'direct') ORDER BY m.joined_at, m.user_id",
    )
    .bind(&ids_json)
    .bind(direct_only)
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(|row| {
        Ok(MemberRecord {
            conversation: uuid(row, "conversation_id")?,
            user: uuid(row, "user_id")?,
            role: row.try_get("role")?,
            joined_at: time(row, "joined_at")?,
            last_delivered_seq: row.try_get("last_delivered_seq")?,
            last_read_seq: row.try_get("last_read_seq")?,
        })
    })
    .collect::<Result<Vec<_>, sqlx::Error>>()?;
    Ok(records::with_members(conversations, members, ids))
}

/// The current members' ids of a conversation.
pub async fn member_ids<'c, E: SqliteExecutor<'c>>(
    executor: E,
    conversation: Uuid,
) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT user_id FROM members WHERE conversation_id = $1 AND left_at IS NULL \
         ORDER BY joined_at, user_id",
    )
    .bind(conversation.hyphenated())
    .fetch_all(executor)
    .await
}
