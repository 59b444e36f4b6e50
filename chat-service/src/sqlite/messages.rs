//! Messages in SQLite: sending (seq from the conversation's counter row), history, receipts.

use chat_proto::chat::{MessagePage, ReceiptResponse, SendMessageResponse};
use chrono::Utc;
use sqlx::{SqliteConnection, SqlitePool};
use uuid::Uuid;

use super::rows::{MESSAGE_COLUMNS, member_ids, message, micros, uuid};
use super::{log, write};
use crate::batch::whole_or_alone;
use crate::error::ChatError;
use crate::log::Append;
use crate::records::{HistoryQuery, kind_from_name};
use crate::store::{MessageRange, NewMessage, ReceiptKind, StoreResult};

/// Stores a batch of sends in one transaction and answers each, in the batch's order (group
/// commit; see [`crate::batch`]).
pub async fn send_batch(
    writer: &SqlitePool,
    batch: Vec<NewMessage>,
) -> Vec<StoreResult<SendMessageResponse>> {
    whole_or_alone(&batch, |sends| store_batch(writer, sends)).await
}

async fn store_batch(
    writer: &SqlitePool,
    sends: &[NewMessage],
) -> StoreResult<Vec<StoreResult<SendMessageResponse>>> {
    // `BEGIN IMMEDIATE` takes SQLite's one write lock before anything is read, so batches run
    // one after another: a retry with the same client message id sees the first attempt's row,
    // and the counters never hand out a seq twice.
    let mut tx = write(writer).await?;
    let mut answers = Vec::with_capacity(sends.len());
    for send in sends {
        match send_in(&mut tx, send).await {
            // A send is refused before it writes anything; the batch goes on.
            Err(error @ (ChatError::ConversationNotFound | ChatError::NotAMember)) => {
                answers.push(Err(error));
            }
            Err(error) => return Err(error),
            Ok(answer) => answers.push(Ok(answer)),
        }
    }
    tx.commit().await?;
    Ok(answers)
}

/// Stores one send in the batch's transaction.
async fn send_in(tx: &mut SqliteConnection, new: &NewMessage) -> StoreResult<SendMessageResponse> {
    let kind = member_of(&mut *tx, new.sender, new.conversation).await?;
    let conversation_kind = i32::from(kind_from_name(&kind));
    if let Some(client_id) = &new.client_message_id {
        let existing = sqlx::query(&format!(
            "SELECT {MESSAGE_COLUMNS} FROM messages \
             WHERE conversation_id = $1 AND sender_id = $2 AND client_message_id = $3"
        ))
        .bind(new.conversation.hyphenated())
        .bind(new.sender.hyphenated())
        .bind(client_id)
        .fetch_optional(&mut *tx)
        .await?;
        if let Some(row) = existing {
            let original = message(&row)?;
            let members = member_ids(&mut *tx, new.conversation).await?;
            return Ok(SendMessageResponse {
                message: Some(original),
                duplicate: true,
                member_ids: members,
                conversation_kind,
            });
        }
    }
    let now = Utc::now();
    let (seq, conversation_number): (i64, i64) = sqlx::query_as(
        "UPDATE conversations SET last_seq = last_seq + 1, updated_at = $2 WHERE id = $1 \
         RETURNING last_seq, number",
    )
    .bind(new.conversation.hyphenated())
    .bind(micros(now))
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(ChatError::ConversationNotFound)?;
    let row = sqlx::query(&format!(
        "INSERT INTO messages (id, conversation_id, seq, sender_id, body, client_message_id, \
         signature, created_at, sender_number, conversation_number) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING {MESSAGE_COLUMNS}"
    ))
    .bind(Uuid::new_v4().hyphenated())
    .bind(new.conversation.hyphenated())
    .bind(seq)
    .bind(new.sender.hyphenated())
    .bind(&new.body)
    .bind(&new.client_message_id)
    .bind(&new.signature)
    .bind(micros(now))
    .bind(new.sender_number)
    .bind(conversation_number)
    .fetch_one(&mut *tx)
    .await?;
    let stored = message(&row)?;
    // The sender has seen their own message. A watermark below another member's message
    // stays where it is: moved over it, it would cover that message without its sender ever
    // being told (a receipt logs an event only when it moves the watermark); the client's
    // receipt naming it moves it instead.
    sqlx::query(
        "UPDATE members SET \
             last_delivered_seq = CASE WHEN EXISTS (SELECT 1 FROM messages o \
                 WHERE o.conversation_id = $1 AND o.seq > last_delivered_seq AND o.seq < $3 \
                 AND o.sender_id <> $2 AND o.deleted_at IS NULL) \
                 THEN last_delivered_seq ELSE MAX(last_delivered_seq, $3) END, \
             last_read_seq = CASE WHEN EXISTS (SELECT 1 FROM messages o \
                 WHERE o.conversation_id = $1 AND o.seq > last_read_seq AND o.seq < $3 \
                 AND o.sender_id <> $2 AND o.deleted_at IS NULL) \
                 THEN last_read_seq ELSE MAX(last_read_seq, $3) END \
         WHERE conversation_id = $1 AND user_id = $2",
    )
    .bind(new.conversation.hyphenated())
    .bind(new.sender.hyphenated())
    .bind(seq)
    .execute(&mut *tx)
    .await?;
    let members = member_ids(&mut *tx, new.conversation).await?;
    let event = Append::message(&stored, conversation_kind, &members, new.origin.clone())?;
    log::append(&mut *tx, &event).await?;
    Ok(SendMessageResponse {
        message: Some(stored),
        duplicate: false,
        member_ids: members,
        conversation_kind,
    })
}

