//! Messages in Postgres: sending in batches (seqs from the conversations' counter rows),
//! history, receipts.

use std::collections::HashMap;

use chat_proto::chat::{Message, MessagePage, ReceiptResponse, SendMessageResponse};
use chrono::{DateTime, Utc};
use service_runtime::postgres::ACQUIRE_TIMEOUT;
use sqlx::{PgConnection, PgPool, Row};
use tokio::time::Instant;
use uuid::Uuid;

use super::log;
use super::rows::{MESSAGE_COLUMNS, member_ids, message};
use crate::batch::whole_or_alone;
use crate::error::ChatError;
use crate::log::Append;
use crate::records::{self, MessageRecord, kind_from_name};
use crate::sends::{self, Plan, RetryKey};
use crate::store::{MessageRange, NewMessage, ReceiptKind, StoreResult};

/// Stores a batch of sends in one transaction and answers each, in the batch's order (group
/// commit; see [`crate::batch`]). `since` is when the oldest of them was queued: a send waits
/// for a connection no longer than [`ACQUIRE_TIMEOUT`] in all, queue included, so that while
/// Postgres is down every send fails within that time rather than queueing behind the batches
/// that are failing before it.
pub async fn send_batch(
    pool: &PgPool,
    batch: Vec<NewMessage>,
    since: Instant,
) -> Vec<StoreResult<SendMessageResponse>> {
    let deadline = since + ACQUIRE_TIMEOUT;
    whole_or_alone(&batch, |sends| store_batch(pool, sends, deadline)).await
}

async fn store_batch(
    pool: &PgPool,
    sends: &[NewMessage],
    deadline: Instant,
) -> StoreResult<Vec<StoreResult<SendMessageResponse>>> {
    let mut tx = tokio::time::timeout_at(deadline, pool.begin())
        .await
        .map_err(|_| ChatError::Unavailable(anyhow::anyhow!("no database connection in time")))??;
    let ids = sends::conversation_ids(sends);
    // Taking the counter rows' locks first, always in the same order, serializes each
    // conversation's senders (across batches and replicas): a retry with the same client
    // message id sees the first attempt's committed row below. Membership changes lock the same
    // rows, so the members read after this see a removal committed while we waited.
    let locked: Vec<(Uuid, i64, String)> = sqlx::query_as(
        "SELECT id, number, kind FROM conversations WHERE id = ANY($1) AND deleted_at IS NULL \
         ORDER BY id FOR UPDATE",
    )
    .bind(&ids)
    .fetch_all(&mut *tx)
    .await?;
    let conversations: HashMap<Uuid, (i64, i32)> = locked
        .into_iter()
        .map(|(id, number, kind)| (id, (number, i32::from(kind_from_name(&kind)))))
        .collect();
    let rows: Vec<(Uuid, Uuid)> = sqlx::query_as(
        "SELECT conversation_id, user_id FROM members \
         WHERE conversation_id = ANY($1) AND left_at IS NULL \
         ORDER BY conversation_id, joined_at, user_id",
    )
    .bind(&ids)
    .fetch_all(&mut *tx)
    .await?;
    let mut members: HashMap<Uuid, Vec<String>> = HashMap::new();
    for (conversation, user) in rows {
        members
            .entry(conversation)
            .or_default()
            .push(user.to_string());
    }
    let allowed: Vec<Result<(), ChatError>> = sends
        .iter()
        .map(|send| {
            let exists = conversations.contains_key(&send.conversation);
            sends::may_send(
                send,
                exists.then(|| members_of(&members, &send.conversation)),
            )
        })
        .collect();
    let earlier = earlier_attempts(&mut tx, sends::permitted(sends, &allowed)).await?;
    let plan = Plan::new(sends, allowed, &earlier);

    let stored = if plan.fresh.is_empty() {
        tx.rollback().await?;
        Vec::new()
    } else {
        let stored = store_fresh(&mut tx, &plan.fresh, &conversations, &members).await?;
        tx.commit().await?;
        stored
    };
    Ok(plan.answer(sends, &stored, |conversation| {
        (
            members_of(&members, conversation).to_vec(),
            conversations[conversation].1,
        )
    }))
}

