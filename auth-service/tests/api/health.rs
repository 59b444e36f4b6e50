//! The standard gRPC health service, and shutdown.

use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;

use crate::helpers::{Backend, spawn_auth};

crate::helpers::backend_tests!(
    health_reports_serving_for_the_server_and_the_auth_service,
    the_server_returns_when_shutdown_fires,
);

async fn health_reports_serving_for_the_server_and_the_auth_service(backend: Backend) {
    let auth = spawn_auth(backend).await;
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

async fn the_server_returns_when_shutdown_fires(backend: Backend) {
    let auth = spawn_auth(backend).await;
    auth.stop().await.expect("a clean shutdown");
}
