//! The Postgres store: tables in the service's own `auth` schema, migrations embedded.

mod changes;
mod platforms;

use anyhow::Context;
use sqlx::migrate::Migrator;
use sqlx::{PgPool, Row};
use uuid::Uuid;

use crate::model::{
    Credentials, Identity, NewRefreshToken, NewSession, NewUser, PendingRegistration, Platform,
    RefreshUse, RevokedSession, Session, User, UserChanges, UserKey,
};
use crate::store::{AuthStore, StoreError, contains_pattern};

/// The schema holding the service's tables and migration history.
pub const SCHEMA: &str = "auth";

/// The migrations of the `auth` schema, embedded in the binary.
pub static MIGRATOR: Migrator = sqlx::migrate!("./migrations");

pub(crate) const USER_COLUMNS: &str = "id, number, username, email, first_name, last_name, display_name, \
     email_confirmed, external_id, public_key, created_at";

const SESSION_COLUMNS: &str =
    "id, user_id, connection_id, device_id, platform, model, build, name, created_at";

/// Users and sessions in Postgres.
#[derive(Debug, Clone)]
pub struct PgAuthStore {
    pool: PgPool,
}

impl PgAuthStore {
    /// Connects to `url` (tables in the `auth` schema) and brings the schema up to date.
    pub async fn connect(url: &str, max_connections: u32) -> anyhow::Result<Self> {
        let pool = service_runtime::postgres::connect(url, SCHEMA, max_connections).await?;
        let store = PgAuthStore::new(pool);
        store.migrate().await?;
        Ok(store)
    }

    /// Connects without migrating (`--skip-migrations`), failing unless the schema is already
    /// up to date.
    pub async fn connect_migrated(url: &str, max_connections: u32) -> anyhow::Result<Self> {
        let pool = service_runtime::postgres::connect(url, SCHEMA, max_connections).await?;
        service_runtime::postgres::ensure_migrated(&pool, &MIGRATOR, SCHEMA).await?;
        Ok(PgAuthStore::new(pool))
    }

    /// A store on a pool whose search path already starts with the service's schema.
    pub fn new(pool: PgPool) -> Self {
        PgAuthStore { pool }
    }

    pub async fn migrate(&self) -> anyhow::Result<()> {
        MIGRATOR
            .run(&self.pool)
            .await
            .context("cannot migrate the auth schema")
    }

    async fn credentials_where(
        &self,
        column: &str,
        value: &str,
    ) -> Result<Option<Credentials>, StoreError> {
        sqlx::query_as(&format!(
            "SELECT {USER_COLUMNS}, password_hash FROM users \
             WHERE {column} = $1 AND deleted_at IS NULL"
        ))
        .bind(value)
        .fetch_optional(&self.pool)
        .await
        .map_err(store_error)
    }
}

impl AuthStore for PgAuthStore {
    async fn insert_user(&self, user: NewUser) -> Result<User, StoreError> {
        sqlx::query_as(&format!(
            "INSERT INTO users (id, username, username_folded, email, email_folded, \
             password_hash, first_name, last_name, display_name, external_id) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING {USER_COLUMNS}"
        ))
        .bind(user.id)
        .bind(user.username)
        .bind(user.username_folded)
        .bind(user.email)
        .bind(user.email_folded)
        .bind(user.password_hash)
        .bind(user.first_name)
        .bind(user.last_name)
        .bind(user.display_name)
        .bind(user.external_id)
        .fetch_one(&self.pool)
        .await
        .map_err(store_error)
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
        sqlx::query_as(&format!(
            "SELECT {USER_COLUMNS} FROM users WHERE id = $1 AND deleted_at IS NULL"
        ))
        .bind(id)
        .fetch_optional(&self.pool)
        .await
        .map_err(store_error)
    }

    async fn users_by_ids(&self, ids: &[Uuid], numbers: &[i64]) -> Result<Vec<User>, StoreError> {
        sqlx::query_as(&format!(
            "SELECT {USER_COLUMNS} FROM users \
             WHERE (id = ANY($1) OR number = ANY($2)) AND deleted_at IS NULL ORDER BY number"
        ))
        .bind(ids)
        .bind(numbers)
        .fetch_all(&self.pool)
        .await
        .map_err(store_error)
    }

    async fn search_users(&self, query_folded: &str, limit: u32) -> Result<Vec<User>, StoreError> {
        sqlx::query_as(&format!(
            "SELECT {USER_COLUMNS} FROM users \
             WHERE username_folded LIKE $1 ESCAPE '\\' AND deleted_at IS NULL \
             ORDER BY number LIMIT $2"
        ))
        .bind(contains_pattern(query_folded))
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(store_error)
    }

