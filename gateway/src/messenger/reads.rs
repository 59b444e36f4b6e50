//! The paged reads: the caller's latest chats (`listLastMessage`), and the latest messages of a
//! dialog (`getlatestMessageDialog`) or a group (`getlatestMessageGroup`), newest first.

use chat_proto::chat::{
    Conversation, ConversationKind, GetConversationRequest, GetDirectConversationRequest,
    ListLatestMessagesRequest, ListMessagesRequest, Message,
};
use serde::Deserialize;
use serde_json::{Value, json};

use super::error::Failure;
use super::people::{self, shown};
use super::render::{name, time};
use super::requests::{Int, Outcome, Paging, Reply, params};
use crate::hub::Connection;
use crate::state::AppState;

pub async fn list_last_messages(state: &AppState, me: &Connection, raw: Value) -> Outcome {
    let paging: Paging = params(raw)?;
    let (limit, offset) = paging.window()?;
    let list = state
        .services
        .chat
        .clone()
        .list_latest_messages(ListLatestMessagesRequest {
            user_id: me.user_id.clone(),
            limit: u32::try_from(limit).unwrap_or(u32::MAX),
            offset: u32::try_from(offset).unwrap_or(u32::MAX),
        })
        .await?
        .into_inner();
    let mut ids = Vec::new();
    for item in &list.items {
        ids.extend(item.message.iter().map(|m| m.sender_id.clone()));
        let members = item.conversation.iter().flat_map(|c| &c.members);
        ids.extend(members.map(|m| m.user_id.clone()));
    }
    let users = people::by_ids(state, ids).await?;
    let data = list.items.iter().filter_map(|item| {
        let (conversation, message) = (item.conversation.as_ref()?, item.message.as_ref()?);
        let sender = users.get(&message.sender_id);
        // A bot conversation is a private chat with the bot's account.
        let direct = conversation.kind == ConversationKind::Direct as i32
            || conversation.kind == ConversationKind::Bot as i32;
        let receiver = conversation
            .members
            .iter()
            .find(|m| m.user_id != message.sender_id)
            .map(|m| users.get(&m.user_id));
        Some(json!({
            "id": message.number,
            "senderId": sender.map_or(message.sender_number, |u| u.number),
            "senderName": shown(sender),
            "receiverId": receiver.flatten().map(|u| u.number),
            "receiverName": receiver.map(shown),
            "groupId": (!direct).then_some(conversation.number),
            "groupName": (!direct).then_some(&conversation.name),
            "content": message.body,
            "createdAt": time(message.created_at_ms),
            "updatedAt": time(message.created_at_ms),
            "deletedAt": null,
        }))
    });
    Ok(Reply::data(Value::Array(data.collect())))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Dialog {
    receiver_id: Int,
    #[serde(flatten)]
    paging: Paging,
}

pub async fn dialog_messages(state: &AppState, me: &Connection, raw: Value) -> Outcome {
    let dialog: Dialog = params(raw)?;
    let window = dialog.paging.window()?;
    let peer = people::by_number(state, dialog.receiver_id.0).await?;
    let found = state
        .services
        .chat
        .clone()
        .get_direct_conversation(GetDirectConversationRequest {
            user_id: me.user_id.clone(),
            peer_id: peer.id.clone(),
            create: false,
            bot: false,
        })
        .await;
    let conversation = match found {
        Ok(conversation) => conversation.into_inner(),
        // Never written to: no messages yet.
        Err(status) if status.code() == tonic::Code::NotFound => return Ok(Reply::data(json!([]))),
        Err(status) => return Err(status.into()),
    };
    let messages = newest_first(state, me, &conversation, window).await?;
    let my_name = name(&me.sender.first_name, &me.sender.username);
    let peer_name = shown(Some(&peer));
    let data = messages.iter().map(|message| {
        let mine = message.sender_id == me.user_id;
        let (sender, receiver) = if mine {
            ((me.user_number, &my_name), (peer.number, &peer_name))
        } else {
            ((peer.number, &peer_name), (me.user_number, &my_name))
        };
        json!({
            "sender_id": sender.0,
            "receiver_id": receiver.0,
            "receverName": receiver.1,
            "content": message.body,
            "created_at": time(message.created_at_ms),
            "id": message.number,
            "senderName": sender.1,
        })
    });
    Ok(Reply::data(Value::Array(data.collect())))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Group {
    group_id: Int,
    #[serde(flatten)]
    paging: Paging,
}

pub async fn group_messages(state: &AppState, me: &Connection, raw: Value) -> Outcome {
    let group: Group = params(raw)?;
    let window = group.paging.window()?;
    let conversation = group_by_number(state, me, group.group_id.0).await?;
    let messages = newest_first(state, me, &conversation, window).await?;
    let senders = messages.iter().map(|m| m.sender_id.clone()).collect();
    let users = people::by_ids(state, senders).await?;
    let data = messages.iter().map(|message| {
        let sender = users.get(&message.sender_id);
        json!({
            "sender_id": sender.map_or(message.sender_number, |u| u.number),
            "senderName": shown(sender),
            "group_id": conversation.number,
            "created_at": time(message.created_at_ms),
            "content": message.body,
            "id": message.number,
        })
    });
    Ok(Reply::data(Value::Array(data.collect())))
}

/// The group numbered `number`, as the caller may see it.
pub async fn group_by_number(
    state: &AppState,
    me: &Connection,
    number: i64,
) -> Result<Conversation, Failure> {
    if number < 1 {
        return Err(Failure::group_not_found());
    }
    let conversation = state
        .services
        .chat
        .clone()
        .get_conversation(GetConversationRequest {
            user_id: me.user_id.clone(),
            conversation_id: String::new(),
            number,
            members_only: false,
        })
        .await?
        .into_inner();
    if conversation.kind == ConversationKind::Group as i32 {
        Ok(conversation)
    } else {
        Err(Failure::group_not_found())
    }
}

/// A page of a conversation's messages, newest first: `seq` runs from 1 without gaps, so page
/// `n` of `limit` ends just below `last_seq - (n - 1) * limit + 1`.
async fn newest_first(
    state: &AppState,
    me: &Connection,
    conversation: &Conversation,
    (limit, skipped): (i64, i64),
) -> Result<Vec<Message>, Failure> {
    let before_seq = conversation.last_seq.saturating_sub(skipped) + 1;
    if before_seq <= 1 {
        return Ok(Vec::new());
    }
    let page = state
        .services
        .chat
        .clone()
        .list_messages(ListMessagesRequest {
            user_id: me.user_id.clone(),
            conversation_id: conversation.id.clone(),
            before_seq,
            limit: u32::try_from(limit).unwrap_or(1),
            ..ListMessagesRequest::default()
        })
        .await?
        .into_inner();
    let mut messages = page.messages;
    messages.reverse();
    Ok(messages)
}
