//! The writes: `newGroup`, `addUserInGroup`, `leaveGroup` (groups of the shared model, which
//! members on the native protocol see change as events 70, 72, 73), and `messageInGroup`,
//! `privateMessage` (a direct conversation of the shared model, one per pair). chat-service
//! logs each change for the members, whose sockets get it in their own dialect; the caller's
//! socket gets the reply instead.

use chat_proto::chat::{
    CreateGroupRequest, GetDirectConversationRequest, MembershipRequest, SendMessageRequest,
};
use serde::Deserialize;
use serde_json::{Value, json};

use super::people;
use super::reads::group_by_number;
use super::requests::{Int, Outcome, Reply, params};
use crate::hub::Connection;
use crate::state::AppState;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct NewGroup {
    group_name: String,
}

pub async fn new_group(state: &AppState, me: &Connection, raw: Value) -> Outcome {
    let new: NewGroup = params(raw)?;
    let created = state
        .services
        .chat
        .clone()
        .create_group(CreateGroupRequest {
            creator_id: me.user_id.clone(),
            name: new.group_name,
            member_ids: Vec::new(),
            is_public: false,
            external_id: String::new(),
        })
        .await?
        .into_inner();
    Ok(Reply::default()
        .with("groupId", json!(created.number))
        .with("groupName", json!(created.name)))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct AddUser {
    group_id: Int,
    user_id: Int,
}

pub async fn add_user(state: &AppState, me: &Connection, raw: Value) -> Outcome {
    let add: AddUser = params(raw)?;
    let group = group_by_number(state, me, add.group_id.0).await?;
    let user = people::by_number(state, add.user_id.0).await?;
    state
        .services
        .chat
        .clone()
        .join_group(MembershipRequest {
            actor_id: me.user_id.clone(),
            conversation_id: group.id,
            user_id: user.id.clone(),
        })
        .await?;
    Ok(Reply::default())
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct GroupRef {
    group_id: Int,
}

pub async fn leave_group(state: &AppState, me: &Connection, raw: Value) -> Outcome {
    let leave: GroupRef = params(raw)?;
    let group = group_by_number(state, me, leave.group_id.0).await?;
    state
        .services
        .chat
        .clone()
        .leave_group(MembershipRequest {
            actor_id: me.user_id.clone(),
            conversation_id: group.id,
            user_id: me.user_id.clone(),
        })
        .await?;
    Ok(Reply::default())
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct GroupMessage {
    group_id: Int,
    content: String,
}

/// Only into a group: the number of a private dialog is no group's (its messages are
/// `privateMessage`s), as for the other group requests.
pub async fn message_in_group(state: &AppState, me: &Connection, raw: Value) -> Outcome {
    let message: GroupMessage = params(raw)?;
    let group = group_by_number(state, me, message.group_id.0).await?;
    let request = SendMessageRequest {
        conversation_id: group.id,
        body: message.content,
        ..SendMessageRequest::default()
    };
    send(state, me, request).await
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PrivateMessage {
    receiver_id: Int,
    content: String,
}

pub async fn private_message(state: &AppState, me: &Connection, raw: Value) -> Outcome {
    let message: PrivateMessage = params(raw)?;
    let peer = people::by_number(state, message.receiver_id.0).await?;
    let conversation = state
        .services
        .chat
        .clone()
        .get_direct_conversation(GetDirectConversationRequest {
            user_id: me.user_id.clone(),
            peer_id: peer.id,
            create: true,
            bot: false,
        })
        .await?
        .into_inner();
    let request = SendMessageRequest {
        conversation_id: conversation.id,
        body: message.content,
        ..SendMessageRequest::default()
    };
    send(state, me, request).await
}

/// Stores the message as the caller's; the members' other sockets get it from the log.
async fn send(state: &AppState, me: &Connection, request: SendMessageRequest) -> Outcome {
    let sent = state
        .services
        .chat
        .clone()
        .send_message(SendMessageRequest {
            sender_id: me.user_id.clone(),
            sender_number: me.user_number,
            origin: Some(me.origin()),
            ..request
        })
        .await?
        .into_inner();
    let mut reply = Reply::default();
    if let Some(message) = &sent.message {
        reply = reply.with("id", json!(message.number)).with(
            "createdAt",
            json!(super::render::time(message.created_at_ms)),
        );
    }
    Ok(reply)
}
