//! A client that reconnects gets what it missed, in order: exactly, from the position of the
//! last event it saw (method 20 with `position`), or from a time (method 20 with `timestamp`),
//! which may repeat events logged at that very time but misses nothing.

use serde_json::json;

use crate::helpers::{Backend, Socket, spawn_stack};

backend_tests!(
    reconnecting_client_catches_up_on_what_it_missed,
    resuming_in_the_url_gets_what_was_missed_before_anything_live,
    a_resume_position_that_is_not_one_is_refused_before_the_upgrade,
    catching_up_by_time_misses_nothing,
    a_sender_catches_up_on_receipts_given_while_away
);

async fn reconnecting_client_catches_up_on_what_it_missed(backend: Backend) {
    let stack = spawn_stack(backend, 2).await;
    let alice = stack.user(0, "alice").await;
    let bob = stack.user(1, "bob").await;
    let group = stack.group(0, &alice, "catch-up", &[&bob]).await;

    let mut bob_socket = Socket::connect(&bob.messaging_url).await;
    let mut alice_socket = Socket::connect(&alice.messaging_url).await;
    alice_socket.expect_silence().await;
    alice_socket
        .send(json!({"method": 40, "body": {"group_id": group, "data": "before"}}))
        .await;
    alice_socket.expect(21).await;
    let seen = bob_socket.expect(20).await;
    let last_seen = seen["position"]
        .as_i64()
        .expect("a logged event has a position");
    drop(bob_socket);

    // While Bob is away: three messages and a new member.
    let carol = stack.user(0, "carol").await;
    let mut sent = Vec::new();
    for text in ["one", "two", "three"] {
        alice_socket
            .send(json!({"method": 40, "body": {"group_id": group, "data": text}}))
            .await;
        sent.push(alice_socket.expect(21).await["body"]["message_id"].clone());
    }
    let (status, _) = stack
        .put(
            0,
            &format!("/groups/{group}/join"),
            &alice.token,
            json!({"user_id": carol.id}),
        )
        .await;
    assert_eq!(status, 200);

    // Bob reconnects through the other replica and asks for everything after the last event.
    let mut bob_socket = Socket::connect(&bob.messaging_url).await;
    bob_socket
        .send(json!({"method": 20, "position": last_seen}))
        .await;
    for (expected, text) in sent.iter().zip(["one", "two", "three"]) {
        let event = bob_socket.expect(20).await;
        assert_eq!(&event["body"]["message_id"], expected);
        assert_eq!(event["body"]["data"], text);
        assert_eq!(event["body"]["group_id"], group.as_str());
    }
    let joined = bob_socket.expect(72).await;
    assert_eq!(
        joined["body"],
        json!({"group_id": group, "user_id": carol.id})
    );
    bob_socket.expect_silence().await;

    // From the beginning: the group's creation first, then every message in order.
    bob_socket.send(json!({"method": 20, "timestamp": 0})).await;
    let created = bob_socket.expect(70).await;
    assert_eq!(created["body"]["group_id"], group.as_str());
    assert_eq!(created["body"]["name"], "catch-up");
    let seqs: Vec<i64> = [
        bob_socket.expect(20).await,
        bob_socket.expect(20).await,
        bob_socket.expect(20).await,
        bob_socket.expect(20).await,
    ]
    .iter()
    .map(|e| e["body"]["seq"].as_i64().unwrap())
    .collect();
    assert_eq!(seqs, vec![1, 2, 3, 4]);
    bob_socket.expect(72).await;
    bob_socket.expect_silence().await;
}

/// `messaging_url?position=N`: the missed events first, in log order, then the live ones —
/// never a live event ahead of a missed one, however busy the relay.
async fn resuming_in_the_url_gets_what_was_missed_before_anything_live(backend: Backend) {
    let stack = spawn_stack(backend, 2).await;
    let alice = stack.user(0, "alice").await;
    let bob = stack.user(1, "bob").await;
    let group = stack.group(0, &alice, "resume", &[&bob]).await;
    let mut alice_socket = Socket::connect(&alice.messaging_url).await;
    let mut bob_socket = Socket::connect(&bob.messaging_url).await;
    alice_socket
        .send(json!({"method": 40, "body": {"group_id": group, "data": "seen"}}))
        .await;
    alice_socket.expect(21).await;
    let last_seen = bob_socket.expect(20).await["position"].as_i64().unwrap();
    drop(bob_socket);

    let texts: Vec<String> = (0..30).map(|n| format!("m{n}")).collect();
    for text in &texts[..20] {
        alice_socket
            .send(json!({"method": 40, "body": {"group_id": group, "data": text}}))
            .await;
    }
    // Bob comes back while Alice goes on writing: some of these are live, some missed.
    let url = format!("{}?position={last_seen}", bob.messaging_url);
    let (mut bob_socket, ()) = tokio::join!(Socket::connect_unready(&url), async {
        for text in &texts[20..] {
            alice_socket
                .send(json!({"method": 40, "body": {"group_id": group, "data": text}}))
                .await;
        }
    });
    let mut positions = vec![last_seen];
    for text in &texts {
        let event = bob_socket.expect(20).await;
        assert_eq!(event["body"]["data"], text.as_str(), "{event}");
        positions.push(event["position"].as_i64().unwrap());
    }
    assert!(positions.is_sorted(), "{positions:?}");
    bob_socket.expect_silence().await;
    for _ in &texts {
        alice_socket.expect(21).await;
    }
}