/// SQL: whether the member `m` of a sender's row `s` has another member's message above
/// `watermark` and below their newest message `s.seq` — one they may not have received yet.
/// Their send then leaves that watermark where it is: moved over it, the watermark would cover
/// the message without its sender ever being told (a receipt logs an event only when it moves
/// the watermark), so the client's receipt for it, naming it, moves it instead.
///
/// The statement's own `inserted` rows are looked at too: a data-modifying CTE's rows are not
/// visible to the rest of its statement in `messages`, and another member's message may be in
/// the same batch, just before the sender's.
fn others_below(watermark: &str) -> String {
    format!(
        "(EXISTS (SELECT 1 FROM messages o WHERE o.conversation_id = m.conversation_id \
         AND o.seq > {watermark} AND o.seq < s.seq AND o.sender_id <> m.user_id \
         AND o.deleted_at IS NULL) \
         OR EXISTS (SELECT 1 FROM inserted i WHERE i.conversation_id = m.conversation_id \
         AND i.seq > {watermark} AND i.seq < s.seq AND i.sender_id <> m.user_id))"
    )
}

fn members_of<'m>(members: &'m HashMap<Uuid, Vec<String>>, conversation: &Uuid) -> &'m [String] {
    members.get(conversation).map_or(&[], Vec::as_slice)
}

/// Messages already stored under the client message ids of `sends`, by (conversation, sender,
/// client message id).
async fn earlier_attempts<'a>(
    tx: &mut PgConnection,
    sends: impl Iterator<Item = &'a NewMessage>,
) -> StoreResult<HashMap<RetryKey, Message>> {
    let (mut conversations, mut senders, mut client_ids) = (Vec::new(), Vec::new(), Vec::new());
    for send in sends {
        if let Some(client_id) = &send.client_message_id {
            conversations.push(send.conversation);
            senders.push(send.sender);
            client_ids.push(client_id.as_str());
        }
    }
    if client_ids.is_empty() {
        return Ok(HashMap::new());
    }
    // One index look-up per key, whatever the planner believes of the table's size: written as
    // `IN (SELECT … UNNEST …)`, a plan made while the table was young (a hash join over a
    // sequential scan) was kept by the connection's statement cache as the table grew, so
    // every batch read every message.
    let rows = sqlx::query(&format!(
        "SELECT m.* FROM UNNEST($1::uuid[], $2::uuid[], $3::text[]) \
             AS k(conversation_id, sender_id, client_message_id) \
         CROSS JOIN LATERAL (SELECT {MESSAGE_COLUMNS} FROM messages \
             WHERE conversation_id = k.conversation_id AND sender_id = k.sender_id \
             AND client_message_id = k.client_message_id LIMIT 1) m"
    ))
    .bind(&conversations)
    .bind(&senders)
    .bind(&client_ids)
    .fetch_all(&mut *tx)
    .await?;
    let mut found = HashMap::with_capacity(rows.len());
    for row in &rows {
        let key = (
            row.try_get("conversation_id")?,
            row.try_get("sender_id")?,
            row.try_get::<Option<String>, _>("client_message_id")?
                .unwrap_or_default(),
        );
        found.insert(key, message(row)?);
    }
    Ok(found)
}

