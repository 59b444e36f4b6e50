//! grpc.health.v1: the server and the chat service report SERVING; shutdown stops the server.

use std::time::Duration;

use tonic_health::ServingStatus;
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_client::HealthClient;

use crate::helpers::spawn_stoppable_chat;

#[tokio::test]
async fn the_server_and_the_chat_service_report_serving_until_stopped() {
    let chat = spawn_stoppable_chat().await;
    let mut health = HealthClient::new(chat.channel.clone());

    for service in ["", "chat.v1.Chat"] {
        let status = health
            .check(HealthCheckRequest {
                service: service.into(),
            })
            .await
            .expect("health check")
            .into_inner()
            .status;
        assert_eq!(status, ServingStatus::Serving as i32, "service {service:?}");
    }
    let unknown = health
        .check(HealthCheckRequest {
            service: "chat.v1.Nothing".into(),
        })
        .await
        .expect_err("an unknown service");
    assert_eq!(unknown.code(), tonic::Code::NotFound);

    chat.stop.send(()).expect("the server is running");
    let stopped = tokio::time::timeout(Duration::from_secs(10), chat.server)
        .await
        .expect("the server stops soon after its shutdown future resolves")
        .expect("the server task");
    stopped.expect("a clean stop");
}
