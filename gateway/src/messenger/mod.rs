//! The messenger dialect (seed 004): HTTP users under `/api` (registration, a JWT on login,
//! update, delete) and a WebSocket at `/` with `{type, params}` requests and
//! `{type, success, params:{data, message, senderName}}` replies. Ids are the stable numbers of
//! users and conversations; private messages are direct conversations of the shared model,
//! groups are its groups. Translation only: every rule lives in the services. The choices the
//! document leaves open are in `docs/messenger-api.md`.

mod account;
mod changes;
pub mod error;
mod people;
mod reads;
pub mod render;
mod requests;
mod socket;
mod users;
mod writes;

use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::state::AppState;

/// The dialect's routes, each with its OpenAPI operation.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(socket::upgrade))
        .routes(routes!(users::register))
        .routes(routes!(users::create_user))
        .routes(routes!(users::login))
        .routes(routes!(users::logout))
        .routes(routes!(
            users::me,
            users::update_me,
            users::update_me_put,
            users::delete_me
        ))
        .routes(routes!(
            changes::update_by_id,
            changes::update_by_id_put,
            changes::delete_by_id
        ))
}
