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
use chat_proto::presence::presence_server::PresenceServer;
use service_runtime::postgres::redact;
use service_runtime::shutdown::DRAIN_GRACE;
use tokio::net::TcpListener;
use tokio_stream::wrappers::TcpListenerStream;
use tonic_health::ServingStatus;

pub use config::{Config, LogFormat};
pub use error::{ERROR_CODE_KEY, PresenceError};
pub use memory_store::MemoryPresence;
pub use redis_store::RedisPresence;
pub use service::PresenceService;
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
    serve(listener, store, shutdown).await
}

/// Serves `presence.v1.Presence` over `store`, plus `grpc.health.v1.Health`, on `listener`.
///
/// Once `shutdown` resolves, health turns NOT_SERVING, no new connection is accepted, and
/// in-flight calls may finish for up to [`DRAIN_GRACE`] (a health `Watch` stream would otherwise
/// hold the drain open for ever).
pub async fn serve<S: PresenceStore>(
    listener: TcpListener,
    store: S,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let (health, health_service) = tonic_health::server::health_reporter();
    health
        .set_serving::<PresenceServer<PresenceService<S>>>()
        .await;
    let (draining, drain_started) = tokio::sync::oneshot::channel::<()>();
    let signal = async move {
        shutdown.await;
        tracing::info!("shutting down: health NOT_SERVING, draining calls");
        health
            .set_not_serving::<PresenceServer<PresenceService<S>>>()
            .await;
        health
            .set_service_status("", ServingStatus::NotServing)
            .await;
        let _ = draining.send(());
    };
    let server = tonic::transport::Server::builder()
        .add_service(health_service)
        .add_service(PresenceServer::new(PresenceService::new(store)))
        .serve_with_incoming_shutdown(TcpListenerStream::new(listener), signal);
    let drain_deadline = async {
        match drain_started.await {
            Ok(()) => tokio::time::sleep(DRAIN_GRACE).await,
            // The server stopped without a shutdown signal; its own result tells why.
            Err(_) => std::future::pending().await,
        }
    };
    tokio::select! {
        served = server => served.context("gRPC server failed")?,
        () = drain_deadline => {
            tracing::warn!(grace = ?DRAIN_GRACE, "calls still open after the drain grace; closing");
        }
    }
    Ok(())
}
