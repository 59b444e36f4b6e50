//! Groups in Postgres: creation, joining, leaving, listing.

use chat_proto::chat::{Conversation, MembershipChange};
use chrono::Utc;
use sqlx::{PgConnection, PgPool, Row};
use uuid::Uuid;

use super::log;
use super::rows::{conversations_with_members, ms};
use crate::error::ChatError;
use crate::log::{Append, Change};
use crate::membership_events::{CreatedGroup, NewEvent};
use crate::records;
use crate::rules::{self, MemberRow, Membership};
use crate::store::{NewGroup, StoreResult};

pub async fn create(pool: &PgPool, group: NewGroup) -> StoreResult<Conversation> {
    let id = records::new_id();
    let now = Utc::now();
    let mut tx = pool.begin().await?;
    let inserted = sqlx::query(
        "INSERT INTO conversations \
         (id, kind, name, owner_id, is_public, external_id, created_at, updated_at) \
         VALUES ($1, 'group', $2, $3, $4, $5, $6, $6) ON CONFLICT (external_id) DO NOTHING",
    )
    .bind(id)
    .bind(&group.name)
    .bind(group.creator)
    .bind(group.is_public)
    .bind(&group.external_id)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    if inserted.rows_affected() == 0 {
        return Err(ChatError::ExternalIdTaken);
    }
    let (members, roles): (Vec<Uuid>, Vec<&str>) =
        records::initial_members(group.creator, &group.members)
            .into_iter()
            .unzip();
    sqlx::query(
        "INSERT INTO members (conversation_id, user_id, role, joined_at) \
         SELECT $1, u.user_id, u.role, $4 FROM UNNEST($2::uuid[], $3::text[]) AS u(user_id, role) \
         ON CONFLICT DO NOTHING",
    )
    .bind(id)
    .bind(&members)
    .bind(&roles)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    let conversation = conversations_with_members(&mut tx, &[id])
        .await?
        .pop()
        .ok_or(ChatError::ConversationNotFound)?;
    let created = CreatedGroup::of(&conversation)?.to_json()?;
    record_event(&mut tx, id, NewEvent::created(group.creator, &created), now).await?;
    log::append(&mut tx, &Append::group_created(&conversation)?).await?;
    tx.commit().await?;
    Ok(conversation)
}

pub async fn join(
    pool: &PgPool,
    actor: Uuid,
    conversation: Uuid,
    user: Uuid,
) -> StoreResult<MembershipChange> {
    let mut tx = pool.begin().await?;
    let state = lock_membership(&mut tx, actor, conversation, user).await?;
    rules::may_join(actor, user, &state)?;
    let now = Utc::now();
    let changed = !state.user_is_member;
    if changed {
        sqlx::query(
            "INSERT INTO members (conversation_id, user_id, role, joined_at) \
             VALUES ($1, $2, 'member', $3) \
             ON CONFLICT (conversation_id, user_id) \
             DO UPDATE SET joined_at = $3, left_at = NULL, removed_by = NULL",
        )
        .bind(conversation)
        .bind(user)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        let event = NewEvent::joined(user, actor);
        record_event(&mut tx, conversation, event, now).await?;
    }
    let change = changed.then_some(Change::Joined { user, actor });
    finish_change(tx, conversation, change, now).await
}

pub async fn leave(
    pool: &PgPool,
    actor: Uuid,
    conversation: Uuid,
    user: Uuid,
) -> StoreResult<MembershipChange> {
    let mut tx = pool.begin().await?;
    let state = lock_membership(&mut tx, actor, conversation, user).await?;
    rules::may_remove(actor, user, &state)?;
    let now = Utc::now();
    // Whoever takes someone else out is remembered: that user may not come back by themselves.
    sqlx::query(
        "UPDATE members SET left_at = $3, removed_by = $4 \
         WHERE conversation_id = $1 AND user_id = $2",
    )
    .bind(conversation)
    .bind(user)
    .bind(now)
    .bind((actor != user).then_some(actor))
    .execute(&mut *tx)
    .await?;
    let event = NewEvent::left(user, actor);
    record_event(&mut tx, conversation, event, now).await?;
    finish_change(tx, conversation, Some(Change::Left { user, actor }), now).await
}