pub async fn list(
    reader: &SqlitePool,
    user: Uuid,
    conversation: Uuid,
    range: MessageRange,
) -> StoreResult<MessagePage> {
    let mut conn = reader.acquire().await?;
    ensure_reader(&mut conn, user, conversation).await?;
    let query = HistoryQuery::new(&range);
    let sql = format!(
        "SELECT {MESSAGE_COLUMNS} FROM messages WHERE conversation_id = $1 \
         AND ($2 IS NULL OR seq < $2) AND ($3 IS NULL OR seq > $3) \
         AND ($4 IS NULL OR created_at < $4) AND ($5 IS NULL OR created_at >= $5) \
         AND deleted_at IS NULL ORDER BY seq {} LIMIT $6",
        if query.backwards { "DESC" } else { "ASC" }
    );
    let rows = sqlx::query(&sql)
        .bind(conversation.hyphenated())
        .bind(range.before_seq)
        .bind(range.after_seq)
        .bind(range.before.map(micros))
        .bind(query.from.map(micros))
        .bind(query.fetch())
        .fetch_all(&mut *conn)
        .await?;
    let messages = rows.iter().map(message).collect::<Result<Vec<_>, _>>()?;
    Ok(query.page(messages))
}

pub async fn mark(
    writer: &SqlitePool,
    user: Uuid,
    message_id: Uuid,
    kind: ReceiptKind,
) -> StoreResult<ReceiptResponse> {
    let mut tx = write(writer).await?;
    let row = sqlx::query(&format!(
        "SELECT {MESSAGE_COLUMNS} FROM messages WHERE id = $1 AND deleted_at IS NULL"
    ))
    .bind(message_id.hyphenated())
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(ChatError::MessageNotFound)?;
    let found = message(&row)?;
    let conversation = uuid(&row, "conversation_id")?;
    ensure_member(&mut tx, user, conversation).await?;
    // Watermarks only move forward; reading a message also means it was delivered. (SET
    // expressions all see the row as it was, as in Postgres.)
    let sql = match kind {
        ReceiptKind::Delivered => {
            "UPDATE members SET last_delivered_seq = $3, delivered_at = $4 \
             WHERE conversation_id = $1 AND user_id = $2 AND left_at IS NULL \
             AND last_delivered_seq < $3"
        }
        ReceiptKind::Read => {
            "UPDATE members SET last_read_seq = $3, read_at = $4, \
             last_delivered_seq = MAX(last_delivered_seq, $3), \
             delivered_at = CASE WHEN last_delivered_seq < $3 THEN $4 ELSE delivered_at END \
             WHERE conversation_id = $1 AND user_id = $2 AND left_at IS NULL \
             AND last_read_seq < $3"
        }
    };
    let now = Utc::now();
    let advanced = sqlx::query(sql)
        .bind(conversation.hyphenated())
        .bind(user.hyphenated())
        .bind(found.seq)
        .bind(micros(now))
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
async fn ensure_member(
    conn: &mut SqliteConnection,
    user: Uuid,
    conversation: Uuid,
) -> StoreResult<()> {
    member_of(conn, user, conversation).await.map(drop)
}

/// The conversation's kind, if it exists and `user` is one of its current members.
async fn member_of(
    conn: &mut SqliteConnection,
    user: Uuid,
    conversation: Uuid,
) -> StoreResult<String> {
    let (member, kind): (bool, String) = sqlx::query_as(
        "SELECT EXISTS (SELECT 1 FROM members WHERE conversation_id = c.id AND user_id = $2 \
         AND left_at IS NULL), c.kind FROM conversations c \
         WHERE c.id = $1 AND c.deleted_at IS NULL",
    )
    .bind(conversation.hyphenated())
    .bind(user.hyphenated())
    .fetch_optional(&mut *conn)
    .await?
    .ok_or(ChatError::ConversationNotFound)?;
    if member {
        Ok(kind)
    } else {
        Err(ChatError::NotAMember)
    }
}

/// Members read a conversation's history; so does anyone, for a public group.
async fn ensure_reader(
    conn: &mut SqliteConnection,
    user: Uuid,
    conversation: Uuid,
) -> StoreResult<()> {
    let public: Option<bool> = sqlx::query_scalar(
        "SELECT is_public FROM conversations WHERE id = $1 AND deleted_at IS NULL",
    )
    .bind(conversation.hyphenated())
    .fetch_optional(&mut *conn)
    .await?;
    match public {
        None => Err(ChatError::ConversationNotFound),
        Some(true) => Ok(()),
        Some(false) => ensure_member(conn, user, conversation).await,
    }
}
