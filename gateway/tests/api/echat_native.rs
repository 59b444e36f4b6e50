//! One conversation, two dialects: a message sent on a /v1 room socket reaches a member on the
//! native WebSocket as event 20, a native send reaches the room socket, each room socket sees
//! only its room's messages, and /v1 logout closes that session's sockets on every replica.

use serde_json::json;

use crate::echat_client::{V1, room_socket};
use crate::helpers::{Backend, Socket, spawn_stack};

backend_tests!(a_room_is_one_conversation_for_both_dialects);

async fn a_room_is_one_conversation_for_both_dialects(backend: Backend) {
    let stack = spawn_stack(backend, 2).await;
    let (here, there) = (V1::new(&stack, 0), V1::new(&stack, 1));
    // Alice is a native user on replica 0; Bob speaks /v1 on replica 1.
    let alice = stack.user(0, "alice").await;
    let alice_v1 = here.login("alice", "0000").await;
    let alice_number = here.info(&alice_v1).await["id"].as_i64().expect("id");
    let bob = there.register("bob").await;
    let bob_number = there.info(&bob).await["id"].as_i64().expect("id");
    let mut native = Socket::connect(&alice.messaging_url).await;

    // Bob's room is a group of the shared model: Alice's native socket hears of it (70).
    let new_room = json!({"users": [{"id": alice_number, "login": "alice"}]}).to_string();
    let (status, room) = there.post("/v1/rooms", Some(&bob), &new_room).await;
    assert_eq!(status, 200, "{room}");
    let room_id = room["id"].as_i64().expect("id");
    let created = native.expect(70).await;
    let group_id = created["body"]["group_id"]
        .as_str()
        .expect("group id")
        .to_owned();
    let bob_uuid = created["body"]["owner_id"]
        .as_str()
        .expect("owner")
        .to_owned();
    assert_eq!(created["body"]["name"], "bob, alice");
    assert_eq!(created["body"]["user_ids"], json!([alice.id, bob_uuid]));
    let (_, group) = stack
        .get(0, &format!("/groups/{group_id}"), &alice.token)
        .await;
    assert_eq!(group["number"], room_id);

    // Bob's socket on replica 1, a second one of his session on replica 0, and Alice's /v1
    // socket of the same room.
    let mut bob_there = room_socket(&there.room_url(room_id, &bob)).await;
    let mut bob_here = room_socket(&here.room_url(room_id, &bob)).await;
    let mut alice_room = room_socket(&here.room_url(room_id, &alice_v1)).await;

    // /v1 → native: event 20 with the group and Bob's id; every room socket gets the message.
    bob_there.send(json!({"text": "Привет"})).await;
    let received = native.expect(20).await;
    assert_eq!(received["body"]["group_id"], group_id.as_str());
    assert_eq!(received["body"]["data"], "Привет");
    assert_eq!(received["body"]["user_id"], bob_uuid.as_str());
    assert_eq!(received["body"]["seq"], 1);
    for socket in [&mut bob_there, &mut bob_here, &mut alice_room] {
        let message = socket.next().await;
        assert_eq!(message["text"], "Привет");
        assert_eq!(
            (message["user_id"].as_i64(), message["room_id"].as_i64()),
            (Some(bob_number), Some(room_id))
        );
    }

    // native → /v1: Alice's method 40 answers 21 and reaches every room socket.
    native
        .send(json!({"method": 40, "body": {"group_id": group_id, "data": "И тебе привет"}}))
        .await;
    let sent = native.expect(21).await;
    assert_eq!(sent["body"]["seq"], 2);
    for socket in [&mut bob_there, &mut bob_here, &mut alice_room] {
        let message = socket.next().await;
        assert_eq!(message["text"], "И тебе привет", "{message}");
        assert_eq!(
            (message["user_id"].as_i64(), message["room_id"].as_i64()),
            (Some(alice_number), Some(room_id))
        );
    }

    // Typing and other rooms' messages are not shown on a room socket.
    native
        .send(json!({"method": 60, "body": {"group_id": group_id}}))
        .await;
    let other = there.post("/v1/rooms", Some(&bob), &new_room).await.1["id"]
        .as_i64()
        .expect("id");
    assert_eq!(native.expect(70).await["body"]["name"], "bob, alice");
    let mut other_socket = room_socket(&there.room_url(other, &bob)).await;
    other_socket.send(json!({"text": "elsewhere"})).await;
    assert_eq!(other_socket.next().await["room_id"], other);
    assert_eq!(native.expect(20).await["body"]["data"], "elsewhere");
    for socket in [&mut bob_there, &mut bob_here, &mut alice_room] {
        socket.expect_silence().await;
    }

    // Bob's /v1 logout closes his sockets on both replicas; Alice's stay open.
    assert_eq!(
        there.post("/v1/logout", Some(&bob), "{}").await,
        (200, json!({}))
    );
    for socket in [&mut bob_there, &mut bob_here, &mut other_socket] {
        assert_eq!(u16::from(socket.expect_close().await), 1008);
    }
    native
        .send(json!({"method": 40, "body": {"group_id": group_id, "data": "ещё"}}))
        .await;
    native.expect(21).await;
    assert_eq!(alice_room.next().await["text"], "ещё");
}
