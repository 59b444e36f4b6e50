//! The platform-backend dialect (seed 002): a third-party platform's backend provisions its
//! users (`POST /token`, token pairs) and manages chats by its own ids (`/backend/chats/…`, also
//! `/chats/…`), with an API key per platform. Its users and chats are ordinary users and groups
//! of the shared model, scoped to their platform by an external id. Translation only: the rules
//! live in the services. Its users register RSA public keys (`/keys`) and send signed
//! messages (`POST /messages`). The choices the document leaves open are in `docs/platform-api.md`.

mod backend;
mod chats;
pub mod error;
mod keys;
pub mod poll;
pub mod send;
mod tokens;
mod user;

use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::state::AppState;

/// The dialect's routes, each with its OpenAPI operation.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(tokens::issue_token))
        .routes(routes!(tokens::refresh_token))
        .routes(routes!(
            chats::add_users_backend,
            chats::get_users_backend,
            chats::remove_users_backend
        ))
        .routes(routes!(chats::delete_chat_backend))
        .routes(routes!(
            chats::add_users_short,
            chats::get_users_short,
            chats::remove_users_short
        ))
        .routes(routes!(chats::delete_chat_short))
        .routes(routes!(keys::register_key))
        .routes(routes!(keys::get_key))
        .routes(routes!(send::send_messages, poll::poll_messages))
}
