//! Messages in SQLite: sending (seq from the conversation's counter row), history, receipts.

use std::collections::HashMap;

use chat_proto::chat::{Message, MessagePage, ReceiptResponse, SendMessageResponse};
use chrono::Utc;
use sqlx::{Row, SqliteConnection, SqlitePool};
use uuid::Uuid;

use super::rows::{MESSAGE_COLUMNS, json_array, json_ids, member_ids, message, micros, uuid};
use super::{log, write};
use crate::batch::whole_or_alone;
use crate::error::ChatError;
use crate::log::Append;
use crate::records::{self, HistoryQuery, MessageRecord, kind_from_name};
use crate::sends::{self, Plan, RetryKey};
use crate::store::{MessageRange, NewMessage, ReceiptKind, StoreResult};

/// Stores a batch of sends in one transaction and answers each, in the batch's order (group
/// commit; see [`crate::batch`]).
pub async fn send_batch(
    writer: &SqlitePool,
    batch: Vec<NewMessage>,
) -> Vec<StoreResult<SendMessageResponse>> {
    whole_or_alone(&batch, |sends| store_batch(writer, sends)).await
}

/// A conversation a batch sends to, as it stands when the batch takes the write lock.
struct Target {
    number: i64,
    kind: i32,
    last_seq: i64,
    members: Vec<String>,
}

/// What a batch reads under the write lock, and the counters it writes from.
struct Found {
    targets: HashMap<Uuid, Target>,
    earlier: HashMap<RetryKey, Message>,
    /// The highest message number given so far.
    numbers_from: i64,
    /// The log's head and the time of its newest row.
    log_head: i64,
    log_time: i64,
}

/// Stores a batch in four round trips to SQLite's thread, however many sends it holds: every
/// statement's answer has to come back through the async runtime, which under load takes longer
/// than the statement itself. `BEGIN IMMEDIATE`; the reads; the writes; `COMMIT`.
async fn store_batch(
    writer: &SqlitePool,
    sends: &[NewMessage],
) -> StoreResult<Vec<StoreResult<SendMessageResponse>>> {
    // `BEGIN IMMEDIATE` takes SQLite's one write lock before anything is read, so batches run
    // one after another: a retry with the same client message id sees the first attempt's row,
    // and the counters never hand out a seq twice.
    let mut tx = write(writer).await?;
    let mut found = read_for(&mut tx, sends).await?;
    let allowed: Vec<Result<(), ChatError>> = sends
        .iter()
        .map(|send| {
            let members = found
                .targets
                .get(&send.conversation)
                .map(|t| t.members.as_slice());
            sends::may_send(send, members)
        })
        .collect();
    // The earlier attempts were read for every send; only the allowed ones' are looked at.
    let plan = Plan::new(sends, allowed, &found.earlier);
    let stored = store_fresh(&mut tx, &plan.fresh, &mut found).await?;
    tx.commit().await?;
    let targets = found.targets;
    Ok(plan.answer(sends, &stored, |conversation| {
        let target = &targets[conversation];
        (target.members.clone(), target.kind)
    }))
}

/// The reads of a batch, one query string: the conversations that exist with their counters,
/// their current members, the counters of message numbers and of the log, and the messages
/// already stored under the sends' client message ids (each key an index look-up; CROSS JOIN
/// keeps the keys driving the loop). Each row says which of them it is.
static READS: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    format!(
        "SELECT 'target' AS what, id, number, kind, last_seq FROM conversations \
         WHERE id IN (SELECT value FROM json_each($1)) AND deleted_at IS NULL; \
         SELECT 'member' AS what, conversation_id, user_id FROM members \
         WHERE conversation_id IN (SELECT value FROM json_each($1)) AND left_at IS NULL \
         ORDER BY conversation_id, joined_at, user_id; \
         SELECT 'counters' AS what, \
             MAX(COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'messages'), 0), \
                 COALESCE((SELECT MAX(number) FROM messages), 0)) AS numbers_from, \
             {log_head}; \
         SELECT 'earlier' AS what, {columns} FROM json_each($2) k CROSS JOIN messages m \
         WHERE m.conversation_id = k.value ->> 0 AND m.sender_id = k.value ->> 1 \
         AND m.client_message_id = k.value ->> 2;",
        columns = MESSAGE_COLUMNS
            .split(", ")
            .map(|column| format!("m.{column}"))
            .collect::<Vec<_>>()
            .join(", "),
        log_head = log::HEAD_COLUMNS,
    )
});

async fn read_for(tx: &mut SqliteConnection, sends: &[NewMessage]) -> StoreResult<Found> {
    let keys: Vec<serde_json::Value> = sends
        .iter()
        .filter_map(|send| {
            let client_id = send.client_message_id.as_deref()?;
            Some(serde_json::json!([
                send.conversation.hyphenated().to_string(),
                send.sender.hyphenated().to_string(),
                client_id
            ]))
        })
        .collect();
    let rows = sqlx::query(&READS)
        .bind(json_ids(&sends::conversation_ids(sends)))
        .bind(json_array(&keys)?)
        .fetch_all(&mut *tx)
        .await?;
    let mut found = Found {
        targets: HashMap::new(),
        earlier: HashMap::new(),
        numbers_from: 0,
        log_head: 0,
        log_time: 0,
    };
    for row in &rows {
        let what: &str = row.try_get("what")?;
        match what {
            "target" => {
                let kind: String = row.try_get("kind")?;
                found.targets.insert(
                    uuid(row, "id")?,
                    Target {
                        number: row.try_get("number")?,
                        kind: i32::from(kind_from_name(&kind)),
                        last_seq: row.try_get("last_seq")?,
                        members: Vec::new(),
                    },
                );
            }
            // Members come after their conversations, in joining order.
            "member" => {
                if let Some(target) = found.targets.get_mut(&uuid(row, "conversation_id")?) {
                    target.members.push(row.try_get("user_id")?);
                }
            }
            "counters" => {
                found.numbers_from = row.try_get("numbers_from")?;
                found.log_head = row.try_get("log_head")?;
                found.log_time = row.try_get("log_time")?;
            }
            "earlier" => {
                let original = message(row)?;
                let key = (
                    uuid(row, "conversation_id")?,
                    uuid(row, "sender_id")?,
                    original.client_message_id.clone(),
                );
                found.earlier.insert(key, original);
            }
            other => {
                return Err(ChatError::Internal(anyhow::anyhow!(
                    "a batch's reads returned a row of {other:?}"
                )));
            }
        }
    }
    Ok(found)
}

