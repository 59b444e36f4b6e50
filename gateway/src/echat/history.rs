//! A room's history: its messages, oldest first — by default the newest 100 of them.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use chat_proto::chat::ListMessagesRequest;
use serde::Deserialize;
use utoipa::IntoParams;

use super::error::{EchatError, ErrorJson};
use super::render::MessageJson;
use super::rooms::member_room;
use super::session::Caller;
use crate::state::AppState;

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct History {
    /// Not in the document: the newest this many messages (1–100, default 100).
    #[param(minimum = 1, maximum = 100)]
    limit: Option<u32>,
    /// Not in the document: only messages created before this time (`created_at`'s format).
    before: Option<String>,
}

#[utoipa::path(get, path = "/v1/rooms/{room_id}/messages", tag = "echat",
    summary = "A room's messages, oldest first (the newest 100 by default)",
    operation_id = "echat_list_messages", security(("session_id" = [])),
    params(("room_id" = i64, Path, description = "the room's id"), History),
    responses((status = 200, description = "the messages, oldest first", body = Vec<MessageJson>),
        (status = 401, description = "`unauthorized`: no valid session", body = ErrorJson),
        (status = 422, description = "`room_not_found`, or `invalid_query`: a query parameter \
            that does not parse",
            body = ErrorJson)))]
pub async fn list_messages(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(room_id): Path<String>,
    query: Result<Query<History>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, EchatError> {
    let Query(history) =
        query.map_err(|rejection| EchatError::invalid_query(rejection.body_text()))?;
    let limit = history.limit.unwrap_or(100);
    if !(1..=100).contains(&limit) {
        return Err(EchatError::invalid_query("limit must be between 1 and 100"));
    }
    let before_ms = match history.before.as_deref() {
        None | Some("") => 0,
        Some(text) => chrono::NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S")
            .map_err(|_| EchatError::invalid_query("before must look like 2015-08-05T22:18:45"))?
            .and_utc()
            .timestamp_millis(),
    };
    let conversation = member_room(&state, &caller.user_id, &room_id).await?;
    let page = state
        .services
        .chat
        .clone()
        .list_messages(ListMessagesRequest {
            user_id: caller.user_id,
            conversation_id: conversation.id,
            before_ms,
            limit,
            ..ListMessagesRequest::default()
        })
        .await?
        .into_inner();
    let messages: Vec<MessageJson> = page.messages.iter().map(MessageJson::from).collect();
    Ok(Json(messages).into_response())
}
