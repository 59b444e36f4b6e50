//! The event log in Postgres: appending in a write's transaction, reading by position, and the
//! relay's lease.
//!
//! Rows are appended without a position. The relay — one replica at a time, holding a session
//! advisory lock on a connection of its own — gives every committed row without a position the
//! next positions, in one statement. A row whose transaction commits while that statement runs
//! is not visible to it and gets a later position in the next pass, so positions follow commit
//! order as readers can observe it: nothing ever appears below a position a reader has passed.

use chat_proto::chat::LogEntry;
use chrono::{DateTime, Utc};
use sqlx::postgres::PgRow;
use sqlx::{Connection, PgConnection, PgPool, Row};
use uuid::Uuid;

use crate::error::ChatError;
use crate::log::{Append, LoggedRow, MAX_PAGE};
use crate::store::{LogRange, RelayLease, StoreResult};

/// The advisory lock that makes one replica the relay.
const RELAY_LOCK: i64 = 0x6368_6174_7265_6c61; // "chatrela"

pub async fn append(conn: &mut PgConnection, append: &Append) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO event_log (conversation_id, recipients, entry) VALUES ($1, $2, $3)")
        .bind(append.conversation)
        .bind(&append.recipients)
        .bind(&append.entry)
        .execute(conn)
        .await?;
    Ok(())
}

fn logged(row: &PgRow) -> Result<LoggedRow, sqlx::Error> {
    Ok(LoggedRow {
        position: row.try_get("position")?,
        recipients: row.try_get("recipients")?,
        entry: row.try_get("entry")?,
    })
}

pub async fn head(pool: &PgPool) -> StoreResult<i64> {
    let head: Option<i64> = sqlx::query_scalar("SELECT MAX(position) FROM event_log")
        .fetch_one(pool)
        .await?;
    Ok(head.unwrap_or(0))
}

pub async fn position_before(pool: &PgPool, since: DateTime<Utc>) -> StoreResult<i64> {
    // Times never decrease along positions: walk back from the newest.
    let position: Option<i64> = sqlx::query_scalar(
        "SELECT position FROM event_log WHERE position IS NOT NULL AND logged_at < $1 \
         ORDER BY position DESC LIMIT 1",
    )
    .bind(since)
    .fetch_optional(pool)
    .await?;
    Ok(position.unwrap_or(0))
}

pub async fn read(pool: &PgPool, users: &[Uuid], range: LogRange) -> StoreResult<Vec<LogEntry>> {
    let rows = sqlx::query(
        "SELECT l.position, l.recipients, l.entry FROM event_log l \
         WHERE l.position IN ( \
             SELECT DISTINCT r.position FROM event_recipients r \
             WHERE r.user_id = ANY($1) AND r.position > $2 \
               AND ($3::bigint IS NULL OR r.position <= $3) \
             ORDER BY r.position LIMIT $4) \
         ORDER BY l.position",
    )
    .bind(users)
    .bind(range.after)
    .bind(range.up_to)
    .bind(i64::from(range.limit.clamp(1, MAX_PAGE + 1)))
    .fetch_all(pool)
    .await?;
    rows.iter()
        .map(|row| logged(row)?.decode(Some(users)))
        .collect()
}

/// One user's read of the log, answered in a batch with others by [`read_each`].
pub type UserRead = (Uuid, LogRange);

/// Reads the log for each of `reads` with one query: in a reconnect storm, thousands of
/// sockets catch up at once, and one query each would queue them all for the pool's
/// connections. The answers come in the order of `reads`; a row that does not decode fails its
/// own read only.
pub async fn read_each(
    pool: &PgPool,
    reads: &[UserRead],
) -> StoreResult<Vec<StoreResult<Vec<LogEntry>>>> {
    let users: Vec<Uuid> = reads.iter().map(|(user, _)| *user).collect();
    let afters: Vec<i64> = reads.iter().map(|(_, range)| range.after).collect();
    let up_tos: Vec<Option<i64>> = reads.iter().map(|(_, range)| range.up_to).collect();
    let limits: Vec<i64> = reads
        .iter()
        .map(|(_, range)| i64::from(range.limit.clamp(1, MAX_PAGE + 1)))
        .collect();
    let rows = sqlx::query(
        "SELECT q.i, l.position, l.recipients, l.entry \
         FROM UNNEST($1::uuid[], $2::bigint[], $3::bigint[], $4::bigint[]) WITH ORDINALITY \
             AS q(user_id, after, up_to, lim, i) \
         CROSS JOIN LATERAL ( \
             SELECT r.position FROM event_recipients r \
             WHERE r.user_id = q.user_id AND r.position > q.after \
               AND (q.up_to IS NULL OR r.position <= q.up_to) \
             ORDER BY r.position LIMIT q.lim) p \
         JOIN event_log l ON l.position = p.position \
         ORDER BY q.i, l.position",
    )
    .bind(&users)
    .bind(&afters)
    .bind(&up_tos)
    .bind(&limits)
    .fetch_all(pool)
    .await?;
    let mut answers: Vec<StoreResult<Vec<LogEntry>>> =
        reads.iter().map(|_| Ok(Vec::new())).collect();
    for row in &rows {
        let i: i64 = row.try_get("i")?;
        let index = usize::try_from(i - 1)
            .ok()
            .filter(|index| *index < reads.len())
            .ok_or_else(|| ChatError::Internal(anyhow::anyhow!("a log row for no read: {i}")))?;
        let only = [reads[index].0];
        let entry = logged(row)
            .map_err(ChatError::from)
            .and_then(|row| row.decode(Some(&only)));
        match (&mut answers[index], entry) {
            (Ok(entries), Ok(entry)) => entries.push(entry),
            (answer @ Ok(_), Err(error)) => *answer = Err(error),
            (Err(_), _) => {}
        }
    }
    Ok(answers)
}

