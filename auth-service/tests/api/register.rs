//! Registration: validation and case-insensitive uniqueness in any script.

use tonic::Code;

use crate::helpers::{Backend, assert_error, register, registration, spawn_auth};

crate::helpers::backend_tests!(
    registration_returns_the_user_with_both_ids,
    a_username_is_taken_whatever_its_case,
    an_email_is_taken_whatever_its_case,
    two_racing_registrations_of_one_name_leave_one_user,
    bad_input_is_refused_and_stores_nothing,
);

async fn registration_returns_the_user_with_both_ids(backend: Backend) {
    let mut auth = spawn_auth(backend).await;
    let user = register(&mut auth.client, "Вася", "Vasya@Example.com").await;
    assert!(uuid::Uuid::parse_str(&user.id).is_ok(), "{user:?}");
    assert!(user.number > 0);
    assert_eq!(user.username, "Вася");
    assert_eq!(user.email, "Vasya@Example.com");
    assert_eq!(user.display_name, "Вася");
    assert!(user.created_at_ms > 0);
}

async fn a_username_is_taken_whatever_its_case(backend: Backend) {
    let mut auth = spawn_auth(backend).await;
    register(&mut auth.client, "Alice", "").await;
    register(&mut auth.client, "Вася", "").await;
    for taken in ["alice", "ALICE", "вася", "ВАСЯ"] {
        let result = auth.client.register(registration(taken, "")).await;
        assert_error(result, Code::AlreadyExists, "username_taken");
    }
}

async fn an_email_is_taken_whatever_its_case(backend: Backend) {
    let mut auth = spawn_auth(backend).await;
    register(&mut auth.client, "alice", "alice@example.com").await;
    let result = auth
        .client
        .register(registration("alice2", "ALICE@example.COM"))
        .await;
    assert_error(result, Code::AlreadyExists, "email_taken");
}

async fn two_racing_registrations_of_one_name_leave_one_user(backend: Backend) {
    let auth = spawn_auth(backend).await;
    let (mut first, mut second) = (auth.client.clone(), auth.client.clone());
    let (a, b) = tokio::join!(
        first.register(registration("racer", "")),
        second.register(registration("RACER", "")),
    );
    let (won, lost) = if a.is_ok() { (a, b) } else { (b, a) };
    assert!(won.is_ok(), "{won:?}");
    assert_error(lost, Code::AlreadyExists, "username_taken");
}

async fn bad_input_is_refused_and_stores_nothing(backend: Backend) {
    let mut auth = spawn_auth(backend).await;
    let mut no_password = registration("bob", "");
    no_password.password.clear();
    for request in [
        registration("", ""),
        registration("bob smith", ""),
        registration(&"я".repeat(65), ""),
        registration("bob", "not-an-email"),
        no_password,
    ] {
        let result = auth.client.register(request).await;
        assert_error(result, Code::InvalidArgument, "validation_failed");
    }
    register(&mut auth.client, "bob", "").await;
}
