//! Native REST: a group's message history, by `seq` or by time.

use axum::Json;
use axum::extract::{Path, Query, State};
use chat_proto::chat::{ListMessagesRequest, Message};
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::IntoParams;

use super::schema::{ErrorJson, MessagePageJson};
use crate::auth::CurrentUser;
use crate::error::ApiError;
use crate::state::AppState;

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct HistoryQuery {
    before_seq: Option<i64>,
    after_seq: Option<i64>,
    /// Unix milliseconds.
    before: Option<i64>,
    after: Option<i64>,
    /// 1 to 100; 50 when left out.
    #[param(minimum = 1, maximum = 100)]
    limit: Option<u32>,
}

#[utoipa::path(get, path = "/groups/{group_id}/messages", tag = "native",
    summary = "A page of a group's history (ascending seq; the newest page without an after bound)",
    operation_id = "native_list_messages", security(("bearer" = [])),
    params(("group_id" = String, Path, description = "the group's id"), HistoryQuery),
    responses((status = 200, description = "a page of messages", body = MessagePageJson),
        (status = 400, description = "`invalid_query`: a query parameter that does not parse",
            body = ErrorJson),
        (status = 401, description = "no valid access token", body = ErrorJson),
        (status = 403, description = "`not_a_member`", body = ErrorJson),
        (status = 404, description = "`conversation_not_found`", body = ErrorJson),
        (status = 422, description = "`validation_failed`: a group_id that is not a UUID, a limit \
            outside 1 to 100, or a time outside the range of dates", body = ErrorJson)))]
pub async fn list_messages(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(group_id): Path<String>,
    query: Result<Query<HistoryQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let Query(query) =
        query.map_err(|rejection| ApiError::bad_request("invalid_query", rejection.body_text()))?;
    if query.limit.is_some_and(|limit| limit == 0 || limit > 100) {
        return Err(ApiError::unprocessable(
            "validation_failed",
            "limit must be between 1 and 100",
        ));
    }
    let page = state
        .services
        .chat
        .clone()
        .list_messages(ListMessagesRequest {
            user_id: user.id,
            conversation_id: group_id,
            before_seq: query.before_seq.unwrap_or(0),
            after_seq: query.after_seq.unwrap_or(0),
            before_ms: query.before.unwrap_or(0),
            after_ms: query.after.unwrap_or(0),
            limit: query.limit.unwrap_or(50),
            number: 0,
        })
        .await?
        .into_inner();
    Ok(Json(json!({
        "messages": page.messages.iter().map(message_json).collect::<Vec<_>>(),
        "has_more": page.has_more,
    })))
}

fn message_json(message: &Message) -> Value {
    json!({
        "message_id": message.id,
        "group_id": message.conversation_id,
        "user_id": message.sender_id,
        "data": message.body,
        "seq": message.seq,
        "created_at": message.created_at_ms,
        "client_message_id": message.client_message_id,
    })
}
