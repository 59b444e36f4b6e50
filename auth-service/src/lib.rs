//! The auth service of the chat backend: users, credentials, sessions and access tokens, served
//! as `auth.v1.Auth` over gRPC with `grpc.health.v1` beside it.

mod config;
mod convert;
mod error;
mod limiter;
mod model;
mod password;
pub mod postgres;
mod service;
pub mod sqlite;
mod store;
mod token;
mod validate;

use std::future::Future;

use anyhow::Context;
use chat_proto::auth::auth_server::AuthServer;
use tokio::net::TcpListener;
use tokio_stream::StreamExt;
use tokio_stream::wrappers::TcpListenerStream;
use tonic::transport::Server;
use tonic_health::ServingStatus;

pub use config::{Config, JwtSecret, LogFormat, MIN_SECRET_BYTES};
pub use error::{AuthError, ERROR_CODE_KEY, error_code};
pub use limiter::LoginLimit;
pub use model::{Credentials, Identity, NewSession, NewUser, Session, User, fold};
pub use postgres::PgAuthStore;
pub use service::AuthService;
pub use sqlite::SqliteAuthStore;
pub use store::{AuthStore, StoreError, contains_pattern};
pub use token::{AccessToken, TokenSettings, Tokens};

/// Connects to Postgres, migrates the `auth` schema and serves until `shutdown` resolves.
pub async fn run(
    config: Config,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let store = PgAuthStore::connect(&config.database_url, config.database_max_connections)
        .await
        .context("cannot open the auth store")?;
    let service = AuthService::new(store, config.token_settings());
    serve(listener, service, shutdown).await
}

/// Serves `service` and the health service on `listener` until `shutdown` resolves, then reports
/// NOT_SERVING and lets calls in flight finish, for at most
/// [`service_runtime::shutdown::DRAIN_GRACE`].
pub async fn serve<S: AuthStore>(
    listener: TcpListener,
    service: AuthService<S>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let (health, health_service) = tonic_health::server::health_reporter();
    health.set_serving::<AuthServer<AuthService<S>>>().await;

    let (draining_tx, draining_rx) = tokio::sync::oneshot::channel::<()>();
    let drain = async move {
        shutdown.await;
        health
            .set_service_status("", ServingStatus::NotServing)
            .await;
        health.set_not_serving::<AuthServer<AuthService<S>>>().await;
        tracing::info!("auth service draining");
        let _ = draining_tx.send(());
    };
    let incoming = TcpListenerStream::new(listener).map(|connection| {
        if let Ok(stream) = &connection
            && let Err(error) = stream.set_nodelay(true)
        {
            tracing::debug!(%error, "cannot set TCP_NODELAY");
        }
        connection
    });
    let server = Server::builder()
        .add_service(health_service)
        .add_service(AuthServer::new(service))
        .serve_with_incoming_shutdown(incoming, drain);

    let grace = async {
        // An error means the drain future was dropped: the server is already done.
        if draining_rx.await.is_ok() {
            tokio::time::sleep(service_runtime::shutdown::DRAIN_GRACE).await;
        } else {
            std::future::pending::<()>().await;
        }
    };
    tokio::select! {
        served = server => served.context("auth gRPC server failed")?,
        () = grace => tracing::warn!("drain grace elapsed; dropping calls still in flight"),
    }
    tracing::info!("auth service stopped");
    Ok(())
}
