//! Serving one gRPC service the way every service of the backend does: beside
//! `grpc.health.v1`, on an already-bound listener, with a bounded drain on shutdown.

use std::convert::Infallible;
use std::future::Future;
use std::time::Duration;

use anyhow::Context;
use futures_util::FutureExt;
use tokio::net::TcpListener;
use tokio_stream::StreamExt;
use tokio_stream::wrappers::TcpListenerStream;
use tonic::body::Body;
use tonic::codegen::Service;
use tonic::codegen::http::{Request, Response};
use tonic::server::NamedService;
use tonic::service::Routes;
use tonic_health::ServingStatus;
use tower::util::BoxCloneSyncService;
use tower::{BoxError, ServiceBuilder, ServiceExt};

use crate::shutdown::DRAIN_GRACE;

/// HTTP/2 connection flow-control window of the services' channels and servers, both ways.
///
/// h2 closes a connection (GOAWAY `ENHANCE_YOUR_CALM`) when the small DATA frames received and
/// not yet read by the application outgrow a budget of half this window (at least 25 KiB).
/// gRPC's unary messages are small frames: in a reconnect storm thousands of answers arrive at
/// once, and with the default 64 KiB window about 130 waiting answers closed the gateway's
/// channel to chat-service, failing every call on it. The window is flow-control credit, not
/// memory set aside.
pub const CONNECTION_WINDOW: u32 = 16 << 20;

/// A client endpoint tuned as the servers are: the connection window above, no Nagle delay.
pub fn endpoint(endpoint: tonic::transport::Endpoint) -> tonic::transport::Endpoint {
    endpoint
        .initial_connection_window_size(CONNECTION_WINDOW)
        .tcp_nodelay(true)
}

/// What every client of the backend calls a service through: an HTTP/2 connection
/// ([`remote`]), or, in the single process, the service's handlers in the same process
/// ([`in_process`]).
/// A failure on the way is already the status a client sees (a concrete error type: the
/// clients' futures stay `Send`).
pub type Channel = BoxCloneSyncService<Request<Body>, Response<Body>, tonic::Status>;

/// A channel over the network.
pub fn remote(channel: tonic::transport::Channel) -> Channel {
    BoxCloneSyncService::new(channel.map_err(|error| tonic::Status::from_error(error.into())))
}

/// A channel that calls `routes` (built by [`Local`]) without a connection: a request's
/// message is encoded and decoded as over the network, and passes the same layer as a served
/// call (request id, metrics), but no HTTP/2 framing, socket or second task is involved. A call
/// that takes longer than `timeout` fails `CANCELLED`, as a network channel's does.
pub fn in_process(routes: &Local, timeout: Duration) -> Channel {
    let service = ServiceBuilder::new()
        .map_err(|error: BoxError| {
            if error.is::<tower::timeout::error::Elapsed>() {
                tonic::Status::cancelled("Timeout expired")
            } else {
                tonic::Status::from_error(error)
            }
        })
        .timeout(timeout)
        .layer(crate::observe::ObserveLayer)
        .service(routes.routes.clone());
    // A handler that panics fails its call, as it would behind a server (which runs each call
    // in a task of its own), instead of taking the caller's task down with it.
    let service = ServiceExt::<Request<Body>>::map_future(service, |call| async move {
        std::panic::AssertUnwindSafe(call)
            .catch_unwind()
            .await
            .unwrap_or_else(|_| Err(tonic::Status::internal("the service failed the call")))
    });
    BoxCloneSyncService::new(service)
}

/// The services of one process gathered for [`in_process`] channels, beside the health
/// service (SERVING for each).
pub struct Local {
    routes: Routes,
    health: tonic_health::server::HealthReporter,
}

impl Local {
    pub async fn new() -> Self {
        let (health, health_service) = tonic_health::server::health_reporter();
        health.set_service_status("", ServingStatus::Serving).await;
        Self {
            routes: Routes::new(health_service),
            health,
        }
    }

    /// Adds `service`, reported SERVING.
    pub async fn add<S>(mut self, service: S) -> Self
    where
        S: Service<Request<Body>, Error = Infallible, Response = Response<Body>>
            + NamedService
            + Clone
            + Send
            + Sync
            + 'static,
        S::Future: Send + 'static,
    {
        self.health
            .set_service_status(S::NAME, ServingStatus::Serving)
            .await;
        self.routes = self.routes.add_service(service);
        self
    }
}

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
    serve_with(listener, service, None::<S>, shutdown).await
}

