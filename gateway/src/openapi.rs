//! The gateway's one route table, and the OpenAPI document made from it: every route is added
//! with `routes!` from a handler carrying its `#[utoipa::path]`, so a route cannot be served
//! without being documented (a test checks that no other way of adding one is used, and that
//! every documented operation is served). Swagger UI shows the document at `/api/`, from files
//! built into the binary.

use axum::Router;
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use utoipa_swagger_ui::{Config, SwaggerUi};

use crate::state::AppState;

/// Where the document is served, and where Swagger UI shows it.
pub const DOCUMENT_PATH: &str = "/api/openapi.json";
pub const SWAGGER_UI_PATH: &str = "/api";

#[derive(OpenApi)]
#[openapi(
    info(
        title = "chat-backend",
        description = "One model of users, conversations and messages served in several chat \
            servers' dialects: the native protocol at the root, e_chat_server under /v1, the \
            messenger under /api and its WebSocket at /, the web app under /http and its socket at \
            /socket. Ids in the native protocol are UUIDs; \
            the other dialects show the same entities' integer numbers."
    ),
    tags(
        (name = "native", description = "The native protocol (seed 000): REST at the root and a WebSocket per session; see docs/native-protocol.md"),
        (name = "echat", description = "The e_chat_server dialect (seed 001) under /v1; see docs/echat-api.md"),
        (name = "messenger", description = "The messenger dialect (seed 004): users under /api, its WebSocket at /; see docs/messenger-api.md"),
        (name = "webapp", description = "The web-app dialect (seed 003): HTTP under /http with an authentication header, its socket at /socket; see docs/webapp-api.md"),
        (name = "platform", description = "The platform-backend dialect (seed 002): POST /token, /backend/chats/… (and /chats/…), with a platform's API key; see docs/platform-api.md"),
        (name = "web", description = "The web chat client: its page at / for a browser, its files under /web/; see docs/web-client.md"),
        (name = "operations", description = "Health, readiness and metrics"),
        (name = "documentation", description = "This document and Swagger UI"),
    ),
    paths(openapi_json, swagger_ui),
    modifiers(&Schemes)
)]
struct ApiDoc;

/// The two ways a caller proves who they are: an access JWT (native, messenger) and an
/// e_chat_server `session_id`.
struct Schemes;

impl Modify for Schemes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        let mut jwt = Http::new(HttpAuthScheme::Bearer);
        jwt.bearer_format = Some("JWT".to_owned());
        jwt.description = Some("The token of POST /login or POST /api/auth/login".to_owned());
        components.add_security_scheme("bearer", SecurityScheme::Http(jwt));
        let mut session = Http::new(HttpAuthScheme::Bearer);
        session.description = Some(
            "The session_id of /v1/register or /v1/login (also taken from an X-Session-Id \
             header, a session_id query parameter or cookie)"
                .to_owned(),
        );
        components.add_security_scheme("session_id", SecurityScheme::Http(session));
        let mut authentication = utoipa::openapi::security::ApiKeyValue::new("authentication");
        authentication.description = Some(
            "The token of POST /http/login, in an `authentication` header (the web app's; \
             `Authorization: Bearer` is read too)"
                .to_owned(),
        );
        components.add_security_scheme(
            "authentication",
            SecurityScheme::ApiKey(utoipa::openapi::security::ApiKey::Header(authentication)),
        );
        let mut platform = Http::new(HttpAuthScheme::Bearer);
        platform.description = Some(
            "A platform's API key (seed 002), printed once by `chat-backend platform create NAME`"
                .to_owned(),
        );
        components.add_security_scheme("platform_key", SecurityScheme::Http(platform));
    }
}

#[utoipa::path(get, path = "/api/openapi.json", tag = "documentation",
    summary = "This OpenAPI document",
    responses((status = 200, description = "the document", content_type = "application/json")))]
#[allow(dead_code)]
fn openapi_json() {}

#[utoipa::path(get, path = "/api/", tag = "documentation",
    summary = "Swagger UI for this document (its files are served from the binary)",
    responses((status = 200, description = "the page", content_type = "text/html")))]
#[allow(dead_code)]
fn swagger_ui() {}

#[utoipa::path(get, path = "/metrics", tag = "operations",
    summary = "Prometheus metrics of this replica",
    responses((status = 200, description = "the text exposition format", body = String,
        content_type = "text/plain")))]
async fn metrics() -> String {
    service_runtime::metrics::install().render()
}

/// Every documented route with its handler: the dialects' and the replica's own.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(crate::healthz))
        .routes(routes!(crate::readyz))
        .routes(routes!(crate::web::web_file))
        .merge(crate::native::routes())
        .merge(crate::echat::routes())
        .merge(crate::messenger::routes())
        .merge(crate::webapp::routes())
        .merge(crate::platform::routes())
}

/// Routes served without the request-id and HTTP-metrics layer: the metrics themselves.
pub fn unlayered_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(metrics))
}

/// The OpenAPI document of every route.
pub fn document() -> utoipa::openapi::OpenApi {
    routes().merge(unlayered_routes()).into_openapi()
}

/// Swagger UI at `/api/` showing `document`, served at `/api/openapi.json`; no request leaves
/// for another host (no validator badge).
pub fn swagger_ui_router(document: utoipa::openapi::OpenApi) -> Router<AppState> {
    let config = Config::from(DOCUMENT_PATH).validator_url("none");
    Router::from(
        SwaggerUi::new(SWAGGER_UI_PATH)
            .url(DOCUMENT_PATH, document)
            .config(config),
    )
}
