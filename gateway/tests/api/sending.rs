//! Sending: retries with a client message id store one message and get the same
//! acknowledgement; concurrent senders on two replicas leave no gap in `seq`.

use serde_json::json;

use crate::helpers::{Backend, Socket, spawn_stack};

backend_tests!(
    a_retried_send_stores_one_message_and_gets_the_same_ack,
    concurrent_senders_on_two_replicas_get_contiguous_seqs
);

async fn a_retried_send_stores_one_message_and_gets_the_same_ack(backend: Backend) {
    let stack = spawn_stack(backend, 2).await;
    let alice = stack.user(0, "alice").await;
    let bob = stack.user(1, "bob").await;
    let group = stack.group(0, &alice, "retries", &[&bob]).await;
    let mut alice_socket = Socket::connect(&alice.messaging_url).await;
    let mut bob_socket = Socket::connect(&bob.messaging_url).await;

    let send = json!({"method": 40, "body": {"group_id": group, "data": "once", "client_message_id": "c-1"}});
    alice_socket.send(send.clone()).await;
    let first = alice_socket.next_text().await;
    alice_socket.send(send.clone()).await;
    let second = alice_socket.next_text().await;
    // A retry from another device of the same user, through the other replica.
    let mut alice_phone = Socket::connect(&alice.messaging_url.replace(
        &stack.gateways[0].replace("http://", "ws://"),
        &stack.gateways[1].replace("http://", "ws://"),
    ))
    .await;
    alice_phone.send(send).await;
    let third = alice_phone.next_text().await;
    assert_eq!(first, second);
    assert_eq!(first, third);
    let ack: serde_json::Value = serde_json::from_str(&first).unwrap();
    assert_eq!(ack["type"], 21);
    assert_eq!(ack["body"]["client_message_id"], "c-1");

    assert_eq!(bob_socket.expect(20).await["body"]["data"], "once");
    bob_socket.expect_silence().await;
    let (_, history) = stack
        .get(1, &format!("/groups/{group}/messages"), &bob.token)
        .await;
    assert_eq!(history["messages"].as_array().unwrap().len(), 1);
}

async fn concurrent_senders_on_two_replicas_get_contiguous_seqs(backend: Backend) {
    const PER_SOCKET: usize = 25;
    let stack = spawn_stack(backend, 2).await;
    let alice = stack.user(0, "alice").await;
    let bob = stack.user(1, "bob").await;
    let group = stack.group(0, &alice, "busy", &[&bob]).await;
    let swap = |url: &str| {
        url.replace(
            &stack.gateways[0].replace("http://", "ws://"),
            &stack.gateways[1].replace("http://", "ws://"),
        )
    };
    let urls = [
        alice.messaging_url.clone(),
        swap(&alice.messaging_url),
        bob.messaging_url.clone(),
        bob.messaging_url.replace(
            &stack.gateways[1].replace("http://", "ws://"),
            &stack.gateways[0].replace("http://", "ws://"),
        ),
    ];
    let mut senders = Vec::new();
    for (index, url) in urls.into_iter().enumerate() {
        let group = group.clone();
        senders.push(tokio::spawn(async move {
            let mut socket = Socket::connect(&url).await;
            for n in 0..PER_SOCKET {
                socket
                    .send(json!({"method": 40, "body": {"group_id": group, "data": format!("{index}-{n}"), "client_message_id": format!("{index}-{n}")}}))
                    .await;
            }
            let mut seqs = Vec::new();
            while seqs.len() < PER_SOCKET {
                let event = socket.next().await;
                if event["type"] == 21 {
                    seqs.push(event["body"]["seq"].as_i64().unwrap());
                }
            }
            seqs
        }));
    }
    let mut all = Vec::new();
    for sender in senders {
        let seqs = sender.await.unwrap();
        assert!(
            seqs.windows(2).all(|w| w[0] < w[1]),
            "one socket's acks in order: {seqs:?}"
        );
        all.extend(seqs);
    }
    all.sort_unstable();
    assert_eq!(all, (1..=(4 * PER_SOCKET) as i64).collect::<Vec<_>>());

    // History agrees: every seq once, ascending.
    let (_, page) = stack
        .get(
            0,
            &format!("/groups/{group}/messages?after_seq=0&limit=100"),
            &alice.token,
        )
        .await;
    let seqs: Vec<i64> = page["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["seq"].as_i64().unwrap())
        .collect();
    assert_eq!(seqs, (1..=(4 * PER_SOCKET) as i64).collect::<Vec<_>>());
}
