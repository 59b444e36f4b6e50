//! Platforms (seed 002): API keys by hash, users by external id, and refresh token families.

use auth_service::{AuthStore, NewRefreshToken, RefreshUse, StoreError, platform_user_key};
use chrono::{TimeDelta, Utc};
use uuid::Uuid;

use super::{new_session, new_user};

pub async fn platforms_are_found_by_key_until_revoked(store: impl AuthStore) {
    let id = Uuid::new_v4();
    let platform = store
        .insert_platform(id, "acme", "hash-a")
        .await
        .expect("insert");
    assert_eq!((platform.id, platform.name.as_str()), (id, "acme"));
    let found = store.platform_by_key_hash("hash-a").await.expect("look up");
    assert_eq!(found, Some(platform));
    assert_eq!(
        store.platform_by_key_hash("hash-b").await.expect("look up"),
        None
    );
    let taken = store
        .insert_platform(Uuid::new_v4(), "acme", "hash-c")
        .await;
    assert!(
        matches!(taken, Err(StoreError::PlatformNameTaken)),
        "{taken:?}"
    );

    assert!(store.revoke_platform("acme").await.expect("revoke"));
    assert!(!store.revoke_platform("acme").await.expect("revoke twice"));
    assert!(
        !store
            .revoke_platform("nobody")
            .await
            .expect("revoke unknown")
    );
    assert_eq!(
        store.platform_by_key_hash("hash-a").await.expect("look up"),
        None
    );
}

pub async fn platform_users_are_found_by_external_id_once_each(store: impl AuthStore) {
    let (a, b) = (Uuid::new_v4(), Uuid::new_v4());
    let mut first = new_user("user1@a", None);
    first.external_id = Some(platform_user_key(a, "user1"));
    let first = store.insert_user(first).await.expect("insert");
    let mut same_id_elsewhere = new_user("user1@b", None);
    same_id_elsewhere.external_id = Some(platform_user_key(b, "user1"));
    let other = store.insert_user(same_id_elsewhere).await.expect("insert");
    let mut twice = new_user("user1@a.2", None);
    twice.external_id = Some(platform_user_key(a, "user1"));
    let refused = store.insert_user(twice).await;
    assert!(
        matches!(refused, Err(StoreError::ExternalIdTaken)),
        "{refused:?}"
    );

    let found = store
        .users_by_external_ids(&[platform_user_key(a, "user1"), platform_user_key(a, "USER1")])
        .await
        .expect("look up");
    assert_eq!(found, vec![first.clone()]);
    assert_eq!(first.external_id, Some(platform_user_key(a, "user1")));
    let found = store
        .users_by_external_ids(&[platform_user_key(b, "user1")])
        .await
        .expect("look up");
    assert_eq!(found, vec![other]);
    let none = store.users_by_external_ids(&[]).await.expect("look up");
    assert!(none.is_empty());
}

pub async fn a_refresh_token_is_spent_once_and_its_reuse_revokes_the_family(store: impl AuthStore) {
    let user = store
        .insert_user(new_user("refresher", None))
        .await
        .expect("insert");
    let session = store
        .insert_session(new_session(user.id, "pair"))
        .await
        .expect("session");
    let expires_at = Utc::now() + TimeDelta::days(1);
    for hash in ["r1", "r2"] {
        store
            .insert_refresh_token(NewRefreshToken {
                token_hash: hash.to_owned(),
                session_id: session.id,
                user_id: user.id,
                expires_at,
            })
            .await
            .expect("insert a refresh token");
    }
    match store.use_refresh_token("r1").await.expect("use") {
        RefreshUse::Fresh {
            session_id,
            user_id,
            expires_at: stored,
        } => {
            assert_eq!((session_id, user_id), (session.id, user.id));
            assert!(
                (stored - expires_at).num_milliseconds().abs() < 1,
                "{stored}"
            );
        }
        other => panic!("expected a fresh token, got {other:?}"),
    }
    assert_eq!(
        store.use_refresh_token("unknown").await.expect("use"),
        RefreshUse::Unknown
    );
    assert!(
        store
            .identity_by_session(session.id)
            .await
            .expect("live")
            .is_some()
    );
    // r1 again: the family (the session) is revoked, and r2 with it.
    assert_eq!(
        store.use_refresh_token("r1").await.expect("reuse"),
        RefreshUse::Reused {
            session_id: session.id
        }
    );
    assert_eq!(
        store.identity_by_session(session.id).await.expect("gone"),
        None
    );
    assert_eq!(
        store.use_refresh_token("r2").await.expect("sibling"),
        RefreshUse::Reused {
            session_id: session.id
        }
    );
}

pub async fn the_newest_key_of_a_user_is_theirs_and_older_keys_stay(store: impl AuthStore) {
    let user = store
        .insert_user(new_user("signer", None))
        .await
        .expect("insert");
    let other = store
        .insert_user(new_user("other", None))
        .await
        .expect("insert");
    assert_eq!(store.newest_user_key(user.id).await.expect("read"), None);
    let first = store
        .insert_user_key(Uuid::new_v4(), user.id, "first pem")
        .await
        .expect("insert a key");
    let second = store
        .insert_user_key(Uuid::new_v4(), user.id, "second pem")
        .await
        .expect("insert a key");
    store
        .insert_user_key(Uuid::new_v4(), other.id, "someone else's")
        .await
        .expect("insert a key");
    assert_eq!(
        (first.user_id, first.public_key.as_str()),
        (user.id, "first pem")
    );
    let newest = store.newest_user_key(user.id).await.expect("read");
    assert_eq!(newest, Some(second));
    assert_eq!(store.user_key(first.id).await.expect("read"), Some(first));
    assert_eq!(store.user_key(Uuid::new_v4()).await.expect("read"), None);
}
