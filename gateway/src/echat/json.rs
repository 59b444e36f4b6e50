//! The dialect's JSON bodies: anything that does not read as the expected JSON — malformed, or
//! missing a field — is the document's 422 `invalid_json`. Read whatever the content-type says.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use serde::de::DeserializeOwned;

use super::error::EchatError;

pub struct EchatJson<T>(pub T);

impl<S, T> FromRequest<S> for EchatJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = EchatError;

    async fn from_request(request: Request, state: &S) -> Result<Self, EchatError> {
        let bytes = Bytes::from_request(request, state)
            .await
            .map_err(|rejection| EchatError::invalid_json(rejection.body_text()))?;
        serde_json::from_slice(&bytes)
            .map(Self)
            .map_err(|error| EchatError::invalid_json(format!("invalid JSON body: {error}")))
    }
}
