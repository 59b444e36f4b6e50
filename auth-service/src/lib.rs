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
    service_runtime::grpc::serve(listener, AuthServer::new(service), shutdown).await
}
