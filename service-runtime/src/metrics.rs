//! Prometheus metrics: one recorder per process, rendered as text at `/metrics`.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::OnceLock;

use anyhow::Context;
use axum::Router;
use axum::routing::get;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use tokio::net::TcpListener;

/// Latency buckets, in seconds: fine below 10 ms where a chat backend lives, coarse above.
const LATENCY_BUCKETS: [f64; 14] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// Batch size buckets (group commit), in items.
const BATCH_BUCKETS: [f64; 9] = [1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0];

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// Installs the process's recorder (the first call does; later ones share it) and returns the
/// handle that renders it.
pub fn install() -> PrometheusHandle {
    HANDLE
        .get_or_init(|| {
            let builder = PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), &LATENCY_BUCKETS)
                .and_then(|builder| {
                    builder.set_buckets_for_metric(
                        Matcher::Suffix("_batch_size".into()),
                        &BATCH_BUCKETS,
                    )
                })
                .unwrap_or_else(|_| PrometheusBuilder::new());
            let recorder = builder.build_recorder();
            let handle = recorder.handle();
            if metrics::set_global_recorder(recorder).is_err() {
                tracing::warn!(
                    "a metrics recorder was already installed; /metrics shows this one's"
                );
            }
            handle
        })
        .clone()
}

/// `GET /metrics` in the Prometheus text format.
pub fn router() -> Router {
    let handle = install();
    Router::new().route(
        "/metrics",
        get(move || {
            let handle = handle.clone();
            async move { handle.render() }
        }),
    )
}

/// Serves `/metrics` on `address` in the background, when one is given (a service's
/// `METRICS_ADDR`); the task ends with the process.
pub async fn listen(address: Option<SocketAddr>) -> anyhow::Result<()> {
    let Some(address) = address else {
        return Ok(());
    };
    let listener = TcpListener::bind(address)
        .await
        .with_context(|| format!("cannot listen for metrics on {address}"))?;
    tracing::info!(%address, "metrics at /metrics");
    tokio::spawn(async move {
        if let Err(error) = axum::serve(listener, router()).await {
            tracing::warn!(%error, "the metrics listener stopped");
        }
    });
    Ok(())
}

/// Serves `/metrics` on its own listener (the gRPC services' metrics port) until `shutdown`.
pub async fn serve(
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    axum::serve(listener, router())
        .with_graceful_shutdown(shutdown)
        .await?;
    Ok(())
}
