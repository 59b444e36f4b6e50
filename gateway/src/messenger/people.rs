//! Users by number (as the document names them) and by id (as conversations list them), and
//! how the document names them.

use std::collections::HashMap;

use chat_proto::auth::{GetUsersRequest, User};

use super::error::Failure;
use super::render::{DELETED_USER, name};
use crate::state::AppState;

/// Most users one GetUsers call looks up.
const LOOKUP_BATCH: usize = 1000;

/// The user with this number; deleted users are not found.
pub async fn by_number(state: &AppState, number: i64) -> Result<User, Failure> {
    let found = state
        .services
        .auth
        .clone()
        .get_users(GetUsersRequest {
            user_ids: Vec::new(),
            numbers: vec![number],
        })
        .await?
        .into_inner();
    found
        .users
        .into_iter()
        .next()
        .ok_or_else(Failure::user_not_found)
}

/// The users behind these ids, by id; deleted users are left out.
pub async fn by_ids(
    state: &AppState,
    mut ids: Vec<String>,
) -> Result<HashMap<String, User>, Failure> {
    ids.sort();
    ids.dedup();
    let mut users = HashMap::with_capacity(ids.len());
    for batch in ids.chunks(LOOKUP_BATCH) {
        let found = state
            .services
            .auth
            .clone()
            .get_users(GetUsersRequest {
                user_ids: batch.to_vec(),
                numbers: Vec::new(),
            })
            .await?
            .into_inner();
        users.extend(found.users.into_iter().map(|u| (u.id.clone(), u)));
    }
    Ok(users)
}

/// A user's name, or the name of a deleted user.
pub fn shown(user: Option<&User>) -> String {
    user.map_or_else(
        || DELETED_USER.to_owned(),
        |user| name(&user.first_name, &user.username),
    )
}