/// [`serve`], with a second service beside the first when there is one: the operator's admin
/// service (see [`AdminGuard`]).
pub async fn serve_with<S, A>(
    listener: TcpListener,
    service: S,
    admin: Option<A>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()>
where
    S: Service<Request<Body>, Error = Infallible> + NamedService + Clone + Send + Sync + 'static,
    S::Response: axum::response::IntoResponse,
    S::Future: Send + 'static,
    A: Service<Request<Body>, Error = Infallible> + NamedService + Clone + Send + Sync + 'static,
    A::Response: axum::response::IntoResponse,
    A::Future: Send + 'static,
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
        .initial_connection_window_size(CONNECTION_WINDOW)
        .layer(crate::observe::ObserveLayer)
        .add_service(health_service)
        .add_service(service)
        .add_optional_service(admin)
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

/// Lets through only the calls that carry `authorization: Bearer <token>` with the operator's
/// admin token; without a token configured, every call is refused. Wraps the admin services
/// (`admin.v1`) with `with_interceptor`.
#[derive(Clone)]
pub struct AdminGuard {
    token: Option<std::sync::Arc<str>>,
}

/// The shortest admin token a service accepts.
pub const MIN_ADMIN_TOKEN_BYTES: usize = 16;

impl AdminGuard {
    /// A guard for `token`; `None` (or an empty token) turns the admin service off.
    pub fn new(token: Option<&str>) -> Self {
        AdminGuard {
            token: token.filter(|token| !token.is_empty()).map(Into::into),
        }
    }

    /// Whether the bearer token of `metadata` is the admin token.
    pub fn check(&self, metadata: &tonic::metadata::MetadataMap) -> Result<(), tonic::Status> {
        let Some(token) = &self.token else {
            return Err(tonic::Status::permission_denied(
                "the admin RPCs are off: start the service with ADMIN_TOKEN (--admin-token)",
            ));
        };
        let given = metadata
            .get("authorization")
            .and_then(|value| value.to_str().ok())
            .and_then(|value| {
                value
                    .strip_prefix("Bearer ")
                    .or_else(|| value.strip_prefix("bearer "))
            })
            .ok_or_else(|| tonic::Status::unauthenticated("an admin token is required"))?;
        if !constant_time_eq(given.as_bytes(), token.as_bytes()) {
            return Err(tonic::Status::unauthenticated("wrong admin token"));
        }
        Ok(())
    }
}

/// Parses `--admin-token` / `ADMIN_TOKEN`: at least [`MIN_ADMIN_TOKEN_BYTES`], and an error
/// that, unlike clap's default, never echoes the value. An empty value (`ADMIN_TOKEN=` in a
/// Compose file or Secret left blank) is no token: the admin RPCs stay off.
#[derive(Clone, Copy, Debug, Default)]
pub struct AdminTokenParser;

/// The operator's admin token; never printed.
#[derive(Clone)]
pub struct AdminToken(String);

impl AdminToken {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for AdminToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AdminToken(***)")
    }
}

impl clap::builder::TypedValueParser for AdminTokenParser {
    type Value = AdminToken;

    fn parse_ref(
        &self,
        command: &clap::Command,
        _arg: Option<&clap::Arg>,
        value: &std::ffi::OsStr,
    ) -> Result<AdminToken, clap::Error> {
        let refuse = |kind, message: String| {
            clap::Error::raw(kind, format!("{message}\n")).with_cmd(command)
        };
        let token = value.to_str().ok_or_else(|| {
            refuse(
                clap::error::ErrorKind::InvalidUtf8,
                "ADMIN_TOKEN must be UTF-8".into(),
            )
        })?;
        if !token.is_empty() && token.len() < MIN_ADMIN_TOKEN_BYTES {
            return Err(refuse(
                clap::error::ErrorKind::ValueValidation,
                format!(
                    "ADMIN_TOKEN (--admin-token) is {} bytes long; it must be at least \
                     {MIN_ADMIN_TOKEN_BYTES} bytes",
                    token.len()
                ),
            ));
        }
        Ok(AdminToken(token.to_owned()))
    }
}

impl tonic::service::Interceptor for AdminGuard {
    fn call(&mut self, request: tonic::Request<()>) -> Result<tonic::Request<()>, tonic::Status> {
        self.check(request.metadata())?;
        Ok(request)
    }
}

