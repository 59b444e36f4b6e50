//! Access tokens: HS256 JWTs with a `kid`, checked with the algorithm pinned and `exp`, `iss`,
//! `aud` and `sub` required.

use std::fmt;
use std::time::Duration;

use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::AuthError;
use crate::model::User;

/// How access tokens are signed and what they claim.
#[derive(Clone)]
pub struct TokenSettings {
    /// HMAC key; at least 32 bytes (the config checks).
    pub secret: Vec<u8>,
    pub key_id: String,
    pub issuer: String,
    pub audience: String,
    pub ttl: Duration,
}

impl fmt::Debug for TokenSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenSettings")
            .field("secret", &"***")
            .field("key_id", &self.key_id)
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .field("ttl", &self.ttl)
            .finish()
    }
}

/// What an access token says. `user_id` repeats `sub` because the native dialect's clients read
/// it from the payload; `id`, `email` and `firstName` are the user as the messenger dialect's
/// clients read them (its document's tokens carry them). Only `sub` is trusted.
#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    sub: String,
    user_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    id: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    email: Option<String>,
    #[serde(default, rename = "firstName", skip_serializing_if = "Option::is_none")]
    first_name: Option<String>,
    exp: u64,
    iat: u64,
    iss: String,
    aud: String,
}

/// A freshly signed access token.
#[derive(Debug, Clone)]
pub struct AccessToken {
    pub token: String,
    /// Seconds since the Unix epoch.
    pub expires_at: u64,
}

/// Signs and checks access tokens with one key.
pub struct Tokens {
    settings: TokenSettings,
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
}

impl Tokens {
    pub fn new(settings: TokenSettings) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.set_issuer(&[&settings.issuer]);
        validation.set_audience(&[&settings.audience]);
        Tokens {
            encoding: EncodingKey::from_secret(&settings.secret),
            decoding: DecodingKey::from_secret(&settings.secret),
            validation,
            settings,
        }
    }

    pub fn issue(&self, user_id: Uuid) -> Result<AccessToken, AuthError> {
        self.sign(user_id, None)
    }

    /// A token that also names the user: their number, email and first name.
    pub fn issue_for(&self, user: &User) -> Result<AccessToken, AuthError> {
        self.sign(user.id, Some(user))
    }

    fn sign(&self, user_id: Uuid, user: Option<&User>) -> Result<AccessToken, AuthError> {
        let now = jsonwebtoken::get_current_timestamp();
        let claims = Claims {
            sub: user_id.to_string(),
            user_id: user_id.to_string(),
            id: user.map(|u| u.number),
            email: user.and_then(|u| u.email.clone()),
            first_name: user.map(|u| u.first_name.clone()),
            exp: now + self.settings.ttl.as_secs(),
            iat: now,
            iss: self.settings.issuer.clone(),
            aud: self.settings.audience.clone(),
        };
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some(self.settings.key_id.clone());
        let token =
            jsonwebtoken::encode(&header, &claims, &self.encoding).map_err(AuthError::internal)?;
        Ok(AccessToken {
            token,
            expires_at: claims.exp,
        })
    }

    /// The user a valid token was issued to.
    pub fn verify(&self, token: &str) -> Result<Uuid, AuthError> {
        let header = jsonwebtoken::decode_header(token).map_err(|_| AuthError::InvalidToken)?;
        if header.kid.as_deref() != Some(self.settings.key_id.as_str()) {
            return Err(AuthError::InvalidToken);
        }
        let data = jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .map_err(|error| match error.kind() {
                ErrorKind::ExpiredSignature => AuthError::TokenExpired,
                _ => AuthError::InvalidToken,
            })?;
        Uuid::parse_str(&data.claims.sub).map_err(|_| AuthError::InvalidToken)
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use uuid::Uuid;

    use super::{TokenSettings, Tokens};
    use crate::error::AuthError;

    fn tokens(key_id: &str) -> Tokens {
        Tokens::new(TokenSettings {
            secret: vec![7; 32],
            key_id: key_id.to_owned(),
            issuer: "chat-backend".to_owned(),
            audience: "chat-clients".to_owned(),
            ttl: Duration::from_secs(60),
        })
    }

    #[test]
    fn an_issued_token_names_its_user() {
        let user_id = Uuid::new_v4();
        let token = tokens("k1").issue(user_id).expect("signs");
        assert_eq!(
            tokens("k1").verify(&token.token).expect("verifies"),
            user_id
        );
    }

    #[test]
    fn a_token_of_another_key_id_is_refused() {
        let token = tokens("k0").issue(Uuid::new_v4()).expect("signs");
        assert!(matches!(
            tokens("k1").verify(&token.token),
            Err(AuthError::InvalidToken)
        ));
    }
}