/// The writes of a batch, one query string: the counters, the messages, the senders'
/// watermarks and the events with their recipients.
static WRITES: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    // The senders have seen their own messages. A watermark below another member's message
    // stays where it is — this batch's messages included, stored above: moved over it, it
    // would cover that message without its sender ever being told (a receipt logs an event
    // only when it moves the watermark); the client's receipt naming it moves it instead.
    format!(
        "UPDATE conversations SET last_seq = c.value ->> 1, updated_at = $2 \
         FROM json_each($1) c WHERE conversations.id = c.value ->> 0 \
         AND conversations.last_seq < c.value ->> 1; \
         INSERT INTO messages (number, id, conversation_id, seq, sender_id, body, \
             client_message_id, signature, created_at, sender_number, conversation_number) \
         SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3, value ->> 4, value ->> 5, \
             value ->> 6, value ->> 7, value ->> 8, value ->> 9, value ->> 10 \
         FROM json_each($3) ORDER BY key; \
         UPDATE members SET \
             last_delivered_seq = CASE WHEN EXISTS (SELECT 1 FROM messages o \
                 WHERE o.conversation_id = members.conversation_id \
                 AND o.seq > members.last_delivered_seq AND o.seq < s.value ->> 2 \
                 AND o.sender_id <> members.user_id AND o.deleted_at IS NULL) \
                 THEN last_delivered_seq ELSE MAX(last_delivered_seq, s.value ->> 2) END, \
             last_read_seq = CASE WHEN EXISTS (SELECT 1 FROM messages o \
                 WHERE o.conversation_id = members.conversation_id \
                 AND o.seq > members.last_read_seq AND o.seq < s.value ->> 2 \
                 AND o.sender_id <> members.user_id AND o.deleted_at IS NULL) \
                 THEN last_read_seq ELSE MAX(last_read_seq, s.value ->> 2) END \
         FROM json_each($4) s \
         WHERE members.conversation_id = s.value ->> 0 AND members.user_id = s.value ->> 1; \
         {log}",
        log = log::insert_sql(5)
    )
});

/// Stores `fresh` (in order): the counters, the messages, the senders' watermarks and the
/// events.
async fn store_fresh(
    tx: &mut SqliteConnection,
    fresh: &[&NewMessage],
    found: &mut Found,
) -> StoreResult<Vec<Message>> {
    if fresh.is_empty() {
        return Ok(Vec::new());
    }
    // Numbers continue from where AUTOINCREMENT would: nothing else writes under our lock.
    let now = Utc::now();
    let mut stored = Vec::with_capacity(fresh.len());
    let mut rows = Vec::with_capacity(fresh.len());
    let mut events = Vec::with_capacity(fresh.len());
    // Per (conversation, sender): their newest message in the batch, for the watermarks.
    let mut newest: HashMap<(Uuid, Uuid), i64> = HashMap::new();
    for (number, send) in (found.numbers_from + 1..).zip(fresh) {
        let target = found
            .targets
            .get_mut(&send.conversation)
            .ok_or_else(|| ChatError::Internal(anyhow::anyhow!("no counter for a message")))?;
        target.last_seq += 1;
        let draft: Message = MessageRecord {
            id: records::new_id(),
            number,
            conversation: send.conversation,
            seq: target.last_seq,
            sender: send.sender,
            sender_number: send.sender_number,
            conversation_number: target.number,
            body: send.body.clone(),
            client_message_id: send.client_message_id.clone(),
            signature: send.signature.clone(),
            created_at: now,
        }
        .into();
        rows.push(serde_json::json!([
            number,
            draft.id,
            draft.conversation_id,
            draft.seq,
            draft.sender_id,
            draft.body,
            send.client_message_id,
            send.signature,
            micros(now),
            send.sender_number,
            target.number,
        ]));
        newest.insert((send.conversation, send.sender), target.last_seq);
        events.push(Append::message(
            &draft,
            target.kind,
            &target.members,
            send.origin.clone(),
        )?);
        stored.push(draft);
    }
    let counters: Vec<serde_json::Value> = found
        .targets
        .iter()
        .map(|(id, target)| serde_json::json!([id.hyphenated().to_string(), target.last_seq]))
        .collect();
    let senders: Vec<serde_json::Value> = newest
        .iter()
        .map(|((conversation, sender), seq)| {
            serde_json::json!([
                conversation.hyphenated().to_string(),
                sender.hyphenated().to_string(),
                seq
            ])
        })
        .collect();
    let log = log::LogRows::new(found.log_head, found.log_time, &events)?;
    sqlx::query(&WRITES)
        .bind(json_array(&counters)?)
        .bind(micros(now))
        .bind(json_array(&rows)?)
        .bind(json_array(&senders)?)
        .bind(log.rows)
        .bind(log.at)
        .bind(log.recipients)
        .execute(&mut *tx)
        .await?;
    Ok(stored)
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
