//! The web-app dialect (seed 003): HTTP under `/http` with a token in an `authentication`
//! header, and a socket at `/socket` bound by a `{"token"}` frame. Integer ids are the stable
//! numbers of users and conversations; rooms are the shared model's direct conversations,
//! chat groups its public groups, the bot chat a conversation of kind bot with the bot's
//! service account. Translation only: every rule lives in the services. The
//! choices the document leaves open are in `docs/webapp-api.md`.

mod account;
mod announce;
mod bot;
pub mod error;
mod groups;
mod history;
mod input;
mod messages;
mod notifications;
mod profile;
mod register;
pub mod render;
mod rooms;
mod socket;
mod time;
pub(crate) mod users;

use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::state::AppState;

/// The dialect's routes, each with its OpenAPI operation.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(socket::upgrade))
        .routes(routes!(account::login))
        .routes(routes!(account::logout))
        .routes(routes!(register::register))
        .routes(routes!(register::confirm_registration))
        .routes(routes!(users::list_users))
        .routes(routes!(profile::profile, profile::update_profile))
        .routes(routes!(
            notifications::notifications,
            notifications::mark_read
        ))
        .routes(routes!(rooms::list_chat_rooms))
        .routes(routes!(rooms::room_messages))
        .routes(routes!(
            groups::list_chat_groups,
            groups::create_chat_group,
            groups::rename_chat_group
        ))
        .routes(routes!(
            groups::group_messages,
            groups::enter_chat_group,
            groups::rename_chat_group_by_id
        ))
        .routes(routes!(groups::group_users))
        .routes(routes!(bot::chat_bot))
}
