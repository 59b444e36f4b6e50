//! The native protocol (seed 000): REST at the root, and a WebSocket at each session's
//! `messaging_url` with numeric RPC methods and numeric events.

pub mod events;
mod groups;
mod history;
mod people;
mod rpc;
pub mod schema;
mod socket;
mod users;

use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::state::AppState;

/// The native protocol's routes, each with its OpenAPI operation.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(users::create_user, people::find_users))
        .routes(routes!(people::direct_conversation))
        .routes(routes!(users::login))
        .routes(routes!(users::create_session))
        .routes(routes!(users::delete_session))
        .routes(routes!(groups::create_group, groups::list_groups))
        .routes(routes!(groups::get_group))
        .routes(routes!(groups::join_group))
        .routes(routes!(groups::leave_group))
        .routes(routes!(history::list_messages))
        .routes(routes!(socket::upgrade))
}
