//! An access token dies with its session: once a dialect's logout (or the native
//! `DELETE /sessions/{id}`) revokes the session, the token is refused on every REST route and
//! socket handshake of every replica within a second, in the dialect's own error shape.

use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;

use crate::echat_client::{V1, assert_error};
use crate::helpers::{Backend, Stack, spawn_stack};
use crate::messenger_client::Api;

backend_tests!(
    a_native_token_dies_with_its_session_on_every_replica,
    a_messenger_token_dies_at_logout_on_every_replica,
    an_echat_session_dies_at_logout_on_every_replica,
);

/// How soon after a revocation every replica must refuse the token.
const WITHIN: Duration = Duration::from_secs(1);

/// Asks `check` of every replica until it holds or [`WITHIN`] has passed since `revoked`.
async fn refused_everywhere<F, Fut>(stack: &Stack, revoked: Instant, check: F)
where
    F: Fn(usize) -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    for replica in 0..stack.gateways.len() {
        while !check(replica).await {
            assert!(
                revoked.elapsed() < WITHIN,
                "replica {replica} still takes the token"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    assert!(revoked.elapsed() < WITHIN, "{:?}", revoked.elapsed());
}

#[track_caller]
fn assert_native_refusal((status, body): &(u16, Value)) {
    assert_eq!(*status, 401, "{body}");
    assert_eq!(body["error"]["code"], "invalid_token", "{body}");
}

async fn a_native_token_dies_with_its_session_on_every_replica(backend: Backend) {
    let stack = &spawn_stack(backend, 2).await;
    let alice = stack.user(0, "alice").await;
    let (status, login) = stack
        .post(
            1,
            "/login",
            None,
            json!({"username": "alice", "password": "0000"}),
        )
        .await;
    assert_eq!(status, 200, "{login}");
    let token = login["token"].as_str().expect("token").to_owned();
    let session_id = login["session_id"].as_str().expect("session_id").to_owned();
    let (status, device) = stack
        .post(
            0,
            "/sessions",
            Some(&token),
            json!({"device_id": "d2", "platform": "web"}),
        )
        .await;
    assert_eq!(status, 200, "{device}");
    let device_token = device["token"].as_str().expect("a device token").to_owned();
    assert!(device["expires_at"].as_i64().is_some(), "{device}");
    for replica in 0..2 {
        for token in [&token, &device_token, &alice.token] {
            assert_eq!(stack.get(replica, "/groups", token).await.0, 200);
        }
    }

    // Logging the device out ends its token, not the login's.
    let device_id = device["id"].as_str().expect("id");
    let path = format!("/sessions/{device_id}");
    let (status, _) = delete(stack, 1, &path, &token).await;
    assert_eq!(status, 204);
    let revoked = Instant::now();
    refused_everywhere(stack, revoked, |replica| {
        let device_token = device_token.clone();
        async move {
            let refusal = stack.get(replica, "/groups", &device_token).await;
            refusal.0 == 401 && {
                assert_native_refusal(&refusal);
                true
            }
        }
    })
    .await;
    for replica in 0..2 {
        assert_eq!(stack.get(replica, "/groups", &token).await.0, 200);
    }

    // Logging the login's session out ends its token on every route.
    let (status, _) = delete(stack, 0, &format!("/sessions/{session_id}"), &token).await;
    assert_eq!(status, 204);
    let revoked = Instant::now();
    refused_everywhere(stack, revoked, |replica| {
        let token = token.clone();
        async move {
            let groups = stack.get(replica, "/groups", &token).await;
            let group = stack
                .post(
                    replica,
                    "/groups",
                    Some(&token),
                    json!({"name": "g", "user_ids": []}),
                )
                .await;
            let session = stack
                .post(replica, "/sessions", Some(&token), json!({}))
                .await;
            let refused = [&groups, &group, &session];
            refused.iter().all(|reply| reply.0 == 401) && {
                refused.into_iter().for_each(assert_native_refusal);
                true
            }
        }
    })
    .await;
    // Other sessions of the same user live on.
    for replica in 0..2 {
        assert_eq!(stack.get(replica, "/groups", &alice.token).await.0, 200);
    }
}

async fn delete(stack: &Stack, replica: usize, path: &str, token: &str) -> (u16, String) {
    let response = stack
        .http
        .delete(format!("{}{path}", stack.gateways[replica]))
        .header("authorization", format!("Bearer {token}"))
        .send()
        .await
        .expect("HTTP request");
    let status = response.status().as_u16();
    (status, response.text().await.unwrap_or_default())
}

async fn a_messenger_token_dies_at_logout_on_every_replica(backend: Backend) {
    let stack = &spawn_stack(backend, 2).await;
    let (here, there) = (Api::new(stack, 0), Api::new(stack, 1));
    let pat = here.account("Pat").await;
    let other = there.login(&pat.email, "secret").await;
    let mut socket = there.socket(&pat.token).await;
    for api in [&here, &there] {
        let (status, me) = api
            .call(Method::GET, "/api/users/me", Some(&pat.token), None)
            .await;
        assert_eq!((status, &me["id"]), (200, &json!(pat.id)));
    }

    let (status, body) = here
        .call(Method::POST, "/api/auth/logout", Some(&pat.token), None)
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["success"], true, "{body}");
    let revoked = Instant::now();
    let refusal = json!({"error": true, "code": "unauthorized", "message": "Unauthorized"});
    refused_everywhere(stack, revoked, |replica| {
        let (token, refusal) = (pat.token.clone(), refusal.clone());
        async move {
            let api = Api::new(stack, replica);
            let me = api
                .call(Method::GET, "/api/users/me", Some(&token), None)
                .await;
            let change = json!({"firstName": "Mallory"});
            let patch = api
                .call(Method::PATCH, "/api/users/me", Some(&token), Some(change))
                .await;
            let handshake = handshake_status(&api, &token).await;
            let replies = [me, patch];
            (replies.iter().all(|reply| reply.0 == 401) && handshake == 401) && {
                replies
                    .iter()
                    .for_each(|reply| assert_eq!(reply.1, refusal, "replica {replica}"));
                true
            }
        }
    })
    .await;
    assert_eq!(u16::from(socket.expect_close().await), 1008);
    // The other login of the same user is another session.
    let (status, _) = there
        .call(Method::GET, "/api/users/me", Some(&other), None)
        .await;
    assert_eq!(status, 200);
    let (status, _) = here
        .call(Method::POST, "/api/auth/logout", Some(&pat.token), None)
        .await;
    assert_eq!(status, 401);
}

/// The status a WebSocket handshake at `/` with `token` is answered.
async fn handshake_status(api: &Api<'_>, token: &str) -> u16 {
    let mut request = api.socket_url().into_client_request().expect("request");
    let value = HeaderValue::from_str(&format!("Bearer {token}")).expect("header");
    request.headers_mut().insert("authorization", value);
    match tokio_tungstenite::connect_async(request).await {
        Ok(_) => 101,
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => response.status().as_u16(),
        Err(error) => panic!("handshake: {error}"),
    }
}

async fn an_echat_session_dies_at_logout_on_every_replica(backend: Backend) {
    let stack = &spawn_stack(backend, 2).await;
    let (here, there) = (V1::new(stack, 0), V1::new(stack, 1));
    here.register("kim").await;
    let session = there.login("kim", "password").await;
    for v1 in [&here, &there] {
        assert_eq!(v1.get("/v1/info", Some(&session)).await.0, 200);
    }
    assert_eq!(here.post("/v1/logout", Some(&session), "").await.0, 200);
    let revoked = Instant::now();
    refused_everywhere(stack, revoked, |replica| {
        let session = session.clone();
        async move {
            let v1 = V1::new(stack, replica);
            let info = v1.get("/v1/info", Some(&session)).await;
            info.0 == 401 && {
                assert_error(&info, 401, "unauthorized");
                true
            }
        }
    })
    .await;
}