/// See [`crate::store::ChatStore::delete_group`].
pub async fn delete(pool: &PgPool, actor: Uuid, conversation: Uuid) -> StoreResult<Vec<Uuid>> {
    let mut tx = pool.begin().await?;
    let row = sqlx::query(
        "SELECT kind, owner_id FROM conversations WHERE id = $1 AND deleted_at IS NULL FOR UPDATE",
    )
    .bind(conversation)
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(ChatError::ConversationNotFound)?;
    if row.try_get::<String, _>("kind")? != "group" {
        return Err(ChatError::WrongKind("only groups can be deleted".into()));
    }
    rules::may_delete(actor, row.try_get("owner_id")?)?;
    // The owner leaves last, so every other leave is shown to them too.
    let members: Vec<Uuid> = sqlx::query_scalar(
        "SELECT user_id FROM members WHERE conversation_id = $1 AND left_at IS NULL \
         ORDER BY user_id = $2, user_id FOR UPDATE",
    )
    .bind(conversation)
    .bind(actor)
    .fetch_all(&mut *tx)
    .await?;
    let now = Utc::now();
    for &user in &members {
        sqlx::query(
            "UPDATE members SET left_at = $3, removed_by = $4 \
             WHERE conversation_id = $1 AND user_id = $2",
        )
        .bind(conversation)
        .bind(user)
        .bind(now)
        .bind((actor != user).then_some(actor))
        .execute(&mut *tx)
        .await?;
        record_event(&mut tx, conversation, NewEvent::left(user, actor), now).await?;
        let found = conversations_with_members(&mut tx, &[conversation])
            .await?
            .pop()
            .ok_or(ChatError::ConversationNotFound)?;
        let change = Change::Left { user, actor };
        log::append(&mut tx, &Append::of_change(&found, change, now)?).await?;
    }
    sqlx::query(
        "UPDATE conversations SET deleted_at = $2, updated_at = $2, external_id = NULL \
         WHERE id = $1",
    )
    .bind(conversation)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(members)
}

/// The group with this external id, with its members, unless deleted.
pub async fn by_external_id(pool: &PgPool, external_id: &str) -> StoreResult<Option<Conversation>> {
    let mut conn = pool.acquire().await?;
    let id: Option<Uuid> = sqlx::query_scalar(
        "SELECT id FROM conversations WHERE external_id = $1 AND deleted_at IS NULL",
    )
    .bind(external_id)
    .fetch_optional(&mut *conn)
    .await?;
    let Some(id) = id else { return Ok(None) };
    Ok(conversations_with_members(&mut conn, &[id]).await?.pop())
}

pub async fn list(pool: &PgPool, user: Uuid) -> StoreResult<Vec<Conversation>> {
    let mut conn = pool.acquire().await?;
    let ids: Vec<Uuid> = sqlx::query_scalar(
        "SELECT c.id FROM conversations c JOIN members m ON m.conversation_id = c.id \
         WHERE m.user_id = $1 AND m.left_at IS NULL AND c.deleted_at IS NULL \
         ORDER BY c.updated_at DESC, c.number DESC",
    )
    .bind(user)
    .fetch_all(&mut *conn)
    .await?;
    Ok(conversations_with_members(&mut conn, &ids).await?)
}

pub async fn get(pool: &PgPool, user: Uuid, conversation: Uuid) -> StoreResult<Conversation> {
    let mut conn = pool.acquire().await?;
    let found = conversations_with_members(&mut conn, &[conversation]).await?;
    records::readable(found.into_iter().next(), user)
}

