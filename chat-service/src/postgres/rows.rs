//! Reading conversations and messages out of Postgres rows.

use chat_proto::chat::{Conversation, Message};
use sqlx::postgres::PgRow;
use sqlx::{PgConnection, PgExecutor, Row};
use uuid::Uuid;

use crate::records::{self, ConversationRecord, MemberRecord, MessageRecord};

pub const CONVERSATION_COLUMNS: &str = "id, number, kind, name, owner_id, is_public, external_id, \
     last_seq, created_at, updated_at";

pub const MESSAGE_COLUMNS: &str = "id, number, conversation_id, seq, sender_id, body, \
     client_message_id, signature, created_at, sender_number, conversation_number";

pub use crate::records::ms;

pub fn conversation(row: &PgRow) -> Result<ConversationRecord, sqlx::Error> {
    Ok(ConversationRecord {
        id: row.try_get("id")?,
        number: row.try_get("number")?,
        kind: row.try_get("kind")?,
        name: row.try_get("name")?,
        owner: row.try_get("owner_id")?,
        is_public: row.try_get("is_public")?,
        external_id: row.try_get("external_id")?,
        last_seq: row.try_get("last_seq")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

pub fn message(row: &PgRow) -> Result<Message, sqlx::Error> {
    Ok(MessageRecord {
        id: row.try_get("id")?,
        number: row.try_get("number")?,
        conversation: row.try_get("conversation_id")?,
        seq: row.try_get("seq")?,
        sender: row.try_get("sender_id")?,
        sender_number: row.try_get("sender_number")?,
        conversation_number: row.try_get("conversation_number")?,
        body: row.try_get("body")?,
        client_message_id: row.try_get("client_message_id")?,
        signature: row.try_get("signature")?,
        created_at: row.try_get("created_at")?,
    }
    .into())
}

/// Loads conversations with their current members, in the order of `ids`.
pub async fn conversations_with_members(
    conn: &mut PgConnection,
    ids: &[Uuid],
) -> Result<Vec<Conversation>, sqlx::Error> {
    load(conn, ids, false).await
}

/// Loads conversations in the order of `ids`, with the members of the direct ones only.
pub async fn conversations_with_direct_members(
    conn: &mut PgConnection,
    ids: &[Uuid],
) -> Result<Vec<Conversation>, sqlx::Error> {
    load(conn, ids, true).await
}

async fn load(
    conn: &mut PgConnection,
    ids: &[Uuid],
    direct_only: bool,
) -> Result<Vec<Conversation>, sqlx::Error> {
    let conversations = sqlx::query(&format!(
        "SELECT {CONVERSATION_COLUMNS} FROM conversations \
         WHERE id = ANY($1) AND deleted_at IS NULL"
    ))
    .bind(ids)
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(conversation)
    .collect::<Result<Vec<_>, _>>()?;
    let members = sqlx::query(
        "SELECT m.conversation_id, m.user_id, m.role, m.joined_at, m.last_delivered_seq, \
         m.last_read_seq FROM members m JOIN conversations c ON c.id = m.conversation_id \
         WHERE m.conversation_id = ANY($1) AND m.left_at IS NULL \
         AND (NOT $2 OR c.kind = 'direct') ORDER BY m.joined_at, m.user_id",
    )
    .bind(ids)
    .bind(direct_only)
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(|row| {
        Ok(MemberRecord {
            conversation: row.try_get("conversation_id")?,
            user: row.try_get("user_id")?,
            role: row.try_get("role")?,
            joined_at: row.try_get("joined_at")?,
            last_delivered_seq: row.try_get("last_delivered_seq")?,
            last_read_seq: row.try_get("last_read_seq")?,
        })
    })
    .collect::<Result<Vec<_>, sqlx::Error>>()?;
    Ok(records::with_members(conversations, members, ids))
}

/// The current members' ids of a conversation.
pub async fn member_ids<'c, E: PgExecutor<'c>>(
    executor: E,
    conversation: Uuid,
) -> Result<Vec<String>, sqlx::Error> {
    let ids: Vec<Uuid> = sqlx::query_scalar(
        "SELECT user_id FROM members WHERE conversation_id = $1 AND left_at IS NULL \
         ORDER BY joined_at, user_id",
    )
    .bind(conversation)
    .fetch_all(executor)
    .await?;
    Ok(ids.into_iter().map(|id| id.to_string()).collect())
}
