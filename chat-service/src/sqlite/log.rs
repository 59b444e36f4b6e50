//! The event log in SQLite. There is one writer, so a row gets its position in the transaction
//! that appends it: positions follow commit order without a separate pass. The relay's lease is
//! always granted (one process owns the file).

use chat_proto::chat::LogEntry;
use chrono::{DateTime, Utc};
use sqlx::sqlite::SqliteRow;
use sqlx::{Row, SqliteConnection, SqlitePool};
use uuid::Uuid;

use super::rows::{json_array, json_ids, micros};
use crate::log::{Append, LoggedRow, MAX_PAGE};
use crate::store::{LogRange, RelayLease, StoreResult};

pub async fn append(conn: &mut SqliteConnection, append: &Append) -> Result<(), sqlx::Error> {
    append_all(conn, std::slice::from_ref(append)).await
}

/// Appends `appends` in order in two round trips to SQLite's thread, however many there are:
/// the head, then the rows and their recipients.
pub async fn append_all(
    conn: &mut SqliteConnection,
    appends: &[Append],
) -> Result<(), sqlx::Error> {
    if appends.is_empty() {
        return Ok(());
    }
    let (head, last_time): (i64, i64) = sqlx::query_as(&HEAD).fetch_one(&mut *conn).await?;
    let rows = LogRows::new(head, last_time, appends)?;
    sqlx::query(&INSERT)
        .bind(rows.rows)
        .bind(rows.at)
        .bind(rows.recipients)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// The log's head (`log_head`) and the time of its newest row (`log_time`), as the columns of
/// a `SELECT`. Each of the two maxima is its own subquery, so that SQLite reads it off an
/// index's end; one query with both would scan the whole log.
pub const HEAD_COLUMNS: &str = "COALESCE((SELECT MAX(position) FROM event_log), 0) AS log_head, \
     COALESCE((SELECT MAX(logged_at) FROM event_log), 0) AS log_time";

static HEAD: std::sync::LazyLock<String> =
    std::sync::LazyLock::new(|| format!("SELECT {HEAD_COLUMNS}"));

/// The statements of [`append_all`], parameters from `$1`.
static INSERT: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| insert_sql(1));

/// Rows to append after the head, as the parameters of [`insert_sql`].
pub struct LogRows {
    /// The rows, as one JSON array.
    pub rows: String,
    /// When they are logged: now, or the newest row's time if the clock went back.
    pub at: i64,
    /// (user, position) pairs, as one JSON array.
    pub recipients: String,
}

impl LogRows {
    /// `appends` at the positions after `head`; `last_time` is when the newest row was logged.
    pub fn new(head: i64, last_time: i64, appends: &[Append]) -> Result<Self, sqlx::Error> {
        let mut rows = Vec::with_capacity(appends.len());
        let mut recipients = Vec::new();
        for (position, append) in (head + 1..).zip(appends) {
            let ids: Vec<String> = append
                .recipients
                .iter()
                .map(|id| id.hyphenated().to_string())
                .collect();
            rows.push(serde_json::json!([
                position,
                append.conversation.hyphenated().to_string(),
                ids.join(","),
                hex::encode(&append.entry),
            ]));
            recipients.extend(ids.into_iter().map(|id| serde_json::json!([id, position])));
        }
        Ok(Self {
            rows: json_array(&rows)?,
            at: micros(Utc::now()).max(last_time),
            recipients: json_array(&recipients)?,
        })
    }
}

/// The two statements that append [`LogRows`]: its rows, time and recipients are the
/// parameters numbered `first`, `first + 1` and `first + 2`. One query string holds both, so
/// they go to SQLite's thread together.
pub fn insert_sql(first: usize) -> String {
    let (rows, at, recipients) = (first, first + 1, first + 2);
    format!(
        "INSERT INTO event_log (position, logged_at, conversation_id, recipients, entry) \
         SELECT value ->> 0, ${at}, value ->> 1, value ->> 2, unhex(value ->> 3) \
         FROM json_each(${rows}) ORDER BY key; \
         INSERT OR IGNORE INTO event_recipients (user_id, position) \
         SELECT value ->> 0, value ->> 1 FROM json_each(${recipients});"
    )
}

