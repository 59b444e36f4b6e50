//! chat-service: groups, direct and bot conversations, messages, receipts and catch-up, served
//! over gRPC from Postgres, SQLite (single-process mode) or any other [`store::ChatStore`].

pub mod admin;
pub mod batch;
pub mod config;
pub mod error;
pub mod log;
pub mod membership_events;
pub mod postgres;
pub mod records;
pub mod relay;
pub mod rules;
pub mod sends;
pub mod service;
pub mod sqlite;
pub mod store;

use std::future::Future;
use std::sync::Arc;

use chat_proto::admin::chat_admin_server::ChatAdminServer;
use chat_proto::chat::chat_server::ChatServer;
use service_runtime::grpc::AdminGuard;
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
    serve_with_admin(listener, store, publisher, None, shutdown).await
}

/// [`serve`], with `admin.v1.ChatAdmin` beside it answering the calls that carry
/// `admin_token`; without a token it refuses every admin call.
pub async fn serve_with_admin<S: ChatStore>(
    listener: TcpListener,
    store: S,
    publisher: Option<Publisher>,
    admin_token: Option<&str>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let written = Arc::new(Notify::new());
    let relay = tokio::spawn(relay::run(
        store.clone(),
        publisher.clone(),
        written.clone(),
    ));
    let served =
        serve_without_relay(listener, store, publisher, written, admin_token, shutdown).await;
    relay.abort();
    served
}

/// The gRPC services alone, without the log relay: for a process that runs its relay itself
/// (the single process, whose in-process calls wake the same relay) or leaves relaying to
/// another (`chat-backend admin` on the data directory of a server that is not running).
/// `written` is notified after every write.
pub async fn serve_without_relay<S: ChatStore>(
    listener: TcpListener,
    store: S,
    publisher: Option<Publisher>,
    written: Arc<Notify>,
    admin_token: Option<&str>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let admin = ChatAdminServer::with_interceptor(
        admin::ChatAdminService::new(store.clone(), publisher),
        AdminGuard::new(admin_token),
    );
    let service = ChatServer::new(ChatService::new(store, written));
    service_runtime::grpc::serve_with(listener, service, Some(admin), shutdown).await
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
    let admin_token = config
        .admin_token
        .as_ref()
        .map(service_runtime::grpc::AdminToken::as_str);
    serve_with_admin(listener, store, Some(publisher), admin_token, shutdown).await
}
