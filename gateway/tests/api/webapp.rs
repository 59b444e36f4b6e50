//! The web-app document's steps 2, 3 and 6 replayed with three users on two replicas: login,
//! the socket's init frame, `user_activity` to every online user on login, logout and the
//! last socket going away, `GET /http/users` with online/offline, and bad input.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{Backend, spawn_stack};
use crate::webapp_client::{Web, activity, until};

backend_tests!(
    login_presence_and_logout_reach_every_online_user,
    bad_input_answers_the_dialects_errors
);

fn status_of(users: &Value, id: i64) -> Value {
    let user = users
        .as_array()
        .expect("an array")
        .iter()
        .find(|u| u["id"] == id)
        .unwrap_or_else(|| panic!("user {id} in {users}"));
    user["status"].clone()
}

async fn login_presence_and_logout_reach_every_online_user(backend: Backend) {
    let stack = spawn_stack(backend, 2).await;
    let (here, there) = (Web::new(&stack, 0), Web::new(&stack, 1));
    let ann = here.user("Ann").await;
    let bob = there.user("Bob").await;
    let cid = here.user("Cid").await;

    // 2. Ann's socket, then Bob's on the other replica: Ann is told Bob logged in.
    let mut ann_socket = here.socket(&ann).await;
    let mut bob_socket = there.socket(&bob).await;
    activity(&mut ann_socket, bob.id, true).await;
    let (status, users) = here.get("/users", &ann.token).await;
    assert_eq!(status, 200, "{users}");
    assert_eq!(status_of(&users, ann.id), "online");
    assert_eq!(status_of(&users, bob.id), "online");
    assert_eq!(status_of(&users, cid.id), "offline");
    let bob_there = users
        .as_array()
        .and_then(|all| all.iter().find(|u| u["id"] == bob.id))
        .expect("Bob");
    assert_eq!(
        (
            &bob_there["first_name"],
            &bob_there["last_name"],
            &bob_there["online"]
        ),
        (&json!("Bob"), &json!("Tester"), &json!(true))
    );

    // Cid comes online on replica 0: both others are told.
    let mut cid_socket = here.socket(&cid).await;
    activity(&mut ann_socket, cid.id, true).await;
    activity(&mut bob_socket, cid.id, true).await;

    // 3. Bob logs out: his socket closes, his token stops working, the others are told.
    let (status, body) = there.get("/logout", &bob.token).await;
    assert_eq!((status, &body["success"]), (200, &json!(true)), "{body}");
    assert_eq!(u16::from(bob_socket.expect_close().await), 1008);
    drop(bob_socket);
    activity(&mut ann_socket, bob.id, false).await;
    activity(&mut cid_socket, bob.id, false).await;
    let (status, refused) = there.get("/users", &bob.token).await;
    assert_eq!(
        (status, &refused["error"]["code"]),
        (401, &json!("unauthorized"))
    );

    // Cid's last socket goes away (no logout): the others are told all the same.
    drop(cid_socket);
    activity(&mut ann_socket, cid.id, false).await;
    let (_, users) = here.get("/users", &ann.token).await;
    assert_eq!(status_of(&users, cid.id), "offline");
    assert_eq!(status_of(&users, bob.id), "offline");

    // Bob logs in again (Authorization: Bearer is read too) on replica 0.
    let token = here.login(&bob.email, "secret").await;
    let response = stack
        .http
        .get(format!("{}/http/users", stack.gateways[0]))
        .header("authorization", format!("Bearer {token}"))
        .send()
        .await
        .expect("HTTP");
    assert_eq!(response.status().as_u16(), 200);
}

async fn bad_input_answers_the_dialects_errors(backend: Backend) {
    let stack = spawn_stack(backend, 1).await;
    let web = Web::new(&stack, 0);
    let ann = web.user("Ann").await;
    let (status, body) = stack.raw(0, Method::POST, "/http/login", "{not json").await;
    assert_eq!(
        (status, &body["error"]["code"]),
        (400, &json!("invalid_json")),
        "{body}"
    );
    let wrong = json!({"email": ann.email, "password": "wrong"});
    let (status, body) = web.call(Method::POST, "/login", None, Some(wrong)).await;
    assert_eq!(
        (status, &body["error"]["code"]),
        (401, &json!("wrong_credentials")),
        "{body}"
    );
    let missing = json!({"data": {"email": ann.email}});
    let (status, body) = web.call(Method::POST, "/login", None, Some(missing)).await;
    assert_eq!(
        (status, &body["error"]["code"]),
        (400, &json!("invalid_data")),
        "{body}"
    );
    // The document's own wrapping: {"data": {...}}.
    let wrapped = json!({"data": {"email": ann.email, "password": "secret"}});
    let (status, body) = web.call(Method::POST, "/login", None, Some(wrapped)).await;
    assert_eq!(status, 200, "{body}");
    for path in ["/users", "/chat_rooms", "/logout"] {
        let (status, body) = web.call(Method::GET, path, None, None).await;
        assert_eq!(
            (status, &body["error"]["code"]),
            (401, &json!("unauthorized")),
            "{path}"
        );
        let (status, _) = web.get(path, "not-a-token").await;
        assert_eq!(status, 401, "{path}");
    }

    // The socket: a frame before binding without a token, then a bad token, closes it (1008).
    let url = format!("{}/socket", stack.gateways[0]).replacen("http://", "ws://", 1);
    let mut socket = crate::helpers::Socket::connect(&url).await;
    socket.send_text("{oops").await;
    assert_eq!(socket.next().await["code"], "invalid_json");
    socket.send(json!({"chat_type": "room"})).await;
    assert_eq!(socket.next().await["code"], "unauthorized");
    socket.send(json!({"token": "forged"})).await;
    assert_eq!(socket.next().await["code"], "unauthorized");
    assert_eq!(u16::from(socket.expect_close().await), 1008);

    // A bound socket: bad frames are answered and change nothing; the socket stays open.
    let mut socket = web.socket(&ann).await;
    let frames = [
        json!({"token": ann.token, "chat_type": "room", "other_user_id": "x", "message": "hi"}),
        json!({"token": ann.token, "chat_type": "room", "other_user_id": 999_999, "message": "hi"}),
        json!({"token": ann.token, "chat_type": "room", "other_user_id": ann.id, "message": "hi"}),
        json!({"token": ann.token, "chat_type": "nonsense", "message": "hi"}),
        json!({"token": "forged", "chat_type": "room", "other_user_id": ann.id, "message": "hi"}),
    ];
    let codes = [
        "invalid_data",
        "user_not_found",
        "invalid_data",
        "invalid_data",
        "unauthorized",
    ];
    for (frame, code) in frames.into_iter().zip(codes) {
        socket.send(frame.clone()).await;
        let answer = until(&mut socket, |f| f["type"] == "error").await;
        assert_eq!(answer["code"], code, "{frame} → {answer}");
    }
    let (_, rooms) = web.get("/chat_rooms", &ann.token).await;
    assert_eq!(rooms, json!([]));
}
