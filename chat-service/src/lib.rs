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

/// Connects to Postgres, migrates, and serves.
pub async fn run(
    config: Config,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let store = PgChatStore::connect(&config.database_url, config.database_max_connections).await?;
    serve(listener, store, shutdown).await
}