/// Stores `fresh` (in order) with one statement for the counters and one for the messages,
/// the senders' watermarks and the events.
async fn store_fresh(
    tx: &mut PgConnection,
    fresh: &[&NewMessage],
    conversations: &HashMap<Uuid, (i64, i32)>,
    members: &HashMap<Uuid, Vec<String>>,
) -> StoreResult<Vec<Message>> {
    // Each conversation's seq range and time, and the messages' numbers, drawn in one statement
    // under the locks: times and numbers follow seq. The rows are found by their key (`= ANY`),
    // not by a join a plan made on a young table would answer with a sequential scan.
    let mut counts: HashMap<Uuid, i64> = HashMap::new();
    for send in fresh {
        *counts.entry(send.conversation).or_default() += 1;
    }
    let (ids, by): (Vec<Uuid>, Vec<i64>) = counts.iter().map(|(id, n)| (*id, *n)).unzip();
    let rows: Vec<(Uuid, i64, DateTime<Utc>, Vec<i64>)> = sqlx::query_as(
        "WITH counters AS ( \
             UPDATE conversations c \
             SET last_seq = c.last_seq + (SELECT n.count \
                     FROM UNNEST($1::uuid[], $2::bigint[]) AS n(id, count) WHERE n.id = c.id), \
                 updated_at = clock_timestamp() \
             WHERE c.id = ANY($1) \
             RETURNING c.id, c.last_seq, c.updated_at), \
         numbers AS ( \
             SELECT array_agg(n ORDER BY n) AS numbers FROM ( \
                 SELECT nextval('messages_number_seq') AS n FROM generate_series(1, $3)) drawn) \
         SELECT counters.id, counters.last_seq, counters.updated_at, numbers.numbers \
         FROM counters, numbers",
    )
    .bind(&ids)
    .bind(&by)
    .bind(fresh.len() as i64)
    .fetch_all(&mut *tx)
    .await?;
    let numbers = rows.first().map(|row| row.3.clone()).unwrap_or_default();
    if rows.len() != counts.len() || numbers.len() != fresh.len() {
        return Err(ChatError::Internal(anyhow::anyhow!(
            "counters moved for {} of {} conversations, {} numbers for {} messages",
            rows.len(),
            counts.len(),
            numbers.len(),
            fresh.len()
        )));
    }
    // The next seq of each conversation, and its time.
    let mut next: HashMap<Uuid, (i64, DateTime<Utc>)> = rows
        .iter()
        .map(|(id, last, at, _)| {
            let count = counts.get(id).copied().unwrap_or_default();
            (*id, (last - count + 1, *at))
        })
        .collect();

    let mut stored = Vec::with_capacity(fresh.len());
    let mut columns = Columns::with_capacity(fresh.len());
    for (send, number) in fresh.iter().zip(numbers) {
        let (seq, at) = next
            .get_mut(&send.conversation)
            .map(|(seq, at)| {
                *seq += 1;
                (*seq - 1, *at)
            })
            .ok_or_else(|| ChatError::Internal(anyhow::anyhow!("no counter for a message")))?;
        let id = records::new_id();
        let draft: Message = MessageRecord {
            id,
            number,
            conversation: send.conversation,
            seq,
            sender: send.sender,
            sender_number: send.sender_number,
            conversation_number: conversations[&send.conversation].0,
            body: send.body.clone(),
            client_message_id: send.client_message_id.clone(),
            signature: send.signature.clone(),
            created_at: at,
        }
        .into();
        let (conversation_number, kind) = conversations[&send.conversation];
        let recipients = members_of(members, &send.conversation);
        let event = Append::message(&draft, kind, recipients, send.origin.clone())?;
        columns.push(
            Stored {
                id,
                number,
                seq,
                at,
                conversation_number,
            },
            send,
            event,
        );
        stored.push(draft);
    }
    // One statement stores the messages, moves each sender's watermarks (they have seen their
    // own messages, see `others_below`) and logs the events, in the messages' order.
    let inserted: i64 = sqlx::query_scalar(&format!(
        "WITH inserted AS ( \
             INSERT INTO messages (id, conversation_id, seq, sender_id, body, client_message_id, \
                 signature, created_at, sender_number, conversation_number, number) \
             SELECT * FROM UNNEST($1::uuid[], $2::uuid[], $3::bigint[], $4::uuid[], $5::text[], \
                 $6::text[], $7::text[], $8::timestamptz[], $9::bigint[], $10::bigint[], \
                 $11::bigint[]) \
             RETURNING conversation_id, sender_id, seq), \
         seen AS ( \
             UPDATE members m SET \
                 last_delivered_seq = CASE WHEN {delivered} THEN m.last_delivered_seq \
                     ELSE GREATEST(m.last_delivered_seq, s.seq) END, \
                 last_read_seq = CASE WHEN {read} THEN m.last_read_seq \
                     ELSE GREATEST(m.last_read_seq, s.seq) END \
             FROM (SELECT conversation_id, sender_id, max(seq) AS seq FROM inserted \
                   GROUP BY conversation_id, sender_id) s \
             WHERE m.conversation_id = s.conversation_id AND m.user_id = s.sender_id), \
         logged AS ( \
             INSERT INTO event_log (conversation_id, recipients, entry) \
             SELECT e.conversation_id, e.recipients::uuid[], e.entry \
             FROM UNNEST($2::uuid[], $12::text[], $13::bytea[]) WITH ORDINALITY \
                 AS e(conversation_id, recipients, entry, n) \
             ORDER BY e.n) \
         SELECT count(*) FROM inserted",
        delivered = others_below("m.last_delivered_seq"),
        read = others_below("m.last_read_seq"),
    ))
    .bind(&columns.ids)
    .bind(&columns.conversations)
    .bind(&columns.seqs)
    .bind(&columns.senders)
    .bind(&columns.bodies)
    .bind(&columns.client_ids)
    .bind(&columns.signatures)
    .bind(&columns.times)
    .bind(&columns.sender_numbers)
    .bind(&columns.conversation_numbers)
    .bind(&columns.numbers)
    .bind(&columns.recipients)
    .bind(&columns.entries)
    .fetch_one(&mut *tx)
    .await?;
    if inserted != fresh.len() as i64 {
        return Err(ChatError::Internal(anyhow::anyhow!(
            "stored {inserted} of {} messages",
            fresh.len()
        )));
    }
    Ok(stored)
}

