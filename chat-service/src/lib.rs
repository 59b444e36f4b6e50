//! chat-service: groups, direct and bot conversations, messages, receipts and catch-up, served
//! over gRPC from Postgres (or any other [`store::ChatStore`]).

pub mod config;
pub mod error;
pub mod feed;
pub mod postgres;
pub mod rules;
pub mod service;
pub mod store;

use std::future::Future;

use chat_proto::chat::chat_server::ChatServer;
use tokio::net::TcpListener;
use tokio_stream::wrappers::TcpListenerStream;

pub use config::Config;
pub use postgres::PgChatStore;
pub use service::ChatService;
pub use store::ChatStore;

/// Serves the chat gRPC service and `grpc.health.v1` on `listener` until `shutdown` resolves;
/// health turns NOT_SERVING first, then calls in flight finish.
pub async fn serve<S: ChatStore>(
    listener: TcpListener,
    store: S,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let (reporter, health) = tonic_health::server::health_reporter();
    reporter.set_serving::<ChatServer<ChatService<S>>>().await;
    let drain = async move {
        shutdown.await;
        reporter
            .set_not_serving::<ChatServer<ChatService<S>>>()
            .await;
    };
    tonic::transport::Server::builder()
        .add_service(health)
        .add_service(ChatServer::new(ChatService::new(store)))
        .serve_with_incoming_shutdown(TcpListenerStream::new(listener), drain)
        .await?;
    Ok(())
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
