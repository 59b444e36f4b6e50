//! The behaviour every `AuthStore` must show, written once and run against each store.

mod changes;
mod lookup;
mod platforms;
mod registrations;
mod sessions;
mod users;

use auth_service::{AuthStore, NewSession, NewUser, User, fold};
use uuid::Uuid;

pub use changes::*;
pub use lookup::*;
pub use platforms::*;
pub use registrations::*;
pub use sessions::*;
pub use users::*;

crate::backends::conformance_tests!(
    an_inserted_user_is_found_by_id_number_username_and_email,
    unknown_users_and_connections_are_not_found,
    a_taken_username_is_refused_whatever_its_case,
    a_taken_email_is_refused_whatever_its_case,
    numbers_are_distinct_and_increasing,
    racing_inserts_of_one_username_leave_one_user,
    concurrent_inserts_all_succeed_with_distinct_numbers,
    users_by_ids_and_numbers_leave_unknown_ones_out,
    search_is_contains_and_case_insensitive_in_any_script,
    search_treats_wildcards_as_text,
    listing_pages_every_user_by_number_without_the_deleted,
    a_session_resolves_until_it_is_revoked,
    sessions_of_one_user_are_revoked_one_by_one,
    a_session_of_an_unknown_user_is_refused,
    live_sessions_are_listed_oldest_first_without_the_revoked,
    users_are_counted_without_the_deleted,
    a_token_hash_resolves_until_its_session_is_revoked,
    an_update_changes_only_the_fields_given,
    an_update_to_a_taken_username_or_email_is_refused,
    a_deleted_user_is_gone_with_every_session,
    a_deleted_users_username_and_email_are_free_again,
    platforms_are_found_by_key_until_revoked,
    platform_users_are_found_by_external_id_once_each,
    a_refresh_token_is_spent_once_and_its_reuse_revokes_the_family,
    the_newest_key_of_a_user_is_theirs_and_older_keys_stay,
    a_pending_registration_is_taken_once_and_replaced_by_registering_again,
    a_pending_registration_of_a_users_email_is_refused,
);

/// A user to insert, folded as the service folds; the password hash names the user.
pub fn new_user(username: &str, email: Option<&str>) -> NewUser {
    NewUser {
        id: Uuid::new_v4(),
        username: username.to_owned(),
        username_folded: fold(username),
        email: email.map(str::to_owned),
        email_folded: email.map(fold),
        password_hash: format!("hash of {username}"),
        first_name: "Первый".to_owned(),
        last_name: "Last".to_owned(),
        display_name: format!("{username} shown"),
        external_id: None,
    }
}

pub async fn insert(store: &impl AuthStore, username: &str, email: Option<&str>) -> User {
    store
        .insert_user(new_user(username, email))
        .await
        .unwrap_or_else(|error| panic!("cannot insert {username}: {error:?}"))
}

pub fn new_session(user_id: Uuid, name: &str) -> NewSession {
    NewSession {
        id: Uuid::new_v4(),
        user_id,
        connection_id: Uuid::new_v4(),
        device_id: format!("device of {name}"),
        platform: "ios".to_owned(),
        model: "iPhone".to_owned(),
        build: 42,
        name: name.to_owned(),
        token_hash: Uuid::new_v4().simple().to_string(),
    }
}

pub fn usernames(users: &[User]) -> Vec<&str> {
    users.iter().map(|user| user.username.as_str()).collect()
}

/// Everyone stored, by searching for the empty string.
pub async fn everyone(store: &impl AuthStore) -> Vec<User> {
    store.search_users("", 1000).await.expect("search works")
}
