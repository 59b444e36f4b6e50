//! Who is calling over HTTP: the access JWT of `Authorization: Bearer <token>` (from
//! `POST /api/auth/login`), verified by auth-service; and request bodies read as JSON whatever
//! the content-type, their errors in the dialect's shape.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use super::error::HttpError;
use crate::auth::{CurrentUser, bearer_token, verify};
use crate::state::AppState;

/// The caller of an authenticated `/api` route.
pub struct Account(pub CurrentUser);

impl FromRequestParts<AppState> for Account {
    type Rejection = HttpError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, HttpError> {
        let token = bearer_token(&parts.headers)
            .ok_or_else(|| HttpError::unauthorized("an Authorization: Bearer token is required"))?;
        match verify(state, token).await {
            Ok(user) => Ok(Account(user)),
            Err(error) if error.status.is_server_error() => Err(error.into()),
            Err(_) => Err(HttpError::unauthorized("Unauthorized")),
        }
    }
}

/// A JSON body: malformed JSON and well-formed JSON of the wrong shape are both 400.
pub struct Body<T>(pub T);

impl<S, T> FromRequest<S> for Body<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = HttpError;

    async fn from_request(request: Request, state: &S) -> Result<Self, HttpError> {
        let bytes = Bytes::from_request(request, state)
            .await
            .map_err(|rejection| {
                HttpError::new(rejection.status(), "invalid_body", rejection.body_text())
            })?;
        crate::json::parse(&bytes)
            .map(Body)
            .map_err(HttpError::from)
    }
}