fn logged(row: &SqliteRow) -> Result<LoggedRow, sqlx::Error> {
    let recipients: String = row.try_get("recipients")?;
    let recipients = recipients
        .split(',')
        .filter(|id| !id.is_empty())
        .map(|id| Uuid::parse_str(id).map_err(|error| sqlx::Error::Decode(error.into())))
        .collect::<Result<_, _>>()?;
    Ok(LoggedRow {
        position: row.try_get("position")?,
        recipients,
        entry: row.try_get("entry")?,
    })
}

pub async fn head(reader: &SqlitePool) -> StoreResult<i64> {
    let head: Option<i64> = sqlx::query_scalar("SELECT MAX(position) FROM event_log")
        .fetch_one(reader)
        .await?;
    Ok(head.unwrap_or(0))
}

pub async fn position_before(reader: &SqlitePool, since: DateTime<Utc>) -> StoreResult<i64> {
    let position: Option<i64> = sqlx::query_scalar(
        "SELECT position FROM event_log WHERE logged_at < $1 \
         ORDER BY logged_at DESC, position DESC LIMIT 1",
    )
    .bind(micros(since))
    .fetch_optional(reader)
    .await?;
    Ok(position.unwrap_or(0))
}

pub async fn read(
    reader: &SqlitePool,
    users: &[Uuid],
    range: LogRange,
) -> StoreResult<Vec<LogEntry>> {
    let ids = json_ids(users);
    let rows = sqlx::query(
        "SELECT l.position, l.recipients, l.entry FROM event_log l \
         WHERE l.position IN ( \
             SELECT DISTINCT r.position FROM event_recipients r \
             WHERE r.user_id IN (SELECT value FROM json_each($1)) AND r.position > $2 \
               AND ($3 IS NULL OR r.position <= $3) \
             ORDER BY r.position LIMIT $4) \
         ORDER BY l.position",
    )
    .bind(ids)
    .bind(range.after)
    .bind(range.up_to)
    .bind(i64::from(range.limit.clamp(1, MAX_PAGE + 1)))
    .fetch_all(reader)
    .await?;
    rows.iter()
        .map(|row| logged(row)?.decode(Some(users)))
        .collect()
}

/// The relay's lease on a single-process database.
pub struct SqliteRelayLease {
    writer: SqlitePool,
    reader: SqlitePool,
}

pub fn lease(writer: &SqlitePool, reader: &SqlitePool) -> SqliteRelayLease {
    SqliteRelayLease {
        writer: writer.clone(),
        reader: reader.clone(),
    }
}

impl RelayLease for SqliteRelayLease {
    async fn published(&mut self) -> StoreResult<i64> {
        Ok(
            sqlx::query_scalar("SELECT published FROM event_relay WHERE id = 1")
                .fetch_one(&self.reader)
                .await?,
        )
    }

    async fn next(&mut self, after: i64, limit: u32) -> StoreResult<Vec<LogEntry>> {
        let rows = sqlx::query(
            "SELECT position, recipients, entry FROM event_log WHERE position > $1 \
             ORDER BY position LIMIT $2",
        )
        .bind(after)
        .bind(i64::from(limit.clamp(1, MAX_PAGE)))
        .fetch_all(&self.reader)
        .await?;
        rows.iter().map(|row| logged(row)?.decode(None)).collect()
    }

    async fn set_published(&mut self, position: i64) -> StoreResult<()> {
        sqlx::query("UPDATE event_relay SET published = MAX(published, $1) WHERE id = 1")
            .bind(position)
            .execute(&self.writer)
            .await?;
        Ok(())
    }
}
