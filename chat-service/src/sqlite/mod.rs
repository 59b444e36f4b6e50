//! The SQLite backend of the chat store, for the single-process mode: one database file, the
//! same tables and rules as Postgres.
//!
//! SQLite has one writer at a time. Writes go through a pool of one connection and start with
//! `BEGIN IMMEDIATE`, which takes the write lock before the transaction reads anything: writers
//! queue instead of failing with `SQLITE_BUSY` on a lock upgrade, and what a write transaction
//! reads cannot change under it. Reads use a pool of their own and, in WAL mode, never wait for
//! the writer.

mod admin;
mod direct;
mod groups;
mod log;
mod messages;
mod rows;

use std::path::Path;
use std::time::Duration;

use anyhow::Context;
use chat_proto::chat::{
    Conversation, LatestMessageList, LogEntry, MembershipChange, MessagePage, ReceiptResponse,
    SendMessageResponse,
};
use chrono::{DateTime, Utc};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Sqlite, SqlitePool, Transaction};
use uuid::Uuid;

pub use self::log::SqliteRelayLease;
use crate::batch::Batcher;
use crate::store::{
    ChatStore, LogRange, MessageRange, NewGroup, NewMessage, ReceiptKind, StoreResult,
};

/// Connections that read while the writer writes.
const READERS: u32 = 4;
/// Pages of the database the writer keeps in memory (64 MiB): the log's and the messages'
/// indexes are written all over, and a page read back from the OS costs a copy each time.
const WRITER_CACHE_KIB: i64 = 64 * 1024;
/// WAL pages the writer lets gather before a commit copies them into the database (SQLite's
/// default is 1,000). A batch of sends dirties hundreds of pages, most of them again in the
/// next batch (each conversation's and recipient's newest leaf): at the default nearly every
/// commit checkpoints, copying pages that the next commit dirties anew; at 10,000 (~40 MiB of
/// WAL) a checkpoint copies each page once for many commits. Measured: +60 % acknowledged sends
/// together with the dropped `messages` indexes (BENCHMARKS.md).
const WAL_PAGES_BEFORE_CHECKPOINT: u32 = 10_000;

#[derive(Clone)]
pub struct SqliteChatStore {
    writer: SqlitePool,
    reader: SqlitePool,
    /// Sends waiting to be stored together (group commit): one transaction, one sync of the
    /// WAL, for each batch.
    sends: Batcher<NewMessage, StoreResult<SendMessageResponse>>,
}

impl SqliteChatStore {
    /// Opens (creating it and its directory if needed) the database file at `path` and brings
    /// its schema up to date.
    pub async fn open(path: &Path) -> anyhow::Result<Self> {
        if let Some(dir) = path.parent().filter(|dir| !dir.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create the directory {}", dir.display()))?;
        }
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // A send is acknowledged after its commit: FULL syncs the WAL at every commit, so
            // an acknowledged message survives a power cut, not only a crash of the process.
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(5))
            // A statement that may fail halfway (every batch's `INSERT … SELECT`) journals the
            // pages it changes; in memory, not in a temporary file written at every batch.
            .pragma("temp_store", "memory");
        let cannot_open = || format!("cannot open the SQLite database {}", path.display());
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(
                options
                    .clone()
                    .pragma("cache_size", (-WRITER_CACHE_KIB).to_string())
                    .pragma(
                        "wal_autocheckpoint",
                        WAL_PAGES_BEFORE_CHECKPOINT.to_string(),
                    ),
            )
            .await
            .with_context(cannot_open)?;
        sqlx::migrate!("./migrations-sqlite")
            .run(&writer)
            .await
            .with_context(|| format!("cannot migrate {}", path.display()))?;
        let reader = SqlitePoolOptions::new()
            .max_connections(READERS)
            .connect_with(options)
            .await
            .with_context(cannot_open)?;
        let batches = writer.clone();
        // One writer, and no server to lose: a batch waits its turn however long that takes.
        let sends = Batcher::start(crate::batch::ONE_WRITER_SENDS, move |batch, _since| {
            let writer = batches.clone();
            async move { messages::send_batch(&writer, batch).await }
        });
        Ok(Self {
            writer,
            reader,
            sends,
        })
    }

    /// Closes every connection, after the calls in flight finish.
    pub async fn close(&self) {
        self.reader.close().await;
        self.writer.close().await;
    }
}

/// Starts a write transaction holding SQLite's write lock from its first statement.
async fn write(writer: &SqlitePool) -> Result<Transaction<'static, Sqlite>, sqlx::Error> {
    writer.begin_with("BEGIN IMMEDIATE").await
}

