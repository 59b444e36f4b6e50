//! The standard gRPC health service, and shutdown.

use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;

use crate::helpers::spawn_auth;

#[tokio::test]
async fn health_reports_serving_for_the_server_and_the_auth_service() {
    let auth = spawn_auth().await;
    let mut health = HealthClient::new(auth.channel.clone());
    for service in ["", "auth.v1.Auth"] {
        let response = health
            .check(HealthCheckRequest {
                service: service.to_owned(),
            })
            .await
            .expect("health check answers")
            .into_inner();
        assert_eq!(response.status(), ServingStatus::Serving, "{service:?}");
    }
}

#[tokio::test]
async fn the_server_returns_when_shutdown_fires() {
    let auth = spawn_auth().await;
    auth.stop().await.expect("a clean shutdown");
}
