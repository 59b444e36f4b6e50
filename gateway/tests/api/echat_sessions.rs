//! The /v1 session: every route but register and login refuses a request without a live
//! `session_id` (401), and the `session_id` travels in any of the ways a client may send it.

use serde_json::json;

use crate::echat_client::{V1, assert_error, refused_handshake};
use crate::helpers::{Backend, Socket, spawn_stack};

backend_tests!(every_route_needs_a_live_session);

async fn every_route_needs_a_live_session(backend: Backend) {
    let stack = spawn_stack(backend, 1).await;
    let v1 = V1::new(&stack, 0);
    let session = v1.register("Василий").await;
    let room = v1
        .post("/v1/rooms", Some(&session), r#"{"users":[]}"#)
        .await;
    assert_eq!(room.0, 200, "{}", room.1);
    let room_id = room.1["id"].as_i64().expect("id");
    let ended = v1.login("Василий", "password").await;
    assert_eq!(v1.post("/v1/logout", Some(&ended), "").await.0, 200);

    let gets = ["/v1/info", "/v1/users/?q=В", "/v1/rooms"];
    let room_paths = [
        format!("/v1/rooms/{room_id}"),
        format!("/v1/rooms/{room_id}/messages"),
    ];
    for bad in [None, Some("nonsense"), Some(ended.as_str())] {
        for path in gets
            .iter()
            .copied()
            .chain(room_paths.iter().map(String::as_str))
        {
            assert_error(&v1.get(path, bad).await, 401, "unauthorized");
        }
        for path in ["/v1/logout", "/v1/rooms"] {
            assert_error(
                &v1.post(path, bad, r#"{"users":[]}"#).await,
                401,
                "unauthorized",
            );
        }
        let url = v1.room_url(room_id, bad.unwrap_or_default());
        assert_error(&refused_handshake(url).await, 401, "unauthorized");
    }

    // The session_id travels in any of the ways a client may send it.
    let info = json!({"id": v1.info(&session).await["id"], "login": "Василий"});
    let get = || stack.http.get(v1.url("/v1/info"));
    for request in [
        get().header("authorization", format!("Bearer {session}")),
        get().header("authorization", session.clone()),
        get().header("x-session-id", session.clone()),
        get().header("cookie", format!("lang=ru; session_id={session}")),
        stack
            .http
            .get(v1.url(&format!("/v1/info?session_id={session}"))),
    ] {
        let reply = v1.send(request).await;
        assert_eq!((reply.status, reply.body), (200, info.clone()));
    }
    let mut request = tungstenite_request(&v1.room_url(room_id, ""));
    let cookie = format!("session_id={session}")
        .parse()
        .expect("a header value");
    request.headers_mut().insert("cookie", cookie);
    let mut socket = Socket::connect_request(request).await;
    socket.send(json!({"text": "через cookie"})).await;
    assert_eq!(socket.next().await["text"], "через cookie");
}

fn tungstenite_request(url: &str) -> tokio_tungstenite::tungstenite::handshake::client::Request {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    url.into_client_request().expect("a WebSocket request")
}
