//! A JSON body extractor whose rejections speak the API's error shape: malformed JSON is a 400
//! `invalid_json`, well-formed JSON of the wrong shape a 422 `validation_failed`. The body is
//! read as JSON whatever its content-type says, as lenient servers of these protocols do.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use serde::de::DeserializeOwned;

use crate::error::ApiError;

/// Largest request body accepted by the REST API.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

pub struct JsonBody<T>(pub T);

impl<S, T> FromRequest<S> for JsonBody<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = Bytes::from_request(request, state)
            .await
            .map_err(|rejection| {
                ApiError::new(rejection.status(), "invalid_body", rejection.body_text())
            })?;
        parse(&bytes).map(Self)
    }
}

/// Parses a JSON document; an empty body reads as `{}` so that optional bodies may be left out.
pub fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let bytes = if bytes.iter().all(u8::is_ascii_whitespace) {
        b"{}".as_slice()
    } else {
        bytes
    };
    serde_json::from_slice(bytes).map_err(|error| match error.classify() {
        serde_json::error::Category::Data => {
            ApiError::unprocessable("validation_failed", error.to_string())
        }
        _ => ApiError::bad_request("invalid_json", format!("malformed JSON: {error}")),
    })
}
