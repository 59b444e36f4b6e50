//! The Postgres backend of the chat store.

mod admin;
mod direct;
mod groups;
mod log;
mod messages;
mod rows;

use chat_proto::chat::{
    Conversation, LatestMessageList, LogEntry, MembershipChange, MessagePage, ReceiptResponse,
    SendMessageResponse,
};
use chrono::{DateTime, Utc};
use sqlx::PgPool;
use sqlx::migrate::Migrator;
use uuid::Uuid;

pub use self::log::PgRelayLease;
use crate::batch::{self, Batcher};
use crate::error::ChatError;
use crate::store::{
    ChatStore, LogRange, MessageRange, NewGroup, NewMessage, ReceiptKind, StoreResult,
};

/// The schema holding the service's tables and migration history.
pub const SCHEMA: &str = "chat";

/// The migrations of the `chat` schema, embedded in the binary.
pub static MIGRATOR: Migrator = sqlx::migrate!("./migrations");

/// Sends waiting to be stored together (group commit).
type SendQueue = Batcher<NewMessage, StoreResult<SendMessageResponse>>;

/// Callers waiting for the log's head, answered together by one read.
type HeadQueue = Batcher<(), StoreResult<i64>>;

/// One user's log reads (catch-ups), answered together by one query.
type ReadQueue = Batcher<log::UserRead, StoreResult<Vec<LogEntry>>>;

#[derive(Clone)]
pub struct PgChatStore {
    pool: PgPool,
    sends: SendQueue,
    heads: HeadQueue,
    reads: ReadQueue,
}

impl PgChatStore {
    /// Wraps a pool whose search path leads to the service's schema, and brings the schema up
    /// to date (migrations take an advisory lock, so replicas starting together do not race).
    pub async fn new(pool: PgPool) -> anyhow::Result<Self> {
        MIGRATOR.run(&pool).await?;
        Ok(Self::over(pool))
    }

    fn over(pool: PgPool) -> Self {
        let batches = pool.clone();
        let sends = Batcher::start(batch::SENDS, move |batch, since| {
            let pool = batches.clone();
            async move { messages::send_batch(&pool, batch, since).await }
        });
        // Every new socket asks for the head: in a reconnect storm, thousands at once. Those
        // that ask while a read runs are answered by the next one, which begins after they
        // asked, so each still gets a head no older than its question (what a gateway needs:
        // every event positioned after it is routed to the socket it has just marked online).
        let head_pool = pool.clone();
        let heads = Batcher::start(batch::HEADS, move |asks: Vec<()>, _since| {
            let pool = head_pool.clone();
            async move {
                let head = log::head(&pool).await;
                asks.iter()
                    .map(|()| head.as_ref().copied().map_err(ChatError::shared))
                    .collect()
            }
        });
        // Every socket that resumes reads the log: in a storm, thousands at once.
        let read_pool = pool.clone();
        let reads = Batcher::start(batch::READS, move |asks: Vec<log::UserRead>, _since| {
            let pool = read_pool.clone();
            async move {
                match log::read_each(&pool, &asks).await {
                    Ok(answers) => answers,
                    Err(error) => asks.iter().map(|_| Err(error.shared())).collect(),
                }
            }
        });
        Self {
            pool,
            sends,
            heads,
            reads,
        }
    }

    /// Connects to `url` (tables in the `chat` schema) and migrates.
    pub async fn connect(url: &str, max_connections: u32) -> anyhow::Result<Self> {
        let pool = service_runtime::postgres::connect(url, SCHEMA, max_connections).await?;
        Self::new(pool).await
    }

    /// Connects without migrating (`--skip-migrations`), failing unless the schema is already
    /// up to date.
    pub async fn connect_migrated(url: &str, max_connections: u32) -> anyhow::Result<Self> {
        let pool = service_runtime::postgres::connect(url, SCHEMA, max_connections).await?;
        service_runtime::postgres::ensure_migrated(&pool, &MIGRATOR, SCHEMA).await?;
        Ok(Self::over(pool))
    }
}

impl ChatStore for PgChatStore {
    type Lease = PgRelayLease;

    async fn create_group(&self, group: NewGroup) -> StoreResult<Conversation> {
        groups::create(&self.pool, group).await
    }

