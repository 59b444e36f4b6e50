//! Seed 001 (e_chat_server) under /v1, replayed as the document writes it: register, login,
//! info, search, rooms, history, the room socket and logout, with every error it lists.

use serde_json::{Value, json};

use crate::echat_client::{V1, assert_error, assert_time, refused_handshake, room_socket};
use crate::helpers::{Backend, spawn_stack};

backend_tests!(seed_001_as_written);

fn credentials(login: &str, password: &str) -> String {
    json!({"login": login, "password": password}).to_string()
}

async fn seed_001_as_written(backend: Backend) {
    let stack = spawn_stack(backend, 1).await;
    let v1 = V1::new(&stack, 0);

    // Registration answers a session_id, and a second one of the login is refused.
    let reply = v1
        .send(
            stack
                .http
                .post(v1.url("/v1/register"))
                .body(credentials("Василий", "password")),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let registered = crate::echat_client::session_id(&reply.body);
    assert_eq!(reply.body.as_object().map(|o| o.len()), Some(1));
    let cookie = reply.cookie.expect("a session cookie");
    assert!(
        cookie.starts_with(&format!("session_id={registered};")),
        "{cookie}"
    );
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("Path=/"),
        "{cookie}"
    );
    let taken = v1
        .post("/v1/register", None, &credentials("Василий", "other"))
        .await;
    assert_error(&taken, 422, "user_already_exists");
    let taken = v1
        .post("/v1/register", None, &credentials("ВАСИЛИЙ", "x"))
        .await;
    assert_error(&taken, 422, "user_already_exists");
    for bad in ["{", "", r#"{"login":"x"}"#, r#"{"login":1,"password":"p"}"#] {
        assert_error(
            &v1.post("/v1/register", None, bad).await,
            422,
            "invalid_json",
        );
    }

    // Login: a new session; wrong password, unknown user and bad JSON as the document says.
    let vasily = v1.login("Василий", "password").await;
    assert_ne!(vasily, registered);
    let wrong = v1
        .post("/v1/login", None, &credentials("Василий", "nope"))
        .await;
    assert_error(&wrong, 422, "wrong_credentials");
    let unknown = v1
        .post("/v1/login", None, &credentials("Никто", "password"))
        .await;
    assert_error(&unknown, 422, "user_not_found");
    for bad in ["{", "[]", r#"{"password":"password"}"#] {
        assert_error(&v1.post("/v1/login", None, bad).await, 422, "invalid_json");
    }

    // Info: integer id and login.
    let info = v1.info(&vasily).await;
    let vasily_id = info["id"].as_i64().expect("an integer id");
    assert_eq!(info, json!({"id": vasily_id, "login": "Василий"}));
    assert_eq!(
        v1.info(&registered).await,
        info,
        "both sessions are Василий's"
    );

    // Search in Cyrillic, whatever the case, with and without the trailing slash.
    let petr = v1.register("Петр").await;
    let petr_id = v1.info(&petr).await["id"].as_i64().expect("id");
    let vasya = v1.register("Вася").await;
    let vasya_id = v1.info(&vasya).await["id"].as_i64().expect("id");
    for path in [
        "/v1/users/?q=Вася",
        "/v1/users?q=вася",
        "/v1/users/?q=%D0%92%D0%90%D0%A1%D0%AF",
    ] {
        let found = v1.get(path, Some(&vasily)).await;
        assert_eq!(
            found,
            (200, json!([{"id": vasya_id, "login": "Вася"}])),
            "{path}"
        );
    }
    let found = v1.get("/v1/users/?q=вас", Some(&vasily)).await;
    let both = json!([{"id": vasily_id, "login": "Василий"}, {"id": vasya_id, "login": "Вася"}]);
    assert_eq!(found, (200, both));
    assert_eq!(
        v1.get("/v1/users/?q=Зоя", Some(&vasily)).await,
        (200, json!([]))
    );

    // A room with Петр: the caller first, then the users named.
    let new_room = json!({"users": [{"id": petr_id, "login": "Петр"}]}).to_string();
    let (status, room) = v1.post("/v1/rooms", Some(&vasily), &new_room).await;
    assert_eq!(status, 200, "{room}");
    let room_id = room["id"].as_i64().expect("an integer room id");
    let vasily_user = json!({"id": vasily_id, "login": "Василий"});
    let petr_user = json!({"id": petr_id, "login": "Петр"});
    assert_eq!(
        room,
        json!({"id": room_id, "users": [vasily_user, petr_user]})
    );
    for bad in [
        "{",
        r#"{"users":"Петр"}"#,
        r#"{"users":[{"login":"Петр"}]}"#,
    ] {
        assert_error(
            &v1.post("/v1/rooms", Some(&vasily), bad).await,
            422,
            "invalid_json",
        );
    }
    let stranger = json!({"users": [{"id": petr_id + 1000, "login": "?"}]}).to_string();
    let refused = v1.post("/v1/rooms", Some(&vasily), &stranger).await;
    assert_error(&refused, 422, "user_not_found");

    // Listing and reading it, as either member; others and unknown rooms are not found.
    let listed = json!([{"id": room_id, "users": [petr_user, vasily_user]}]);
    assert_eq!(v1.get("/v1/rooms", Some(&vasily)).await, (200, listed));
    let shown = v1.get(&format!("/v1/rooms/{room_id}"), Some(&vasily)).await;
    assert_eq!(
        shown,
        (
            200,
            json!({"id": room_id, "users": [petr_user, vasily_user]})
        )
    );
    let shown = v1.get(&format!("/v1/rooms/{room_id}"), Some(&petr)).await;
    assert_eq!(
        shown,
        (
            200,
            json!({"id": room_id, "users": [vasily_user, petr_user]})
        )
    );
    assert_eq!(v1.get("/v1/rooms", Some(&vasya)).await, (200, json!([])));
    let others = [room_id + 1000, 0, -1].map(|id| id.to_string());
    for id in others.iter().map(String::as_str).chain(["abc"]) {
        for path in [
            format!("/v1/rooms/{id}"),
            format!("/v1/rooms/{id}/messages"),
        ] {
            assert_error(&v1.get(&path, Some(&vasily)).await, 422, "room_not_found");
        }
    }
    let theirs = v1.get(&format!("/v1/rooms/{room_id}"), Some(&vasya)).await;
    assert_error(&theirs, 422, "room_not_found");
    let theirs = v1
        .get(&format!("/v1/rooms/{room_id}/messages"), Some(&vasya))
        .await;
    assert_error(&theirs, 422, "room_not_found");
    let history = v1
        .get(&format!("/v1/rooms/{room_id}/messages"), Some(&vasily))
        .await;
    assert_eq!(history, (200, json!([])));

    // The room's socket: each side's message reaches both, the sender's own socket included.
    let mut vasily_socket = room_socket(&v1.room_url(room_id, &vasily)).await;
    let mut petr_socket = room_socket(&v1.room_url(room_id, &petr)).await;
    let mut said: Vec<Value> = Vec::new();
    for (sender, user_id, text) in [(0, vasily_id, "Привет"), (1, petr_id, "И тебе привет")]
    {
        let sockets = [&mut vasily_socket, &mut petr_socket];
        sockets[sender].send(json!({"text": text})).await;
        let expected = json!({"text": text, "user_id": user_id, "room_id": room_id});
        for socket in sockets {
            let mut received = socket.next().await;
            assert_time(&received["created_at"]);
            received.as_object_mut().map(|o| o.remove("created_at"));
            assert_eq!(received, expected);
        }
        said.push(expected);
    }
    // A malformed frame answers invalid_json and the socket stays open.
    for bad in ["not json", r#"{"txt":"Привет"}"#, r#"{"text":5}"#] {
        vasily_socket.send_text(bad).await;
        let error = vasily_socket.next().await;
        assert_eq!(error["error"]["code"], "invalid_json", "{bad}: {error}");
    }
    vasily_socket.expect_silence().await;
    petr_socket.expect_silence().await;
    let refused = refused_handshake(v1.room_url(room_id, &vasya)).await;
    assert_error(&refused, 422, "room_not_found");
    let refused = refused_handshake(v1.room_url(room_id + 1000, &vasily)).await;
    assert_error(&refused, 422, "room_not_found");

    // History: the same messages, oldest first.
    let (status, history) = v1
        .get(&format!("/v1/rooms/{room_id}/messages"), Some(&petr))
        .await;
    assert_eq!(status, 200, "{history}");
    let mut messages = history.as_array().expect("an array").clone();
    assert_eq!(messages.len(), 2, "{history}");
    for message in &mut messages {
        assert_time(&message["created_at"]);
        message.as_object_mut().map(|o| o.remove("created_at"));
    }
    assert_eq!(messages, said);
    let newest = v1
        .get(
            &format!("/v1/rooms/{room_id}/messages?limit=1"),
            Some(&petr),
        )
        .await;
    assert_eq!(newest.1[0]["text"], "И тебе привет", "{}", newest.1);
    let refused = v1
        .get(
            &format!("/v1/rooms/{room_id}/messages?limit=0"),
            Some(&petr),
        )
        .await;
    assert_error(&refused, 422, "invalid_query");

    // Logout: {} and the session is over; the other session of the user lives on.
    assert_eq!(
        v1.post("/v1/logout", Some(&vasily), "{}").await,
        (200, json!({}))
    );
    assert_error(
        &v1.get("/v1/info", Some(&vasily)).await,
        401,
        "unauthorized",
    );
    assert_error(
        &v1.post("/v1/logout", Some(&vasily), "{}").await,
        401,
        "unauthorized",
    );
    assert_eq!(v1.info(&registered).await["id"], vasily_id);
}
