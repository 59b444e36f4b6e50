//! UpdateUser and DeleteUser over gRPC: validation, conflicts, a new password, and a deletion
//! that ends every session and token of the user.

use chat_proto::auth::{
    CreateSessionRequest, DeleteUserRequest, LoginRequest, ResolveConnectionRequest,
    UpdateUserRequest, VerifyTokenRequest,
};
use tonic::Code;

use crate::helpers::{AUDIENCE, Backend, SECRET, assert_error, login, register, spawn_auth};

crate::helpers::backend_tests!(
    an_update_changes_the_fields_given_after_checking_them,
    a_deleted_user_can_no_longer_sign_in,
    a_token_names_its_user_as_the_messenger_reads_it,
);

fn update(user_id: &str) -> UpdateUserRequest {
    UpdateUserRequest {
        user_id: user_id.to_owned(),
        ..UpdateUserRequest::default()
    }
}

async fn an_update_changes_the_fields_given_after_checking_them(backend: Backend) {
    let mut auth = spawn_auth(backend).await;
    let alice = register(&mut auth.client, "alice", "alice@example.com").await;
    register(&mut auth.client, "bob", "bob@example.com").await;

    let changed = auth
        .client
        .update_user(UpdateUserRequest {
            first_name: Some("Alicia".to_owned()),
            email: Some("alicia@example.com".to_owned()),
            password: Some("new password".to_owned()),
            ..update(&alice.id)
        })
        .await
        .expect("update works")
        .into_inner();
    assert_eq!(
        (changed.first_name.as_str(), changed.email.as_str()),
        ("Alicia", "alicia@example.com")
    );
    assert_eq!(
        (changed.username, changed.last_name),
        (alice.username, alice.last_name)
    );
    let login = auth
        .client
        .login(LoginRequest {
            email: "ALICIA@example.com".to_owned(),
            password: "new password".to_owned(),
            ..LoginRequest::default()
        })
        .await;
    assert!(login.is_ok(), "{login:?}");

    let taken = UpdateUserRequest {
        email: Some("bob@example.com".to_owned()),
        ..update(&alice.id)
    };
    let result = auth.client.update_user(taken).await;
    assert_error(result, Code::AlreadyExists, "email_taken");
    let invalid = UpdateUserRequest {
        username: Some("with space".to_owned()),
        ..update(&alice.id)
    };
    let result = auth.client.update_user(invalid).await;
    assert_error(result, Code::InvalidArgument, "validation_failed");
    let result = auth.client.update_user(update("not-a-uuid")).await;
    assert_error(result, Code::NotFound, "user_not_found");
}

async fn a_deleted_user_can_no_longer_sign_in(backend: Backend) {
    let mut auth = spawn_auth(backend).await;
    let alice = register(&mut auth.client, "alice", "alice@example.com").await;
    let token = login(&mut auth.client, "alice").await;
    let session = auth
        .client
        .create_session(CreateSessionRequest {
            user_id: alice.id.clone(),
            ..CreateSessionRequest::default()
        })
        .await
        .expect("a session")
        .into_inner();

    let deleted = auth
        .client
        .delete_user(DeleteUserRequest {
            user_id: alice.id.clone(),
        })
        .await
        .expect("delete works")
        .into_inner();
    // The login's session and the device's.
    assert_eq!(deleted.session_ids.len(), 2, "{deleted:?}");
    assert!(deleted.session_ids.contains(&session.id), "{deleted:?}");
    assert!(
        deleted.connection_ids.contains(&session.connection_id),
        "{deleted:?}"
    );

    let verified = auth.client.verify_token(VerifyTokenRequest { token }).await;
    assert_error(verified, Code::Unauthenticated, "invalid_token");
    let resolved = auth
        .client
        .resolve_connection(ResolveConnectionRequest {
            connection_id: session.connection_id,
        })
        .await;
    assert_error(resolved, Code::NotFound, "connection_not_found");
    let again = DeleteUserRequest { user_id: alice.id };
    assert_error(
        auth.client.delete_user(again).await,
        Code::NotFound,
        "user_not_found",
    );
    // The username and email are free for someone new.
    register(&mut auth.client, "alice", "alice@example.com").await;
}

async fn a_token_names_its_user_as_the_messenger_reads_it(backend: Backend) {
    let mut auth = spawn_auth(backend).await;
    let alice = register(&mut auth.client, "alice", "alice@example.com").await;
    let token = login(&mut auth.client, "alice").await;
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::HS256);
    validation.set_audience(&[AUDIENCE]);
    let key = jsonwebtoken::DecodingKey::from_secret(SECRET);
    let claims = jsonwebtoken::decode::<Named>(&token, &key, &validation)
        .expect("a token of ours")
        .claims;
    assert_eq!((claims.sub, claims.id), (alice.id, alice.number));
    assert_eq!(
        (claims.email.as_str(), claims.first_name.as_str()),
        ("alice@example.com", "Test")
    );
}

#[derive(serde::Deserialize)]
struct Named {
    sub: String,
    id: i64,
    email: String,
    #[serde(rename = "firstName")]
    first_name: String,
}
