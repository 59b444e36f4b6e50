//! The `healthcheck` binary against real servers: gRPC health and an HTTP endpoint.

use std::process::Output;

use axum::Router;
use axum::http::StatusCode;
use axum::routing::get;
use tokio::net::TcpListener;
use tonic_health::ServingStatus;

/// Runs the probe off the runtime's thread, so the servers it asks keep answering.
async fn healthcheck(args: &[&str]) -> Output {
    let args: Vec<String> = args.iter().map(|arg| arg.to_string()).collect();
    tokio::task::spawn_blocking(move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_healthcheck"))
            .args(args)
            .output()
            .expect("run healthcheck")
    })
    .await
    .expect("the probe's thread")
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[tokio::test]
async fn grpc_serving_passes_and_not_serving_fails() {
    let (reporter, health) = tonic_health::server::health_reporter();
    reporter
        .set_service_status("chat.v1.Chat", ServingStatus::Serving)
        .await;
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap().to_string();
    tokio::spawn(
        tonic::transport::Server::builder()
            .add_service(health)
            .serve_with_incoming(tokio_stream::wrappers::TcpListenerStream::new(listener)),
    );

    let serving = healthcheck(&["--grpc", &address]).await;
    assert!(serving.status.success(), "{}", stderr(&serving));
    let named = healthcheck(&["--grpc", &address, "--service", "chat.v1.Chat"]).await;
    assert!(named.status.success(), "{}", stderr(&named));

    reporter
        .set_service_status("", ServingStatus::NotServing)
        .await;
    let draining = healthcheck(&["--grpc", &address]).await;
    assert_eq!(draining.status.code(), Some(1));
    assert!(
        stderr(&draining).contains("NOT_SERVING"),
        "{}",
        stderr(&draining)
    );
}

#[tokio::test]
async fn http_2xx_passes_and_anything_else_fails() {
    let app = Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route(
            "/readyz",
            get(|| async { (StatusCode::SERVICE_UNAVAILABLE, "draining") }),
        );
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });

    let alive = healthcheck(&["--http", &format!("{base}/healthz")]).await;
    assert!(alive.status.success(), "{}", stderr(&alive));
    let draining = healthcheck(&["--http", &format!("{base}/readyz")]).await;
    assert_eq!(draining.status.code(), Some(1));
    assert!(stderr(&draining).contains("503"), "{}", stderr(&draining));
}

#[tokio::test]
async fn nothing_listening_fails() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap().to_string();
    drop(listener);
    let grpc = healthcheck(&["--grpc", &address, "--timeout", "2"]).await;
    assert_eq!(grpc.status.code(), Some(1));
    let http = healthcheck(&["--http", &format!("http://{address}/healthz")]).await;
    assert_eq!(http.status.code(), Some(1));
}
