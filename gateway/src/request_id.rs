//! Request ids and HTTP metrics: every request gets an id (the client's `x-request-id`, or a
//! new one) that is returned to the client, carried by the request's log lines and passed to
//! every service it calls as gRPC metadata, so one id follows a request through every log.

use std::future::Future;
use std::time::Instant;

use axum::extract::{MatchedPath, Request};
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;
use tracing::Instrument;

pub use service_runtime::observe::REQUEST_ID as HEADER;

tokio::task_local! {
    static CURRENT: String;
}

/// The stable error code a response carries, for the errors-by-code metric.
#[derive(Debug, Clone)]
pub struct ErrorCode(pub String);

pub fn new_id() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

/// The id of the request being handled, if any.
pub fn current() -> Option<String> {
    CURRENT.try_with(Clone::clone).ok()
}

/// Runs `future` as the handling of one request (a WebSocket frame, say) with a new id.
pub async fn scope<F: Future>(future: F) -> F::Output {
    let id = new_id();
    let span = tracing::debug_span!("frame", request_id = %id);
    CURRENT.scope(id, future).instrument(span).await
}

/// The HTTP middleware: id, span, latency histogram, errors by code.
pub async fn middleware(request: Request, next: Next) -> Response {
    let id = request
        .headers()
        .get(HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty() && v.len() <= 128 && v.chars().all(|c| c.is_ascii_graphic()))
        .map(str::to_owned)
        .unwrap_or_else(new_id);
    let method = request.method().to_string();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|path| path.as_str().to_owned())
        .unwrap_or_else(|| "unmatched".to_owned());
    let span = tracing::info_span!("http", %method, %route, request_id = %id);
    let started = Instant::now();
    let mut response = CURRENT
        .scope(id.clone(), next.run(request))
        .instrument(span)
        .await;
    let status = response.status().as_u16().to_string();
    metrics::histogram!(
        "http_request_duration_seconds",
        "method" => method,
        "route" => route,
        "status" => status
    )
    .record(started.elapsed().as_secs_f64());
    if let Some(ErrorCode(code)) = response.extensions().get::<ErrorCode>() {
        metrics::counter!("http_errors_total", "code" => code.clone()).increment(1);
    }
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert(HEADER, value);
    }
    response
}

/// Puts the current request id on every gRPC call to a service.
#[derive(Debug, Clone, Copy, Default)]
pub struct Propagate;

impl tonic::service::Interceptor for Propagate {
    fn call(
        &mut self,
        mut request: tonic::Request<()>,
    ) -> Result<tonic::Request<()>, tonic::Status> {
        if let Some(value) = current().and_then(|id| id.parse().ok()) {
            request.metadata_mut().insert(HEADER, value);
        }
        Ok(request)
    }
}

#[cfg(test)]
mod tests {
    use tonic::service::Interceptor;

    use super::{CURRENT, HEADER, Propagate};

    #[tokio::test]
    async fn service_calls_carry_the_current_request_id() {
        let request = CURRENT
            .scope("abc123".to_owned(), async {
                Propagate.call(tonic::Request::new(()))
            })
            .await
            .unwrap();
        assert_eq!(request.metadata().get(HEADER).unwrap(), "abc123");
        let outside = Propagate.call(tonic::Request::new(())).unwrap();
        assert!(outside.metadata().get(HEADER).is_none());
    }
}
