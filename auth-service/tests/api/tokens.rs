//! Access-token verification refuses every token it did not issue as configured.

use chat_proto::auth::VerifyTokenRequest;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde::Serialize;
use tonic::Code;

use crate::helpers::{
    AUDIENCE, Backend, ISSUER, KEY_ID, SECRET, TestAuth, assert_error, login, register, spawn_auth,
};

crate::helpers::backend_tests!(
    forged_or_misdirected_tokens_are_invalid,
    an_expired_token_says_so,
    a_token_of_an_unknown_user_is_invalid,
);

#[derive(Serialize)]
struct Claims<'a> {
    sub: &'a str,
    user_id: &'a str,
    exp: u64,
    iat: u64,
    iss: &'a str,
    aud: &'a str,
}

fn sign(algorithm: Algorithm, secret: &[u8], claims: &Claims<'_>) -> String {
    let mut header = Header::new(algorithm);
    header.kid = Some(KEY_ID.to_owned());
    jsonwebtoken::encode(&header, claims, &EncodingKey::from_secret(secret)).expect("signs")
}

async fn verify(auth: &mut TestAuth, token: String) -> Result<(), tonic::Status> {
    auth.client
        .verify_token(VerifyTokenRequest { token })
        .await
        .map(drop)
}

async fn forged_or_misdirected_tokens_are_invalid(backend: Backend) {
    let mut auth = spawn_auth(backend).await;
    let user = register(&mut auth.client, "alice", "").await;
    let now = jsonwebtoken::get_current_timestamp();
    let good = Claims {
        sub: &user.id,
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
    for token in [
        unsigned,
        sign(Algorithm::HS512, SECRET, &good),
        sign(
            Algorithm::HS256,
            b"another-secret-of-at-least-32-bytes",
            &good,
        ),
        sign(Algorithm::HS256, SECRET, &wrong_audience),
        sign(Algorithm::HS256, SECRET, &wrong_issuer),
        "not.a.token".to_owned(),
        String::new(),
    ] {
        let result = verify(&mut auth, token).await;
        assert_error(result, Code::Unauthenticated, "invalid_token");
    }
}

async fn an_expired_token_says_so(backend: Backend) {
    let mut auth = spawn_auth(backend).await;
    let user = register(&mut auth.client, "alice", "").await;
    let now = jsonwebtoken::get_current_timestamp();
    let expired = Claims {
        sub: &user.id,
        user_id: &user.id,
        exp: now - 3600,
        iat: now - 7200,
        iss: ISSUER,
        aud: AUDIENCE,
    };
    let result = verify(&mut auth, sign(Algorithm::HS256, SECRET, &expired)).await;
    assert_error(result, Code::Unauthenticated, "token_expired");
}

async fn a_token_of_an_unknown_user_is_invalid(backend: Backend) {
    let mut auth = spawn_auth(backend).await;
    register(&mut auth.client, "alice", "").await;
    let token = login(&mut auth.client, "alice").await;
    verify(&mut auth, token)
        .await
        .expect("issued tokens verify");

    let stranger = uuid::Uuid::new_v4().to_string();
    let now = jsonwebtoken::get_current_timestamp();
    let claims = Claims {
        sub: &stranger,
        user_id: &stranger,
        exp: now + 600,
        iat: now,
        iss: ISSUER,
        aud: AUDIENCE,
    };
    let result = verify(&mut auth, sign(Algorithm::HS256, SECRET, &claims)).await;
    assert_error(result, Code::Unauthenticated, "invalid_token");
}