/// What storing gives a message beyond what its sender sent.
struct Stored {
    id: Uuid,
    number: i64,
    seq: i64,
    at: DateTime<Utc>,
    conversation_number: i64,
}

/// A batch of messages and their events as the columns `UNNEST` reads.
struct Columns<'a> {
    ids: Vec<Uuid>,
    conversations: Vec<Uuid>,
    seqs: Vec<i64>,
    senders: Vec<Uuid>,
    bodies: Vec<&'a str>,
    client_ids: Vec<Option<&'a str>>,
    signatures: Vec<Option<&'a str>>,
    times: Vec<DateTime<Utc>>,
    sender_numbers: Vec<i64>,
    conversation_numbers: Vec<i64>,
    numbers: Vec<i64>,
    /// Each event's recipients as an array literal (`UNNEST` cannot take ragged arrays).
    recipients: Vec<String>,
    entries: Vec<Vec<u8>>,
}

impl<'a> Columns<'a> {
    fn with_capacity(n: usize) -> Self {
        Self {
            ids: Vec::with_capacity(n),
            conversations: Vec::with_capacity(n),
            seqs: Vec::with_capacity(n),
            senders: Vec::with_capacity(n),
            bodies: Vec::with_capacity(n),
            client_ids: Vec::with_capacity(n),
            signatures: Vec::with_capacity(n),
            times: Vec::with_capacity(n),
            sender_numbers: Vec::with_capacity(n),
            conversation_numbers: Vec::with_capacity(n),
            numbers: Vec::with_capacity(n),
            recipients: Vec::with_capacity(n),
            entries: Vec::with_capacity(n),
        }
    }

    fn push(&mut self, stored: Stored, send: &'a NewMessage, event: Append) {
        self.ids.push(stored.id);
        self.conversations.push(send.conversation);
        self.seqs.push(stored.seq);
        self.senders.push(send.sender);
        self.bodies.push(&send.body);
        self.client_ids.push(send.client_message_id.as_deref());
        self.signatures.push(send.signature.as_deref());
        self.times.push(stored.at);
        self.sender_numbers.push(send.sender_number);
        self.conversation_numbers.push(stored.conversation_number);
        self.numbers.push(stored.number);
        let recipients: Vec<String> = event.recipients.iter().map(Uuid::to_string).collect();
        self.recipients
            .push(format!("{{{}}}", recipients.join(",")));
        self.entries.push(event.entry);
    }
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
