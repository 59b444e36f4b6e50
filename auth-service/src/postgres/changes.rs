//! Changing and deleting users in Postgres.

use sqlx::PgPool;
use uuid::Uuid;

use super::{USER_COLUMNS, store_error};
use crate::model::{RevokedSession, User, UserChanges, deleted_username_folded, fold};
use crate::store::StoreError;

pub async fn update_user(
    pool: &PgPool,
    id: Uuid,
    changes: UserChanges,
) -> Result<Option<User>, StoreError> {
    let username_folded = changes.username.as_deref().map(fold);
    let (email_changes, email) = match changes.email {
        Some(email) => (true, email),
        None => (false, None),
    };
    let email_folded = email.as_deref().map(fold);
    sqlx::query_as(&format!(
        "UPDATE users SET username = COALESCE($2, username), \
         username_folded = COALESCE($3, username_folded), \
         email = CASE WHEN $4 THEN $5 ELSE email END, \
         email_folded = CASE WHEN $4 THEN $6 ELSE email_folded END, \
         password_hash = COALESCE($7, password_hash), first_name = COALESCE($8, first_name), \
         last_name = COALESCE($9, last_name), display_name = COALESCE($10, display_name), \
         updated_at = now() \
         WHERE id = $1 AND deleted_at IS NULL RETURNING {USER_COLUMNS}"
    ))
    .bind(id)
    .bind(changes.username)
    .bind(username_folded)
    .bind(email_changes)
    .bind(email)
    .bind(email_folded)
    .bind(changes.password_hash)
    .bind(changes.first_name)
    .bind(changes.last_name)
    .bind(changes.display_name)
    .fetch_optional(pool)
    .await
    .map_err(store_error)
}

pub async fn delete_user(
    pool: &PgPool,
    id: Uuid,
) -> Result<Option<Vec<RevokedSession>>, StoreError> {
    let mut tx = pool.begin().await.map_err(store_error)?;
    let deleted: Option<Uuid> = sqlx::query_scalar(
        "UPDATE users SET deleted_at = now(), updated_at = now(), username_folded = $2, \
         email_folded = NULL WHERE id = $1 AND deleted_at IS NULL RETURNING id",
    )
    .bind(id)
    .bind(deleted_username_folded(id))
    .fetch_optional(&mut *tx)
    .await
    .map_err(store_error)?;
    if deleted.is_none() {
        return Ok(None);
    }
    let revoked: Vec<(Uuid, Uuid)> = sqlx::query_as(
        "UPDATE sessions SET revoked_at = now() WHERE user_id = $1 AND revoked_at IS NULL \
         RETURNING id, connection_id",
    )
    .bind(id)
    .fetch_all(&mut *tx)
    .await
    .map_err(store_error)?;
    tx.commit().await.map_err(store_error)?;
    Ok(Some(
        revoked
            .into_iter()
            .map(|(session_id, connection_id)| RevokedSession {
                session_id,
                connection_id,
            })
            .collect(),
    ))
}
