//! What operators see: Prometheus metrics, request ids, and readiness that follows the
//! services and the bus.

use std::sync::Arc;

use gateway::{GatewayOptions, MemoryBus, Services};
use serde_json::json;

use crate::helpers::{Backend, Socket, spawn_stack};

backend_tests!(metrics_and_request_ids_follow_the_traffic);

async fn metrics_and_request_ids_follow_the_traffic(backend: Backend) {
    let stack = spawn_stack(backend, 2).await;
    let alice = stack.user(0, "alice").await;
    let bob = stack.user(1, "bob").await;
    let group = stack.group(0, &alice, "observed", &[&bob]).await;
    let mut alice_socket = Socket::connect(&alice.messaging_url).await;
    let mut bob_socket = Socket::connect(&bob.messaging_url).await;
    alice_socket
        .send(json!({"method": 40, "body": {"group_id": group, "data": "count me"}}))
        .await;
    alice_socket.expect(21).await;
    bob_socket.expect(20).await;
    // Typing is relayed by the gateways themselves, across Redis to bob's replica.
    alice_socket
        .send(json!({"method": 60, "body": {"group_id": group}}))
        .await;
    bob_socket.expect(40).await;
    alice_socket.send_text("{oops").await;
    alice_socket.expect(99).await;

    let metrics = stack
        .http
        .get(format!("{}/metrics", stack.gateways[0]))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for name in [
        "gateway_connections_open",
        "gateway_events_delivered_total",
        "http_request_duration_seconds_bucket",
        "grpc_server_request_duration_seconds_bucket",
        "chat_messages_accepted_total",
        "gateway_socket_errors_total{code=\"invalid_json\"}",
    ] {
        assert!(
            metrics.contains(name),
            "{name} missing from /metrics:\n{metrics}"
        );
    }
    if let Backend::PostgresRedis = backend {
        assert!(metrics.contains("gateway_pubsub_published_total"));
        assert!(metrics.contains("gateway_pubsub_received_total"));
    }

    // A client's request id comes back; without one, the gateway makes one up.
    let response = stack
        .http
        .get(format!("{}/groups", stack.gateways[0]))
        .header("authorization", format!("bearer {}", alice.token))
        .header("x-request-id", "trace-me-42")
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["x-request-id"], "trace-me-42");
    let response = stack
        .http
        .get(format!("{}/healthz", stack.gateways[1]))
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["x-request-id"].len(), 32);

    let response = stack
        .http
        .get(format!("{}/readyz", stack.gateways[1]))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
}

#[tokio::test]
async fn readiness_fails_while_the_services_are_unreachable() {
    // Nothing listens on these ports: reserve them, then let them go.
    let mut urls = Vec::new();
    for _ in 0..3 {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        urls.push(format!("http://{}", listener.local_addr().unwrap()));
    }
    let services = Services::connect_lazy(&urls[0], &urls[1], &urls[2]).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let options = GatewayOptions {
        node_id: "lonely".into(),
        websocket_base: format!("ws://{address}"),
        allowed_origins: Vec::new(),
        public_base: format!("http://{address}"),
        mailer: gateway::mail::Mailer::files(std::env::temp_dir().join("gateway-test-mail")),
        bot: gateway::bot::BotChoice::BuiltIn,
        connections: Default::default(),
    };
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(gateway::serve(
        listener,
        services,
        Arc::new(MemoryBus::new()),
        options,
        async {
            let _ = stopped.await;
        },
    ));
    let response = reqwest::get(format!("http://{address}/readyz"))
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 503);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["status"], "unavailable");
    assert_eq!(body["failing"].as_array().unwrap().len(), 3, "{body}");
    let response = reqwest::get(format!("http://{address}/healthz"))
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200, "alive all the same");
    drop(stop);
}
