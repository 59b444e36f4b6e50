//! Access-token verification refuses every token it did not issue as configured, and every
//! token whose session or user is gone.

use chat_proto::auth::{
    CreateSessionRequest, DeleteUserRequest, Identity, LoginRequest, RevokeSessionRequest, User,
    VerifyTokenRequest,
};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde::Serialize;
use tonic::Code;

use crate::helpers::{
    AUDIENCE, Backend, ISSUER, KEY_ID, SECRET, TestAuth, assert_error, login, register, spawn_auth,
};

crate::helpers::backend_tests!(
    forged_or_misdirected_tokens_are_invalid,
    an_expired_token_says_so_beyond_five_seconds,
    a_token_of_an_unknown_user_or_session_is_invalid,
    a_token_dies_with_its_session,
    tokens_die_with_their_user,
);

#[derive(Serialize)]
struct Claims<'a> {
    sub: &'a str,
    sid: &'a str,
    user_id: &'a str,
    exp: u64,
    iat: u64,
    iss: &'a str,
    aud: &'a str,
}

fn sign_as(key_id: &str, algorithm: Algorithm, secret: &[u8], claims: &Claims<'_>) -> String {
    let mut header = Header::new(algorithm);
    header.kid = Some(key_id.to_owned());
    jsonwebtoken::encode(&header, claims, &EncodingKey::from_secret(secret)).expect("signs")
}

fn sign(algorithm: Algorithm, secret: &[u8], claims: &Claims<'_>) -> String {
    sign_as(KEY_ID, algorithm, secret, claims)
}

async fn verify(auth: &mut TestAuth, token: String) -> Result<Identity, tonic::Status> {
    auth.client
        .verify_token(VerifyTokenRequest { token })
        .await
        .map(tonic::Response::into_inner)
}

/// A user "alice" and the id of the session her login opened.
async fn alice(auth: &mut TestAuth) -> (User, String) {
    let user = register(&mut auth.client, "alice", "").await;
    let token = login(&mut auth.client, "alice").await;
    let identity = verify(auth, token).await.expect("issued tokens verify");
    assert_eq!(identity.user_id, user.id);
    (user, identity.session_id)
}

async fn forged_or_misdirected_tokens_are_invalid(backend: Backend) {
    let mut auth = spawn_auth(backend).await;
    let (user, session_id) = alice(&mut auth).await;
    let now = jsonwebtoken::get_current_timestamp();
    let good = Claims {
        sub: &user.id,
        sid: &session_id,
        user_id: &user.id,
        exp: now + 600,
        iat: now,
        iss: ISSUER,
        aud: AUDIENCE,
    };
    let valid = sign(Algorithm::HS256, SECRET, &good);
    verify(&mut auth, valid.clone())
        .await
        .expect("the control token verifies");

    // {"alg":"none","typ":"JWT","kid":"k1"} over the valid claims, without a signature.
    let payload = valid.split('.').nth(1).expect("a JWT has a payload");
    let unsigned = format!("eyJhbGciOiJub25lIiwidHlwIjoiSldUIiwia2lkIjoiazEifQ.{payload}.");
    let wrong_audience = Claims {
        aud: "someone-else",
        ..good
    };
    let wrong_issuer = Claims {
        iss: "someone-else",
        ..good
    };
    let no_session = Claims { sid: "", ..good };
    for token in [
        unsigned,
        sign(Algorithm::HS512, SECRET, &good),
        sign(
            Algorithm::HS256,
            b"another-secret-of-at-least-32-bytes",
            &good,
        ),
        sign_as("unknown-kid", Algorithm::HS256, SECRET, &good),
        sign(Algorithm::HS256, SECRET, &wrong_audience),
        sign(Algorithm::HS256, SECRET, &wrong_issuer),
        sign(Algorithm::HS256, SECRET, &no_session),
        "not.a.token".to_owned(),
        String::new(),
    ] {
        let result = verify(&mut auth, token).await;
        assert_error(result, Code::Unauthenticated, "invalid_token");
    }
}

