//! Rows as the SQLite tables hold them (UUIDs as hyphenated text, times as RFC 3339 text) and
//! their conversion into the domain types.

use chrono::{DateTime, Utc};
use uuid::fmt::Hyphenated;

use crate::model::{Credentials, Identity, Session, User};

/// The columns a [`UserRow`] is read from.
pub const USER_COLUMNS: &str = "id, number, username, email, first_name, last_name, \
     display_name, email_confirmed, external_id, public_key, created_at";

/// The columns a [`SessionRow`] is read from.
pub const SESSION_COLUMNS: &str =
    "id, user_id, connection_id, device_id, platform, model, build, name, created_at";

/// The identity of a live session of a user who is not deleted; a condition on `s` follows.
pub const IDENTITY_SQL: &str = "SELECT s.id AS session_id, u.id AS user_id, u.number, u.username, \
     u.first_name \
     FROM sessions s JOIN users u ON u.id = s.user_id \
     WHERE s.revoked_at IS NULL AND u.deleted_at IS NULL AND";

/// A time as the tables hold it: UTC with exactly six fractional digits (the precision of
/// Postgres), so that comparing two stored times as text compares them in time.
pub fn timestamp(time: DateTime<Utc>) -> String {
    time.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

#[derive(sqlx::FromRow)]
pub struct UserRow {
    id: Hyphenated,
    number: i64,
    username: String,
    email: Option<String>,
    first_name: String,
    last_name: String,
    display_name: String,
    email_confirmed: bool,
    external_id: Option<String>,
    public_key: Option<String>,
    created_at: DateTime<Utc>,
}

impl From<UserRow> for User {
    fn from(row: UserRow) -> Self {
        User {
            id: row.id.into_uuid(),
            number: row.number,
            username: row.username,
            email: row.email,
            first_name: row.first_name,
            last_name: row.last_name,
            display_name: row.display_name,
            email_confirmed: row.email_confirmed,
            external_id: row.external_id,
            public_key: row.public_key,
            created_at: row.created_at,
        }
    }
}

#[derive(sqlx::FromRow)]
pub struct CredentialsRow {
    #[sqlx(flatten)]
    user: UserRow,
    password_hash: String,
}

impl From<CredentialsRow> for Credentials {
    fn from(row: CredentialsRow) -> Self {
        Credentials {
            user: row.user.into(),
            password_hash: row.password_hash,
        }
    }
}

#[derive(sqlx::FromRow)]
pub struct SessionRow {
    id: Hyphenated,
    user_id: Hyphenated,
    connection_id: Hyphenated,
    device_id: String,
    platform: String,
    model: String,
    build: i64,
    name: String,
    created_at: DateTime<Utc>,
}

impl From<SessionRow> for Session {
    fn from(row: SessionRow) -> Self {
        Session {
            id: row.id.into_uuid(),
            user_id: row.user_id.into_uuid(),
            connection_id: row.connection_id.into_uuid(),
            device_id: row.device_id,
            platform: row.platform,
            model: row.model,
            build: row.build,
            name: row.name,
            created_at: row.created_at,
        }
    }
}

#[derive(sqlx::FromRow)]
pub struct IdentityRow {
    session_id: Hyphenated,
    user_id: Hyphenated,
    number: i64,
    username: String,
    first_name: String,
}

impl From<IdentityRow> for Identity {
    fn from(row: IdentityRow) -> Self {
        Identity {
            user_id: row.user_id.into_uuid(),
            user_number: row.number,
            username: row.username,
            first_name: row.first_name,
            session_id: Some(row.session_id.into_uuid()),
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};

    use super::timestamp;

    #[test]
    fn timestamps_have_one_width_so_text_order_is_time_order() {
        let whole = Utc
            .timestamp_opt(1_700_000_000, 0)
            .single()
            .expect("a valid time");
        let later = Utc
            .timestamp_opt(1_700_000_000, 123_456_789)
            .single()
            .expect("valid");
        assert_eq!(timestamp(whole), "2023-11-14T22:13:20.000000Z");
        assert_eq!(timestamp(later), "2023-11-14T22:13:20.123456Z");
        assert!(timestamp(whole) < timestamp(later));
    }
}