    async fn join_group(
        &self,
        actor: Uuid,
        conversation: Uuid,
        user: Uuid,
    ) -> StoreResult<MembershipChange> {
        groups::join(&self.pool, actor, conversation, user).await
    }

    async fn leave_group(
        &self,
        actor: Uuid,
        conversation: Uuid,
        user: Uuid,
    ) -> StoreResult<MembershipChange> {
        groups::leave(&self.pool, actor, conversation, user).await
    }

    async fn list_conversations(&self, user: Uuid) -> StoreResult<Vec<Conversation>> {
        groups::list(&self.pool, user).await
    }

    async fn public_groups(&self) -> StoreResult<Vec<Conversation>> {
        groups::public(&self.pool).await
    }

    async fn rename_group(
        &self,
        actor: Uuid,
        conversation: Uuid,
        name: String,
    ) -> StoreResult<Conversation> {
        groups::rename(&self.pool, actor, conversation, &name).await
    }

    async fn get_conversation(&self, user: Uuid, conversation: Uuid) -> StoreResult<Conversation> {
        groups::get(&self.pool, user, conversation).await
    }

    async fn conversation_by_number(&self, number: i64) -> StoreResult<Option<Uuid>> {
        let id = sqlx::query_scalar(
            "SELECT id FROM conversations WHERE number = $1 AND deleted_at IS NULL",
        )
        .bind(number)
        .fetch_optional(&self.pool)
        .await?;
        Ok(id)
    }

    async fn direct_conversation(
        &self,
        user: Uuid,
        peer: Uuid,
        create: bool,
    ) -> StoreResult<Option<Conversation>> {
        direct::get_or_create(&self.pool, user, peer, create, false).await
    }

    async fn bot_conversation(
        &self,
        user: Uuid,
        bot: Uuid,
        create: bool,
    ) -> StoreResult<Option<Conversation>> {
        direct::get_or_create(&self.pool, user, bot, create, true).await
    }

    async fn latest_messages(
        &self,
        user: Uuid,
        limit: u32,
        offset: u32,
    ) -> StoreResult<LatestMessageList> {
        direct::latest(&self.pool, user, limit, offset).await
    }

    async fn send_message(&self, message: NewMessage) -> StoreResult<SendMessageResponse> {
        self.sends.store(message).await
    }

    async fn send_messages(
        &self,
        messages: Vec<NewMessage>,
    ) -> Vec<StoreResult<SendMessageResponse>> {
        messages::send_batch(&self.pool, messages, tokio::time::Instant::now()).await
    }

    async fn list_messages(
        &self,
        user: Uuid,
        conversation: Uuid,
        range: MessageRange,
    ) -> StoreResult<MessagePage> {
        messages::list(&self.pool, user, conversation, range).await
    }

    async fn mark(
        &self,
        user: Uuid,
        message: Uuid,
        kind: ReceiptKind,
    ) -> StoreResult<ReceiptResponse> {
        messages::mark(&self.pool, user, message, kind).await
    }

    async fn log_head(&self) -> StoreResult<i64> {
        self.heads.store(()).await
    }

    async fn log_position_before(&self, since: DateTime<Utc>) -> StoreResult<i64> {
        log::position_before(&self.pool, since).await
    }

    async fn read_log(&self, users: &[Uuid], range: LogRange) -> StoreResult<Vec<LogEntry>> {
        match users {
            [user] => self.reads.store((*user, range)).await,
            _ => log::read(&self.pool, users, range).await,
        }
    }

    async fn conversation_by_external_id(
        &self,
        external_id: &str,
    ) -> StoreResult<Option<Conversation>> {
        groups::by_external_id(&self.pool, external_id).await
    }

    async fn delete_group(&self, actor: Uuid, conversation: Uuid) -> StoreResult<Vec<Uuid>> {
        groups::delete(&self.pool, actor, conversation).await
    }

    async fn counts(&self) -> StoreResult<(i64, i64)> {
        admin::counts(&self.pool).await
    }

    async fn export_messages(
        &self,
        conversation: Uuid,
        after_seq: i64,
        limit: u32,
    ) -> StoreResult<Option<Vec<chat_proto::chat::Message>>> {
        admin::export(&self.pool, conversation, after_seq, limit).await
    }

    async fn relay_lease(&self) -> StoreResult<Option<PgRelayLease>> {
        log::lease(&self.pool).await
    }
}
