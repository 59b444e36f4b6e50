//! A tower layer for gRPC servers: each call runs in a span carrying the caller's request id
//! (the `x-request-id` metadata the gateway sets), and its latency and outcome are recorded.

use std::task::{Context, Poll};
use std::time::Instant;

use futures_util::future::BoxFuture;
use tonic::codegen::http::{Request, Response};
use tower::{Layer, Service};
use tracing::Instrument;

/// The metadata key carrying a request's id from the gateway to every service it calls.
pub const REQUEST_ID: &str = "x-request-id";

#[derive(Debug, Clone, Copy, Default)]
pub struct ObserveLayer;

impl<S> Layer<S> for ObserveLayer {
    type Service = Observe<S>;

    fn layer(&self, inner: S) -> Observe<S> {
        Observe { inner }
    }
}

#[derive(Debug, Clone)]
pub struct Observe<S> {
    inner: S,
}

impl<S, B, R> Service<Request<B>> for Observe<S>
where
    S: Service<Request<B>, Response = Response<R>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    B: Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = BoxFuture<'static, Result<Self::Response, Self::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        let method = request.uri().path().to_owned();
        let request_id = request
            .headers()
            .get(REQUEST_ID)
            .and_then(|id| id.to_str().ok())
            .unwrap_or("-")
            .to_owned();
        let span = tracing::info_span!("grpc", %method, %request_id);
        // The clone that was made ready is the one that must serve the call.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let started = Instant::now();
        Box::pin(
            async move {
                let response = inner.call(request).await;
                let (status, code) = match &response {
                    Ok(response) => outcome(response),
                    Err(_) => ("transport".to_owned(), "transport".to_owned()),
                };
                metrics::histogram!(
                    "grpc_server_request_duration_seconds",
                    "method" => method.clone(),
                    "status" => status.clone()
                )
                .record(started.elapsed().as_secs_f64());
                if status != "ok" {
                    tracing::debug!(%status, %code, "call failed");
                    metrics::counter!("grpc_server_errors_total", "method" => method, "code" => code)
                        .increment(1);
                }
                response
            }
            .instrument(span),
        )
    }
}

/// The gRPC status of a response (a failed unary call answers with its status in the headers)
/// and the service's stable error code, if it gave one.
fn outcome<R>(response: &Response<R>) -> (String, String) {
    let status = response
        .headers()
        .get("grpc-status")
        .and_then(|s| s.to_str().ok())
        .and_then(|s| s.parse::<i32>().ok())
        .map(tonic::Code::from_i32)
        .unwrap_or(tonic::Code::Ok);
    let status = if status == tonic::Code::Ok {
        "ok".to_owned()
    } else {
        format!("{status:?}").to_lowercase()
    };
    let code = response
        .headers()
        .get("x-error-code")
        .and_then(|c| c.to_str().ok())
        .map(str::to_owned)
        .unwrap_or_else(|| status.clone());
    (status, code)
}
