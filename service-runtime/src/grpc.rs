//! Serving one gRPC service the way every service of the backend does: beside
//! `grpc.health.v1`, on an already-bound listener, with a bounded drain on shutdown.

use std::convert::Infallible;
use std::future::Future;

use anyhow::Context;
use tokio::net::TcpListener;
use tokio_stream::StreamExt;
use tokio_stream::wrappers::TcpListenerStream;
use tonic::body::Body;
use tonic::codegen::Service;
use tonic::codegen::http::Request;
use tonic::server::NamedService;
use tonic_health::ServingStatus;

use crate::shutdown::DRAIN_GRACE;

/// Serves `service` and the health service on `listener` until `shutdown` resolves. Health
/// reports SERVING (for `""` and the service's name) until then, NOT_SERVING once draining;
/// calls in flight may finish for up to [`DRAIN_GRACE`] (an open health `Watch` stream would
/// otherwise hold the drain open for ever).
pub async fn serve<S>(
    listener: TcpListener,
    service: S,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()>
where
    S: Service<Request<Body>, Error = Infallible> + NamedService + Clone + Send + Sync + 'static,
    S::Response: axum::response::IntoResponse,
    S::Future: Send + 'static,
{
    let (health, health_service) = tonic_health::server::health_reporter();
    health
        .set_service_status(S::NAME, ServingStatus::Serving)
        .await;
    health.set_service_status("", ServingStatus::Serving).await;
    let (draining, drain_started) = tokio::sync::oneshot::channel::<()>();
    let signal = async move {
        shutdown.await;
        tracing::info!(
            service = S::NAME,
            "shutting down: health NOT_SERVING, draining calls"
        );
        health
            .set_service_status(S::NAME, ServingStatus::NotServing)
            .await;
        health
            .set_service_status("", ServingStatus::NotServing)
            .await;
        let _ = draining.send(());
    };
    let incoming = TcpListenerStream::new(listener).map(|connection| {
        if let Ok(stream) = &connection
            && let Err(error) = stream.set_nodelay(true)
        {
            tracing::debug!(%error, "cannot set TCP_NODELAY");
        }
        connection
    });
    let server = tonic::transport::Server::builder()
        .layer(crate::observe::ObserveLayer)
        .add_service(health_service)
        .add_service(service)
        .serve_with_incoming_shutdown(incoming, signal);
    let deadline = async {
        match drain_started.await {
            Ok(()) => tokio::time::sleep(DRAIN_GRACE).await,
            // The server stopped without a shutdown signal; its own result tells why.
            Err(_) => std::future::pending().await,
        }
    };
    tokio::select! {
        served = server => served.with_context(|| format!("{} gRPC server failed", S::NAME))?,
        () = deadline => {
            tracing::warn!(service = S::NAME, grace = ?DRAIN_GRACE, "calls still open after the drain grace; closing");
        }
    }
    Ok(())
}
