//! The SQLite store of the single-process mode: one database file, migrations embedded, the
//! same behaviour as the Postgres store.

mod changes;
mod platforms;
mod rows;

use std::path::Path;
use std::time::Duration;

use anyhow::Context;
use chrono::Utc;
use sqlx::SqlitePool;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions};
use uuid::Uuid;
use uuid::fmt::Hyphenated;

use crate::model::{
    Credentials, Identity, NewRefreshToken, NewSession, NewUser, PendingRegistration, Platform,
    RefreshUse, RevokedSession, Session, User, UserChanges, UserKey,
};
use crate::store::{AuthStore, StoreError, contains_pattern};
use rows::{
    CredentialsRow, IDENTITY_SQL, IdentityRow, SESSION_COLUMNS, SessionRow, USER_COLUMNS, UserRow,
    timestamp,
};

/// Connections to the file: readers run side by side under WAL, writers take turns.
const MAX_CONNECTIONS: u32 = 4;
/// How long a write waits for another connection's write to finish before it fails.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Users and sessions in a SQLite file. Every write is a single statement, so a writer never
/// holds a read snapshot it would have to upgrade, and concurrent writers wait for each other
/// (up to the busy timeout) instead of failing.
#[derive(Debug, Clone)]
pub struct SqliteAuthStore {
    pool: SqlitePool,
}

impl SqliteAuthStore {
    /// Opens the database at `path`, creating it (and its directory) when missing, and brings
    /// its schema up to date.
    pub async fn open(path: &Path) -> anyhow::Result<Self> {
        if let Some(dir) = path.parent().filter(|dir| !dir.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create the directory {}", dir.display()))?;
        }
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .foreign_keys(true)
            .busy_timeout(BUSY_TIMEOUT);
        let pool = SqlitePoolOptions::new()
            .max_connections(MAX_CONNECTIONS)
            .connect_with(options)
            .await
            .with_context(|| format!("cannot open the SQLite database {}", path.display()))?;
        let store = SqliteAuthStore::new(pool);
        store.migrate().await?;
        Ok(store)
    }

    /// A store on a pool whose connections enforce foreign keys.
    pub fn new(pool: SqlitePool) -> Self {
        SqliteAuthStore { pool }
    }

    pub async fn migrate(&self) -> anyhow::Result<()> {
        sqlx::migrate!("./migrations-sqlite")
            .run(&self.pool)
            .await
            .context("cannot migrate the auth database")
    }

    async fn credentials_where(
        &self,
        column: &str,
        value: &str,
    ) -> Result<Option<Credentials>, StoreError> {
        let row: Option<CredentialsRow> = sqlx::query_as(&format!(
            "SELECT {USER_COLUMNS}, password_hash FROM users \
             WHERE {column} = ?1 AND deleted_at IS NULL"
        ))
        .bind(value)
        .fetch_optional(&self.pool)
        .await
        .map_err(store_error)?;
        Ok(row.map(Into::into))
    }
}

impl AuthStore for SqliteAuthStore {
    async fn insert_user(&self, user: NewUser) -> Result<User, StoreError> {
        let row: UserRow = sqlx::query_as(&format!(
            "INSERT INTO users (id, username, username_folded, email, email_folded, \
             password_hash, first_name, last_name, display_name, created_at, updated_at, \
             external_id) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?10, ?11) RETURNING {USER_COLUMNS}"
        ))
        .bind(user.id.hyphenated())
        .bind(user.username)
        .bind(user.username_folded)
        .bind(user.email)
        .bind(user.email_folded)
        .bind(user.password_hash)
        .bind(user.first_name)
        .bind(user.last_name)
        .bind(user.display_name)
        .bind(timestamp(Utc::now()))
        .bind(user.external_id)
        .fetch_one(&self.pool)
        .await
        .map_err(store_error)?;
        Ok(row.into())
    }

    async fn credentials_by_username(
        &self,
        username_folded: &str,
    ) -> Result<Option<Credentials>, StoreError> {
        self.credentials_where("username_folded", username_folded)
            .await
    }

    async fn credentials_by_email(
        &self,
        email_folded: &str,
    ) -> Result<Option<Credentials>, StoreError> {
        self.credentials_where("email_folded", email_folded).await
    }

    async fn user_by_id(&self, id: Uuid) -> Result<Option<User>, StoreError> {
        let row: Option<UserRow> = sqlx::query_as(&format!(
            "SELECT {USER_COLUMNS} FROM users WHERE id = ?1 AND deleted_at IS NULL"
        ))
        .bind(id.hyphenated())
        .fetch_optional(&self.pool)
        .await
        .map_err(store_error)?;
        Ok(row.map(Into::into))
    }

