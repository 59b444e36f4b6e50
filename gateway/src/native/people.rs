//! Native REST: finding people and talking to one of them — `GET /users` (by username, or by
//! id, to show who a member is) and `PUT /users/{user_id}/direct` (the direct conversation with
//! a user, made on first use). Additions to seed 000, which has neither; the web client uses
//! both.

use axum::Json;
use axum::extract::{Path, Query, State};
use chat_proto::auth::{GetUsersRequest, ListUsersRequest, SearchUsersRequest, User};
use chat_proto::chat::GetDirectConversationRequest;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};

use super::groups::group_json;
use super::schema::{ErrorJson, GroupJson};
use crate::auth::CurrentUser;
use crate::error::ApiError;
use crate::state::AppState;

/// Most users one lookup answers.
const MOST: usize = 100;

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PeopleQuery {
    /// Users whose username contains this, case-insensitively (at most 100).
    q: Option<String>,
    /// Comma-separated user ids (at most 100): these users, unknown ones left out.
    ids: Option<String>,
}

/// What anyone signed in may see of a user.
#[derive(Serialize, ToSchema)]
#[schema(as = native::PersonJson)]
pub struct PersonJson {
    id: String,
    number: i64,
    username: String,
    first_name: String,
    last_name: String,
    display_name: String,
}

impl From<User> for PersonJson {
    fn from(user: User) -> Self {
        Self {
            id: user.id,
            number: user.number,
            username: user.username,
            first_name: user.first_name,
            last_name: user.last_name,
            display_name: user.display_name,
        }
    }
}

#[derive(Serialize, ToSchema)]
#[schema(as = native::PeopleJson)]
pub struct PeopleJson {
    users: Vec<PersonJson>,
}

#[utoipa::path(get, path = "/users", tag = "native",
    summary = "Users by username (q) or by id (ids); neither: the first 100 users",
    operation_id = "native_find_users", security(("bearer" = [])), params(PeopleQuery),
    responses((status = 200, description = "the users found", body = PeopleJson),
        (status = 400, description = "`invalid_query`: a query that does not parse",
            body = ErrorJson),
        (status = 401, description = "no valid access token", body = ErrorJson),
        (status = 422, description = "`validation_failed`: more than 100 ids", body = ErrorJson)))]
pub async fn find_users(
    State(state): State<AppState>,
    _user: CurrentUser,
    query: Result<Query<PeopleQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<PeopleJson>, ApiError> {
    let Query(query) =
        query.map_err(|rejection| ApiError::bad_request("invalid_query", rejection.body_text()))?;
    let mut auth = state.services.auth.clone();
    // Looked up by id, everyone is shown (a bot conversation's member too); found by name, the
    // gateways' bot account is left out, as the web app's user list leaves it out.
    let users = if let Some(ids) = query.ids {
        let user_ids: Vec<String> = ids
            .split(',')
            .map(str::trim)
            .filter(|id| !id.is_empty())
            .map(str::to_owned)
            .collect();
        if user_ids.len() > MOST {
            return Err(ApiError::unprocessable(
                "validation_failed",
                format!("at most {MOST} ids at once"),
            ));
        }
        if user_ids.is_empty() {
            Vec::new()
        } else {
            let request = GetUsersRequest {
                user_ids,
                numbers: Vec::new(),
            };
            auth.get_users(request).await?.into_inner().users
        }
    } else {
        match query.q.as_deref().map(str::trim).filter(|q| !q.is_empty()) {
            Some(q) => {
                let request = SearchUsersRequest {
                    query: q.to_owned(),
                    limit: MOST as u32,
                };
                auth.search_users(request).await?.into_inner().users
            }
            None => {
                let request = ListUsersRequest {
                    after_number: 0,
                    limit: MOST as u32,
                };
                auth.list_users(request).await?.into_inner().users
            }
        }
        .into_iter()
        .filter(|u| !crate::bot::is_service_account(&u.username))
        .collect()
    };
    Ok(Json(PeopleJson {
        users: users.into_iter().map(PersonJson::from).collect(),
    }))
}

#[utoipa::path(put, path = "/users/{user_id}/direct", tag = "native",
    summary = "The direct conversation with a user, made on first use",
    operation_id = "native_direct_conversation", security(("bearer" = [])),
    params(("user_id" = String, Path, description = "the other user's id")),
    responses((status = 200, description = "the conversation, `kind` `direct`", body = GroupJson),
        (status = 401, description = "no valid access token", body = ErrorJson),
        (status = 404, description = "`user_not_found`", body = ErrorJson),
        (status = 422, description = "`validation_failed`: yourself", body = ErrorJson)))]
pub async fn direct_conversation(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(peer_id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    if peer_id == user.id {
        return Err(ApiError::unprocessable(
            "validation_failed",
            "a direct conversation is with someone else",
        ));
    }
    let found = state
        .services
        .auth
        .clone()
        .get_users(GetUsersRequest {
            user_ids: vec![peer_id.clone()],
            numbers: Vec::new(),
        })
        .await?
        .into_inner();
    if found.users.is_empty() {
        return Err(ApiError::not_found("user_not_found", "no such user"));
    }
    let conversation = state
        .services
        .chat
        .clone()
        .get_direct_conversation(GetDirectConversationRequest {
            user_id: user.id,
            peer_id,
            create: true,
            bot: false,
        })
        .await?
        .into_inner();
    Ok(Json(group_json(&conversation)))
}
