//! The shapes of the native protocol's answers, for the OpenAPI document. Handlers build the
//! same JSON with `json!`; these types describe it field by field.

#![allow(dead_code)]

use serde::Serialize;
use utoipa::ToSchema;

/// `{"error":{"code","message"}}`, the error of the native protocol.
#[derive(Serialize, ToSchema)]
#[schema(as = native::ErrorJson)]
pub struct ErrorJson {
    error: ErrorDetail,
}

#[derive(Serialize, ToSchema)]
#[schema(as = native::ErrorDetail)]
pub struct ErrorDetail {
    /// Stable, snake_case: `invalid_json`, `unauthorized`, `not_a_member`, ….
    code: String,
    message: String,
}

#[derive(Serialize, ToSchema)]
#[schema(as = native::CreatedUser)]
pub struct CreatedUser {
    /// UUID.
    id: String,
    /// The same user's stable integer number.
    number: i64,
    username: String,
}

#[derive(Serialize, ToSchema)]
#[schema(as = native::LoginJson)]
pub struct LoginJson {
    /// The access token (JWT) for `Authorization: Bearer`.
    token: String,
    /// Unix milliseconds.
    expires_at: i64,
    user_id: String,
    /// The session this login opened, which the token names: `DELETE /sessions/{id}` with it
    /// ends the token.
    session_id: String,
}

#[derive(Serialize, ToSchema)]
#[schema(as = native::SessionJson)]
pub struct SessionJson {
    /// Unix milliseconds.
    created_at: i64,
    id: String,
    /// The session's WebSocket: `ws://host/{connection-id}`.
    messaging_url: String,
    /// Opaque; shown once.
    session_token: String,
    /// An access token (JWT) naming this session: it stops working when the session is
    /// deleted.
    token: String,
    /// When `token` expires, in Unix milliseconds.
    expires_at: i64,
}

#[derive(Serialize, ToSchema)]
#[schema(as = native::MemberJson)]
pub struct MemberJson {
    user_id: String,
    /// `owner` or `member`.
    role: String,
    joined_at: i64,
    last_delivered_seq: i64,
    last_read_seq: i64,
}

#[derive(Serialize, ToSchema)]
#[schema(as = native::GroupJson)]
pub struct GroupJson {
    id: String,
    number: i64,
    /// `direct`, `group` or `bot`.
    kind: String,
    name: String,
    owner_id: String,
    is_public: bool,
    created_at: i64,
    updated_at: i64,
    last_seq: i64,
    user_ids: Vec<String>,
    members: Vec<MemberJson>,
    /// Only in the answer to `POST /groups`: the same as `id`.
    group_id: Option<String>,
}

#[derive(Serialize, ToSchema)]
#[schema(as = native::MessageJson)]
pub struct MessageJson {
    message_id: String,
    group_id: String,
    user_id: String,
    data: String,
    seq: i64,
    created_at: i64,
    client_message_id: String,
}

#[derive(Serialize, ToSchema)]
#[schema(as = native::MessagePageJson)]
pub struct MessagePageJson {
    /// Ascending `seq`.
    messages: Vec<MessageJson>,
    has_more: bool,
}
