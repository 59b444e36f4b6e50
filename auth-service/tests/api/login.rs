//! Login: by username or email, wrong passwords, unknown users and the attempt limit.

use std::time::Duration;

use auth_service::LoginLimit;
use chat_proto::auth::{LoginRequest, VerifyTokenRequest};
use tonic::Code;

use crate::helpers::{Backend, assert_error, register, spawn_auth, spawn_auth_with};

crate::helpers::backend_tests!(
    register_login_and_verify_the_token,
    a_wrong_password_is_unauthenticated,
    an_unknown_user_is_not_found,
    failed_attempts_beyond_the_limit_are_refused,
);

fn by_username(username: &str, password: &str) -> LoginRequest {
    LoginRequest {
        username: username.to_owned(),
        email: String::new(),
        password: password.to_owned(),
        session: None,
    }
}

async fn register_login_and_verify_the_token(backend: Backend) {
    let mut auth = spawn_auth(backend).await;
    let user = register(&mut auth.client, "Вася", "vasya@example.com").await;

    let login = auth
        .client
        .login(by_username("вася", "0000"))
        .await
        .expect("login by username, any case")
        .into_inner();
    assert_eq!(login.user.as_ref(), Some(&user));
    let now_ms = chrono::Utc::now().timestamp_millis();
    assert!(login.expires_at_ms > now_ms + 3_500_000, "{login:?}");

    let identity = auth
        .client
        .verify_token(VerifyTokenRequest {
            token: login.access_token.clone(),
        })
        .await
        .expect("a fresh token verifies")
        .into_inner();
    assert_eq!(identity.user_id, user.id);
    assert_eq!(identity.user_number, user.number);
    assert_eq!(identity.username, "Вася");
    let session = login.session.expect("the login's session");
    assert_eq!(identity.session_id, session.id);
    assert_eq!(session.user_id, user.id);
    assert!(!session.session_token.is_empty() && !session.connection_id.is_empty());

    let by_email = LoginRequest {
        username: String::new(),
        email: "VASYA@example.com".to_owned(),
        password: "0000".to_owned(),
        session: None,
    };
    let login = auth.client.login(by_email).await.expect("login by email");
    assert_eq!(login.into_inner().user, Some(user));
}

async fn a_wrong_password_is_unauthenticated(backend: Backend) {
    let mut auth = spawn_auth(backend).await;
    register(&mut auth.client, "alice", "").await;
    let result = auth.client.login(by_username("alice", "0001")).await;
    assert_error(result, Code::Unauthenticated, "wrong_credentials");
}

async fn an_unknown_user_is_not_found(backend: Backend) {
    let mut auth = spawn_auth(backend).await;
    let result = auth.client.login(by_username("nobody", "0000")).await;
    assert_error(result, Code::NotFound, "user_not_found");
}

async fn failed_attempts_beyond_the_limit_are_refused(backend: Backend) {
    let mut auth = spawn_auth_with(
        backend,
        LoginLimit {
            max_failures: 2,
            window: Duration::from_secs(60),
        },
    )
    .await;
    register(&mut auth.client, "alice", "").await;
    for _ in 0..2 {
        let result = auth.client.login(by_username("alice", "wrong")).await;
        assert_error(result, Code::Unauthenticated, "wrong_credentials");
    }
    // Even the right password waits until the window ends.
    let result = auth.client.login(by_username("ALICE", "0000")).await;
    assert_error(result, Code::ResourceExhausted, "too_many_attempts");
    let result = auth.client.login(by_username("bob", "0000")).await;
    assert_error(result, Code::NotFound, "user_not_found");
}
