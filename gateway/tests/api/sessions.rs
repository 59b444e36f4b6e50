//! Logging a device out ends its session everywhere: its sockets on every replica close and its
//! messaging URL stops working.

use crate::helpers::{Backend, Socket, spawn_stack};

backend_tests!(revoking_a_session_closes_its_sockets_on_every_replica);

async fn revoking_a_session_closes_its_sockets_on_every_replica(backend: Backend) {
    let stack = spawn_stack(backend, 2).await;
    let alice = stack.user(0, "alice").await;
    let other_replica = alice.messaging_url.replace(
        &stack.gateways[0].replace("http://", "ws://"),
        &stack.gateways[1].replace("http://", "ws://"),
    );
    let mut here = Socket::connect(&alice.messaging_url).await;
    let mut there = Socket::connect(&other_replica).await;

    let response = stack
        .http
        .delete(format!(
            "{}/sessions/{}",
            stack.gateways[0], alice.session_id
        ))
        .header("authorization", format!("Bearer {}", alice.token))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 204);
    assert_eq!(u16::from(here.expect_close().await), 1008);
    assert_eq!(u16::from(there.expect_close().await), 1008);
    assert!(
        tokio_tungstenite::connect_async(&alice.messaging_url)
            .await
            .is_err()
    );

    // Someone else's session cannot be revoked.
    let bob = stack.user(1, "bob").await;
    let response = stack
        .http
        .delete(format!("{}/sessions/{}", stack.gateways[1], bob.session_id))
        .header("authorization", format!("Bearer {}", alice.token))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 404);
}
