//! presence-service: which user sessions are online on which gateway node, and who is typing,
//! served over gRPC (`presence.v1.Presence`) from Redis or from memory.

mod config;
mod error;
mod memory_store;
mod redis_store;
mod service;
mod store;
mod validate;

use std::future::Future;

use anyhow::Context;
use chat_proto::admin::presence_admin_server::PresenceAdminServer;
use chat_proto::presence::presence_server::PresenceServer;
use service_runtime::postgres::redact;
use tokio::net::TcpListener;

pub use config::{Config, LogFormat};
pub use error::{ERROR_CODE_KEY, PresenceError};
pub use memory_store::MemoryPresence;
pub use redis_store::RedisPresence;
pub use service::{PresenceAdminService, PresenceService};
pub use store::{MEMBER_SEPARATOR, PresenceStore, StoreError, StoreResult, UserLocation};
pub use validate::{MAX_BATCH, MAX_ID_LEN, MAX_TTL};

/// Connects to the Redis that `config` names and serves on `listener` until `shutdown` resolves.
pub async fn run(
    config: Config,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let redis_url = redact(&config.redis_url);
    let store = RedisPresence::connect(&config.redis_url, &config.redis_key_prefix)
        .await
        .with_context(|| format!("cannot connect to Redis at {redis_url}"))?;
    tracing::info!(redis = %redis_url, key_prefix = %config.redis_key_prefix, "connected to Redis");
    service_runtime::metrics::listen(config.metrics_listen).await?;
    serve(listener, store, shutdown).await
}

/// Serves `presence.v1.Presence` over `store`, plus `grpc.health.v1.Health`, on `listener`.
///
/// Once `shutdown` resolves, health turns NOT_SERVING, no new connection is accepted, and
/// in-flight calls may finish for up to [`service_runtime::shutdown::DRAIN_GRACE`].
pub async fn serve<S: PresenceStore>(
    listener: TcpListener,
    store: S,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let service = PresenceService::new(store);
    let admin = PresenceAdminServer::new(PresenceAdminService::of(&service));
    service_runtime::grpc::serve_with(
        listener,
        PresenceServer::new(service),
        Some(admin),
        shutdown,
    )
    .await
}
