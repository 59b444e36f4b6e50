//! Messages in Postgres: sending (seq from the conversation's counter row), history, receipts.

use chat_proto::chat::{Message, MessagePage, ReceiptResponse, SendMessageResponse};
use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgPool, Row};
use uuid::Uuid;

use super::log;
use super::rows::{MESSAGE_COLUMNS, member_ids, message};
use crate::error::ChatError;
use crate::log::Append;
use crate::records::{MessageRecord, kind_from_name};
use crate::store::{MessageRange, NewMessage, ReceiptKind, StoreResult};

pub async fn send(pool: &PgPool, new: NewMessage) -> StoreResult<SendMessageResponse> {
    let mut tx = pool.begin().await?;
    // Taking the counter row's lock first serializes the conversation's senders, so a retry
    // with the same client message id sees the first attempt's committed row below. Membership
    // changes lock the same row, so the member list read after it sees a removal committed while
    // we waited. The time is read under the lock too, so times follow `seq`.
    // The message's number is drawn here too, so that the message — and its event in the log —
    // are whole before the one statement that stores both.
    let counter: Option<(i64, i64, String, DateTime<Utc>, i64)> = sqlx::query_as(
        "UPDATE conversations SET last_seq = last_seq + 1, updated_at = clock_timestamp() \
         WHERE id = $1 AND deleted_at IS NULL \
         RETURNING last_seq, number, kind, updated_at, nextval('messages_number_seq')",
    )
    .bind(new.conversation)
    .fetch_optional(&mut *tx)
    .await?;
    let (seq, conversation_number, kind, now, number) =
        counter.ok_or(ChatError::ConversationNotFound)?;
    let conversation_kind = i32::from(kind_from_name(&kind));
    let members = member_ids(&mut *tx, new.conversation).await?;
    let sender = new.sender.to_string();
    if !members.contains(&sender) {
        return Err(ChatError::NotAMember);
    }
    let draft: Message = MessageRecord {
        id: Uuid::new_v4(),
        number,
        conversation: new.conversation,
        seq,
        sender: new.sender,
        sender_number: new.sender_number,
        conversation_number,
        body: new.body.clone(),
        client_message_id: new.client_message_id.clone(),
        signature: new.signature.clone(),
        created_at: now,
    }
    .into();
    let event = Append::message(&draft, conversation_kind, &members, new.origin.clone())?;
    // One round trip stores the message, moves the sender's watermarks (they have seen their
    // own message) and logs its event; a client message id already used stores nothing.
    let inserted = sqlx::query(&format!(
        "WITH inserted AS ( \
             INSERT INTO messages (id, conversation_id, seq, sender_id, body, client_message_id, \
             signature, created_at, sender_number, conversation_number, number) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) \
             ON CONFLICT ON CONSTRAINT messages_client_id_unique DO NOTHING \
             RETURNING {MESSAGE_COLUMNS}), \
         seen AS ( \
             UPDATE members SET last_delivered_seq = $3, last_read_seq = $3 \
             WHERE conversation_id = $2 AND user_id = $4 AND EXISTS (SELECT 1 FROM inserted)), \
         logged AS ( \
             INSERT INTO event_log (conversation_id, recipients, entry) \
             SELECT $2, $12, $13 FROM inserted) \
         SELECT * FROM inserted"
    ))
    .bind(Uuid::parse_str(&draft.id).map_err(|error| ChatError::Internal(error.into()))?)
    .bind(new.conversation)
    .bind(seq)
    .bind(new.sender)
    .bind(&new.body)
    .bind(&new.client_message_id)
    .bind(&new.signature)
    .bind(now)
    .bind(new.sender_number)
    .bind(conversation_number)
    .bind(number)
    .bind(&event.recipients)
    .bind(&event.entry)
    .fetch_optional(&mut *tx)
    .await?;
    if let Some(row) = inserted {
        let stored = message(&row)?;
        tx.commit().await?;
        return Ok(SendMessageResponse {
            message: Some(stored),
            duplicate: false,
            member_ids: members,
            conversation_kind,
        });
    }
    // A retry: answer with the original, and give back the seq this attempt took.
    let existing = sqlx::query(&format!(
        "SELECT {MESSAGE_COLUMNS} FROM messages \
         WHERE conversation_id = $1 AND sender_id = $2 AND client_message_id = $3"
    ))
    .bind(new.conversation)
    .bind(new.sender)
    .bind(&new.client_message_id)
    .fetch_one(&mut *tx)
    .await?;
    let original = message(&existing)?;
    tx.rollback().await?;
    Ok(SendMessageResponse {
        message: Some(original),
        duplicate: true,
        member_ids: members,
        conversation_kind,
    })
}