/// Locks the group's row (so membership changes of one group are serialized) and the two
/// people's member rows (so that their receipts fall wholly before or after the change), and
/// reads what the rules need.
async fn lock_membership(
    conn: &mut PgConnection,
    actor: Uuid,
    conversation: Uuid,
    user: Uuid,
) -> StoreResult<Membership> {
    let row = sqlx::query(
        "SELECT kind, is_public, owner_id FROM conversations \
         WHERE id = $1 AND deleted_at IS NULL FOR UPDATE",
    )
    .bind(conversation)
    .fetch_optional(&mut *conn)
    .await?
    .ok_or(ChatError::ConversationNotFound)?;
    if row.try_get::<String, _>("kind")? != "group" {
        return Err(ChatError::WrongKind(
            "members can only join or leave groups".into(),
        ));
    }
    let rows = sqlx::query(
        "SELECT user_id, left_at IS NULL AS active, removed_by IS NOT NULL AS removed \
         FROM members WHERE conversation_id = $1 AND user_id IN ($2, $3) FOR UPDATE",
    )
    .bind(conversation)
    .bind(actor)
    .bind(user)
    .fetch_all(&mut *conn)
    .await?;
    let member = |who: Uuid| -> StoreResult<Option<MemberRow>> {
        for row in &rows {
            if row.try_get::<Uuid, _>("user_id")? == who {
                return Ok(Some(MemberRow {
                    active: row.try_get("active")?,
                    removed: row.try_get("removed")?,
                }));
            }
        }
        Ok(None)
    };
    Ok(Membership::new(
        row.try_get("is_public")?,
        row.try_get("owner_id")?,
        member(actor)?,
        member(user)?,
    ))
}

async fn record_event(
    conn: &mut PgConnection,
    conversation: Uuid,
    event: NewEvent<'_>,
    at: chrono::DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO conversation_events \
         (conversation_id, kind, user_id, actor_id, payload, created_at) \
         VALUES ($1, $2, $3, $4, $5::jsonb, $6)",
    )
    .bind(conversation)
    .bind(event.kind)
    .bind(event.user)
    .bind(event.actor)
    .bind(event.payload)
    .bind(at)
    .execute(&mut *conn)
    .await?;
    if event.kind != "group_created" {
        sqlx::query("UPDATE conversations SET updated_at = $2 WHERE id = $1")
            .bind(conversation)
            .bind(at)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

/// Logs the change with the group as it is after it, and commits.
async fn finish_change(
    mut tx: sqlx::Transaction<'_, sqlx::Postgres>,
    conversation: Uuid,
    change: Option<Change>,
    at: chrono::DateTime<Utc>,
) -> StoreResult<MembershipChange> {
    let found = conversations_with_members(&mut tx, &[conversation])
        .await?
        .pop()
        .ok_or(ChatError::ConversationNotFound)?;
    let changed = change.is_some();
    if let Some(change) = change {
        log::append(&mut tx, &Append::of_change(&found, change, at)?).await?;
    }
    tx.commit().await?;
    Ok(MembershipChange {
        conversation: Some(found),
        changed,
        at_ms: ms(at),
    })
}

pub async fn public(pool: &PgPool) -> StoreResult<Vec<Conversation>> {
    let mut conn = pool.acquire().await?;
    let ids: Vec<Uuid> = sqlx::query_scalar(
        "SELECT id FROM conversations \
         WHERE kind = 'group' AND is_public AND deleted_at IS NULL ORDER BY number",
    )
    .fetch_all(&mut *conn)
    .await?;
    Ok(conversations_with_members(&mut conn, &ids).await?)
}

pub async fn rename(
    pool: &PgPool,
    actor: Uuid,
    conversation: Uuid,
    name: &str,
) -> StoreResult<Conversation> {
    let mut tx = pool.begin().await?;
    let row = sqlx::query(
        "SELECT kind, owner_id FROM conversations WHERE id = $1 AND deleted_at IS NULL FOR UPDATE",
    )
    .bind(conversation)
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(ChatError::ConversationNotFound)?;
    let kind: String = row.try_get("kind")?;
    let owner: Option<Uuid> = row.try_get("owner_id")?;
    rules::may_rename(actor, &kind, owner)?;
    sqlx::query("UPDATE conversations SET name = $2, updated_at = $3 WHERE id = $1")
        .bind(conversation)
        .bind(name)
        .bind(Utc::now())
        .execute(&mut *tx)
        .await?;
    let renamed = conversations_with_members(&mut tx, &[conversation])
        .await?
        .pop()
        .ok_or(ChatError::ConversationNotFound)?;
    tx.commit().await?;
    Ok(renamed)
}
