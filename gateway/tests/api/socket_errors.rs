//! Bad frames get an error event and the socket stays open; an oversized frame closes it with
//! 1009; an unknown messaging URL is refused before the upgrade.

use serde_json::json;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

use crate::helpers::{Backend, Socket, spawn_stack};

backend_tests!(
    malformed_frames_get_error_events_and_the_socket_stays_open,
    an_oversized_frame_closes_the_socket_with_1009,
    an_unknown_messaging_url_is_refused_before_the_upgrade
);

async fn malformed_frames_get_error_events_and_the_socket_stays_open(backend: Backend) {
    let stack = spawn_stack(backend, 1).await;
    let alice = stack.user(0, "alice").await;
    let group = stack.group(0, &alice, "errors", &[]).await;
    let mut socket = Socket::connect(&alice.messaging_url).await;

    socket.send_text("{not json").await;
    assert_eq!(socket.expect(99).await["body"]["code"], "invalid_json");
    socket.send_text("[1, 2]").await;
    assert_eq!(socket.expect(99).await["body"]["code"], "invalid_request");
    socket.send(json!({"method": "forty"})).await;
    assert_eq!(socket.expect(99).await["body"]["code"], "invalid_request");
    socket.send(json!({"method": 77})).await;
    let error = socket.expect(99).await;
    assert_eq!(error["body"]["code"], "unknown_method");
    assert_eq!(error["body"]["method"], 77);
    socket
        .send(json!({"method": 40, "body": {"group_id": group}}))
        .await;
    assert_eq!(socket.expect(99).await["body"]["code"], "validation_failed");
    socket
        .send(json!({"method": 40, "body": {"group_id": "nope", "data": "x"}}))
        .await;
    assert_eq!(
        socket.expect(99).await["body"]["code"],
        "conversation_not_found"
    );
    socket
        .send(json!({"method": 41, "body": {"message_id": uuid::Uuid::new_v4()}}))
        .await;
    assert_eq!(socket.expect(99).await["body"]["code"], "message_not_found");
    socket
        .send(json!({"method": 20, "timestamp": "yesterday"}))
        .await;
    assert_eq!(socket.expect(99).await["body"]["code"], "validation_failed");

    // Still open and working.
    socket
        .send(json!({"method": 40, "body": {"group_id": group, "data": "still here"}}))
        .await;
    assert_eq!(socket.expect(21).await["body"]["seq"], 1);
}

async fn an_oversized_frame_closes_the_socket_with_1009(backend: Backend) {
    let stack = spawn_stack(backend, 1).await;
    let alice = stack.user(0, "alice").await;
    let group = stack.group(0, &alice, "big", &[]).await;
    let mut socket = Socket::connect(&alice.messaging_url).await;
    let big = "x".repeat(65 * 1024);
    socket
        .send(json!({"method": 40, "body": {"group_id": group, "data": big}}))
        .await;
    assert_eq!(socket.expect_close().await, CloseCode::Size);
    let (_, history) = stack
        .get(0, &format!("/groups/{group}/messages"), &alice.token)
        .await;
    assert_eq!(history["messages"], json!([]), "nothing was stored");
}

async fn an_unknown_messaging_url_is_refused_before_the_upgrade(backend: Backend) {
    let stack = spawn_stack(backend, 1).await;
    let url = format!(
        "{}/{}",
        stack.gateways[0].replace("http://", "ws://"),
        uuid::Uuid::new_v4()
    );
    let error = tokio_tungstenite::connect_async(url)
        .await
        .expect_err("refused");
    match error {
        tokio_tungstenite::tungstenite::Error::Http(response) => {
            assert_eq!(response.status().as_u16(), 401)
        }
        other => panic!("expected an HTTP refusal, got {other}"),
    }
}
