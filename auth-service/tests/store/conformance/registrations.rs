//! Registrations pending their email's confirmation.

use auth_service::{AuthStore, PendingRegistration, StoreError, fold};

use super::insert;

fn pending(email: &str, token_hash: &str) -> PendingRegistration {
    PendingRegistration {
        email: email.to_owned(),
        email_folded: fold(email),
        password_hash: format!("hash for {token_hash}"),
        first_name: "Ада".to_owned(),
        last_name: "Lovelace".to_owned(),
        token_hash: token_hash.to_owned(),
        expires_at_ms: 1_800_000_000_000,
    }
}

pub async fn a_pending_registration_is_taken_once_and_replaced_by_registering_again(
    store: impl AuthStore,
) {
    store
        .put_pending_registration(pending("Ada@Example.com", "first"))
        .await
        .expect("put");
    // Registering again (in another case) replaces it: the first token confirms nothing.
    store
        .put_pending_registration(pending("ada@example.COM", "second"))
        .await
        .expect("put again");
    assert_eq!(
        store
            .take_pending_registration("first")
            .await
            .expect("take"),
        None
    );
    let taken = store
        .take_pending_registration("second")
        .await
        .expect("take");
    assert_eq!(taken, Some(pending("ada@example.COM", "second")));
    // Single use.
    assert_eq!(
        store
            .take_pending_registration("second")
            .await
            .expect("take"),
        None
    );
    assert_eq!(
        store
            .take_pending_registration("unknown")
            .await
            .expect("take"),
        None
    );
}

pub async fn a_pending_registration_of_a_users_email_is_refused(store: impl AuthStore) {
    insert(&store, "grace", Some("grace@example.com")).await;
    let refused = store
        .put_pending_registration(pending("GRACE@example.com", "token"))
        .await;
    assert!(
        matches!(refused, Err(StoreError::EmailTaken)),
        "{refused:?}"
    );
    assert_eq!(
        store
            .take_pending_registration("token")
            .await
            .expect("take"),
        None
    );
}