async fn a_resume_position_that_is_not_one_is_refused_before_the_upgrade(backend: Backend) {
    let stack = spawn_stack(backend, 1).await;
    let bob = stack.user(0, "bob").await;
    let url = format!("{}?position=-1", bob.messaging_url);
    let (status, body) = crate::echat_client::refused_handshake(url).await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["error"]["code"], "validation_failed", "{body}");
    let url = format!("{}?position=latest", bob.messaging_url);
    let (status, body) = crate::echat_client::refused_handshake(url).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"]["code"], "invalid_query", "{body}");
    // An unknown messaging URL is that first, whatever its query.
    let base = bob.messaging_url.rsplit_once('/').unwrap().0;
    let url = format!("{base}/{}?position=-1", uuid::Uuid::new_v4());
    let (status, body) = crate::echat_client::refused_handshake(url).await;
    assert_eq!(status, 401, "{body}");
    // Still a working URL without it.
    Socket::connect(&bob.messaging_url)
        .await
        .expect_silence()
        .await;
}

async fn catching_up_by_time_misses_nothing(backend: Backend) {
    let stack = spawn_stack(backend, 1).await;
    let alice = stack.user(0, "alice").await;
    let bob = stack.user(0, "bob").await;
    let group = stack.group(0, &alice, "by time", &[&bob]).await;
    let mut alice_socket = Socket::connect(&alice.messaging_url).await;
    let mut sent = Vec::new();
    for text in ["one", "two", "three"] {
        alice_socket
            .send(json!({"method": 40, "body": {"group_id": group, "data": text}}))
            .await;
        sent.push(alice_socket.expect(21).await);
    }
    // From the time of the second message's acknowledgement: the second and third, at least.
    let since = sent[1]["timestamp"].as_i64().unwrap();
    let mut bob_socket = Socket::connect(&bob.messaging_url).await;
    bob_socket
        .send(json!({"method": 20, "timestamp": since}))
        .await;
    let mut got = Vec::new();
    while let Some(event) = bob_socket
        .next_within(std::time::Duration::from_millis(500))
        .await
    {
        assert_eq!(event["type"], 20, "only messages happened: {event}");
        got.push(event["body"]["message_id"].clone());
    }
    let wanted = [&sent[1], &sent[2]].map(|ack| ack["body"]["message_id"].clone());
    assert!(
        got.ends_with(&wanted),
        "got {got:?}, wanted at least {wanted:?}"
    );
}

async fn a_sender_catches_up_on_receipts_given_while_away(backend: Backend) {
    let stack = spawn_stack(backend, 1).await;
    let alice = stack.user(0, "alice").await;
    let bob = stack.user(0, "bob").await;
    let group = stack.group(0, &alice, "receipts", &[&bob]).await;
    let start = chrono::Utc::now().timestamp_millis();
    let mut alice_socket = Socket::connect(&alice.messaging_url).await;
    alice_socket
        .send(json!({"method": 40, "body": {"group_id": group, "data": "read me"}}))
        .await;
    let message_id = alice_socket.expect(21).await["body"]["message_id"].clone();
    drop(alice_socket);

    let mut bob_socket = Socket::connect(&bob.messaging_url).await;
    bob_socket
        .send(json!({"method": 42, "body": {"message_id": message_id}}))
        .await;
    bob_socket.expect_silence().await;

    let mut alice_socket = Socket::connect(&alice.messaging_url).await;
    alice_socket
        .send(json!({"method": 20, "timestamp": start}))
        .await;
    // The message by catch-up; the receipt by catch-up, or live when it was logged after this
    // socket opened (a busy relay): each exactly once. Reading implies delivery: one 23. A
    // resume by time may repeat what was logged around that time (docs/native-protocol.md):
    // the group's creation, positioned by a busy relay after `start`, may come too.
    let mut events = Vec::new();
    while let Some(event) = alice_socket
        .next_within(std::time::Duration::from_millis(1000))
        .await
    {
        events.push(event);
    }
    events.retain(|e| e["type"] != 70);
    events.sort_by_key(|e| e["type"].as_u64());
    assert_eq!(events.len(), 2, "{events:?}");
    assert_eq!(events[0]["type"], 20, "{events:?}");
    assert_eq!(events[0]["body"]["message_id"], message_id);
    let read = &events[1];
    assert_eq!(read["type"], 23, "{events:?}");
    assert_eq!(read["body"]["message_id"], message_id);
    assert_eq!(read["body"]["user_id"], bob.id.as_str());
}
