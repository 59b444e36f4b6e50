//! A platform's user calling with the access token of `POST /token`: who they are and which
//! platform they belong to (their chats are that platform's).

use axum::extract::FromRequestParts;
use axum::http::StatusCode;
use axum::http::request::Parts;
use chat_proto::auth::GetUsersRequest;

use super::error::{PlatformError, UNAUTHORIZED};
use crate::auth::{CurrentUser, bearer_token, verify};
use crate::state::AppState;

/// The caller of a user route.
#[derive(Debug, Clone)]
pub struct PlatformUser {
    pub user: CurrentUser,
    pub platform_id: String,
    /// The platform's own id of the user.
    pub user_id: String,
}

impl PlatformUser {
    /// The external id of one of the user's platform's chats.
    pub fn chat_key(&self, chat_id: &str) -> String {
        format!("{}/{chat_id}", self.platform_id)
    }
}

impl FromRequestParts<AppState> for PlatformUser {
    type Rejection = PlatformError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, PlatformError> {
        let token = bearer_token(&parts.headers)
            .ok_or_else(|| PlatformError::unauthorized(UNAUTHORIZED))?;
        let user = verify(state, token)
            .await
            .map_err(|error| PlatformError::of(error, UNAUTHORIZED))?;
        let found = state
            .services
            .auth
            .clone()
            .get_users(GetUsersRequest {
                user_ids: vec![user.id.clone()],
                numbers: Vec::new(),
            })
            .await
            .map_err(|status| PlatformError::status(status, UNAUTHORIZED))?
            .into_inner()
            .users
            .into_iter()
            .next()
            .filter(|found| !found.platform_id.is_empty())
            .ok_or_else(|| PlatformError::new(StatusCode::FORBIDDEN, "Not a platform user"))?;
        Ok(PlatformUser {
            user,
            platform_id: found.platform_id,
            user_id: found.platform_user_id,
        })
    }
}
