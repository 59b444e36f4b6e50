//! Typing, the one user action the gateways carry out themselves: it is ephemeral, so nothing is
//! logged. chat-service says whether the user is a member and who the others are; presence keeps
//! the state with an expiry; the other members' sockets get the event wherever they are.

use chat_proto::chat::GetConversationRequest;
use chat_proto::events::Typing;
use chat_proto::events::delivery::Payload;
use chat_proto::presence::TypingRequest;

use crate::delivery;
use crate::error::ApiError;
use crate::hub::Connection;
use crate::state::AppState;

/// How long a "typing" lasts when the client never says it stopped.
const TYPING_TTL_MS: u64 = 10_000;

/// `connection`'s user started (or stopped) typing in `conversation_id`.
pub async fn set(
    state: &AppState,
    connection: &Connection,
    conversation_id: String,
    typing: bool,
) -> Result<(), ApiError> {
    let me = connection.user_id.clone();
    let group = state
        .services
        .chat
        .clone()
        .get_conversation(GetConversationRequest {
            user_id: me.clone(),
            conversation_id,
            number: 0,
            members_only: true,
        })
        .await?
        .into_inner();
    state
        .services
        .presence
        .clone()
        .set_typing(TypingRequest {
            conversation_id: group.id.clone(),
            user_id: me.clone(),
            typing,
            ttl_ms: TYPING_TTL_MS,
        })
        .await?;
    let others = group
        .members
        .into_iter()
        .map(|m| m.user_id)
        .filter(|id| *id != me)
        .collect();
    let event = Typing {
        conversation_id: group.id,
        user_id: me,
        typing,
        at_ms: chrono::Utc::now().timestamp_millis(),
    };
    let except = connection.socket_id.clone();
    let delivery = delivery::to(others, except, Payload::Typing(event));
    state.fanout.send(delivery).await;
    Ok(())
}
