//! Sessions: what comes back, resolving a connection id, and revocation.

use auth_service::{AuthStore, Identity, StoreError};
use chrono::{TimeDelta, Utc};
use uuid::Uuid;

use super::{insert, new_session};

pub async fn a_session_resolves_until_it_is_revoked(store: impl AuthStore) {
    let user = insert(&store, "Вася", None).await;
    let new = new_session(user.id, "Васин телефон");
    let session = store.insert_session(new.clone()).await.expect("insert");
    assert_eq!(
        (session.id, session.user_id, session.connection_id),
        (new.id, user.id, new.connection_id)
    );
    assert_eq!(session.device_id, "device of Васин телефон");
    assert_eq!(
        (session.platform.as_str(), session.model.as_str()),
        ("ios", "iPhone")
    );
    assert_eq!(
        (session.build, session.name.as_str()),
        (42, "Васин телефон")
    );
    assert!(session.created_at > Utc::now() - TimeDelta::seconds(5));

    let identity = Identity {
        user_id: user.id,
        user_number: user.number,
        username: "Вася".to_owned(),
        first_name: "Первый".to_owned(),
        session_id: Some(session.id),
    };
    let resolved = store.identity_by_connection(session.connection_id).await;
    assert_eq!(resolved.expect("resolve"), Some(identity.clone()));

    // Someone else's session is not theirs to revoke.
    let other = insert(&store, "Петя", None).await;
    let revoked = store.revoke_session(other.id, session.id).await;
    assert_eq!(revoked.expect("revoke"), None);
    let resolved = store.identity_by_connection(session.connection_id).await;
    assert_eq!(resolved.expect("resolve"), Some(identity));

    let revoked = store.revoke_session(user.id, session.id).await;
    assert_eq!(revoked.expect("revoke"), Some(session.connection_id));
    let resolved = store.identity_by_connection(session.connection_id).await;
    assert_eq!(resolved.expect("resolve"), None);
    let revoked = store.revoke_session(user.id, session.id).await;
    assert_eq!(revoked.expect("revoke"), None, "a session is revoked once");
}

pub async fn sessions_of_one_user_are_revoked_one_by_one(store: impl AuthStore) {
    let user = insert(&store, "alice", None).await;
    let phone = store.insert_session(new_session(user.id, "phone")).await;
    let laptop = store.insert_session(new_session(user.id, "laptop")).await;
    let (phone, laptop) = (phone.expect("insert"), laptop.expect("insert"));

    let revoked = store.revoke_session(user.id, phone.id).await;
    assert_eq!(revoked.expect("revoke"), Some(phone.connection_id));
    let resolved = store.identity_by_connection(phone.connection_id).await;
    assert_eq!(resolved.expect("resolve"), None);
    let resolved = store.identity_by_connection(laptop.connection_id).await;
    let identity = resolved
        .expect("resolve")
        .expect("the other session lives on");
    assert_eq!(identity.session_id, Some(laptop.id));
}

pub async fn a_session_of_an_unknown_user_is_refused(store: impl AuthStore) {
    let session = new_session(Uuid::new_v4(), "phone");
    let connection_id = session.connection_id;
    let result = store.insert_session(session).await;
    assert!(matches!(result, Err(StoreError::Backend(_))), "{result:?}");
    let resolved = store.identity_by_connection(connection_id).await;
    assert_eq!(resolved.expect("resolve"), None);
}

pub async fn a_token_hash_resolves_until_its_session_is_revoked(store: impl AuthStore) {
    let user = insert(&store, "Вася", None).await;
    let phone = new_session(user.id, "phone");
    let laptop = new_session(user.id, "laptop");
    let phone_hash = phone.token_hash.clone();
    let phone = store.insert_session(phone).await.expect("insert");
    let laptop = store.insert_session(laptop).await.expect("insert");

    let resolved = store.identity_by_token_hash(&phone_hash).await;
    let expected = Identity {
        user_id: user.id,
        user_number: user.number,
        username: "Вася".to_owned(),
        first_name: "Первый".to_owned(),
        session_id: Some(phone.id),
    };
    assert_eq!(resolved.expect("resolve"), Some(expected));
    let unknown = store.identity_by_token_hash("no such hash").await;
    assert_eq!(unknown.expect("resolve"), None);

    store
        .revoke_session(user.id, phone.id)
        .await
        .expect("revoke");
    let resolved = store.identity_by_token_hash(&phone_hash).await;
    assert_eq!(
        resolved.expect("resolve"),
        None,
        "a revoked session's token"
    );
    let resolved = store.identity_by_connection(laptop.connection_id).await;
    assert!(
        resolved.expect("resolve").is_some(),
        "the other session lives on"
    );
}

pub async fn live_sessions_are_listed_oldest_first_without_the_revoked(store: impl AuthStore) {
    let user = insert(&store, "many", None).await;
    let other = insert(&store, "other", None).await;
    assert_eq!(store.live_sessions(user.id).await.expect("list"), []);
    let mut ids = Vec::new();
    for name in ["first", "second", "third"] {
        let session = store
            .insert_session(new_session(user.id, name))
            .await
            .expect("insert");
        ids.push(session.id);
        // Distinct creation times, whatever the clock's resolution.
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    store
        .insert_session(new_session(other.id, "theirs"))
        .await
        .expect("insert");
    store
        .revoke_session(user.id, ids[1])
        .await
        .expect("revoke")
        .expect("it was live");
    let live = store.live_sessions(user.id).await.expect("list");
    let listed: Vec<(Uuid, &str)> = live.iter().map(|s| (s.id, s.name.as_str())).collect();
    assert_eq!(listed, [(ids[0], "first"), (ids[2], "third")]);
    assert!(live.iter().all(|s| s.user_id == user.id));
}

pub async fn users_are_counted_without_the_deleted(store: impl AuthStore) {
    assert_eq!(store.count_users().await.expect("count"), 0);
    let first = insert(&store, "one", None).await;
    insert(&store, "two", None).await;
    insert(&store, "three", None).await;
    assert_eq!(store.count_users().await.expect("count"), 3);
    store.delete_user(first.id).await.expect("delete");
    assert_eq!(store.count_users().await.expect("count"), 2);
}