async fn an_expired_token_says_so_beyond_five_seconds(backend: Backend) {
    let mut auth = spawn_auth(backend).await;
    let (user, session_id) = alice(&mut auth).await;
    let now = jsonwebtoken::get_current_timestamp();
    let expiring = |exp| Claims {
        sub: &user.id,
        sid: &session_id,
        user_id: &user.id,
        exp,
        iat: now - 3600,
        iss: ISSUER,
        aud: AUDIENCE,
    };
    // A clock a second or two behind is forgiven; one more than 5 s behind is not.
    let just_expired = sign(Algorithm::HS256, SECRET, &expiring(now - 1));
    verify(&mut auth, just_expired)
        .await
        .expect("within the leeway");
    for exp in [now - 7, now - 30, now - 3600] {
        let result = verify(&mut auth, sign(Algorithm::HS256, SECRET, &expiring(exp))).await;
        assert_error(result, Code::Unauthenticated, "token_expired");
    }
}

async fn a_token_of_an_unknown_user_or_session_is_invalid(backend: Backend) {
    let mut auth = spawn_auth(backend).await;
    let (user, session_id) = alice(&mut auth).await;
    let stranger = uuid::Uuid::new_v4().to_string();
    let now = jsonwebtoken::get_current_timestamp();
    let claims = |sub, sid| Claims {
        sub,
        sid,
        user_id: sub,
        exp: now + 600,
        iat: now,
        iss: ISSUER,
        aud: AUDIENCE,
    };
    // Someone else's session, and a session nobody has.
    for (sub, sid) in [(&stranger, &session_id), (&user.id, &stranger)] {
        let token = sign(Algorithm::HS256, SECRET, &claims(sub, sid));
        let result = verify(&mut auth, token).await;
        assert_error(result, Code::Unauthenticated, "invalid_token");
    }
}

async fn a_token_dies_with_its_session(backend: Backend) {
    let mut auth = spawn_auth(backend).await;
    let user = register(&mut auth.client, "alice", "").await;
    let login = auth
        .client
        .login(LoginRequest {
            username: "alice".into(),
            password: "0000".into(),
            ..LoginRequest::default()
        })
        .await
        .expect("login")
        .into_inner();
    let login_session = login.session.expect("a login opens a session");
    let device = auth
        .client
        .create_session(CreateSessionRequest {
            user_id: user.id.clone(),
            platform: "ios".into(),
            ..CreateSessionRequest::default()
        })
        .await
        .expect("a device session")
        .into_inner();
    assert!(device.expires_at_ms > chrono::Utc::now().timestamp_millis());
    let identity = verify(&mut auth, device.access_token.clone())
        .await
        .expect("a device session's token verifies");
    assert_eq!(identity.session_id, device.id);

    auth.client
        .revoke_session(RevokeSessionRequest {
            user_id: user.id.clone(),
            session_id: device.id.clone(),
        })
        .await
        .expect("revoked");
    let result = verify(&mut auth, device.access_token).await;
    assert_error(result, Code::Unauthenticated, "invalid_token");
    let identity = verify(&mut auth, login.access_token.clone())
        .await
        .expect("another session's token still verifies");
    assert_eq!(identity.session_id, login_session.id);

    auth.client
        .revoke_session(RevokeSessionRequest {
            user_id: user.id,
            session_id: login_session.id,
        })
        .await
        .expect("revoked");
    let result = verify(&mut auth, login.access_token).await;
    assert_error(result, Code::Unauthenticated, "invalid_token");
}

async fn tokens_die_with_their_user(backend: Backend) {
    let mut auth = spawn_auth(backend).await;
    let (user, _) = alice(&mut auth).await;
    let token = login(&mut auth.client, "alice").await;
    verify(&mut auth, token.clone()).await.expect("verifies");
    auth.client
        .delete_user(DeleteUserRequest {
            user_id: user.id.clone(),
        })
        .await
        .expect("deleted");
    let result = verify(&mut auth, token).await;
    assert_error(result, Code::Unauthenticated, "invalid_token");
}
