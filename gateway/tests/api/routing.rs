//! Cross-replica routing: an event is published only to the replicas where its recipients are
//! connected, over one channel per replica — never to every replica.

use futures_util::StreamExt;
use serde_json::json;

use crate::helpers::{Backend, Socket, redis_url, spawn_stack};

#[tokio::test]
async fn events_reach_only_the_replicas_of_their_recipients() {
    let stack = spawn_stack(Backend::PostgresRedis, 3).await;
    let alice = stack.user(0, "alice").await;
    let bob = stack.user(1, "bob").await;
    let group = stack.group(0, &alice, "routed", &[&bob]).await;

    // Listen on the channel of replica 2, where nobody of the group is connected, and on
    // replica 1's, where Bob is.
    let client = redis::Client::open(redis_url()).unwrap();
    let mut idle = client.get_async_pubsub().await.unwrap();
    idle.subscribe(format!("{}node:gateway-2", stack.redis_prefix))
        .await
        .unwrap();
    let mut busy = client.get_async_pubsub().await.unwrap();
    busy.subscribe(format!("{}node:gateway-1", stack.redis_prefix))
        .await
        .unwrap();

    let mut alice_socket = Socket::connect(&alice.messaging_url).await;
    let mut bob_socket = Socket::connect(&bob.messaging_url).await;
    alice_socket
        .send(json!({"method": 40, "body": {"group_id": group, "data": "only where needed"}}))
        .await;
    alice_socket.expect(21).await;
    assert_eq!(
        bob_socket.expect(20).await["body"]["data"],
        "only where needed"
    );

    let mut busy_messages = busy.on_message();
    let delivered = tokio::time::timeout(std::time::Duration::from_secs(5), busy_messages.next())
        .await
        .expect("Bob's replica got the event over Redis");
    assert!(delivered.is_some());
    let mut idle_messages = idle.on_message();
    let nothing =
        tokio::time::timeout(std::time::Duration::from_millis(500), idle_messages.next()).await;
    assert!(
        nothing.is_err(),
        "a replica without recipients got an event"
    );
}
