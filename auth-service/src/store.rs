//! The storage the auth service needs, as a trait: Postgres implements it for deployments,
//! SQLite for the single-process mode.

use std::future::Future;

use uuid::Uuid;

use crate::model::{
    Credentials, Identity, NewRefreshToken, NewSession, NewUser, PendingRegistration, Platform,
    RefreshUse, RevokedSession, Session, User, UserChanges, UserKey,
};

/// What a store can fail with. Uniqueness conflicts are domain answers; anything else is the
/// backend's problem and never reaches a client.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("username is taken")]
    UsernameTaken,
    #[error("email is taken")]
    EmailTaken,
    /// Another user has this `external_id` (a platform's user id, already provisioned).
    #[error("external id is taken")]
    ExternalIdTaken,
    #[error("platform name is taken")]
    PlatformNameTaken,
    /// The database cannot be reached now; the caller may try again.
    #[error("storage is unavailable")]
    Unavailable(#[source] Box<dyn std::error::Error + Send + Sync>),
    #[error("storage backend failed")]
    Backend(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// Users and sessions. Every lookup ignores soft-deleted users; every folded argument is
/// already folded with [`crate::model::fold`].
pub trait AuthStore: Send + Sync + 'static {
    /// Stores a user; `UsernameTaken` / `EmailTaken` when a folded value is already in use,
    /// even when two registrations race.
    fn insert_user(&self, user: NewUser) -> impl Future<Output = Result<User, StoreError>> + Send;

    fn credentials_by_username(
        &self,
        username_folded: &str,
    ) -> impl Future<Output = Result<Option<Credentials>, StoreError>> + Send;

    fn credentials_by_email(
        &self,
        email_folded: &str,
    ) -> impl Future<Output = Result<Option<Credentials>, StoreError>> + Send;

    fn user_by_id(&self, id: Uuid)
    -> impl Future<Output = Result<Option<User>, StoreError>> + Send;

    /// Users with any of the ids or numbers, ordered by number; unknown ones are left out.
    fn users_by_ids(
        &self,
        ids: &[Uuid],
        numbers: &[i64],
    ) -> impl Future<Output = Result<Vec<User>, StoreError>> + Send;

    /// Users whose folded username contains `query_folded`, ordered by number.
    fn search_users(
        &self,
        query_folded: &str,
        limit: u32,
    ) -> impl Future<Output = Result<Vec<User>, StoreError>> + Send;

    /// Users numbered after `after_number`, ordered by number: at most `limit` of them.
    fn list_users(
        &self,
        after_number: i64,
        limit: u32,
    ) -> impl Future<Output = Result<Vec<User>, StoreError>> + Send;

    /// Applies `changes` to a user who is not deleted and returns the user as changed; `None`
    /// when there is no such user. `UsernameTaken` / `EmailTaken` as for [`Self::insert_user`].
    fn update_user(
        &self,
        id: Uuid,
        changes: UserChanges,
    ) -> impl Future<Output = Result<Option<User>, StoreError>> + Send;

    /// Marks a user deleted, frees their username and email, and revokes every live session of
    /// theirs, all at once; returns the sessions revoked, or `None` when there is no such user
    /// (or they are already deleted).
    fn delete_user(
        &self,
        id: Uuid,
    ) -> impl Future<Output = Result<Option<Vec<RevokedSession>>, StoreError>> + Send;

    fn insert_session(
        &self,
        session: NewSession,
    ) -> impl Future<Output = Result<Session, StoreError>> + Send;

    /// The identity behind a connection id of a session that is not revoked, of a user that is
    /// not deleted.
    fn identity_by_connection(
        &self,
        connection_id: Uuid,
    ) -> impl Future<Output = Result<Option<Identity>, StoreError>> + Send;

    /// The identity behind a live session of a user that is not deleted, by the session's id:
    /// what an access token naming the session stands for.
    fn identity_by_session(
        &self,
        session_id: Uuid,
    ) -> impl Future<Output = Result<Option<Identity>, StoreError>> + Send;

    /// The identity behind a session token's hash (SHA-256, hex), as for a connection id.
    fn identity_by_token_hash(
        &self,
        token_hash: &str,
    ) -> impl Future<Output = Result<Option<Identity>, StoreError>> + Send;

    /// Stores a registration waiting for its email's confirmation, replacing any earlier one of
    /// the same folded email (whose token then confirms nothing). `EmailTaken` when a user who
    /// is not deleted has that email.
    fn put_pending_registration(
        &self,
        registration: PendingRegistration,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Takes (removes and returns) the pending registration whose token hash this is, so a
    /// token confirms at most once; `None` when there is none. Expiry is the caller's to check.
    fn take_pending_registration(
        &self,
        token_hash: &str,
    ) -> impl Future<Output = Result<Option<PendingRegistration>, StoreError>> + Send;

    /// Revokes a live session of `user_id` and returns its connection id; `None` when there is
    /// no such live session.
    fn revoke_session(
        &self,
        user_id: Uuid,
        session_id: Uuid,
    ) -> impl Future<Output = Result<Option<Uuid>, StoreError>> + Send;

    /// The live (not revoked) sessions of a user, oldest first.
    fn live_sessions(
        &self,
        user_id: Uuid,
    ) -> impl Future<Output = Result<Vec<Session>, StoreError>> + Send;

    /// How many users are not deleted.
    fn count_users(&self) -> impl Future<Output = Result<i64, StoreError>> + Send;

    /// Stores a platform with the hash (SHA-256, hex) of its API key; `PlatformNameTaken` when
    /// the name is in use (revoked platforms keep theirs).
    fn insert_platform(
        &self,
        id: Uuid,
        name: &str,
        key_hash: &str,
    ) -> impl Future<Output = Result<Platform, StoreError>> + Send;

    /// Revokes the platform's key; `false` when there is no such platform not yet revoked.
    fn revoke_platform(&self, name: &str) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// The platform whose key has this hash, unless it is revoked.
    fn platform_by_key_hash(
        &self,
        key_hash: &str,
    ) -> impl Future<Output = Result<Option<Platform>, StoreError>> + Send;

    /// Users (not deleted) with any of the external ids, in no particular order.
    fn users_by_external_ids(
        &self,
        external_ids: &[String],
    ) -> impl Future<Output = Result<Vec<User>, StoreError>> + Send;

    fn insert_refresh_token(
        &self,
        token: NewRefreshToken,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Spends a refresh token by its hash. A token spent before revokes its session and every
    /// refresh token of it, in the same call: of two uses racing, one gets `Fresh` and the other
    /// revokes the family.
    fn use_refresh_token(
        &self,
        token_hash: &str,
    ) -> impl Future<Output = Result<RefreshUse, StoreError>> + Send;

    /// Stores a public key of a user; it becomes the user's newest key.
    fn insert_user_key(
        &self,
        id: Uuid,
        user_id: Uuid,
        public_key: &str,
    ) -> impl Future<Output = Result<UserKey, StoreError>> + Send;

    /// The newest key of a user, if they have one.
    fn newest_user_key(
        &self,
        user_id: Uuid,
    ) -> impl Future<Output = Result<Option<UserKey>, StoreError>> + Send;

    /// A key by its id, whoever's it is.
    fn user_key(
        &self,
        id: Uuid,
    ) -> impl Future<Output = Result<Option<UserKey>, StoreError>> + Send;
}

/// A `LIKE` pattern matching `text` anywhere, with `\` as the escape character.
pub fn contains_pattern(text: &str) -> String {
    let mut pattern = String::with_capacity(text.len() + 2);
    pattern.push('%');
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

#[cfg(test)]
mod tests {
    use super::contains_pattern;

    #[test]
    fn wildcards_are_escaped() {
        assert_eq!(contains_pattern("a%b_c\\d"), "%a\\%b\\_c\\\\d%");
        assert_eq!(contains_pattern("вася"), "%вася%");
    }
}
