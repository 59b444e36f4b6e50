//! Seed 000's whole walkthrough: two users on two gateway replicas, every response and event
//! the document shows, in order.

use serde_json::json;

use crate::helpers::{Backend, Socket, spawn_stack};

backend_tests!(seed_walkthrough_across_two_replicas);

async fn seed_walkthrough_across_two_replicas(backend: Backend) {
    let stack = spawn_stack(backend, 2).await;

    // Registration and login answer with the document's fields.
    let (status, created) = stack
        .post(
            0,
            "/users",
            None,
            json!({"username": "user1", "email": "user1@gmail.com", "password": "0000"}),
        )
        .await;
    assert_eq!(status, 200);
    let user1 = created["id"].as_str().unwrap().to_owned();
    assert!(
        uuid::Uuid::parse_str(&user1).is_ok(),
        "id is a UUID: {created}"
    );
    let (status, created) = stack
        .post(
            1,
            "/users",
            None,
            json!({"username": "user2", "email": "user2@gmail.com", "password": "0000"}),
        )
        .await;
    assert_eq!(status, 200);
    let user2 = created["id"].as_str().unwrap().to_owned();

    let (status, login) = stack
        .post(
            0,
            "/login",
            None,
            json!({"username": "user1", "email": "user1@gmail.com", "password": "0000"}),
        )
        .await;
    assert_eq!(status, 200);
    let token1 = login["token"].as_str().unwrap().to_owned();
    assert_eq!(token1.split('.').count(), 3, "a JWT: {login}");
    let (_, login) = stack
        .post(
            1,
            "/login",
            None,
            json!({"username": "user2", "password": "0000"}),
        )
        .await;
    let token2 = login["token"].as_str().unwrap().to_owned();

    // Sessions: created_at in milliseconds, an id, and a messaging_url on the gateway.
    let device = json!({"device_id": "0000", "platform": "web", "model": "chrome", "build": 1, "name": "ievgen-pc"});
    let (status, session1) = stack
        .post(0, "/sessions", Some(&token1), device.clone())
        .await;
    assert_eq!(status, 200);
    assert!(session1["created_at"].as_i64().unwrap() > 1_500_000_000_000);
    assert!(uuid::Uuid::parse_str(session1["id"].as_str().unwrap()).is_ok());
    let url1 = session1["messaging_url"].as_str().unwrap();
    let ws_base = stack.gateways[0].replace("http://", "ws://");
    assert!(url1.starts_with(&format!("{ws_base}/")), "{url1}");
    let connection_id = url1.rsplit('/').next().unwrap();
    assert!(uuid::Uuid::parse_str(connection_id).is_ok());
    assert_ne!(connection_id, session1["id"].as_str().unwrap());
    let (_, session2) = stack.post(1, "/sessions", Some(&token2), device).await;
    let url2 = session2["messaging_url"].as_str().unwrap();

    // Each user connects to their own replica and asks for everything since now: nothing yet.
    let mut socket1 = Socket::connect(url1).await;
    let mut socket2 = Socket::connect(url2).await;
    let now = chrono::Utc::now().timestamp_millis();
    socket1.send(json!({"method": 20, "timestamp": now})).await;
    socket2.send(json!({"method": 20, "timestamp": now})).await;
    socket1.expect_silence().await;
    socket2.expect_silence().await;

    // User 1 creates a group with user 2; both receive event 70.
    let (status, group) = stack
        .post(
            0,
            "/groups",
            Some(&token1),
            json!({"name": "group_1", "user_ids": [user2]}),
        )
        .await;
    assert_eq!(status, 200, "{group}");
    let group_id = group["id"].as_str().unwrap().to_owned();
    for socket in [&mut socket1, &mut socket2] {
        let event = socket.expect(70).await;
        assert_eq!(event["body"]["group_id"], group_id.as_str());
        assert_eq!(event["body"]["name"], "group_1");
        assert_eq!(event["body"]["user_ids"], json!([user2, user1]));
    }

    // User 1 sends; user 1 gets 21, user 2 (on the other replica) gets 20.
    socket1
        .send(json!({"method": 40, "body": {"group_id": group_id, "data": "Hello, how are you?"}}))
        .await;
    let sent = socket1.expect(21).await;
    let message_id = sent["body"]["message_id"].as_str().unwrap().to_owned();
    assert!(uuid::Uuid::parse_str(&message_id).is_ok());
    let received = socket2.expect(20).await;
    assert_eq!(received["body"]["message_id"], message_id.as_str());
    assert_eq!(received["body"]["data"], "Hello, how are you?");
    assert_eq!(received["timestamp"], sent["timestamp"]);

    // User 2 confirms delivery, then reading: user 1 gets 22, then 23.
    socket2
        .send(json!({"method": 41, "body": {"message_id": message_id}}))
        .await;
    let delivered = socket1.expect(22).await;
    assert_eq!(delivered["body"]["message_id"], message_id.as_str());
    socket2
        .send(json!({"method": 42, "body": {"message_id": message_id}}))
        .await;
    let read = socket1.expect(23).await;
    assert_eq!(read["body"]["message_id"], message_id.as_str());

    // User 2 types: user 1 gets 40 then 41 naming the group and user 2.
    socket2
        .send(json!({"method": 60, "body": {"group_id": group_id}}))
        .await;
    let typing = socket1.expect(40).await;
    assert_eq!(
        typing["body"],
        json!({"group_id": group_id, "user_id": user2})
    );
    socket2
        .send(json!({"method": 61, "body": {"group_id": group_id}}))
        .await;
    let typing = socket1.expect(41).await;
    assert_eq!(
        typing["body"],
        json!({"group_id": group_id, "user_id": user2})
    );

    // User 1 leaves: user 2 gets 73. User 1 joins again: user 2 gets 72.
    let (status, _) = stack
        .put(
            0,
            &format!("/groups/{group_id}/left"),
            &token1,
            json!({"user_id": user1}),
        )
        .await;
    assert_eq!(status, 200);
    let left = socket2.expect(73).await;
    assert_eq!(
        left["body"],
        json!({"group_id": group_id, "user_id": user1})
    );
    let (status, _) = stack
        .put(
            0,
            &format!("/groups/{group_id}/join"),
            &token1,
            json!({"user_id": user1}),
        )
        .await;
    assert_eq!(status, 200);
    let joined = socket2.expect(72).await;
    assert_eq!(
        joined["body"],
        json!({"group_id": group_id, "user_id": user1})
    );

    // User 1 saw its own leave and join, and nothing else arrived anywhere.
    assert_eq!(socket1.expect(73).await["body"]["user_id"], user1.as_str());
    assert_eq!(socket1.expect(72).await["body"]["user_id"], user1.as_str());
    socket1.expect_silence().await;
    socket2.expect_silence().await;

    // The reads a client needs show the same state.
    let (status, groups) = stack.get(1, "/groups", &token2).await;
    assert_eq!(status, 200);
    assert_eq!(groups[0]["id"], group_id.as_str());
    let (status, history) = stack
        .get(1, &format!("/groups/{group_id}/messages"), &token2)
        .await;
    assert_eq!(status, 200);
    assert_eq!(history["messages"][0]["message_id"], message_id.as_str());
    assert_eq!(history["messages"][0]["data"], "Hello, how are you?");
    let (_, group) = stack.get(0, &format!("/groups/{group_id}"), &token1).await;
    let member2 = group["members"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["user_id"] == user2.as_str())
        .unwrap();
    assert_eq!(member2["last_read_seq"], 1);
    assert_eq!(member2["last_delivered_seq"], 1);
}
