//! Inserting users: what comes back, case-insensitive uniqueness and numbers, also under
//! concurrent writers.

use std::sync::Arc;

use auth_service::{AuthStore, StoreError, fold};
use chrono::{TimeDelta, Utc};
use tokio::task::JoinSet;
use uuid::Uuid;

use super::{everyone, insert, new_user, usernames};

pub async fn an_inserted_user_is_found_by_id_number_username_and_email(store: impl AuthStore) {
    let before = Utc::now() - TimeDelta::seconds(5);
    let new = new_user("Вася", Some("Vasya@Example.com"));
    let user = store.insert_user(new.clone()).await.expect("insert");
    assert_eq!(user.id, new.id);
    assert!(user.number > 0, "{user:?}");
    assert_eq!(user.username, "Вася");
    assert_eq!(user.email.as_deref(), Some("Vasya@Example.com"));
    assert_eq!(user.first_name, "Первый");
    assert_eq!(user.last_name, "Last");
    assert_eq!(user.display_name, "Вася shown");
    assert!(!user.email_confirmed);
    assert_eq!(
        (user.external_id.as_ref(), user.public_key.as_ref()),
        (None, None)
    );
    assert!(user.created_at > before && user.created_at < Utc::now() + TimeDelta::seconds(5));

    let found = store.user_by_id(user.id).await.expect("lookup");
    assert_eq!(found.as_ref(), Some(&user));
    let found = store.users_by_ids(&[], &[user.number]).await;
    assert_eq!(found.expect("lookup"), std::slice::from_ref(&user));
    for username in ["Вася", "вася", "ВАСЯ"] {
        let found = store.credentials_by_username(&fold(username)).await;
        let credentials = found.expect("lookup").expect("found by any case");
        assert_eq!(credentials.user, user);
        assert_eq!(credentials.password_hash, "hash of Вася");
    }
    let found = store.credentials_by_email(&fold("VASYA@example.COM")).await;
    let credentials = found.expect("lookup").expect("found by email in any case");
    assert_eq!(credentials.user, user);
}

pub async fn unknown_users_and_connections_are_not_found(store: impl AuthStore) {
    let alice = insert(&store, "alice", Some("alice@example.com")).await;
    let stranger = Uuid::new_v4();
    assert_eq!(store.user_by_id(stranger).await.expect("lookup"), None);
    let found = store.credentials_by_username("bob").await.expect("lookup");
    assert!(found.is_none());
    // A username is not an email, nor the other way round.
    let found = store.credentials_by_username("alice@example.com").await;
    assert!(found.expect("lookup").is_none());
    let found = store.credentials_by_email("alice").await.expect("lookup");
    assert!(found.is_none());
    let found = store
        .identity_by_connection(stranger)
        .await
        .expect("lookup");
    assert_eq!(found, None);
    let revoked = store.revoke_session(alice.id, stranger).await;
    assert_eq!(revoked.expect("revoke"), None);
}

pub async fn a_taken_username_is_refused_whatever_its_case(store: impl AuthStore) {
    insert(&store, "Alice", None).await;
    insert(&store, "Вася", None).await;
    for taken in ["Alice", "alice", "ALICE", "вася", "ВАСЯ"] {
        let result = store.insert_user(new_user(taken, None)).await;
        assert!(
            matches!(result, Err(StoreError::UsernameTaken)),
            "{taken}: {result:?}"
        );
    }
    assert_eq!(usernames(&everyone(&store).await), ["Alice", "Вася"]);
}

pub async fn a_taken_email_is_refused_whatever_its_case(store: impl AuthStore) {
    insert(&store, "alice", Some("alice@example.com")).await;
    let result = store
        .insert_user(new_user("alice2", Some("ALICE@example.COM")))
        .await;
    assert!(matches!(result, Err(StoreError::EmailTaken)), "{result:?}");
    insert(&store, "вася", Some("вася@пример.рф")).await;
    let result = store
        .insert_user(new_user("вася2", Some("ВАСЯ@ПРИМЕР.РФ")))
        .await;
    assert!(matches!(result, Err(StoreError::EmailTaken)), "{result:?}");
    // Users without an email never collide with each other.
    insert(&store, "bob", None).await;
    insert(&store, "carol", None).await;
    let stored = everyone(&store).await;
    assert_eq!(usernames(&stored), ["alice", "вася", "bob", "carol"]);
}

pub async fn numbers_are_distinct_and_increasing(store: impl AuthStore) {
    let mut numbers = Vec::new();
    for username in ["a", "b", "c", "d"] {
        numbers.push(insert(&store, username, None).await.number);
        // A refused insert leaves the numbers after it increasing all the same.
        let refused = store.insert_user(new_user(username, None)).await;
        assert!(matches!(refused, Err(StoreError::UsernameTaken)));
    }
    assert!(numbers.windows(2).all(|w| w[0] < w[1]), "{numbers:?}");
    let stored: Vec<i64> = everyone(&store).await.iter().map(|u| u.number).collect();
    assert_eq!(stored, numbers);
}

pub async fn racing_inserts_of_one_username_leave_one_user(store: impl AuthStore) {
    let store = Arc::new(store);
    let mut racers = JoinSet::new();
    for username in ["racer", "RACER", "Racer", "rAcEr"] {
        let store = Arc::clone(&store);
        racers.spawn(async move { store.insert_user(new_user(username, None)).await });
    }
    let results = racers.join_all().await;
    let won = results.iter().filter(|result| result.is_ok()).count();
    let lost = results
        .iter()
        .filter(|result| matches!(result, Err(StoreError::UsernameTaken)))
        .count();
    assert_eq!((won, lost), (1, 3), "{results:?}");
    assert_eq!(everyone(&*store).await.len(), 1);
}

pub async fn concurrent_inserts_all_succeed_with_distinct_numbers(store: impl AuthStore) {
    const WRITERS: usize = 16;
    let store = Arc::new(store);
    let mut writers = JoinSet::new();
    for writer in 0..WRITERS {
        let store = Arc::clone(&store);
        let email = format!("user{writer}@example.com");
        writers.spawn(async move {
            let user = new_user(&format!("user{writer}"), Some(&email));
            store.insert_user(user).await
        });
    }
    let mut numbers: Vec<i64> = writers
        .join_all()
        .await
        .into_iter()
        .map(|result| {
            result
                .expect("concurrent writers wait, they do not fail")
                .number
        })
        .collect();
    numbers.sort_unstable();
    numbers.dedup();
    assert_eq!(numbers.len(), WRITERS);
    assert_eq!(everyone(&*store).await.len(), WRITERS);
}
