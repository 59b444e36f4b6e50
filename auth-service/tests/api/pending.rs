//! Registration confirmed by email, as the service does it: a token that works once, within
//! its expiry; the email is the username.

use std::time::Duration;

use auth_service::LoginLimit;
use chat_proto::auth::{ConfirmRegistrationRequest, LoginRequest, StartRegistrationRequest};
use tonic::Code;

use crate::helpers::{Backend, assert_error, register, spawn_auth, spawn_auth_configured};

crate::helpers::backend_tests!(
    a_confirmed_registration_is_a_user_who_logs_in_by_email,
    an_expired_link_creates_nothing,
);

fn start(email: &str) -> StartRegistrationRequest {
    StartRegistrationRequest {
        email: email.to_owned(),
        password: "pass".to_owned(),
        first_name: "Dora".to_owned(),
        last_name: "Márquez".to_owned(),
    }
}

fn confirm(token: &str) -> ConfirmRegistrationRequest {
    ConfirmRegistrationRequest {
        token: token.to_owned(),
    }
}

async fn a_confirmed_registration_is_a_user_who_logs_in_by_email(backend: Backend) {
    let mut auth = spawn_auth(backend).await;
    let pending = auth
        .client
        .start_registration(start("Dora@Example.com"))
        .await
        .expect("pending")
        .into_inner();
    assert_eq!(pending.token.len(), 64, "{pending:?}");
    assert_eq!(pending.email, "Dora@Example.com");
    let user = auth
        .client
        .confirm_registration(confirm(&pending.token))
        .await
        .expect("confirmed")
        .into_inner();
    assert_eq!(user.username, "Dora@Example.com");
    assert_eq!(user.email, "Dora@Example.com");
    assert_eq!(user.display_name, "Dora Márquez");
    let again = auth
        .client
        .confirm_registration(confirm(&pending.token))
        .await;
    assert_error(again, Code::NotFound, "registration_not_found");
    let login = auth
        .client
        .login(LoginRequest {
            email: "dora@example.com".to_owned(),
            password: "pass".to_owned(),
            ..LoginRequest::default()
        })
        .await;
    assert!(login.is_ok(), "{login:?}");

    // A taken email, a username-less or malformed one, an empty token.
    let taken = auth
        .client
        .start_registration(start("DORA@example.com"))
        .await;
    assert_error(taken, Code::AlreadyExists, "email_taken");
    register(&mut auth.client, "eve", "eve@example.com").await;
    let taken = auth
        .client
        .start_registration(start("eve@example.com"))
        .await;
    assert_error(taken, Code::AlreadyExists, "email_taken");
    for bad in ["", "no-at-sign", "a b@example.com"] {
        let refused = auth.client.start_registration(start(bad)).await;
        assert_error(refused, Code::InvalidArgument, "validation_failed");
    }
    let refused = auth.client.confirm_registration(confirm("")).await;
    assert_error(refused, Code::NotFound, "registration_not_found");
}

async fn an_expired_link_creates_nothing(backend: Backend) {
    let ttl = Duration::from_millis(1);
    let mut auth = spawn_auth_configured(backend, LoginLimit::default(), Some(ttl)).await;
    let pending = auth
        .client
        .start_registration(start("late@example.com"))
        .await
        .expect("pending")
        .into_inner();
    tokio::time::sleep(Duration::from_millis(20)).await;
    let expired = auth
        .client
        .confirm_registration(confirm(&pending.token))
        .await;
    assert_error(expired, Code::NotFound, "registration_not_found");
    // Nothing was created: the email is free to register again.
    let again = auth
        .client
        .start_registration(start("late@example.com"))
        .await;
    assert!(again.is_ok(), "{again:?}");
}
