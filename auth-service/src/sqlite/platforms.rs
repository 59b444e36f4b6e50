//! Platforms, their users by external id, and refresh tokens, in SQLite.

use chrono::{DateTime, Utc};
use sqlx::SqlitePool;
use uuid::Uuid;
use uuid::fmt::Hyphenated;

use super::rows::{USER_COLUMNS, UserRow, timestamp};
use super::{json_array, store_error};
use crate::model::{NewRefreshToken, Platform, RefreshUse, User, UserKey};
use crate::store::StoreError;

#[derive(sqlx::FromRow)]
struct PlatformRow {
    id: Hyphenated,
    name: String,
    created_at: DateTime<Utc>,
}

impl From<PlatformRow> for Platform {
    fn from(row: PlatformRow) -> Self {
        Platform {
            id: row.id.into_uuid(),
            name: row.name,
            created_at: row.created_at,
        }
    }
}

pub async fn insert(
    pool: &SqlitePool,
    id: Uuid,
    name: &str,
    key_hash: &str,
) -> Result<Platform, StoreError> {
    let row: PlatformRow = sqlx::query_as(
        "INSERT INTO platforms (id, name, key_hash, created_at) VALUES (?1, ?2, ?3, ?4) \
         RETURNING id, name, created_at",
    )
    .bind(id.hyphenated())
    .bind(name)
    .bind(key_hash)
    .bind(timestamp(Utc::now()))
    .fetch_one(pool)
    .await
    .map_err(store_error)?;
    Ok(row.into())
}

pub async fn revoke(pool: &SqlitePool, name: &str) -> Result<bool, StoreError> {
    let done =
        sqlx::query("UPDATE platforms SET revoked_at = ?1 WHERE name = ?2 AND revoked_at IS NULL")
            .bind(timestamp(Utc::now()))
            .bind(name)
            .execute(pool)
            .await
            .map_err(store_error)?;
    Ok(done.rows_affected() > 0)
}

pub async fn by_key_hash(
    pool: &SqlitePool,
    key_hash: &str,
) -> Result<Option<Platform>, StoreError> {
    let row: Option<PlatformRow> = sqlx::query_as(
        "SELECT id, name, created_at FROM platforms WHERE key_hash = ?1 AND revoked_at IS NULL",
    )
    .bind(key_hash)
    .fetch_optional(pool)
    .await
    .map_err(store_error)?;
    Ok(row.map(Into::into))
}

pub async fn users_by_external_ids(
    pool: &SqlitePool,
    external_ids: &[String],
) -> Result<Vec<User>, StoreError> {
    let ids = json_array(
        external_ids
            .iter()
            .map(|id| serde_json::Value::String(id.clone()).to_string()),
    );
    let rows: Vec<UserRow> = sqlx::query_as(&format!(
        "SELECT {USER_COLUMNS} FROM users \
         WHERE external_id IN (SELECT value FROM json_each(?1)) AND deleted_at IS NULL"
    ))
    .bind(ids)
    .fetch_all(pool)
    .await
    .map_err(store_error)?;
    Ok(rows.into_iter().map(Into::into).collect())
}

pub async fn insert_refresh_token(
    pool: &SqlitePool,
    token: NewRefreshToken,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO refresh_tokens (token_hash, session_id, user_id, expires_at, created_at) \
         VALUES (?1, ?2, ?3, ?4, ?5)",
    )
    .bind(token.token_hash)
    .bind(token.session_id.hyphenated())
    .bind(token.user_id.hyphenated())
    .bind(timestamp(token.expires_at))
    .bind(timestamp(Utc::now()))
    .execute(pool)
    .await
    .map_err(store_error)?;
    Ok(())
}

#[derive(sqlx::FromRow)]
struct SpentRow {
    session_id: Hyphenated,
    user_id: Hyphenated,
    expires_at: DateTime<Utc>,
}

