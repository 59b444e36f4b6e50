//! Ending a session everywhere: whichever dialect logs a session out, its sockets close (1008)
//! on every replica they are connected to. Deleting a user closes all their sockets alike.

use chat_proto::events::delivery::Payload;
use chat_proto::events::{Delivery, SessionRevoked, UserRevoked};

use crate::state::AppState;

/// Tells every replica holding a socket of `session_id` (a session of `user_id`) to close it.
/// Call it after auth-service has revoked the session, so a reconnect is refused.
pub async fn close_session_everywhere(state: &AppState, user_id: &str, session_id: &str) {
    state
        .fanout
        .send(Delivery {
            user_ids: vec![user_id.to_owned()],
            except_connection_id: String::new(),
            payload: Some(Payload::SessionRevoked(SessionRevoked {
                session_id: session_id.to_owned(),
            })),
            ..Delivery::default()
        })
        .await;
}

/// Tells every replica holding a socket of `user_id`, of any session or dialect, to close it.
/// Call it after auth-service has deleted the user, so a reconnect is refused.
pub async fn close_user_everywhere(state: &AppState, user_id: &str) {
    let payload = Payload::UserRevoked(UserRevoked {
        user_id: user_id.to_owned(),
    });
    let delivery = crate::delivery::to(vec![user_id.to_owned()], String::new(), payload);
    state.fanout.send(delivery).await;
}
