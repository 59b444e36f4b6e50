//! The e_chat_server dialect (seed 001), served under `/v1`: `session_id` strings, integer ids
//! (the stable `number` of users and conversations), rooms that are the shared model's
//! conversations, a WebSocket per room, and `{"error":{"code":…}}` bodies. Translation only:
//! every rule lives in the services. The choices the document leaves open are in
//! `docs/echat-api.md`.

mod account;
mod chat;
mod error;
mod history;
mod json;
pub mod render;
mod rooms;
mod session;

use axum::Router;
use axum::routing::{get, post};

use crate::state::AppState;

pub use error::EchatError;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/register", post(account::register))
        .route("/v1/login", post(account::login))
        .route("/v1/logout", post(account::logout))
        .route("/v1/info", get(account::info))
        .route("/v1/users", get(account::search_users))
        .route("/v1/users/", get(account::search_users))
        .route("/v1/rooms", get(rooms::list_rooms).post(rooms::create_room))
        .route(
            "/v1/rooms/",
            get(rooms::list_rooms).post(rooms::create_room),
        )
        .route("/v1/rooms/{room_id}", get(rooms::get_room))
        .route("/v1/rooms/{room_id}/messages", get(history::list_messages))
        .route("/v1/rooms/{room_id}/chat", get(chat::upgrade))
}
