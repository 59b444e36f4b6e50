//! Changing users, and deleting them: what changes, what is refused, and what a deletion takes
//! with it.

use auth_service::{AuthStore, StoreError, UserChanges, fold};

use super::{everyone, insert, new_session, new_user, usernames};

pub async fn an_update_changes_only_the_fields_given(store: impl AuthStore) {
    let user = insert(&store, "Вася", Some("vasya@example.com")).await;
    let other = insert(&store, "Петя", None).await;
    let changes = UserChanges {
        first_name: Some("Василий".to_owned()),
        password_hash: Some("new hash".to_owned()),
        ..UserChanges::default()
    };
    let changed = store.update_user(user.id, changes).await.expect("update");
    let changed = changed.expect("the user exists");
    assert_eq!(changed.first_name, "Василий");
    assert_eq!(
        (changed.username.as_str(), changed.last_name.as_str()),
        ("Вася", "Last")
    );
    assert_eq!(changed.email.as_deref(), Some("vasya@example.com"));
    let found = store.credentials_by_username(&fold("ВАСЯ")).await;
    let credentials = found.expect("lookup").expect("found");
    assert_eq!(credentials.password_hash, "new hash");
    assert_eq!(credentials.user, changed);

    // A new username and email are found in any case; the old ones are not.
    let changes = UserChanges {
        username: Some("Vasiliy".to_owned()),
        email: Some(Some("Vasiliy@Example.com".to_owned())),
        ..UserChanges::default()
    };
    let changed = store.update_user(user.id, changes).await.expect("update");
    let changed = changed.expect("the user exists");
    assert_eq!(changed.username, "Vasiliy");
    let by_name = store
        .credentials_by_username("vasiliy")
        .await
        .expect("lookup");
    assert_eq!(by_name.map(|c| c.user.id), Some(user.id));
    let by_email = store.credentials_by_email("vasiliy@example.com").await;
    assert_eq!(by_email.expect("lookup").map(|c| c.user.id), Some(user.id));
    let old = store.credentials_by_email("vasya@example.com").await;
    assert!(old.expect("lookup").is_none());

    // Removing the email; the other user is untouched.
    let changes = UserChanges {
        email: Some(None),
        ..UserChanges::default()
    };
    let changed = store.update_user(user.id, changes).await.expect("update");
    assert_eq!(changed.expect("the user exists").email, None);
    let untouched = store.user_by_id(other.id).await.expect("lookup");
    assert_eq!(untouched, Some(other));
}

pub async fn an_update_to_a_taken_username_or_email_is_refused(store: impl AuthStore) {
    let alice = insert(&store, "alice", Some("alice@example.com")).await;
    let bob = insert(&store, "bob", Some("bob@example.com")).await;
    let changes = UserChanges {
        username: Some("ALICE".to_owned()),
        ..UserChanges::default()
    };
    let refused = store.update_user(bob.id, changes).await;
    assert!(
        matches!(refused, Err(StoreError::UsernameTaken)),
        "{refused:?}"
    );
    let changes = UserChanges {
        email: Some(Some("Alice@Example.com".to_owned())),
        first_name: Some("not applied".to_owned()),
        ..UserChanges::default()
    };
    let refused = store.update_user(bob.id, changes).await;
    assert!(
        matches!(refused, Err(StoreError::EmailTaken)),
        "{refused:?}"
    );
    assert_eq!(store.user_by_id(bob.id).await.expect("lookup"), Some(bob));
    assert_eq!(
        store.user_by_id(alice.id).await.expect("lookup"),
        Some(alice)
    );

    let unknown = uuid::Uuid::new_v4();
    let changes = UserChanges::default();
    assert_eq!(
        store.update_user(unknown, changes).await.expect("update"),
        None
    );
}

pub async fn a_deleted_user_is_gone_with_every_session(store: impl AuthStore) {
    let user = insert(&store, "Вася", Some("vasya@example.com")).await;
    let other = insert(&store, "Петя", None).await;
    let phone = new_session(user.id, "phone");
    let phone_hash = phone.token_hash.clone();
    let phone = store.insert_session(phone).await.expect("insert");
    let laptop = store.insert_session(new_session(user.id, "laptop")).await;
    let laptop = laptop.expect("insert");
    let theirs = store.insert_session(new_session(other.id, "phone")).await;
    let theirs = theirs.expect("insert");
    store
        .revoke_session(user.id, laptop.id)
        .await
        .expect("revoke");

    let revoked = store.delete_user(user.id).await.expect("delete");
    let revoked = revoked.expect("the user existed");
    assert_eq!(revoked.len(), 1, "only the live session: {revoked:?}");
    assert_eq!(
        (revoked[0].session_id, revoked[0].connection_id),
        (phone.id, phone.connection_id)
    );
    assert_eq!(store.user_by_id(user.id).await.expect("lookup"), None);
    let found = store.users_by_ids(&[user.id], &[user.number]).await;
    assert!(found.expect("lookup").is_empty());
    let found = store.credentials_by_username("вася").await.expect("lookup");
    assert!(found.is_none());
    let found = store.credentials_by_email("vasya@example.com").await;
    assert!(found.expect("lookup").is_none());
    assert_eq!(usernames(&everyone(&store).await), ["Петя"]);
    let resolved = store.identity_by_connection(phone.connection_id).await;
    assert_eq!(resolved.expect("resolve"), None);
    let resolved = store.identity_by_token_hash(&phone_hash).await;
    assert_eq!(resolved.expect("resolve"), None);
    let changes = UserChanges {
        first_name: Some("ghost".to_owned()),
        ..UserChanges::default()
    };
    assert_eq!(
        store.update_user(user.id, changes).await.expect("update"),
        None
    );

    // Deleted once; the other user and their session live on.
    assert_eq!(store.delete_user(user.id).await.expect("delete"), None);
    let resolved = store.identity_by_connection(theirs.connection_id).await;
    assert!(resolved.expect("resolve").is_some());
}

pub async fn a_deleted_users_username_and_email_are_free_again(store: impl AuthStore) {
    let old = insert(&store, "Вася", Some("vasya@example.com")).await;
    store.delete_user(old.id).await.expect("delete");
    let new = store
        .insert_user(new_user("ВАСЯ", Some("Vasya@example.com")))
        .await
        .expect("the name and email are free");
    assert!(new.number > old.number);
    let found = store.credentials_by_email("vasya@example.com").await;
    assert_eq!(found.expect("lookup").map(|c| c.user.id), Some(new.id));
    // A second deletion of someone with the same name frees it again.
    store.delete_user(new.id).await.expect("delete");
    insert(&store, "вася", Some("vasya@example.com")).await;
}
