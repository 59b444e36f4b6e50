//! Who is calling: a platform's backend by its API key, or one of its users by an access token,
//! both as `Authorization: Bearer`; and request bodies as JSON whatever the content-type.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use chat_proto::auth::VerifyPlatformKeyRequest;
use serde::de::DeserializeOwned;

use super::error::{PlatformError, UNAUTHORIZED};
use crate::auth::bearer_token;
use crate::state::AppState;

/// The platform whose backend is calling (its API key checked by auth-service).
#[derive(Debug, Clone)]
pub struct Backend {
    pub platform_id: String,
    pub name: String,
}

impl Backend {
    /// The external id of the platform's `chat_id`: scoped to the platform, so another
    /// platform's `chat-1` is another chat.
    pub fn chat_key(&self, chat_id: &str) -> String {
        format!("{}/{chat_id}", self.platform_id)
    }
}

impl FromRequestParts<AppState> for Backend {
    type Rejection = PlatformError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, PlatformError> {
        let key = bearer_token(&parts.headers)
            .ok_or_else(|| PlatformError::unauthorized(UNAUTHORIZED))?;
        let platform = state
            .services
            .auth
            .clone()
            .verify_platform_key(VerifyPlatformKeyRequest {
                key: key.to_owned(),
            })
            .await
            .map_err(|status| PlatformError::status(status, UNAUTHORIZED))?
            .into_inner();
        Ok(Backend {
            platform_id: platform.id,
            name: platform.name,
        })
    }
}

/// `[a-zA-Z0-9.-]`, 1 to 128 characters: the document's alphabet of chat and user ids.
pub fn valid_id(id: &str) -> bool {
    (1..=128).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-')
}

/// A JSON body (an empty one reads as `{}`); anything else is the route's 400.
pub fn parse<T: DeserializeOwned>(bytes: &[u8], client_error: &str) -> Result<T, PlatformError> {
    crate::json::parse(bytes).map_err(|_| PlatformError::bad_request(client_error))
}
