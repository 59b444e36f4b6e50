//! Groups in SQLite: creation, joining, leaving, listing.

use chat_proto::chat::{Conversation, MembershipChange};
use chrono::{DateTime, Utc};
use sqlx::{Row, SqliteConnection, SqlitePool};
use uuid::Uuid;

use super::rows::{conversations_with_members, micros, uuid};
use super::{log, write};
use crate::error::ChatError;
use crate::log::{Append, Change};
use crate::membership_events::{CreatedGroup, NewEvent};
use crate::records::{self, ms};
use crate::rules::{self, MemberRow, Membership};
use crate::store::{NewGroup, StoreResult};

pub async fn create(writer: &SqlitePool, group: NewGroup) -> StoreResult<Conversation> {
    let id = records::new_id();
    let now = Utc::now();
    let mut tx = write(writer).await?;
    let inserted = sqlx::query(
        "INSERT INTO conversations \
         (id, kind, name, owner_id, is_public, external_id, created_at, updated_at) \
         VALUES ($1, 'group', $2, $3, $4, $5, $6, $6) ON CONFLICT (external_id) DO NOTHING",
    )
    .bind(id.hyphenated())
    .bind(&group.name)
    .bind(group.creator.hyphenated())
    .bind(group.is_public)
    .bind(&group.external_id)
    .bind(micros(now))
    .execute(&mut *tx)
    .await?;
    if inserted.rows_affected() == 0 {
        return Err(ChatError::ExternalIdTaken);
    }
    for (user, role) in records::initial_members(group.creator, &group.members) {
        sqlx::query(
            "INSERT INTO members (conversation_id, user_id, role, joined_at) \
             VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
        )
        .bind(id.hyphenated())
        .bind(user.hyphenated())
        .bind(role)
        .bind(micros(now))
        .execute(&mut *tx)
        .await?;
    }
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
    writer: &SqlitePool,
    actor: Uuid,
    conversation: Uuid,
    user: Uuid,
) -> StoreResult<MembershipChange> {
    let mut tx = write(writer).await?;
    let state = membership(&mut tx, actor, conversation, user).await?;
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
        .bind(conversation.hyphenated())
        .bind(user.hyphenated())
        .bind(micros(now))
        .execute(&mut *tx)
        .await?;
        let event = NewEvent::joined(user, actor);
        record_event(&mut tx, conversation, event, now).await?;
    }
    let change = changed.then_some(Change::Joined { user, actor });
    finish_change(tx, conversation, change, now).await
}

pub async fn leave(
    writer: &SqlitePool,
    actor: Uuid,
    conversation: Uuid,
    user: Uuid,
) -> StoreResult<MembershipChange> {
    let mut tx = write(writer).await?;
    let state = membership(&mut tx, actor, conversation, user).await?;
    rules::may_remove(actor, user, &state)?;
    let now = Utc::now();
    // Whoever takes someone else out is remembered: that user may not come back by themselves.
    sqlx::query(
        "UPDATE members SET left_at = $3, removed_by = $4 \
         WHERE conversation_id = $1 AND user_id = $2",
    )
    .bind(conversation.hyphenated())
    .bind(user.hyphenated())
    .bind(micros(now))
    .bind((actor != user).then_some(actor.hyphenated()))
    .execute(&mut *tx)
    .await?;
    let event = NewEvent::left(user, actor);
    record_event(&mut tx, conversation, event, now).await?;
    finish_change(tx, conversation, Some(Change::Left { user, actor }), now).await
}

