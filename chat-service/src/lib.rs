//! chat-service: groups, direct and bot conversations, messages, receipts and catch-up, served
//! over gRPC from Postgres, SQLite (single-process mode) or any other [`store::ChatStore`].

pub mod batch;
pub mod config;
pub mod error;
pub mod log;
pub mod membership_events;
pub mod postgres;
pub mod records;
pub mod relay;
pub mod rules;
pub mod service;
pub mod sqlite;
pub mod store;

use std::future::Future;
use std::sync::Arc;

use chat_proto::chat::chat_server::ChatServer;
use tokio::net::TcpListener;
use tokio::sync::Notify;

pub use config::Config;
pub use postgres::PgChatStore;
pub use relay::Publisher;
pub use service::ChatService;
pub use sqlite::SqliteChatStore;
pub use store::ChatStore;

/// Serves the chat gRPC service and `grpc.health.v1` on `listener` until `shutdown` resolves;
/// health turns NOT_SERVING first, then calls in flight finish (within the drain grace). The log
/// relay runs alongside, publishing through `publisher` when there is one.
pub async fn serve<S: ChatStore>(
    listener: TcpListener,
    store: S,
    publisher: Option<Publisher>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let written = Arc::new(Notify::new());
    let relay = tokio::spawn(relay::run(store.clone(), publisher, written.clone()));
    let service = ChatServer::new(ChatService::new(store, written));
    let served = service_runtime::grpc::serve(listener, service, shutdown).await;
    relay.abort();
    served
}

/// `--migrate-only`: brings the `chat` schema up to date and returns, serving nothing.
pub async fn migrate(config: &Config) -> anyhow::Result<()> {
    PgChatStore::connect(&config.database_url, 1).await?;
    tracing::info!(schema = postgres::SCHEMA, "migrations applied");
    Ok(())
}

/// Connects to Postgres, migrates (or, with `--skip-migrations`, checks that the schema is up to
/// date), and serves. With `--migrate-only` it only migrates.
pub async fn run(
    config: Config,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    if config.migrate_only {
        return migrate(&config).await;
    }
    let (url, pool_size) = (&config.database_url, config.database_max_connections);
    let store = if config.skip_migrations {
        PgChatStore::connect_migrated(url, pool_size).await?
    } else {
        PgChatStore::connect(url, pool_size).await?
    };
    service_runtime::metrics::listen(config.metrics_listen).await?;
    let bus = service_runtime::bus::RedisBus::connect(&config.redis_url, &config.redis_key_prefix)
        .await?;
    let publisher = Publisher::new(Arc::new(bus), &config.presence_url)?;
    serve(listener, store, Some(publisher), shutdown).await
}
