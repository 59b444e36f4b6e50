//! Platforms, their users by external id, and refresh tokens, in Postgres.

use chrono::{DateTime, Utc};
use sqlx::{PgPool, Row};
use uuid::Uuid;

use super::{USER_COLUMNS, store_error};
use crate::model::{NewRefreshToken, Platform, RefreshUse, User, UserKey};
use crate::store::StoreError;

fn platform(row: &sqlx::postgres::PgRow) -> Result<Platform, sqlx::Error> {
    Ok(Platform {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        created_at: row.try_get("created_at")?,
    })
}

pub async fn insert(
    pool: &PgPool,
    id: Uuid,
    name: &str,
    key_hash: &str,
) -> Result<Platform, StoreError> {
    let row = sqlx::query(
        "INSERT INTO platforms (id, name, key_hash) VALUES ($1, $2, $3) \
         RETURNING id, name, created_at",
    )
    .bind(id)
    .bind(name)
    .bind(key_hash)
    .fetch_one(pool)
    .await
    .map_err(store_error)?;
    platform(&row).map_err(store_error)
}

pub async fn revoke(pool: &PgPool, name: &str) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "UPDATE platforms SET revoked_at = now() WHERE name = $1 AND revoked_at IS NULL",
    )
    .bind(name)
    .execute(pool)
    .await
    .map_err(store_error)?;
    Ok(done.rows_affected() > 0)
}

pub async fn by_key_hash(pool: &PgPool, key_hash: &str) -> Result<Option<Platform>, StoreError> {
    let row = sqlx::query(
        "SELECT id, name, created_at FROM platforms WHERE key_hash = $1 AND revoked_at IS NULL",
    )
    .bind(key_hash)
    .fetch_optional(pool)
    .await
    .map_err(store_error)?;
    row.as_ref().map(platform).transpose().map_err(store_error)
}

pub async fn users_by_external_ids(
    pool: &PgPool,
    external_ids: &[String],
) -> Result<Vec<User>, StoreError> {
    sqlx::query_as(&format!(
        "SELECT {USER_COLUMNS} FROM users WHERE external_id = ANY($1) AND deleted_at IS NULL"
    ))
    .bind(external_ids)
    .fetch_all(pool)
    .await
    .map_err(store_error)
}

pub async fn insert_refresh_token(pool: &PgPool, token: NewRefreshToken) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO refresh_tokens (token_hash, session_id, user_id, expires_at) \
         VALUES ($1, $2, $3, $4)",
    )
    .bind(token.token_hash)
    .bind(token.session_id)
    .bind(token.user_id)
    .bind(token.expires_at)
    .execute(pool)
    .await
    .map_err(store_error)?;
    Ok(())
}

pub async fn use_refresh_token(pool: &PgPool, token_hash: &str) -> Result<RefreshUse, StoreError> {
    let mut tx = pool.begin().await.map_err(store_error)?;
    let spent = sqlx::query(
        "UPDATE refresh_tokens SET used_at = now() WHERE token_hash = $1 AND used_at IS NULL \
         RETURNING session_id, user_id, expires_at",
    )
    .bind(token_hash)
    .fetch_optional(&mut *tx)
    .await
    .map_err(store_error)?;
    if let Some(row) = spent {
        tx.commit().await.map_err(store_error)?;
        let expires_at: DateTime<Utc> = row.try_get("expires_at").map_err(store_error)?;
        return Ok(RefreshUse::Fresh {
            session_id: row.try_get("session_id").map_err(store_error)?,
            user_id: row.try_get("user_id").map_err(store_error)?,
            expires_at,
        });
    }
    let session: Option<Uuid> =
        sqlx::query_scalar("SELECT session_id FROM refresh_tokens WHERE token_hash = $1")
            .bind(token_hash)
            .fetch_optional(&mut *tx)
            .await
            .map_err(store_error)?;
    let Some(session_id) = session else {
        return Ok(RefreshUse::Unknown);
    };
    sqlx::query("UPDATE sessions SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL")
        .bind(session_id)
        .execute(&mut *tx)
        .await
        .map_err(store_error)?;
    sqlx::query(
        "UPDATE refresh_tokens SET used_at = now() WHERE session_id = $1 AND used_at IS NULL",
    )
    .bind(session_id)
    .execute(&mut *tx)
    .await
    .map_err(store_error)?;
    tx.commit().await.map_err(store_error)?;
    Ok(RefreshUse::Reused { session_id })
}

fn user_key(row: &sqlx::postgres::PgRow) -> Result<UserKey, sqlx::Error> {
    Ok(UserKey {
        id: row.try_get("id")?,
        user_id: row.try_get("user_id")?,
        public_key: row.try_get("public_key")?,
        created_at: row.try_get("created_at")?,
    })
}

pub async fn insert_user_key(
    pool: &PgPool,
    id: Uuid,
    user_id: Uuid,
    public_key: &str,
) -> Result<UserKey, StoreError> {
    let row = sqlx::query(
        "INSERT INTO user_keys (id, user_id, public_key) VALUES ($1, $2, $3) \
         RETURNING id, user_id, public_key, created_at",
    )
    .bind(id)
    .bind(user_id)
    .bind(public_key)
    .fetch_one(pool)
    .await
    .map_err(store_error)?;
    user_key(&row).map_err(store_error)
}

pub async fn newest_user_key(pool: &PgPool, user_id: Uuid) -> Result<Option<UserKey>, StoreError> {
    let row = sqlx::query(
        "SELECT id, user_id, public_key, created_at FROM user_keys WHERE user_id = $1 \
         ORDER BY created_at DESC LIMIT 1",
    )
    .bind(user_id)
    .fetch_optional(pool)
    .await
    .map_err(store_error)?;
    row.as_ref().map(user_key).transpose().map_err(store_error)
}

pub async fn user_key_by_id(pool: &PgPool, id: Uuid) -> Result<Option<UserKey>, StoreError> {
    let row =
        sqlx::query("SELECT id, user_id, public_key, created_at FROM user_keys WHERE id = $1")
            .bind(id)
            .fetch_optional(pool)
            .await
            .map_err(store_error)?;
    row.as_ref().map(user_key).transpose().map_err(store_error)
}