/// The relay's lease: a connection holding the relay's advisory lock.
pub struct PgRelayLease {
    conn: PgConnection,
    /// The newest position this lease knows of, once it has published everything positioned
    /// before it took over; from then on it only positions new rows.
    positioned_after: Option<i64>,
}

pub async fn lease(pool: &PgPool) -> StoreResult<Option<PgRelayLease>> {
    let mut conn = pool.acquire().await?.detach();
    let locked: bool = sqlx::query_scalar("SELECT pg_try_advisory_lock($1)")
        .bind(RELAY_LOCK)
        .fetch_one(&mut conn)
        .await?;
    if locked {
        Ok(Some(PgRelayLease {
            conn,
            positioned_after: None,
        }))
    } else {
        // Closing the connection is all the cleanup a lock not taken needs.
        let _ = conn.close().await;
        Ok(None)
    }
}

impl RelayLease for PgRelayLease {
    async fn published(&mut self) -> StoreResult<i64> {
        Ok(
            sqlx::query_scalar("SELECT published FROM event_relay WHERE id = 1")
                .fetch_one(&mut self.conn)
                .await?,
        )
    }

    async fn next(&mut self, after: i64, limit: u32) -> StoreResult<Vec<LogEntry>> {
        let limit = i64::from(limit.clamp(1, MAX_PAGE));
        // What already has a position after `after` comes first: a relay that just took over
        // publishes again what its predecessor may not have.
        if self.positioned_after.is_none_or(|head| head > after) {
            let rows = sqlx::query(
                "SELECT position, recipients, entry FROM event_log WHERE position > $1 \
                 ORDER BY position LIMIT $2",
            )
            .bind(after)
            .bind(limit)
            .fetch_all(&mut self.conn)
            .await?;
            if !rows.is_empty() {
                return rows.iter().map(|row| logged(row)?.decode(None)).collect();
            }
            self.positioned_after = Some(after);
        }
        // Positions continue from the head, in the order the rows were appended; the time
        // never goes back along the positions, even when the clock does.
        let rows = sqlx::query(
            "WITH head AS ( \
                 SELECT position, logged_at FROM event_log WHERE position IS NOT NULL \
                 ORDER BY position DESC LIMIT 1), \
             pending AS ( \
                 SELECT id, row_number() OVER (ORDER BY id) AS n FROM event_log \
                 WHERE position IS NULL ORDER BY id LIMIT $1), \
             positioned AS ( \
                 UPDATE event_log l \
                 SET position = COALESCE((SELECT position FROM head), 0) + pending.n, \
                     logged_at = GREATEST(clock_timestamp(), (SELECT logged_at FROM head)) \
                 FROM pending WHERE l.id = pending.id AND l.position IS NULL \
                 RETURNING l.position, l.recipients, l.entry), \
             fanned AS ( \
                 INSERT INTO event_recipients (user_id, position) \
                 SELECT r.user_id, p.position FROM positioned p, \
                     UNNEST(p.recipients) AS r(user_id) \
                 ON CONFLICT DO NOTHING) \
             SELECT position, recipients, entry FROM positioned ORDER BY position",
        )
        .bind(limit)
        .fetch_all(&mut self.conn)
        .await?;
        let entries = rows
            .iter()
            .map(|row| logged(row)?.decode(None))
            .collect::<StoreResult<Vec<_>>>()?;
        if let Some(last) = entries.last() {
            self.positioned_after = Some(last.position);
        }
        Ok(entries)
    }

    async fn set_published(&mut self, position: i64) -> StoreResult<()> {
        sqlx::query("UPDATE event_relay SET published = GREATEST(published, $1) WHERE id = 1")
            .bind(position)
            .execute(&mut self.conn)
            .await?;
        Ok(())
    }
}