/// Compares without stopping at the first difference, so timing tells nothing of the token.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::AdminGuard;
    use tonic::metadata::MetadataMap;

    fn bearer(token: &str) -> MetadataMap {
        let mut metadata = MetadataMap::new();
        metadata.insert("authorization", format!("Bearer {token}").parse().unwrap());
        metadata
    }

    #[test]
    fn only_the_admin_token_passes() {
        let guard = AdminGuard::new(Some("0123456789abcdef-secret"));
        assert!(guard.check(&bearer("0123456789abcdef-secret")).is_ok());
        let wrong = guard.check(&bearer("0123456789abcdef-secreT")).unwrap_err();
        assert_eq!(wrong.code(), tonic::Code::Unauthenticated);
        let missing = guard.check(&MetadataMap::new()).unwrap_err();
        assert_eq!(missing.code(), tonic::Code::Unauthenticated);
        let off = AdminGuard::new(None)
            .check(&bearer("anything"))
            .unwrap_err();
        assert_eq!(off.code(), tonic::Code::PermissionDenied);
        let empty = AdminGuard::new(Some("")).check(&bearer("")).unwrap_err();
        assert_eq!(empty.code(), tonic::Code::PermissionDenied);
    }

    #[test]
    fn an_empty_admin_token_is_off_and_a_short_one_refused() {
        use clap::builder::TypedValueParser;
        let command = clap::Command::new("service");
        let parse = |value: &str| {
            super::AdminTokenParser.parse_ref(&command, None, std::ffi::OsStr::new(value))
        };
        assert_eq!(parse("").expect("empty is off").as_str(), "");
        let short = parse("short").expect_err("a short token is refused");
        assert!(!short.to_string().contains("short"), "{short}");
        assert!(parse("0123456789abcdef").is_ok());
    }
}

#[cfg(test)]
mod in_process_tests {
    use std::convert::Infallible;
    use std::future::Future;
    use std::pin::Pin;
    use std::task::{Context, Poll};
    use std::time::Duration;

    use tonic::body::Body;
    use tonic::codegen::http::{Request, Response};
    use tonic::server::NamedService;
    use tonic_health::pb::HealthCheckRequest;
    use tonic_health::pb::health_client::HealthClient;
    use tower::{Service, ServiceExt};

    use super::{Local, in_process};

    /// A service whose every call panics, or never answers.
    #[derive(Clone)]
    struct Broken {
        hangs: bool,
    }

    impl NamedService for Broken {
        const NAME: &'static str = "test.Broken";
    }

    impl Service<Request<Body>> for Broken {
        type Response = Response<Body>;
        type Error = Infallible;
        type Future = Pin<Box<dyn Future<Output = Result<Response<Body>, Infallible>> + Send>>;

        fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
            Poll::Ready(Ok(()))
        }

        fn call(&mut self, _: Request<Body>) -> Self::Future {
            let hangs = self.hangs;
            Box::pin(async move {
                if hangs {
                    std::future::pending::<()>().await;
                }
                panic!("a handler's bug");
            })
        }
    }

    /// The status a call to `broken`, in the process, fails with.
    async fn failure(broken: Broken, timeout: Duration) -> tonic::Status {
        let local = Local::new().await.add(broken).await;
        let call = Request::builder()
            .uri("/test.Broken/Call")
            .body(Body::empty())
            .unwrap();
        in_process(&local, timeout)
            .oneshot(call)
            .await
            .expect_err("the call fails")
    }

    #[tokio::test]
    async fn a_call_in_the_process_reaches_the_service_and_health_says_serving() {
        let local = Local::new().await.add(Broken { hangs: false }).await;
        let mut health = HealthClient::new(in_process(&local, Duration::from_secs(5)));
        for service in ["", "test.Broken"] {
            let answer = health
                .check(HealthCheckRequest {
                    service: service.to_owned(),
                })
                .await
                .expect("health answers")
                .into_inner();
            assert_eq!(answer.status, 1, "{service:?} is SERVING");
        }
    }

    #[tokio::test]
    async fn a_handler_that_panics_fails_its_call_not_the_caller() {
        let status = failure(Broken { hangs: false }, Duration::from_secs(5)).await;
        assert_eq!(status.code(), tonic::Code::Internal);
    }

    #[tokio::test]
    async fn a_call_past_its_timeout_is_cancelled_as_over_the_network() {
        let status = failure(Broken { hangs: true }, Duration::from_millis(50)).await;
        assert_eq!(status.code(), tonic::Code::Cancelled);
    }
}
