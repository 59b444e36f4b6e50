//! Reading conversations and messages out of Postgres rows.

use chat_proto::chat::{Conversation, ConversationKind, Member, Message};
use chrono::{DateTime, Utc};
use sqlx::postgres::PgRow;
use sqlx::{PgConnection, PgExecutor, Row};
use uuid::Uuid;

pub const CONVERSATION_COLUMNS: &str = "id, number, kind, name, owner_id, is_public, external_id, \
     last_seq, created_at, updated_at";

pub const MESSAGE_COLUMNS: &str = "id, number, conversation_id, seq, sender_id, body, \
     client_message_id, signature, created_at";

pub fn ms(at: DateTime<Utc>) -> i64 {
    at.timestamp_millis()
}

fn kind_from_name(name: &str) -> ConversationKind {
    match name {
        "direct" => ConversationKind::Direct,
        "bot" => ConversationKind::Bot,
        _ => ConversationKind::Group,
    }
}

pub fn conversation(row: &PgRow) -> Result<Conversation, sqlx::Error> {
    let kind: String = row.try_get("kind")?;
    Ok(Conversation {
        id: row.try_get::<Uuid, _>("id")?.to_string(),
        number: row.try_get("number")?,
        kind: kind_from_name(&kind).into(),
        name: row.try_get("name")?,
        owner_id: row
            .try_get::<Option<Uuid>, _>("owner_id")?
            .map(|id| id.to_string())
            .unwrap_or_default(),
        is_public: row.try_get("is_public")?,
        external_id: row
            .try_get::<Option<String>, _>("external_id")?
            .unwrap_or_default(),
        created_at_ms: ms(row.try_get("created_at")?),
        updated_at_ms: ms(row.try_get("updated_at")?),
        last_seq: row.try_get("last_seq")?,
        members: Vec::new(),
    })
}

pub fn message(row: &PgRow) -> Result<Message, sqlx::Error> {
    Ok(Message {
        id: row.try_get::<Uuid, _>("id")?.to_string(),
        number: row.try_get("number")?,
        conversation_id: row.try_get::<Uuid, _>("conversation_id")?.to_string(),
        seq: row.try_get("seq")?,
        sender_id: row.try_get::<Uuid, _>("sender_id")?.to_string(),
        body: row.try_get("body")?,
        created_at_ms: ms(row.try_get("created_at")?),
        client_message_id: row
            .try_get::<Option<String>, _>("client_message_id")?
            .unwrap_or_default(),
        signature: row
            .try_get::<Option<String>, _>("signature")?
            .unwrap_or_default(),
    })
}

/// Loads conversations with their current members, in the order of `ids`.
pub async fn conversations_with_members(
    conn: &mut PgConnection,
    ids: &[Uuid],
) -> Result<Vec<Conversation>, sqlx::Error> {
    let rows = sqlx::query(&format!(
        "SELECT {CONVERSATION_COLUMNS} FROM conversations \
         WHERE id = ANY($1) AND deleted_at IS NULL"
    ))
    .bind(ids)
    .fetch_all(&mut *conn)
    .await?;
    let mut conversations = rows
        .iter()
        .map(conversation)
        .collect::<Result<Vec<_>, _>>()?;
    let members = sqlx::query(
        "SELECT conversation_id, user_id, role, joined_at, last_delivered_seq, last_read_seq \
         FROM members WHERE conversation_id = ANY($1) AND left_at IS NULL \
         ORDER BY joined_at, user_id",
    )
    .bind(ids)
    .fetch_all(&mut *conn)
    .await?;
    for row in &members {
        let conversation_id = row.try_get::<Uuid, _>("conversation_id")?.to_string();
        if let Some(conversation) = conversations.iter_mut().find(|c| c.id == conversation_id) {
            conversation.members.push(Member {
                user_id: row.try_get::<Uuid, _>("user_id")?.to_string(),
                role: row.try_get("role")?,
                joined_at_ms: ms(row.try_get("joined_at")?),
                last_delivered_seq: row.try_get("last_delivered_seq")?,
                last_read_seq: row.try_get("last_read_seq")?,
            });
        }
    }
    let position = |c: &Conversation| ids.iter().position(|id| id.to_string() == c.id);
    conversations.sort_by_key(position);
    Ok(conversations)
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
