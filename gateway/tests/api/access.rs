//! A stranger never reads, sends to or hears from a group they are not in; REST errors carry a
//! stable code and the status a client expects.

use serde_json::json;

use crate::helpers::{Backend, Socket, spawn_stack};

backend_tests!(
    a_non_member_is_refused_on_read_send_and_history,
    rest_errors_use_the_expected_statuses_and_codes
);

async fn a_non_member_is_refused_on_read_send_and_history(backend: Backend) {
    let stack = spawn_stack(backend, 2).await;
    let alice = stack.user(0, "alice").await;
    let bob = stack.user(1, "bob").await;
    let mallory = stack.user(1, "mallory").await;
    let group = stack.group(0, &alice, "private", &[&bob]).await;

    let (status, body) = stack
        .get(1, &format!("/groups/{group}"), &mallory.token)
        .await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(body["error"]["code"], "not_a_member");
    let (status, body) = stack
        .get(1, &format!("/groups/{group}/messages"), &mallory.token)
        .await;
    assert_eq!(status, 403);
    assert_eq!(body["error"]["code"], "not_a_member");
    let (status, body) = stack
        .put(
            1,
            &format!("/groups/{group}/join"),
            &mallory.token,
            json!({}),
        )
        .await;
    assert_eq!(
        status, 403,
        "a stranger cannot join a private group: {body}"
    );
    let (status, body) = stack
        .put(
            1,
            &format!("/groups/{group}/join"),
            &mallory.token,
            json!({"user_id": mallory.id}),
        )
        .await;
    assert_eq!(status, 403, "{body}");
    let (status, _) = stack
        .put(
            1,
            &format!("/groups/{group}/left"),
            &mallory.token,
            json!({"user_id": bob.id}),
        )
        .await;
    assert_eq!(status, 403, "a stranger cannot remove a member");

    let mut mallory_socket = Socket::connect(&mallory.messaging_url).await;
    mallory_socket
        .send(json!({"method": 40, "body": {"group_id": group, "data": "let me in"}}))
        .await;
    let error = mallory_socket.expect(99).await;
    assert_eq!(error["body"]["code"], "not_a_member");
    assert_eq!(error["body"]["method"], 40);
    mallory_socket
        .send(json!({"method": 60, "body": {"group_id": group}}))
        .await;
    assert_eq!(
        mallory_socket.expect(99).await["body"]["code"],
        "not_a_member"
    );

    // Group traffic never reaches the stranger; the group's history holds no message of theirs.
    let mut alice_socket = Socket::connect(&alice.messaging_url).await;
    alice_socket
        .send(json!({"method": 40, "body": {"group_id": group, "data": "members only"}}))
        .await;
    let message_id = alice_socket.expect(21).await["body"]["message_id"].clone();
    mallory_socket
        .send(json!({"method": 42, "body": {"message_id": message_id}}))
        .await;
    assert_eq!(
        mallory_socket.expect(99).await["body"]["code"],
        "not_a_member"
    );
    mallory_socket
        .send(json!({"method": 20, "timestamp": 0}))
        .await;
    mallory_socket.expect_silence().await;
    let (_, history) = stack
        .get(0, &format!("/groups/{group}/messages"), &alice.token)
        .await;
    assert_eq!(history["messages"].as_array().unwrap().len(), 1);
    let (_, groups) = stack.get(1, "/groups", &mallory.token).await;
    assert_eq!(groups, json!([]));
}

async fn rest_errors_use_the_expected_statuses_and_codes(backend: Backend) {
    let stack = spawn_stack(backend, 1).await;
    let alice = stack.user(0, "alice").await;

    let (status, body) = stack
        .raw(0, reqwest::Method::POST, "/users", "{\"username\": ")
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (400, Some("invalid_json"))
    );
    let (status, body) = stack
        .raw(
            0,
            reqwest::Method::POST,
            "/users",
            "{\"username\": 5, \"password\": \"x\"}",
        )
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (422, Some("validation_failed"))
    );
    let (status, body) = stack
        .post(
            0,
            "/users",
            None,
            json!({"username": "ALICE", "email": "other@example.com", "password": "0000"}),
        )
        .await;
    assert_eq!(
        status, 409,
        "usernames are unique whatever their case: {body}"
    );
    assert!(body["error"]["message"].as_str().is_some());

    let (status, body) = stack
        .post(
            0,
            "/login",
            None,
            json!({"username": "alice", "password": "wrong"}),
        )
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (401, Some("wrong_credentials"))
    );
    let (status, body) = stack
        .post(
            0,
            "/login",
            None,
            json!({"username": "nobody", "password": "0000"}),
        )
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (404, Some("user_not_found"))
    );

    let (status, body) = stack.post(0, "/groups", None, json!({"name": "g"})).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (401, Some("unauthorized"))
    );
    let (status, _) = stack
        .post(0, "/groups", Some("not-a-token"), json!({"name": "g"}))
        .await;
    assert_eq!(status, 401);
    let (status, body) = stack
        .post(
            0,
            "/groups",
            Some(&alice.token),
            json!({"name": "g", "user_ids": [uuid::Uuid::new_v4()]}),
        )
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (422, Some("unknown_users"))
    );
    let (status, body) = stack
        .post(
            0,
            "/groups",
            Some(&alice.token),
            json!({"name": "g", "user_ids": ["not-a-uuid"]}),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    let (status, body) = stack
        .post(0, "/groups", Some(&alice.token), json!({"name": ""}))
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (422, Some("validation_failed"))
    );

    let unknown = uuid::Uuid::new_v4();
    let (status, body) = stack
        .get(0, &format!("/groups/{unknown}"), &alice.token)
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (404, Some("conversation_not_found"))
    );
    let (status, _) = stack.get(0, "/groups/not-a-uuid", &alice.token).await;
    assert_eq!(status, 404);
    let (status, _) = stack
        .put(
            0,
            &format!("/groups/{unknown}/join"),
            &alice.token,
            json!({}),
        )
        .await;
    assert_eq!(status, 404);
    let (status, body) = stack
        .get(
            0,
            &format!("/groups/{unknown}/messages?limit=abc"),
            &alice.token,
        )
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (400, Some("invalid_query"))
    );
    let (_, groups) = stack.get(0, "/groups", &alice.token).await;
    assert_eq!(groups, json!([]), "no failed request left a group behind");
}
