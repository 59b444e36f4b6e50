//! Sessions: creation, resolving a connection id, and revocation.

use chat_proto::auth::{
    CreateSessionRequest, ResolveConnectionRequest, ResolveSessionTokenRequest,
    RevokeSessionRequest,
};
use tonic::Code;

use crate::helpers::{Backend, assert_error, register, spawn_auth};

crate::helpers::backend_tests!(
    a_session_resolves_until_it_is_revoked,
    unknown_or_malformed_ids_are_not_found,
    a_session_token_resolves_until_its_session_is_revoked,
);

fn device(user_id: &str) -> CreateSessionRequest {
    CreateSessionRequest {
        user_id: user_id.to_owned(),
        device_id: "device-1".to_owned(),
        platform: "ios".to_owned(),
        model: "iPhone".to_owned(),
        build: 42,
        name: "Васин телефон".to_owned(),
    }
}

fn resolve(connection_id: &str) -> ResolveConnectionRequest {
    ResolveConnectionRequest {
        connection_id: connection_id.to_owned(),
    }
}

fn by_token(session_token: &str) -> ResolveSessionTokenRequest {
    ResolveSessionTokenRequest {
        session_token: session_token.to_owned(),
    }
}

fn revoke(user_id: &str, session_id: &str) -> RevokeSessionRequest {
    RevokeSessionRequest {
        user_id: user_id.to_owned(),
        session_id: session_id.to_owned(),
    }
}

async fn a_session_resolves_until_it_is_revoked(backend: Backend) {
    let mut auth = spawn_auth(backend).await;
    let user = register(&mut auth.client, "Вася", "").await;
    let session = auth
        .client
        .create_session(device(&user.id))
        .await
        .expect("a session for an existing user")
        .into_inner();
    assert_eq!(session.user_id, user.id);
    assert_eq!(session.build, 42);
    assert_eq!(session.name, "Васин телефон");
    assert_eq!(session.session_token.len(), 64, "{session:?}");
    assert!(session.session_token.chars().all(|c| c.is_ascii_hexdigit()));
    assert_ne!(session.id, session.connection_id);

    let identity = auth
        .client
        .resolve_connection(resolve(&session.connection_id))
        .await
        .expect("a live session resolves")
        .into_inner();
    assert_eq!(identity.user_id, user.id);
    assert_eq!(identity.user_number, user.number);
    assert_eq!(identity.username, "Вася");
    assert_eq!(identity.session_id, session.id);

    let other = register(&mut auth.client, "Петя", "").await;
    let result = auth
        .client
        .revoke_session(revoke(&other.id, &session.id))
        .await;
    assert_error(result, Code::NotFound, "session_not_found");

    let revoked = auth
        .client
        .revoke_session(revoke(&user.id, &session.id))
        .await
        .expect("the owner revokes the session")
        .into_inner();
    assert_eq!(revoked.connection_id, session.connection_id);

    let result = auth
        .client
        .resolve_connection(resolve(&session.connection_id))
        .await;
    assert_error(result, Code::NotFound, "connection_not_found");
    let result = auth
        .client
        .revoke_session(revoke(&user.id, &session.id))
        .await;
    assert_error(result, Code::NotFound, "session_not_found");
}

async fn unknown_or_malformed_ids_are_not_found(backend: Backend) {
    let mut auth = spawn_auth(backend).await;
    let stranger = uuid::Uuid::new_v4().to_string();
    let result = auth.client.create_session(device(&stranger)).await;
    assert_error(result, Code::NotFound, "user_not_found");
    let result = auth.client.create_session(device("not-a-uuid")).await;
    assert_error(result, Code::InvalidArgument, "validation_failed");

    for connection_id in [stranger.as_str(), "not-a-uuid", ""] {
        let result = auth.client.resolve_connection(resolve(connection_id)).await;
        assert_error(result, Code::NotFound, "connection_not_found");
    }
    let result = auth.client.revoke_session(revoke("x", "y")).await;
    assert_error(result, Code::NotFound, "session_not_found");
}

async fn a_session_token_resolves_until_its_session_is_revoked(backend: Backend) {
    let mut auth = spawn_auth(backend).await;
    let user = register(&mut auth.client, "Василий", "").await;
    let session = auth
        .client
        .create_session(device(&user.id))
        .await
        .expect("a session")
        .into_inner();
    let identity = auth
        .client
        .resolve_session_token(by_token(&session.session_token))
        .await
        .expect("a live session's token resolves")
        .into_inner();
    assert_eq!(
        (identity.user_id.as_str(), identity.user_number),
        (user.id.as_str(), user.number)
    );
    assert_eq!(identity.username, "Василий");
    assert_eq!(identity.session_id, session.id);

    let upper = session.session_token.to_uppercase();
    for token in ["", "not-a-token", upper.as_str()] {
        let result = auth.client.resolve_session_token(by_token(token)).await;
        assert_error(result, Code::NotFound, "session_not_found");
    }
    auth.client
        .revoke_session(revoke(&user.id, &session.id))
        .await
        .expect("revoke");
    let result = auth
        .client
        .resolve_session_token(by_token(&session.session_token))
        .await;
    assert_error(result, Code::NotFound, "session_not_found");
}
