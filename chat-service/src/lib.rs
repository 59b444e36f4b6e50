//! chat-service: groups, direct and bot conversations, messages, receipts and catch-up, served
//! over gRPC from Postgres, SQLite (single-process mode) or any other [`store::ChatStore`].

pub mod config;
pub mod error;
pub mod feed;
pub mod postgres;
pub mod records;
pub mod rules;
pub mod service;
pub mod sqlite;
pub mod store;

use std::future::Future;

use chat_proto::chat::chat_server::ChatServer;
use tokio::net::TcpListener;

pub use config::Config;
pub use postgres::PgChatStore;
pub use service::ChatService;
pub use sqlite::SqliteChatStore;
pub use store::ChatStore;

/// Serves the chat gRPC service and `grpc.health.v1` on `listener` until `shutdown` resolves;
/// health turns NOT_SERVING first, then calls in flight finish (within the drain grace).
pub async fn serve<S: ChatStore>(
    listener: TcpListener,
    store: S,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    service_runtime::grpc::serve(listener, ChatServer::new(ChatService::new(store)), shutdown).await
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
    serve(listener, store, shutdown).await
}
