//! The auth domain: users, sessions and the identity a token or connection resolves to.

use chrono::{DateTime, Utc};
use uuid::Uuid;

/// A registered user, as stored.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct User {
    pub id: Uuid,
    pub number: i64,
    pub username: String,
    pub email: Option<String>,
    pub first_name: String,
    pub last_name: String,
    pub display_name: String,
    pub email_confirmed: bool,
    /// A platform's own id for this user (the platform-backend dialect).
    pub external_id: Option<String>,
    /// An RSA public key in PEM, for signed messages.
    pub public_key: Option<String>,
    pub created_at: DateTime<Utc>,
}

/// A user to be stored. Folded fields are computed in Rust so that case-insensitive uniqueness
/// works the same in every script and on every database locale.
#[derive(Debug, Clone)]
pub struct NewUser {
    pub id: Uuid,
    pub username: String,
    pub username_folded: String,
    pub email: Option<String>,
    pub email_folded: Option<String>,
    pub password_hash: String,
    pub first_name: String,
    pub last_name: String,
    pub display_name: String,
    /// A platform user's scoped id ([`platform_user_key`]); `None` for everyone else.
    pub external_id: Option<String>,
}

/// A registration waiting for its email's confirmation (the web app's `POST /http/register`):
/// the account to create, and the SHA-256 (hex) of the token the mail's link carries.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct PendingRegistration {
    pub email: String,
    pub email_folded: String,
    pub password_hash: String,
    pub first_name: String,
    pub last_name: String,
    pub token_hash: String,
    /// After this (Unix milliseconds) the token confirms nothing.
    pub expires_at_ms: i64,
}

/// What an update changes: each field that is `Some`. `email: Some(None)` removes the email.
/// The stores fold the new username and email with [`fold`].
#[derive(Debug, Clone, Default)]
pub struct UserChanges {
    pub username: Option<String>,
    pub email: Option<Option<String>>,
    pub password_hash: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub display_name: Option<String>,
}

/// A session that a user's deletion revoked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RevokedSession {
    pub session_id: Uuid,
    pub connection_id: Uuid,
}

/// A user together with the hash their password is checked against.
#[derive(Clone, sqlx::FromRow)]
pub struct Credentials {
    #[sqlx(flatten)]
    pub user: User,
    pub password_hash: String,
}

/// A device's login of a user.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Session {
    pub id: Uuid,
    pub user_id: Uuid,
    pub connection_id: Uuid,
    pub device_id: String,
    pub platform: String,
    pub model: String,
    pub build: i64,
    pub name: String,
    pub created_at: DateTime<Utc>,
}

/// A session to be stored; only the hash of its opaque token is kept.
#[derive(Debug, Clone)]
pub struct NewSession {
    pub id: Uuid,
    pub user_id: Uuid,
    pub connection_id: Uuid,
    pub device_id: String,
    pub platform: String,
    pub model: String,
    pub build: i64,
    pub name: String,
    pub token_hash: String,
}

/// Who is behind a token or a connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub user_id: Uuid,
    pub user_number: i64,
    pub username: String,
    pub first_name: String,
    /// Set when the identity comes from a session's connection.
    pub session_id: Option<Uuid>,
}

impl Identity {
    pub fn of_user(user: &User) -> Self {
        Identity {
            user_id: user.id,
            user_number: user.number,
            username: user.username.clone(),
            first_name: user.first_name.clone(),
            session_id: None,
        }
    }
}

/// What a deleted user's folded username becomes: a value no username can take (usernames
/// have no spaces), so the name is free for someone else and the unique constraint still holds.
pub fn deleted_username_folded(id: Uuid) -> String {
    format!("deleted {id}")
}

/// The case-insensitive form of a username or email, the same in every script.
pub fn fold(text: &str) -> String {
    text.to_lowercase()
}

/// A tenant of the platform-backend dialect (seed 002): its backend calls with an API key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Platform {
    pub id: Uuid,
    pub name: String,
    pub created_at: DateTime<Utc>,
}

/// A refresh token to store: only its hash is kept. Its session is its family.
#[derive(Debug, Clone)]
pub struct NewRefreshToken {
    pub token_hash: String,
    pub session_id: Uuid,
    pub user_id: Uuid,
    pub expires_at: DateTime<Utc>,
}

/// What presenting a refresh token found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefreshUse {
    /// Unused until now, and now spent.
    Fresh {
        session_id: Uuid,
        user_id: Uuid,
        expires_at: DateTime<Utc>,
    },
    /// Spent before: its family (session) has now been revoked, with every token of it.
    Reused {
        session_id: Uuid,
    },
    Unknown,
}

/// The `external_id` of a platform's user: the platform's id and the user's own id, so two
/// platforms may both have a `user1`.
pub fn platform_user_key(platform: Uuid, user_id: &str) -> String {
    format!("{platform}/{user_id}")
}

/// The platform and the platform's own user id of an `external_id` made by
/// [`platform_user_key`].
pub fn split_platform_user_key(external_id: &str) -> Option<(Uuid, &str)> {
    let (platform, user) = external_id.split_once('/')?;
    Some((Uuid::parse_str(platform).ok()?, user))
}

/// A user's RSA public key (seed 002), as SubjectPublicKeyInfo PEM.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserKey {
    pub id: Uuid,
    pub user_id: Uuid,
    pub public_key: String,
    pub created_at: DateTime<Utc>,
}