impl ChatStore for SqliteChatStore {
    type Lease = SqliteRelayLease;

    async fn create_group(&self, group: NewGroup) -> StoreResult<Conversation> {
        groups::create(&self.writer, group).await
    }

    async fn join_group(
        &self,
        actor: Uuid,
        conversation: Uuid,
        user: Uuid,
    ) -> StoreResult<MembershipChange> {
        groups::join(&self.writer, actor, conversation, user).await
    }

    async fn leave_group(
        &self,
        actor: Uuid,
        conversation: Uuid,
        user: Uuid,
    ) -> StoreResult<MembershipChange> {
        groups::leave(&self.writer, actor, conversation, user).await
    }

    async fn list_conversations(&self, user: Uuid) -> StoreResult<Vec<Conversation>> {
        groups::list(&self.reader, user).await
    }

    async fn public_groups(&self) -> StoreResult<Vec<Conversation>> {
        groups::public(&self.reader).await
    }

    async fn rename_group(
        &self,
        actor: Uuid,
        conversation: Uuid,
        name: String,
    ) -> StoreResult<Conversation> {
        groups::rename(&self.writer, actor, conversation, &name).await
    }

    async fn get_conversation(&self, user: Uuid, conversation: Uuid) -> StoreResult<Conversation> {
        groups::get(&self.reader, user, conversation).await
    }

    async fn conversation_by_number(&self, number: i64) -> StoreResult<Option<Uuid>> {
        let id: Option<uuid::fmt::Hyphenated> = sqlx::query_scalar(
            "SELECT id FROM conversations WHERE number = $1 AND deleted_at IS NULL",
        )
        .bind(number)
        .fetch_optional(&self.reader)
        .await?;
        Ok(id.map(uuid::fmt::Hyphenated::into_uuid))
    }

    async fn direct_conversation(
        &self,
        user: Uuid,
        peer: Uuid,
        create: bool,
    ) -> StoreResult<Option<Conversation>> {
        direct::get_or_create(&self.writer, &self.reader, user, peer, create, false).await
    }

    async fn bot_conversation(
        &self,
        user: Uuid,
        bot: Uuid,
        create: bool,
    ) -> StoreResult<Option<Conversation>> {
        direct::get_or_create(&self.writer, &self.reader, user, bot, create, true).await
    }

    async fn latest_messages(
        &self,
        user: Uuid,
        limit: u32,
        offset: u32,
    ) -> StoreResult<LatestMessageList> {
        direct::latest(&self.reader, user, limit, offset).await
    }

    async fn send_message(&self, message: NewMessage) -> StoreResult<SendMessageResponse> {
        self.sends.store(message).await
    }

    async fn send_messages(
        &self,
        messages: Vec<NewMessage>,
    ) -> Vec<StoreResult<SendMessageResponse>> {
        messages::send_batch(&self.writer, messages).await
    }

    async fn list_messages(
        &self,
        user: Uuid,
        conversation: Uuid,
        range: MessageRange,
    ) -> StoreResult<MessagePage> {
        messages::list(&self.reader, user, conversation, range).await
    }

    async fn mark(
        &self,
        user: Uuid,
        message: Uuid,
        kind: ReceiptKind,
    ) -> StoreResult<ReceiptResponse> {
        messages::mark(&self.writer, user, message, kind).await
    }

    async fn log_head(&self) -> StoreResult<i64> {
        log::head(&self.reader).await
    }

    async fn log_position_before(&self, since: DateTime<Utc>) -> StoreResult<i64> {
        log::position_before(&self.reader, since).await
    }

    async fn read_log(&self, users: &[Uuid], range: LogRange) -> StoreResult<Vec<LogEntry>> {
        log::read(&self.reader, users, range).await
    }

    async fn conversation_by_external_id(
        &self,
        external_id: &str,
    ) -> StoreResult<Option<Conversation>> {
        groups::by_external_id(&self.reader, external_id).await
    }

    async fn delete_group(&self, actor: Uuid, conversation: Uuid) -> StoreResult<Vec<Uuid>> {
        groups::delete(&self.writer, actor, conversation).await
    }

    async fn counts(&self) -> StoreResult<(i64, i64)> {
        admin::counts(&self.reader).await
    }

    async fn export_messages(
        &self,
        conversation: Uuid,
        after_seq: i64,
        limit: u32,
    ) -> StoreResult<Option<Vec<chat_proto::chat::Message>>> {
        admin::export(&self.reader, conversation, after_seq, limit).await
    }

    async fn relay_lease(&self) -> StoreResult<Option<SqliteRelayLease>> {
        Ok(Some(log::lease(&self.writer, &self.reader)))
    }
}
