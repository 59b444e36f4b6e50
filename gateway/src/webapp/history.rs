//! Reading a conversation's messages the document's way: with no `timestamp` the newest 100;
//! with `timestamp` those after it (what came since the last visit, up to 1000); with
//! `timestamp` and `before: true` the 100 before it (scrolling back). Always oldest first.

use chat_proto::chat::{ListMessagesRequest, Message};
use serde::Deserialize;
use utoipa::IntoParams;

use super::error::WebappError;
use super::input::{Flag, Stamp};
use crate::state::AppState;

/// A page of history: the document's "limit: 100 older messages".
pub const PAGE: u32 = 100;
/// Most messages one "since" read returns.
pub const MAX_SINCE: usize = 1000;

/// `data` of a history read.
#[derive(Deserialize, Default, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Window {
    /// ISO 8601 or Unix ms; empty or absent: the newest messages.
    #[serde(default)]
    #[param(value_type = Option<String>)]
    pub timestamp: Stamp,
    /// `true`: the 100 messages before `timestamp`.
    #[serde(default)]
    #[param(value_type = Option<bool>)]
    pub before: Flag,
}

/// The messages of `conversation_id` (of which `user_id` may read) in `window`, oldest first.
pub async fn read(
    state: &AppState,
    user_id: &str,
    conversation_id: &str,
    window: &Window,
) -> Result<Vec<Message>, WebappError> {
    let request = ListMessagesRequest {
        user_id: user_id.to_owned(),
        conversation_id: conversation_id.to_owned(),
        limit: PAGE,
        ..ListMessagesRequest::default()
    };
    match (window.timestamp.0, window.before.0) {
        (None, _) => page(state, request).await.map(|(messages, _)| messages),
        (Some(at), true) => {
            let request = ListMessagesRequest {
                before_ms: at.max(1),
                ..request
            };
            page(state, request).await.map(|(messages, _)| messages)
        }
        (Some(at), false) => {
            let mut messages = Vec::new();
            let mut next = ListMessagesRequest {
                after_ms: at.max(1),
                ..request
            };
            loop {
                let (found, more) = page(state, next.clone()).await?;
                let last = found.last().map(|m| m.seq);
                messages.extend(found);
                match last {
                    Some(seq) if more && messages.len() < MAX_SINCE => {
                        next = ListMessagesRequest {
                            after_ms: 0,
                            after_seq: seq,
                            ..next
                        };
                    }
                    _ => break,
                }
            }
            messages.truncate(MAX_SINCE);
            Ok(messages)
        }
    }
}

async fn page(
    state: &AppState,
    request: ListMessagesRequest,
) -> Result<(Vec<Message>, bool), WebappError> {
    let page = state
        .services
        .chat
        .clone()
        .list_messages(request)
        .await?
        .into_inner();
    Ok((page.messages, page.has_more))
}
