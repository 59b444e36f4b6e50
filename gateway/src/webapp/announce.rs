//! Announcements to every online user (`user_activity`, `user_update`, `group_chat_update`):
//! ephemeral like typing, so nothing is logged. Every user is listed from auth-service a page
//! at a time and each page handed to the fan-out, which asks presence which of them are online
//! and where — so the cost grows with the users of the product, which is what "every online
//! user" asks for; only this dialect's sockets show them.

use chat_proto::auth::ListUsersRequest;
use chat_proto::events::delivery::Payload;
use chat_proto::events::{UserActivity, UserUpdated};
use chat_proto::presence::LocateRequest;

use crate::state::AppState;

/// Users listed per call, and handed to one fan-out.
const PAGE: u32 = 1000;

/// Sends `payload` to every online user. Failures are logged: an announcement is ephemeral.
pub async fn to_everyone_online(state: &AppState, payload: Payload) {
    let mut after = 0;
    loop {
        let page = state
            .services
            .auth
            .clone()
            .list_users(ListUsersRequest {
                after_number: after,
                limit: PAGE,
            })
            .await;
        let users = match page {
            Ok(page) => page.into_inner().users,
            Err(status) => {
                tracing::warn!(code = ?status.code(), message = status.message(), "cannot list the users to announce to");
                return;
            }
        };
        let Some(last) = users.last().map(|user| user.number) else {
            return;
        };
        let full = users.len() as u32 >= PAGE;
        let ids = users.into_iter().map(|user| user.id).collect();
        let delivery = crate::delivery::to(ids, String::new(), payload.clone());
        state.fanout.send(delivery).await;
        if !full {
            return;
        }
        after = last;
    }
}

/// `user_activity`: the user came online (`login`), or went away or logged out.
pub async fn activity(state: &AppState, user_number: i64, login: bool) {
    let payload = Payload::UserActivity(UserActivity { user_number, login });
    to_everyone_online(state, payload).await;
}

/// `user_update`: the user was created or changed their names.
pub async fn user_updated(state: &AppState, user: &chat_proto::auth::User) {
    let payload = Payload::UserUpdated(UserUpdated {
        user_number: user.number,
        first_name: user.first_name.clone(),
        last_name: user.last_name.clone(),
    });
    to_everyone_online(state, payload).await;
}

/// Whether the user has a socket on any replica now.
pub async fn is_online(state: &AppState, user_id: &str) -> bool {
    let located = state
        .services
        .presence
        .clone()
        .locate(LocateRequest {
            user_ids: vec![user_id.to_owned()],
        })
        .await;
    match located {
        Ok(located) => !located.into_inner().online.is_empty(),
        // Presence cannot say: announce nothing rather than a logout that did not happen.
        Err(_) => true,
    }
}
