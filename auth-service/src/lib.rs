//! The auth service of the chat backend: users, credentials, sessions and access tokens, served
//! as `auth.v1.Auth` over gRPC with `grpc.health.v1` beside it.

mod config;
mod convert;
mod error;
pub mod keys;
mod limiter;
mod model;
mod password;
pub mod platform_admin;
pub mod postgres;
mod service;
pub mod sqlite;
mod store;
mod token;
mod validate;

use std::future::Future;

use anyhow::Context;
use chat_proto::admin::auth_admin_server::AuthAdminServer;
use chat_proto::auth::auth_server::AuthServer;
use service_runtime::grpc::AdminGuard;
use tokio::net::TcpListener;

pub use config::{Config, JwtSecret, LogFormat, MIN_SECRET_BYTES};
pub use error::{AuthError, ERROR_CODE_KEY, error_code};
pub use limiter::LoginLimit;
pub use model::{
    Credentials, Identity, NewRefreshToken, NewSession, NewUser, PendingRegistration, Platform,
    RefreshUse, RevokedSession, Session, User, UserChanges, UserKey, deleted_username_folded, fold,
    platform_user_key, split_platform_user_key,
};
pub use postgres::PgAuthStore;
pub use service::{AuthAdminService, AuthService};
pub use sqlite::SqliteAuthStore;
pub use store::{AuthStore, StoreError, contains_pattern};
pub use token::{AccessToken, TokenSettings, Tokens};

/// `--migrate-only`: brings the `auth` schema up to date and returns, serving nothing.
pub async fn migrate(config: &Config) -> anyhow::Result<()> {
    PgAuthStore::connect(&config.database_url, 1)
        .await
        .context("cannot migrate the auth store")?;
    tracing::info!(schema = postgres::SCHEMA, "migrations applied");
    Ok(())
}

/// Connects to Postgres, migrates the `auth` schema (or, with `--skip-migrations`, checks that it
/// is up to date) and serves until `shutdown` resolves. With `--migrate-only` it only migrates.
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
        PgAuthStore::connect_migrated(url, pool_size).await
    } else {
        PgAuthStore::connect(url, pool_size).await
    }
    .context("cannot open the auth store")?;
    let service = AuthService::new(store, config.token_settings());
    service_runtime::metrics::listen(config.metrics_listen).await?;
    serve_with_admin(
        listener,
        service,
        config
            .admin_token
            .as_ref()
            .map(service_runtime::grpc::AdminToken::as_str),
        shutdown,
    )
    .await
}

/// Serves `service` and the health service on `listener` until `shutdown` resolves, then reports
/// NOT_SERVING and lets calls in flight finish, for at most
/// [`service_runtime::shutdown::DRAIN_GRACE`].
pub async fn serve<S: AuthStore>(
    listener: TcpListener,
    service: AuthService<S>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    serve_with_admin(listener, service, None, shutdown).await
}

/// [`serve`], with `admin.v1.AuthAdmin` beside it answering the calls that carry
/// `admin_token`; without a token it refuses every admin call.
pub async fn serve_with_admin<S: AuthStore>(
    listener: TcpListener,
    service: AuthService<S>,
    admin_token: Option<&str>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let admin = AuthAdminServer::with_interceptor(
        AuthAdminService::new(service.clone()),
        AdminGuard::new(admin_token),
    );
    service_runtime::grpc::serve_with(listener, AuthServer::new(service), Some(admin), shutdown)
        .await
}
