//! Storing a message the caller's socket sent, into a room, group or bot conversation.

use chat_proto::chat::{Message, SendMessageRequest};

use super::error::WebappError;
use crate::hub::Connection;
use crate::state::AppState;

/// Stores `body` in `conversation_id` as the caller's; the members' other sockets get it from
/// the log, this one gets what is returned.
pub async fn send(
    state: &AppState,
    me: &Connection,
    conversation_id: String,
    body: String,
) -> Result<Message, WebappError> {
    let sent = state
        .services
        .chat
        .clone()
        .send_message(SendMessageRequest {
            sender_id: me.user_id.clone(),
            sender_number: me.user_number,
            conversation_id,
            body,
            origin: Some(me.origin()),
            ..SendMessageRequest::default()
        })
        .await?
        .into_inner();
    sent.message.ok_or_else(|| {
        WebappError::from(crate::error::ApiError::from_status(
            tonic::Status::internal("a send answered no message"),
        ))
    })
}
