//! Postgres connections for services that own tables: each service keeps its tables (and its
//! migration history) in a schema of its own, so services may share one database without
//! touching each other's tables.

use std::str::FromStr;

use anyhow::Context;
use sqlx::migrate::Migrator;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{ConnectOptions, Connection, PgPool};

/// How long a request waits for a connection before it fails as unavailable.
pub const ACQUIRE_TIMEOUT: std::time::Duration = std::time::Duration::from_millis(1500);

/// Whether an error means the database cannot be reached now (down, restarting, or the pool
/// could not get a connection in time), as opposed to a fault in the request or the code.
pub fn is_unavailable(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) => true,
        sqlx::Error::Tls(_) | sqlx::Error::WorkerCrashed => true,
        // admin_shutdown, crash_shutdown, cannot_connect_now, and connection failures.
        sqlx::Error::Database(db) => db
            .code()
            .is_some_and(|code| code.starts_with("57P") || code.starts_with("08")),
        _ => false,
    }
}

/// Connects to `url` with `schema` first on the search path, creating the schema if needed.
pub async fn connect(url: &str, schema: &str, max_connections: u32) -> anyhow::Result<PgPool> {
    anyhow::ensure!(
        schema.chars().all(|c| c.is_ascii_lowercase() || c == '_'),
        "schema name {schema:?} must be lowercase letters and underscores"
    );
    let options = PgConnectOptions::from_str(url)
        .with_context(|| "DATABASE_URL is not a valid Postgres URL")?;
    let mut admin = options
        .connect()
        .await
        .with_context(|| format!("cannot connect to Postgres at {}", redact(url)))?;
    sqlx::query(&format!("CREATE SCHEMA IF NOT EXISTS {schema}"))
        .execute(&mut admin)
        .await
        .or_else(|error| match &error {
            // Two replicas creating the schema at once: the loser sees a unique violation.
            sqlx::Error::Database(db) if db.code().as_deref() == Some("23505") => {
                Ok(Default::default())
            }
            _ => Err(error),
        })
        .with_context(|| format!("cannot create schema {schema}"))?;
    admin.close().await.ok();
    let pool = PgPoolOptions::new()
        .max_connections(max_connections)
        // While Postgres is away, a request fails in about this long instead of hanging.
        .acquire_timeout(ACQUIRE_TIMEOUT)
        .connect_with(options.options([("search_path", schema)]))
        .await
        .with_context(|| format!("cannot connect to Postgres at {}", redact(url)))?;
    Ok(pool)
}

/// Fails unless every migration of `migrator` has been applied to the pool's schema: what a
/// replica started with `--skip-migrations` checks, so that it exits (and is restarted) until the
/// rollout's migration job has run, instead of serving against an old schema.
pub async fn ensure_migrated(
    pool: &PgPool,
    migrator: &Migrator,
    schema: &str,
) -> anyhow::Result<()> {
    let applied: Vec<i64> =
        match sqlx::query_scalar("SELECT version FROM _sqlx_migrations WHERE success")
            .fetch_all(pool)
            .await
        {
            Ok(versions) => versions,
            // No migration table yet: nothing has been applied.
            Err(sqlx::Error::Database(db)) if db.code().as_deref() == Some("42P01") => Vec::new(),
            Err(error) => {
                return Err(error).with_context(|| format!("cannot read the {schema} migrations"));
            }
        };
    let missing: Vec<i64> = migrator
        .iter()
        .filter(|migration| !migration.migration_type.is_down_migration())
        .map(|migration| migration.version)
        .filter(|version| !applied.contains(version))
        .collect();
    anyhow::ensure!(
        missing.is_empty(),
        "the {schema} schema lacks migration(s) {missing:?}: run this binary once with \
         --migrate-only (MIGRATE_ONLY=true) first"
    );
    Ok(())
}

/// The URL with its password hidden, for log lines and errors.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let credentials = &url[scheme + 3..at];
            match credentials.find(':') {
                Some(colon) => format!(
                    "{}{}:***{}",
                    &url[..scheme + 3],
                    &credentials[..colon],
                    &url[at..]
                ),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

/// Creates an empty database for one test run and returns its URL. `admin_url` names a server
/// and a database the caller may connect to (`TEST_DATABASE_URL`).
pub async fn create_test_database(admin_url: &str) -> anyhow::Result<String> {
    let options = PgConnectOptions::from_str(admin_url)?;
    let mut admin = options.connect().await.with_context(|| {
        format!(
            "tests need Postgres at {} (set TEST_DATABASE_URL, or run scripts/test.sh which starts it)",
            redact(admin_url)
        )
    })?;
    let name = format!("chat_test_{}", uuid::Uuid::new_v4().simple());
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut admin)
        .await?;
    admin.close().await.ok();
    let url = match admin_url.rfind('/') {
        Some(slash) if slash > admin_url.find("://").map_or(0, |i| i + 2) => {
            let (base, rest) = admin_url.split_at(slash);
            let query = rest.find('?').map(|q| &rest[q..]).unwrap_or("");
            format!("{base}/{name}{query}")
        }
        _ => format!("{admin_url}/{name}"),
    };
    Ok(url)
}

/// The Postgres URL tests use: `TEST_DATABASE_URL`, or the local server's `postgres` database.
pub fn test_admin_url() -> String {
    std::env::var("TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

#[cfg(test)]
mod tests {
    use super::redact;

    #[test]
    fn redact_hides_only_the_password() {
        assert_eq!(
            redact("postgres://chat:secret@db:5432/chat"),
            "postgres://chat:***@db:5432/chat"
        );
        assert_eq!(redact("postgres://db/chat"), "postgres://db/chat");
    }
}