pub async fn list(
    pool: &PgPool,
    user: Uuid,
    conversation: Uuid,
    range: MessageRange,
) -> StoreResult<MessagePage> {
    let mut conn = pool.acquire().await?;
    ensure_reader(&mut conn, user, conversation).await?;
    let limit = i64::from(range.limit.clamp(1, 100));
    // Paging backwards (the default: newest first) reads descending and flips the page.
    let backwards = range.after_seq.is_none() && range.after.is_none();
    let sql = format!(
        "SELECT {MESSAGE_COLUMNS} FROM messages WHERE conversation_id = $1 \
         AND ($2::bigint IS NULL OR seq < $2) AND ($3::bigint IS NULL OR seq > $3) \
         AND ($4::timestamptz IS NULL OR created_at < $4) \
         AND ($5::timestamptz IS NULL OR created_at >= $5) \
         AND deleted_at IS NULL ORDER BY seq {} LIMIT $6",
        if backwards { "DESC" } else { "ASC" }
    );
    let rows = sqlx::query(&sql)
        .bind(conversation)
        .bind(range.before_seq)
        .bind(range.after_seq)
        .bind(range.before)
        // Clients see whole milliseconds: a message stored at X.4 ms shows as X, so "after X"
        // starts at X + 1 ms.
        .bind(
            range
                .after
                .map(|after| after + chrono::TimeDelta::milliseconds(1)),
        )
        .bind(limit + 1)
        .fetch_all(&mut *conn)
        .await?;
    let has_more = rows.len() as i64 > limit;
    let mut messages = rows
        .iter()
        .take(limit as usize)
        .map(message)
        .collect::<Result<Vec<_>, _>>()?;
    if backwards {
        messages.reverse();
    }
    Ok(MessagePage { messages, has_more })
}

pub async fn mark(
    pool: &PgPool,
    user: Uuid,
    message_id: Uuid,
    kind: ReceiptKind,
) -> StoreResult<ReceiptResponse> {
    let mut tx = pool.begin().await?;
    let row = sqlx::query(&format!(
        "SELECT {MESSAGE_COLUMNS} FROM messages WHERE id = $1 AND deleted_at IS NULL"
    ))
    .bind(message_id)
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(ChatError::MessageNotFound)?;
    let found: Message = message(&row)?;
    let conversation: Uuid = row.try_get("conversation_id")?;
    // A removal locks the member's row before it takes its time, and so does a receipt: the
    // receipt (its check and its time) falls wholly before or after a removal.
    sqlx::query("SELECT 1 FROM members WHERE conversation_id = $1 AND user_id = $2 FOR UPDATE")
        .bind(conversation)
        .bind(user)
        .execute(&mut *tx)
        .await?;
    ensure_member(&mut tx, user, conversation).await?;
    let now = Utc::now();
    // Watermarks only move forward; reading a message also means it was delivered.
    let sql = match kind {
        ReceiptKind::Delivered => {
            "UPDATE members SET last_delivered_seq = $3, delivered_at = $4 \
             WHERE conversation_id = $1 AND user_id = $2 AND last_delivered_seq < $3"
        }
        ReceiptKind::Read => {
            "UPDATE members SET last_read_seq = $3, read_at = $4, \
             last_delivered_seq = GREATEST(last_delivered_seq, $3), \
             delivered_at = CASE WHEN last_delivered_seq < $3 THEN $4 ELSE delivered_at END \
             WHERE conversation_id = $1 AND user_id = $2 AND last_read_seq < $3"
        }
    };
    let advanced = sqlx::query(sql)
        .bind(conversation)
        .bind(user)
        .bind(found.seq)
        .bind(now)
        .execute(&mut *tx)
        .await?
        .rows_affected()
        > 0;
    let members = member_ids(&mut *tx, conversation).await?;
    if advanced && let Some(event) = Append::receipt(&found, user, kind, now, &members)? {
        log::append(&mut tx, &event).await?;
    }
    tx.commit().await?;
    Ok(ReceiptResponse {
        message: Some(found),
        advanced,
        member_ids: members,
    })
}

/// Fails unless the conversation exists and `user` is one of its current members.
pub async fn ensure_member(
    conn: &mut PgConnection,
    user: Uuid,
    conversation: Uuid,
) -> StoreResult<()> {
    let row = sqlx::query(
        "SELECT EXISTS (SELECT 1 FROM members WHERE conversation_id = c.id AND user_id = $2 \
         AND left_at IS NULL) AS member FROM conversations c WHERE c.id = $1 AND c.deleted_at IS NULL",
    )
    .bind(conversation)
    .bind(user)
    .fetch_optional(&mut *conn)
    .await?
    .ok_or(ChatError::ConversationNotFound)?;
    if row.try_get::<bool, _>("member")? {
        Ok(())
    } else {
        Err(ChatError::NotAMember)
    }
}

/// Members read a conversation's history; so does anyone, for a public group.
async fn ensure_reader(conn: &mut PgConnection, user: Uuid, conversation: Uuid) -> StoreResult<()> {
    let public: Option<bool> = sqlx::query_scalar(
        "SELECT is_public FROM conversations WHERE id = $1 AND deleted_at IS NULL",
    )
    .bind(conversation)
    .fetch_optional(&mut *conn)
    .await?;
    match public {
        None => Err(ChatError::ConversationNotFound),
        Some(true) => Ok(()),
        Some(false) => ensure_member(conn, user, conversation).await,
    }
}