/// The first statement writes, so the transaction holds the one write lock from its start and
/// never has to upgrade a read snapshot.
pub async fn use_refresh_token(
    pool: &SqlitePool,
    token_hash: &str,
) -> Result<RefreshUse, StoreError> {
    let now = timestamp(Utc::now());
    let mut tx = pool.begin().await.map_err(store_error)?;
    let spent: Option<SpentRow> = sqlx::query_as(
        "UPDATE refresh_tokens SET used_at = ?1 WHERE token_hash = ?2 AND used_at IS NULL \
         RETURNING session_id, user_id, expires_at",
    )
    .bind(&now)
    .bind(token_hash)
    .fetch_optional(&mut *tx)
    .await
    .map_err(store_error)?;
    if let Some(row) = spent {
        tx.commit().await.map_err(store_error)?;
        return Ok(RefreshUse::Fresh {
            session_id: row.session_id.into_uuid(),
            user_id: row.user_id.into_uuid(),
            expires_at: row.expires_at,
        });
    }
    let session: Option<Hyphenated> =
        sqlx::query_scalar("SELECT session_id FROM refresh_tokens WHERE token_hash = ?1")
            .bind(token_hash)
            .fetch_optional(&mut *tx)
            .await
            .map_err(store_error)?;
    let Some(session_id) = session.map(Hyphenated::into_uuid) else {
        return Ok(RefreshUse::Unknown);
    };
    sqlx::query("UPDATE sessions SET revoked_at = ?1 WHERE id = ?2 AND revoked_at IS NULL")
        .bind(&now)
        .bind(session_id.hyphenated())
        .execute(&mut *tx)
        .await
        .map_err(store_error)?;
    sqlx::query("UPDATE refresh_tokens SET used_at = ?1 WHERE session_id = ?2 AND used_at IS NULL")
        .bind(&now)
        .bind(session_id.hyphenated())
        .execute(&mut *tx)
        .await
        .map_err(store_error)?;
    tx.commit().await.map_err(store_error)?;
    Ok(RefreshUse::Reused { session_id })
}

#[derive(sqlx::FromRow)]
struct UserKeyRow {
    id: Hyphenated,
    user_id: Hyphenated,
    public_key: String,
    created_at: DateTime<Utc>,
}

impl From<UserKeyRow> for UserKey {
    fn from(row: UserKeyRow) -> Self {
        UserKey {
            id: row.id.into_uuid(),
            user_id: row.user_id.into_uuid(),
            public_key: row.public_key,
            created_at: row.created_at,
        }
    }
}

pub async fn insert_user_key(
    pool: &SqlitePool,
    id: Uuid,
    user_id: Uuid,
    public_key: &str,
) -> Result<UserKey, StoreError> {
    let row: UserKeyRow = sqlx::query_as(
        "INSERT INTO user_keys (id, user_id, public_key, created_at) VALUES (?1, ?2, ?3, ?4) \
         RETURNING id, user_id, public_key, created_at",
    )
    .bind(id.hyphenated())
    .bind(user_id.hyphenated())
    .bind(public_key)
    .bind(timestamp(Utc::now()))
    .fetch_one(pool)
    .await
    .map_err(store_error)?;
    Ok(row.into())
}

pub async fn newest_user_key(
    pool: &SqlitePool,
    user_id: Uuid,
) -> Result<Option<UserKey>, StoreError> {
    let row: Option<UserKeyRow> = sqlx::query_as(
        "SELECT id, user_id, public_key, created_at FROM user_keys WHERE user_id = ?1 \
         ORDER BY number DESC LIMIT 1",
    )
    .bind(user_id.hyphenated())
    .fetch_optional(pool)
    .await
    .map_err(store_error)?;
    Ok(row.map(Into::into))
}

pub async fn user_key_by_id(pool: &SqlitePool, id: Uuid) -> Result<Option<UserKey>, StoreError> {
    let row: Option<UserKeyRow> =
        sqlx::query_as("SELECT id, user_id, public_key, created_at FROM user_keys WHERE id = ?1")
            .bind(id.hyphenated())
            .fetch_optional(pool)
            .await
            .map_err(store_error)?;
    Ok(row.map(Into::into))
}