/// See [`crate::store::ChatStore::delete_group`].
pub async fn delete(
    writer: &SqlitePool,
    actor: Uuid,
    conversation: Uuid,
) -> StoreResult<Vec<Uuid>> {
    let mut tx = write(writer).await?;
    let row = sqlx::query(
        "SELECT kind, owner_id FROM conversations WHERE id = $1 AND deleted_at IS NULL",
    )
    .bind(conversation.hyphenated())
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(ChatError::ConversationNotFound)?;
    if row.try_get::<String, _>("kind")? != "group" {
        return Err(ChatError::WrongKind("only groups can be deleted".into()));
    }
    rules::may_delete(actor, super::rows::optional_uuid(&row, "owner_id")?)?;
    // The owner leaves last, so every other leave is shown to them too.
    let members = sqlx::query(
        "SELECT user_id FROM members WHERE conversation_id = $1 AND left_at IS NULL \
         ORDER BY user_id = $2, user_id",
    )
    .bind(conversation.hyphenated())
    .bind(actor.hyphenated())
    .fetch_all(&mut *tx)
    .await?
    .iter()
    .map(|row| uuid(row, "user_id"))
    .collect::<Result<Vec<_>, _>>()?;
    let now = Utc::now();
    for &user in &members {
        sqlx::query(
            "UPDATE members SET left_at = $3, removed_by = $4 \
             WHERE conversation_id = $1 AND user_id = $2",
        )
        .bind(conversation.hyphenated())
        .bind(user.hyphenated())
        .bind(micros(now))
        .bind((actor != user).then_some(actor.hyphenated()))
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
    .bind(conversation.hyphenated())
    .bind(micros(now))
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(members)
}

/// The group with this external id, with its members, unless deleted.
pub async fn by_external_id(
    reader: &SqlitePool,
    external_id: &str,
) -> StoreResult<Option<Conversation>> {
    let mut conn = reader.acquire().await?;
    let id: Option<uuid::fmt::Hyphenated> = sqlx::query_scalar(
        "SELECT id FROM conversations WHERE external_id = $1 AND deleted_at IS NULL",
    )
    .bind(external_id)
    .fetch_optional(&mut *conn)
    .await?;
    let Some(id) = id else { return Ok(None) };
    Ok(conversations_with_members(&mut conn, &[id.into_uuid()])
        .await?
        .pop())
}

pub async fn list(reader: &SqlitePool, user: Uuid) -> StoreResult<Vec<Conversation>> {
    let mut conn = reader.acquire().await?;
    let ids = sqlx::query(
        "SELECT c.id FROM conversations c JOIN members m ON m.conversation_id = c.id \
         WHERE m.user_id = $1 AND m.left_at IS NULL AND c.deleted_at IS NULL \
         ORDER BY c.updated_at DESC, c.number DESC",
    )
    .bind(user.hyphenated())
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(|row| uuid(row, "id"))
    .collect::<Result<Vec<_>, _>>()?;
    Ok(conversations_with_members(&mut conn, &ids).await?)
}

pub async fn get(reader: &SqlitePool, user: Uuid, conversation: Uuid) -> StoreResult<Conversation> {
    let mut conn = reader.acquire().await?;
    let found = conversations_with_members(&mut conn, &[conversation]).await?;
    records::readable(found.into_iter().next(), user)
}

/// Reads what the rules need. The caller's `BEGIN IMMEDIATE` already holds SQLite's one write
/// lock, so nothing changes the group until the transaction ends.
async fn membership(
    conn: &mut SqliteConnection,
    actor: Uuid,
    conversation: Uuid,
    user: Uuid,
) -> StoreResult<Membership> {
    let row = sqlx::query(
        "SELECT kind, is_public, owner_id FROM conversations \
         WHERE id = $1 AND deleted_at IS NULL",
    )
    .bind(conversation.hyphenated())
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
         FROM members WHERE conversation_id = $1 AND user_id IN ($2, $3)",
    )
    .bind(conversation.hyphenated())
    .bind(actor.hyphenated())
    .bind(user.hyphenated())
    .fetch_all(&mut *conn)
    .await?;
    let member = |who: Uuid| -> StoreResult<Option<MemberRow>> {
        for row in &rows {
            if uuid(row, "user_id")? == who {
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
        super::rows::optional_uuid(&row, "owner_id")?,
        member(actor)?,
        member(user)?,
    ))
}

async fn record_event(
    conn: &mut SqliteConnection,
    conversation: Uuid,
    event: NewEvent<'_>,
    at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO conversation_events \
         (conversation_id, kind, user_id, actor_id, payload, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(conversation.hyphenated())
    .bind(event.kind)
    .bind(event.user.map(|user| user.hyphenated()))
    .bind(event.actor.hyphenated())
    .bind(event.payload)
    .bind(micros(at))
    .execute(&mut *conn)
    .await?;
    if event.kind != "group_created" {
        sqlx::query("UPDATE conversations SET updated_at = $2 WHERE id = $1")
            .bind(conversation.hyphenated())
            .bind(micros(at))
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

/// Logs the change with the group as it is after it, and commits.
async fn finish_change(
    mut tx: sqlx::Transaction<'_, sqlx::Sqlite>,
    conversation: Uuid,
    change: Option<Change>,
    at: DateTime<Utc>,
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

pub async fn public(reader: &SqlitePool) -> StoreResult<Vec<Conversation>> {
    let mut conn = reader.acquire().await?;
    let ids = sqlx::query(
        "SELECT id FROM conversations \
         WHERE kind = 'group' AND is_public AND deleted_at IS NULL ORDER BY number",
    )
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(|row| uuid(row, "id"))
    .collect::<Result<Vec<_>, _>>()?;
    Ok(conversations_with_members(&mut conn, &ids).await?)
}

pub async fn rename(
    writer: &SqlitePool,
    actor: Uuid,
    conversation: Uuid,
    name: &str,
) -> StoreResult<Conversation> {
    let mut tx = write(writer).await?;
    let row = sqlx::query(
        "SELECT kind, owner_id FROM conversations WHERE id = $1 AND deleted_at IS NULL",
    )
    .bind(conversation.hyphenated())
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(ChatError::ConversationNotFound)?;
    let kind: String = row.try_get("kind")?;
    let owner: Option<String> = row.try_get("owner_id")?;
    let owner = owner.and_then(|owner| Uuid::parse_str(&owner).ok());
    rules::may_rename(actor, &kind, owner)?;
    sqlx::query("UPDATE conversations SET name = $2, updated_at = $3 WHERE id = $1")
        .bind(conversation.hyphenated())
        .bind(name)
        .bind(micros(Utc::now()))
        .execute(&mut *tx)
        .await?;
    let renamed = conversations_with_members(&mut tx, &[conversation])
        .await?
        .pop()
        .ok_or(ChatError::ConversationNotFound)?;
    tx.commit().await?;
    Ok(renamed)
}
