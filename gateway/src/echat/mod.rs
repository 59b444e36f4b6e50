//! The e_chat_server dialect (seed 001), served under `/v1`: `session_id` strings, integer ids
//! (the stable `number` of users and conversations), rooms that are the shared model's
//! conversations, a WebSocket per room, and `{"error":{"code":…}}` bodies. Translation only:
//! every rule lives in the services. The choices the document leaves open are in
//! `docs/echat-api.md`.

mod account;
mod aliases;
mod chat;
mod error;
mod history;
mod json;
pub mod render;
mod rooms;
mod session;

use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::state::AppState;

pub use error::EchatError;

/// The dialect's routes, each with its OpenAPI operation.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(account::register))
        .routes(routes!(account::login))
        .routes(routes!(account::logout))
        .routes(routes!(account::info))
        .routes(routes!(account::search_users))
        .routes(routes!(aliases::search_users_slash))
        .routes(routes!(rooms::list_rooms, rooms::create_room))
        .routes(routes!(
            aliases::list_rooms_slash,
            aliases::create_room_slash
        ))
        .routes(routes!(rooms::get_room))
        .routes(routes!(history::list_messages))
        .routes(routes!(chat::upgrade))
}
