//! The writes: `newGroup`, `addUserInGroup`, `leaveGroup` (groups of the shared model, which
//! members on the native protocol see change as events 70, 72, 73), and `messageInGroup`,
//! `privateMessage` (a direct conversation of the shared model, one per pair). Every member's
//! other sockets get the message, in their own dialect.

use chat_proto::chat::conversation_event::Kind;
use chat_proto::chat::{
    Conversation, ConversationEvent, CreateGroupRequest, GetDirectConversationRequest,
    GroupCreated, MemberChanged, MembershipRequest, SendMessageRequest,
};
use chat_proto::events::delivery::Payload;
use serde::Deserialize;
use serde_json::{Value, json};

use super::people;
use super::reads::group_by_number;
use super::requests::{Int, Outcome, Reply, params};
use crate::delivery;
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
        })
        .await?
        .into_inner();
    let members = member_ids(&created);
    let kind = Kind::GroupCreated(GroupCreated {
        name: created.name.clone(),
        owner_id: created.owner_id.clone(),
        member_ids: members.clone(),
    });
    notify(state, &created, created.created_at_ms, kind, members).await;
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
    let change = state
        .services
        .chat
        .clone()
        .join_group(MembershipRequest {
            actor_id: me.user_id.clone(),
            conversation_id: group.id,
            user_id: user.id.clone(),
        })
        .await?
        .into_inner();
    let group = change.conversation.unwrap_or_default();
    if change.changed {
        let kind = Kind::MemberJoined(MemberChanged {
            user_id: user.id,
            actor_id: me.user_id.clone(),
        });
        notify(state, &group, change.at_ms, kind, member_ids(&group)).await;
    }
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
    let change = state
        .services
        .chat
        .clone()
        .leave_group(MembershipRequest {
            actor_id: me.user_id.clone(),
            conversation_id: group.id,
            user_id: me.user_id.clone(),
        })
        .await?
        .into_inner();
    let group = change.conversation.unwrap_or_default();
    let mut recipients = member_ids(&group);
    recipients.push(me.user_id.clone());
    let kind = Kind::MemberLeft(MemberChanged {
        user_id: me.user_id.clone(),
        actor_id: me.user_id.clone(),
    });
    notify(state, &group, change.at_ms, kind, recipients).await;
    Ok(Reply::default())
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct GroupMessage {
    group_id: Int,
    content: String,
}

pub async fn message_in_group(state: &AppState, me: &Connection, raw: Value) -> Outcome {
    let message: GroupMessage = params(raw)?;
    if message.group_id.0 < 1 {
        return Err(super::error::Failure::group_not_found());
    }
    let request = SendMessageRequest {
        number: message.group_id.0,
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

/// Stores the message as the caller's and hands it to the members' other sockets.
async fn send(state: &AppState, me: &Connection, request: SendMessageRequest) -> Outcome {
    let sent = state
        .services
        .chat
        .clone()
        .send_message(SendMessageRequest {
            sender_id: me.user_id.clone(),
            sender_number: me.user_number,
            ..request
        })
        .await?
        .into_inner();
    let extra = sent.message.as_ref().map(|m| (m.number, m.created_at_ms));
    let except = me.socket_id.clone();
    if let Some(delivery) = delivery::message(sent, me.sender.clone(), except) {
        state.fanout.send(delivery).await;
    }
    let mut reply = Reply::default();
    if let Some((number, created_at_ms)) = extra {
        reply = reply
            .with("id", json!(number))
            .with("createdAt", json!(super::render::time(created_at_ms)));
    }
    Ok(reply)
}

fn member_ids(group: &Conversation) -> Vec<String> {
    group.members.iter().map(|m| m.user_id.clone()).collect()
}

/// Tells `recipients` (in every dialect) what happened to the group.
async fn notify(
    state: &AppState,
    group: &Conversation,
    at_ms: i64,
    kind: Kind,
    recipients: Vec<String>,
) {
    let event = ConversationEvent {
        conversation_id: group.id.clone(),
        at_ms,
        kind: Some(kind),
    };
    let delivery = delivery::to(recipients, String::new(), Payload::Conversation(event));
    state.fanout.send(delivery).await;
}
