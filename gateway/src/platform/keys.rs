//! Users' public keys: `POST /keys` registers one (PEM or JWK, at least 2048 bits; the newest
//! signs, older ones keep verifying what they signed), `GET /keys/{keyID}` shows one to a user
//! of the same platform, so that recipients check signatures end to end.

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use chat_proto::auth::{GetPublicKeyRequest, GetUsersRequest, PublicKey, RegisterPublicKeyRequest};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::backend::parse;
use super::error::{ErrorBody, INVALID_PARAMETERS, PlatformError};
use super::user::PlatformUser;
use crate::state::AppState;

const KEY_NOT_FOUND: &str = "Key not found";

/// Either field: `publicKey` (PEM: SubjectPublicKeyInfo `BEGIN PUBLIC KEY` or PKCS#1
/// `BEGIN RSA PUBLIC KEY`) or `jwk` (`{"kty":"RSA","n","e"}`).
#[derive(Deserialize, ToSchema)]
#[schema(as = platform::NewKey)]
#[serde(rename_all = "camelCase")]
pub struct NewKey {
    #[serde(default)]
    public_key: Option<String>,
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    jwk: Option<serde_json::Value>,
}

#[derive(Serialize, ToSchema)]
#[schema(as = platform::Key)]
pub struct KeyJson {
    #[serde(rename = "keyID")]
    key_id: String,
    /// The key's owner.
    #[serde(rename = "GUID")]
    guid: String,
    /// SubjectPublicKeyInfo PEM, whatever form it was registered in.
    #[serde(rename = "publicKey")]
    public_key: String,
    /// Unix ms, as a string.
    #[serde(rename = "creationTime")]
    creation_time: String,
}

impl From<PublicKey> for KeyJson {
    fn from(key: PublicKey) -> Self {
        Self {
            key_id: key.id,
            guid: key.user_id,
            public_key: key.public_key,
            creation_time: key.created_at_ms.to_string(),
        }
    }
}

#[utoipa::path(post, path = "/keys", tag = "platform",
    summary = "Register the caller's RSA public key (the newest key signs from now on)",
    operation_id = "platform_register_key", security(("bearer" = [])), request_body = NewKey,
    responses((status = 201, description = "the key as stored, with its id", body = KeyJson),
        (status = 400, description = "`Invalid parameters`: no key, or not an RSA public key \
            of 2048 to 8192 bits", body = ErrorBody),
        (status = 401, description = "`Unauthorized`: no or an invalid access token", body = ErrorBody),
        (status = 403, description = "`Not a platform user`", body = ErrorBody)))]
pub async fn register_key(
    State(state): State<AppState>,
    caller: PlatformUser,
    body: Bytes,
) -> Result<(StatusCode, Json<KeyJson>), PlatformError> {
    let new: NewKey = parse(&body, INVALID_PARAMETERS)?;
    let text = match (new.public_key, new.jwk) {
        (Some(pem), None) => pem,
        (None, Some(jwk)) if jwk.is_object() => jwk.to_string(),
        _ => return Err(PlatformError::bad_request(INVALID_PARAMETERS)),
    };
    let key = state
        .services
        .auth
        .clone()
        .register_public_key(RegisterPublicKeyRequest {
            user_id: caller.user.id,
            public_key: text,
        })
        .await
        .map_err(|status| PlatformError::status(status, INVALID_PARAMETERS))?
        .into_inner();
    Ok((StatusCode::CREATED, Json(key.into())))
}

#[utoipa::path(get, path = "/keys/{keyID}", tag = "platform",
    summary = "A public key of a user of the caller's platform, by the id a message names",
    operation_id = "platform_get_key", security(("bearer" = [])),
    params(("keyID" = String, Path, description = "the keyID of a message or of POST /keys")),
    responses((status = 200, description = "the key", body = KeyJson),
        (status = 401, description = "`Unauthorized`", body = ErrorBody),
        (status = 403, description = "`Not a platform user`", body = ErrorBody),
        (status = 404, description = "`Key not found`: no such key on the caller's platform",
            body = ErrorBody)))]
pub async fn get_key(
    State(state): State<AppState>,
    caller: PlatformUser,
    path: Result<Path<String>, PathRejection>,
) -> Result<Json<KeyJson>, PlatformError> {
    let not_found = || PlatformError::new(StatusCode::NOT_FOUND, KEY_NOT_FOUND);
    let Ok(Path(key_id)) = path else {
        return Err(not_found());
    };
    let mut auth = state.services.auth.clone();
    let key = auth
        .get_public_key(GetPublicKeyRequest { key_id })
        .await
        .map_err(|status| match status.code() {
            tonic::Code::NotFound => not_found(),
            _ => PlatformError::status(status, KEY_NOT_FOUND),
        })?
        .into_inner();
    // Another platform's users' keys are not there for this one.
    let owner = auth
        .get_users(GetUsersRequest {
            user_ids: vec![key.user_id.clone()],
            numbers: Vec::new(),
        })
        .await
        .map_err(|status| PlatformError::status(status, KEY_NOT_FOUND))?
        .into_inner()
        .users;
    if !owner
        .iter()
        .any(|user| user.platform_id == caller.platform_id)
    {
        return Err(not_found());
    }
    Ok(Json(key.into()))
}
