//! gateway: the public REST and WebSocket API of the chat backend. It keeps nothing that must
//! outlive it: it translates client dialects into gRPC calls to auth-, chat- and
//! presence-service, and relays events to users connected to other replicas over a bus.

pub mod auth;
pub mod bot;
pub mod config;
pub mod connections;
pub mod delivery;
pub mod dialect;
pub mod echat;
pub mod error;
pub mod fanout;
pub mod hub;
pub mod json;
pub mod mail;
pub mod messenger;
pub mod native;
pub mod openapi;
pub mod platform;
pub mod request_id;
pub mod services;
pub mod sessions;
pub mod state;
pub mod typing;
pub mod web;
pub mod webapp;
pub mod websocket;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::http::StatusCode;
use tokio::net::TcpListener;

pub use config::Config;
pub use service_runtime::bus::{BusEvent, EventBus, MemoryBus, RedisBus};
pub use services::Services;
pub use state::{AppState, GatewayOptions};

use crate::fanout::{Announcer, Fanout, Follower};
use crate::hub::{Hub, close_code};

/// How long readiness waits for each dependency.
const READINESS_TIMEOUT: Duration = Duration::from_secs(2);

/// Every route of the route table ([`openapi`]), Swagger UI at `/api/`, and the state.
pub fn router(state: AppState) -> Router {
    // The recorder goes in now, so that what happens before the first scrape is counted.
    service_runtime::metrics::install();
    let (layered, document) = openapi::routes()
        .layer(axum::middleware::from_fn(request_id::middleware))
        .merge(openapi::unlayered_routes())
        .split_for_parts();
    layered
        .merge(openapi::swagger_ui_router(document))
        .with_state(state)
}

#[utoipa::path(get, path = "/healthz", tag = "operations",
    summary = "Liveness: the process answers",
    responses((status = 200, description = "`ok`", body = String, content_type = "text/plain")))]
async fn healthz() -> &'static str {
    "ok"
}

/// Ready when not draining and the three services and the bus answer.
#[utoipa::path(get, path = "/readyz", tag = "operations",
    summary = "Readiness: not draining, and the services and the event bus answer",
    responses((status = 200, description = "`{\"status\":\"ready\"}`"),
        (status = 503, description = "draining, or `failing` names what does not answer")))]
async fn readyz(
    axum::extract::State(state): axum::extract::State<AppState>,
) -> (StatusCode, axum::Json<serde_json::Value>) {
    if state.is_draining() {
        let body = serde_json::json!({"status": "draining"});
        return (StatusCode::SERVICE_UNAVAILABLE, axum::Json(body));
    }
    let (mut failing, bus) = tokio::join!(
        state.services.not_serving(READINESS_TIMEOUT),
        tokio::time::timeout(READINESS_TIMEOUT, state.fanout.bus.ready())
    );
    if !matches!(bus, Ok(Ok(()))) {
        failing.push("event bus");
    }
    if failing.is_empty() {
        (
            StatusCode::OK,
            axum::Json(serde_json::json!({"status": "ready"})),
        )
    } else {
        let body = serde_json::json!({"status": "unavailable", "failing": failing});
        (StatusCode::SERVICE_UNAVAILABLE, axum::Json(body))
    }
}

/// Serves the gateway on `listener` until `shutdown` resolves, then drains: new upgrades are
/// refused, open sockets are closed with 1012 once their request in hand is done, and their
/// presence is cleared — all within [`service_runtime::shutdown::DRAIN_GRACE`].
pub async fn serve(
    listener: TcpListener,
    services: Services,
    bus: Arc<dyn EventBus>,
    options: GatewayOptions,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let hub = Arc::new(Hub::default());
    let incoming = bus.subscribe(&options.node_id).await?;
    let announcer = Announcer {
        hub: hub.clone(),
        presence: services.presence.clone(),
        node_id: options.node_id.clone(),
        resync: Arc::new(tokio::sync::Notify::new()),
    };
    let follower = Follower::start(announcer.clone(), services.chat.clone());
    let relay = tokio::spawn(async move { follower.await.run(incoming).await });
    let heartbeat = tokio::spawn(announcer.heartbeat());
    let fanout = Fanout {
        node_id: options.node_id.clone(),
        hub: hub.clone(),
        bus,
        presence: services.presence.clone(),
    };
    let state = AppState::new(services, fanout, options);
    let draining = state.clone();
    let limits = state.options.connections.clone();
    let stop = async move {
        shutdown.await;
        draining.start_draining();
        draining
            .hub
            .close_all(close_code::RESTARTING, "server restarting");
    };
    connections::serve(listener, router(state.clone()), &limits, stop).await;
    let deadline = tokio::time::Instant::now() + service_runtime::shutdown::DRAIN_GRACE;
    while state.hub.connection_count() > 0 && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    heartbeat.abort();
    relay.abort();
    Ok(())
}

/// Connects the service clients and the Redis bus, and serves.
pub async fn run(
    config: Config,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let services =
        Services::connect_lazy(&config.auth_url, &config.chat_url, &config.presence_url)?;
    let bus = RedisBus::connect(&config.redis_url, &config.redis_key_prefix).await?;
    let options = GatewayOptions {
        node_id: config.node_id(),
        websocket_base: config.websocket_base(),
        allowed_origins: config.allowed_origins.clone(),
        public_base: config::public_base(config.public_url.as_deref(), config.listen),
        mailer: config.mailer()?,
        bot: bot::BotChoice::from_url(config.bot.as_deref())?,
        connections: config.connections.clone(),
    };
    tracing::info!(node_id = %options.node_id, "gateway replica starting");
    serve(listener, services, Arc::new(bus), options, shutdown).await
}