    async fn users_by_ids(&self, ids: &[Uuid], numbers: &[i64]) -> Result<Vec<User>, StoreError> {
        // Both lists travel as JSON arrays: one statement for any number of ids, with no
        // limit on bound parameters to run into. Hyphenated UUIDs and integers need no escaping.
        let ids = json_array(ids.iter().map(|id| format!("\"{}\"", id.hyphenated())));
        let numbers = json_array(numbers.iter().map(i64::to_string));
        let rows: Vec<UserRow> = sqlx::query_as(&format!(
            "SELECT {USER_COLUMNS} FROM users \
             WHERE (id IN (SELECT value FROM json_each(?1)) \
                    OR number IN (SELECT value FROM json_each(?2))) \
               AND deleted_at IS NULL ORDER BY number"
        ))
        .bind(ids)
        .bind(numbers)
        .fetch_all(&self.pool)
        .await
        .map_err(store_error)?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    async fn search_users(&self, query_folded: &str, limit: u32) -> Result<Vec<User>, StoreError> {
        // SQLite's LIKE ignores ASCII case, but both sides are folded already, so it matches
        // exactly as Postgres's case-sensitive LIKE does.
        let rows: Vec<UserRow> = sqlx::query_as(&format!(
            "SELECT {USER_COLUMNS} FROM users \
             WHERE username_folded LIKE ?1 ESCAPE '\\' AND deleted_at IS NULL \
             ORDER BY number LIMIT ?2"
        ))
        .bind(contains_pattern(query_folded))
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(store_error)?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    async fn list_users(&self, after_number: i64, limit: u32) -> Result<Vec<User>, StoreError> {
        let rows: Vec<UserRow> = sqlx::query_as(&format!(
            "SELECT {USER_COLUMNS} FROM users WHERE number > ?1 AND deleted_at IS NULL \
             ORDER BY number LIMIT ?2"
        ))
        .bind(after_number)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(store_error)?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    async fn update_user(
        &self,
        id: Uuid,
        changes: UserChanges,
    ) -> Result<Option<User>, StoreError> {
        changes::update_user(&self.pool, id, changes).await
    }

    async fn delete_user(&self, id: Uuid) -> Result<Option<Vec<RevokedSession>>, StoreError> {
        changes::delete_user(&self.pool, id).await
    }

    async fn insert_session(&self, session: NewSession) -> Result<Session, StoreError> {
        let row: SessionRow = sqlx::query_as(&format!(
            "INSERT INTO sessions (id, user_id, connection_id, device_id, platform, model, \
             build, name, token_hash, created_at, last_seen_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?10) RETURNING {SESSION_COLUMNS}"
        ))
        .bind(session.id.hyphenated())
        .bind(session.user_id.hyphenated())
        .bind(session.connection_id.hyphenated())
        .bind(session.device_id)
        .bind(session.platform)
        .bind(session.model)
        .bind(session.build)
        .bind(session.name)
        .bind(session.token_hash)
        .bind(timestamp(Utc::now()))
        .fetch_one(&self.pool)
        .await
        .map_err(store_error)?;
        Ok(row.into())
    }

    async fn identity_by_connection(
        &self,
        connection_id: Uuid,
    ) -> Result<Option<Identity>, StoreError> {
        let row: Option<IdentityRow> =
            sqlx::query_as(&format!("{IDENTITY_SQL} s.connection_id = ?1"))
                .bind(connection_id.hyphenated())
                .fetch_optional(&self.pool)
                .await
                .map_err(store_error)?;
        Ok(row.map(Into::into))
    }

    async fn identity_by_session(&self, session_id: Uuid) -> Result<Option<Identity>, StoreError> {
        let row: Option<IdentityRow> = sqlx::query_as(&format!("{IDENTITY_SQL} s.id = ?1"))
            .bind(session_id.hyphenated())
            .fetch_optional(&self.pool)
            .await
            .map_err(store_error)?;
        Ok(row.map(Into::into))
    }

    async fn identity_by_token_hash(
        &self,
        token_hash: &str,
    ) -> Result<Option<Identity>, StoreError> {
        let row: Option<IdentityRow> = sqlx::query_as(&format!("{IDENTITY_SQL} s.token_hash = ?1"))
            .bind(token_hash)
            .fetch_optional(&self.pool)
            .await
            .map_err(store_error)?;
        Ok(row.map(Into::into))
    }

    async fn revoke_session(
        &self,
        user_id: Uuid,
        session_id: Uuid,
    ) -> Result<Option<Uuid>, StoreError> {
        let connection_id: Option<Hyphenated> = sqlx::query_scalar(
            "UPDATE sessions SET revoked_at = ?1 \
             WHERE id = ?2 AND user_id = ?3 AND revoked_at IS NULL RETURNING connection_id",
        )
        .bind(timestamp(Utc::now()))
        .bind(session_id.hyphenated())
        .bind(user_id.hyphenated())
        .fetch_optional(&self.pool)
        .await
        .map_err(store_error)?;
        Ok(connection_id.map(Hyphenated::into_uuid))
    }

    async fn live_sessions(&self, user_id: Uuid) -> Result<Vec<Session>, StoreError> {
        let rows: Vec<SessionRow> = sqlx::query_as(&format!(
            "SELECT {SESSION_COLUMNS} FROM sessions WHERE user_id = ?1 AND revoked_at IS NULL \
             ORDER BY created_at, id"
        ))
        .bind(user_id.hyphenated())
        .fetch_all(&self.pool)
        .await
        .map_err(store_error)?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    async fn count_users(&self) -> Result<i64, StoreError> {
        sqlx::query_scalar("SELECT count(*) FROM users WHERE deleted_at IS NULL")
            .fetch_one(&self.pool)
            .await
            .map_err(store_error)
    }

    async fn insert_platform(
        &self,
        id: Uuid,
        name: &str,
        key_hash: &str,
    ) -> Result<Platform, StoreError> {
        platforms::insert(&self.pool, id, name, key_hash).await
    }

    async fn revoke_platform(&self, name: &str) -> Result<bool, StoreError> {
        platforms::revoke(&self.pool, name).await
    }

    async fn platform_by_key_hash(&self, key_hash: &str) -> Result<Option<Platform>, StoreError> {
        platforms::by_key_hash(&self.pool, key_hash).await
    }

    async fn users_by_external_ids(
        &self,
        external_ids: &[String],
    ) -> Result<Vec<User>, StoreError> {
        platforms::users_by_external_ids(&self.pool, external_ids).await
    }

    async fn insert_refresh_token(&self, token: NewRefreshToken) -> Result<(), StoreError> {
        platforms::insert_refresh_token(&self.pool, token).await
    }

    async fn use_refresh_token(&self, token_hash: &str) -> Result<RefreshUse, StoreError> {
        platforms::use_refresh_token(&self.pool, token_hash).await
    }

    async fn insert_user_key(
        &self,
        id: Uuid,
        user_id: Uuid,
        public_key: &str,
    ) -> Result<UserKey, StoreError> {
        platforms::insert_user_key(&self.pool, id, user_id, public_key).await
    }

    async fn newest_user_key(&self, user_id: Uuid) -> Result<Option<UserKey>, StoreError> {
        platforms::newest_user_key(&self.pool, user_id).await
    }

    async fn user_key(&self, id: Uuid) -> Result<Option<UserKey>, StoreError> {
        platforms::user_key_by_id(&self.pool, id).await
    }

    async fn put_pending_registration(
        &self,
        registration: PendingRegistration,
    ) -> Result<(), StoreError> {
        // One statement: the email's check and the write cannot be split by a registration.
        let written = sqlx::query(
            "INSERT INTO pending_registrations (email_folded, email, password_hash, first_name, \
             last_name, token_hash, expires_at_ms) \
             SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7 WHERE NOT EXISTS \
             (SELECT 1 FROM users WHERE email_folded = ?1 AND deleted_at IS NULL) \
             ON CONFLICT (email_folded) DO UPDATE SET email = excluded.email, \
             password_hash = excluded.password_hash, first_name = excluded.first_name, \
             last_name = excluded.last_name, token_hash = excluded.token_hash, \
             expires_at_ms = excluded.expires_at_ms",
        )
        .bind(registration.email_folded)
        .bind(registration.email)
        .bind(registration.password_hash)
        .bind(registration.first_name)
        .bind(registration.last_name)
        .bind(registration.token_hash)
        .bind(registration.expires_at_ms)
        .execute(&self.pool)
        .await
        .map_err(store_error)?;
        if written.rows_affected() == 0 {
            return Err(StoreError::EmailTaken);
        }
        Ok(())
    }

    async fn take_pending_registration(
        &self,
        token_hash: &str,
    ) -> Result<Option<PendingRegistration>, StoreError> {
        sqlx::query_as(
            "DELETE FROM pending_registrations WHERE token_hash = ?1 \
             RETURNING email, email_folded, password_hash, first_name, last_name, token_hash, \
             expires_at_ms",
        )
        .bind(token_hash)
        .fetch_optional(&self.pool)
        .await
        .map_err(store_error)
    }
}

pub(crate) fn json_array(items: impl Iterator<Item = String>) -> String {
    format!("[{}]", items.collect::<Vec<_>>().join(","))
}

/// Names the taken value when a unique constraint refused the write, as the Postgres store
/// does. SQLite names the column rather than the constraint:
/// `UNIQUE constraint failed: users.username_folded`.
pub(crate) fn store_error(error: sqlx::Error) -> StoreError {
    if let sqlx::Error::Database(db) = &error
        && db.is_unique_violation()
    {
        match db.message().strip_prefix("UNIQUE constraint failed: ") {
            Some("users.username_folded") => return StoreError::UsernameTaken,
            Some("users.email_folded") => return StoreError::EmailTaken,
            Some("users.external_id") => return StoreError::ExternalIdTaken,
            Some("platforms.name") => return StoreError::PlatformNameTaken,
            _ => {}
        }
    }
    StoreError::Backend(Box::new(error))
}