    async fn list_users(&self, after_number: i64, limit: u32) -> Result<Vec<User>, StoreError> {
        sqlx::query_as(&format!(
            "SELECT {USER_COLUMNS} FROM users WHERE number > $1 AND deleted_at IS NULL \
             ORDER BY number LIMIT $2"
        ))
        .bind(after_number)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(store_error)
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
        sqlx::query_as(&format!(
            "INSERT INTO sessions (id, user_id, connection_id, device_id, platform, model, \
             build, name, token_hash) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING {SESSION_COLUMNS}"
        ))
        .bind(session.id)
        .bind(session.user_id)
        .bind(session.connection_id)
        .bind(session.device_id)
        .bind(session.platform)
        .bind(session.model)
        .bind(session.build)
        .bind(session.name)
        .bind(session.token_hash)
        .fetch_one(&self.pool)
        .await
        .map_err(store_error)
    }

    async fn identity_by_connection(
        &self,
        connection_id: Uuid,
    ) -> Result<Option<Identity>, StoreError> {
        let row = sqlx::query(&format!("{IDENTITY_SQL} s.connection_id = $1"))
            .bind(connection_id)
            .fetch_optional(&self.pool)
            .await
            .map_err(store_error)?;
        row.as_ref().map(identity).transpose().map_err(store_error)
    }

    async fn identity_by_session(&self, session_id: Uuid) -> Result<Option<Identity>, StoreError> {
        let row = sqlx::query(&format!("{IDENTITY_SQL} s.id = $1"))
            .bind(session_id)
            .fetch_optional(&self.pool)
            .await
            .map_err(store_error)?;
        row.as_ref().map(identity).transpose().map_err(store_error)
    }

    async fn identity_by_token_hash(
        &self,
        token_hash: &str,
    ) -> Result<Option<Identity>, StoreError> {
        let row = sqlx::query(&format!("{IDENTITY_SQL} s.token_hash = $1"))
            .bind(token_hash)
            .fetch_optional(&self.pool)
            .await
            .map_err(store_error)?;
        row.as_ref().map(identity).transpose().map_err(store_error)
    }

    async fn revoke_session(
        &self,
        user_id: Uuid,
        session_id: Uuid,
    ) -> Result<Option<Uuid>, StoreError> {
        sqlx::query_scalar(
            "UPDATE sessions SET revoked_at = now() \
             WHERE id = $1 AND user_id = $2 AND revoked_at IS NULL RETURNING connection_id",
        )
        .bind(session_id)
        .bind(user_id)
        .fetch_optional(&self.pool)
        .await
        .map_err(store_error)
    }

    async fn live_sessions(&self, user_id: Uuid) -> Result<Vec<Session>, StoreError> {
        sqlx::query_as(&format!(
            "SELECT {SESSION_COLUMNS} FROM sessions WHERE user_id = $1 AND revoked_at IS NULL \
             ORDER BY created_at, id"
        ))
        .bind(user_id)
        .fetch_all(&self.pool)
        .await
        .map_err(store_error)
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
             SELECT $1, $2, $3, $4, $5, $6, $7 WHERE NOT EXISTS \
             (SELECT 1 FROM users WHERE email_folded = $1 AND deleted_at IS NULL) \
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
            "DELETE FROM pending_registrations WHERE token_hash = $1 \
             RETURNING email, email_folded, password_hash, first_name, last_name, token_hash, \
             expires_at_ms",
        )
        .bind(token_hash)
        .fetch_optional(&self.pool)
        .await
        .map_err(store_error)
    }
}

/// The identity of a live session of a user who is not deleted; a condition on `s` follows.
const IDENTITY_SQL: &str = "SELECT s.id AS session_id, u.id AS user_id, u.number, u.username, \
     u.first_name \
     FROM sessions s JOIN users u ON u.id = s.user_id \
     WHERE s.revoked_at IS NULL AND u.deleted_at IS NULL AND";

fn identity(row: &sqlx::postgres::PgRow) -> Result<Identity, sqlx::Error> {
    Ok(Identity {
        user_id: row.try_get("user_id")?,
        user_number: row.try_get("number")?,
        username: row.try_get("username")?,
        first_name: row.try_get("first_name")?,
        session_id: Some(row.try_get("session_id")?),
    })
}

/// Names the taken value when a unique constraint refused the write; the constraint decides,
/// so two racing registrations get the same answer as two sequential ones.
pub(crate) fn store_error(error: sqlx::Error) -> StoreError {
    if let sqlx::Error::Database(db) = &error
        && db.is_unique_violation()
    {
        match db.constraint() {
            Some("users_username_folded_unique") => return StoreError::UsernameTaken,
            Some("users_email_folded_unique") => return StoreError::EmailTaken,
            Some("users_external_id_unique") => return StoreError::ExternalIdTaken,
            Some("platforms_name_unique") => return StoreError::PlatformNameTaken,
            _ => {}
        }
    }
    if service_runtime::postgres::is_unavailable(&error) {
        return StoreError::Unavailable(Box::new(error));
    }
    StoreError::Backend(Box::new(error))
}
