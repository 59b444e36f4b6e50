//! The native protocol (seed 000): REST at the root, and a WebSocket at each session's
//! `messaging_url` with numeric RPC methods and numeric events.

pub mod events;
mod groups;
mod rpc;
mod socket;
mod users;

use axum::Router;
use axum::routing::{delete, get, post, put};

use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/users", post(users::create_user))
        .route("/login", post(users::login))
        .route("/sessions", post(users::create_session))
        .route("/sessions/{session_id}", delete(users::delete_session))
        .route(
            "/groups",
            post(groups::create_group).get(groups::list_groups),
        )
        .route("/groups/{group_id}", get(groups::get_group))
        .route("/groups/{group_id}/join", put(groups::join_group))
        .route("/groups/{group_id}/left", put(groups::leave_group))
        .route("/groups/{group_id}/messages", get(groups::list_messages))
        .route("/{connection_id}", get(socket::upgrade))
}
