//! Users' RSA public keys and checking their signatures (seed 002): `RegisterPublicKey`,
//! `VerifySignature`, `GetPublicKey`.

use chat_proto::auth as proto;
use uuid::Uuid;

use super::AuthService;
use crate::error::AuthError;
use crate::keys;
use crate::model::UserKey;
use crate::store::AuthStore;

/// Longest key text accepted (an 8192-bit key's PEM or JWK is about 1.5 KiB).
const MAX_KEY_BYTES: usize = 16 * 1024;

fn public_key(key: UserKey) -> proto::PublicKey {
    proto::PublicKey {
        id: key.id.to_string(),
        user_id: key.user_id.to_string(),
        public_key: key.public_key,
        created_at_ms: key.created_at.timestamp_millis(),
    }
}

fn user(id: &str) -> Result<Uuid, AuthError> {
    Uuid::parse_str(id).map_err(|_| AuthError::UserNotFound)
}

impl<S: AuthStore> AuthService<S> {
    pub(super) async fn register_key(
        &self,
        request: proto::RegisterPublicKeyRequest,
    ) -> Result<proto::PublicKey, AuthError> {
        let user_id = user(&request.user_id)?;
        if request.public_key.len() > MAX_KEY_BYTES {
            return Err(AuthError::Validation("the key is too long".into()));
        }
        let pem = keys::normalize(&request.public_key)?;
        if self.store.user_by_id(user_id).await?.is_none() {
            return Err(AuthError::UserNotFound);
        }
        let key = self
            .store
            .insert_user_key(Uuid::new_v4(), user_id, &pem)
            .await?;
        tracing::info!(%user_id, key_id = %key.id, "public key registered");
        Ok(public_key(key))
    }

    pub(super) async fn check_signature(
        &self,
        request: proto::VerifySignatureRequest,
    ) -> Result<proto::PublicKey, AuthError> {
        let user_id = user(&request.user_id)?;
        let key = self.store.newest_user_key(user_id).await?;
        let key = key.ok_or(AuthError::NoPublicKey)?;
        let pem = key.public_key.clone();
        let (message, signature) = (request.message, request.signature);
        // RSA arithmetic takes a millisecond or more: off the async threads.
        let verified =
            tokio::task::spawn_blocking(move || keys::verify(&pem, &message, &signature))
                .await
                .map_err(AuthError::internal)??;
        if verified {
            Ok(public_key(key))
        } else {
            Err(AuthError::BadSignature)
        }
    }

    pub(super) async fn key_by_id(&self, key_id: &str) -> Result<proto::PublicKey, AuthError> {
        let id = Uuid::parse_str(key_id).map_err(|_| AuthError::KeyNotFound)?;
        let key = self.store.user_key(id).await?;
        Ok(public_key(key.ok_or(AuthError::KeyNotFound)?))
    }
}
