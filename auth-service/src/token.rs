//! Access tokens: HS256 JWTs with a `kid`, checked with the algorithm pinned, `exp`, `iss`,
//! `aud`, `sub` and `sid` required, and at most [`LEEWAY_SECS`] of clock skew forgiven. One key
//! signs; it and the previous keys (by `kid`) verify, so a key can be rotated without logging
//! everyone out.

use std::collections::HashMap;
use std::fmt;
use std::time::Duration;

use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::AuthError;
use crate::model::User;

/// Seconds an expired token is still taken, for clocks that disagree a little. The library's
/// default is 60.
pub const LEEWAY_SECS: u64 = 5;

/// A key that verifies tokens whose header names its `kid`.
#[derive(Clone)]
pub struct VerificationKey {
    pub key_id: String,
    /// HMAC key; at least 32 bytes (the config checks).
    pub secret: Vec<u8>,
}

impl fmt::Debug for VerificationKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VerificationKey")
            .field("key_id", &self.key_id)
            .field("secret", &"***")
            .finish()
    }
}

/// How access tokens are signed and what they claim.
#[derive(Clone)]
pub struct TokenSettings {
    /// HMAC key signing new tokens; at least 32 bytes (the config checks).
    pub secret: Vec<u8>,
    /// `kid` of new tokens, and of `secret` when verifying.
    pub key_id: String,
    /// Keys that only verify: the ones rotated out, kept until their tokens have expired.
    pub previous_keys: Vec<VerificationKey>,
    pub issuer: String,
    pub audience: String,
    pub ttl: Duration,
}

impl fmt::Debug for TokenSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenSettings")
            .field("secret", &"***")
            .field("key_id", &self.key_id)
            .field("previous_keys", &self.previous_keys)
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .field("ttl", &self.ttl)
            .finish()
    }
}

/// What an access token says. `user_id` repeats `sub` because the native dialect's clients read
/// it from the payload; `id`, `email` and `firstName` are the user as the messenger dialect's
/// clients read them (its document's tokens carry them). Only `sub` and `sid` are trusted.
#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    sub: String,
    /// The session the token was issued to: revoking it ends the token.
    sid: String,
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

/// Who a valid token names: a user and the session it was issued to. Whether that session is
/// still live is the store's to say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TokenSubject {
    pub user_id: Uuid,
    pub session_id: Uuid,
}

/// Signs with one key and checks with every key it knows.
pub struct Tokens {
    settings: TokenSettings,
    encoding: EncodingKey,
    decoding: HashMap<String, DecodingKey>,
    validation: Validation,
}

impl Tokens {
    pub fn new(settings: TokenSettings) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.set_issuer(&[&settings.issuer]);
        validation.set_audience(&[&settings.audience]);
        validation.leeway = LEEWAY_SECS;
        // The signing key wins over a previous key given the same `kid` by mistake.
        let decoding = settings
            .previous_keys
            .iter()
            .map(|key| (key.key_id.as_str(), key.secret.as_slice()))
            .chain([(settings.key_id.as_str(), settings.secret.as_slice())])
            .map(|(key_id, secret)| (key_id.to_owned(), DecodingKey::from_secret(secret)))
            .collect();
        Tokens {
            encoding: EncodingKey::from_secret(&settings.secret),
            decoding,
            validation,
            settings,
        }
    }

    /// A token of the user's `session_id` that also names the user: their number, email and
    /// first name.
    pub fn issue_for(&self, user: &User, session_id: Uuid) -> Result<AccessToken, AuthError> {
        let now = jsonwebtoken::get_current_timestamp();
        let claims = Claims {
            sub: user.id.to_string(),
            sid: session_id.to_string(),
            user_id: user.id.to_string(),
            id: Some(user.number),
            email: user.email.clone(),
            first_name: Some(user.first_name.clone()),
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

    /// The user and session a token signed by a known key, still in date, was issued to.
    pub fn verify(&self, token: &str) -> Result<TokenSubject, AuthError> {
        let header = jsonwebtoken::decode_header(token).map_err(|_| AuthError::InvalidToken)?;
        let key = header
            .kid
            .as_deref()
            .and_then(|key_id| self.decoding.get(key_id))
            .ok_or(AuthError::InvalidToken)?;
        let data =
            jsonwebtoken::decode::<Claims>(token, key, &self.validation).map_err(|error| {
                match error.kind() {
                    ErrorKind::ExpiredSignature => AuthError::TokenExpired,
                    _ => AuthError::InvalidToken,
                }
            })?;
        let parse = |id: &str| Uuid::parse_str(id).map_err(|_| AuthError::InvalidToken);
        Ok(TokenSubject {
            user_id: parse(&data.claims.sub)?,
            session_id: parse(&data.claims.sid)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use chrono::Utc;
    use jsonwebtoken::{Algorithm, EncodingKey, Header};
    use uuid::Uuid;

    use super::{LEEWAY_SECS, TokenSettings, Tokens, VerificationKey};
    use crate::error::AuthError;
    use crate::model::User;

    fn settings(key_id: &str, secret: u8) -> TokenSettings {
        TokenSettings {
            secret: vec![secret; 32],
            key_id: key_id.to_owned(),
            previous_keys: Vec::new(),
            issuer: "chat-backend".to_owned(),
            audience: "chat-clients".to_owned(),
            ttl: Duration::from_secs(60),
        }
    }

    fn tokens(key_id: &str) -> Tokens {
        Tokens::new(settings(key_id, 7))
    }

    fn user() -> User {
        User {
            id: Uuid::new_v4(),
            number: 1,
            username: "alice".into(),
            email: None,
            first_name: String::new(),
            last_name: String::new(),
            display_name: String::new(),
            email_confirmed: false,
            external_id: None,
            public_key: None,
            created_at: Utc::now(),
        }
    }

    /// A token of `key_id` signed with a key of 32 bytes of `secret`, expiring at `exp`.
    fn signed(key_id: &str, secret: u8, exp: u64) -> (String, Uuid, Uuid) {
        let (user_id, session_id) = (Uuid::new_v4(), Uuid::new_v4());
        let claims = serde_json::json!({
            "sub": user_id.to_string(), "sid": session_id.to_string(),
            "user_id": user_id.to_string(), "exp": exp,
            "iat": exp.saturating_sub(60), "iss": "chat-backend", "aud": "chat-clients",
        });
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some(key_id.to_owned());
        let token =
            jsonwebtoken::encode(&header, &claims, &EncodingKey::from_secret(&[secret; 32]))
                .expect("signs");
        (token, user_id, session_id)
    }

    #[test]
    fn an_issued_token_names_its_user_and_session() {
        let (user, session_id) = (user(), Uuid::new_v4());
        let token = tokens("k1").issue_for(&user, session_id).expect("signs");
        let subject = tokens("k1").verify(&token.token).expect("verifies");
        assert_eq!((subject.user_id, subject.session_id), (user.id, session_id));
    }

    #[test]
    fn a_token_of_another_key_id_is_refused() {
        let token = tokens("k0")
            .issue_for(&user(), Uuid::new_v4())
            .expect("signs");
        assert!(matches!(
            tokens("k1").verify(&token.token),
            Err(AuthError::InvalidToken)
        ));
    }

    #[test]
    fn previous_keys_verify_and_only_the_current_key_signs() {
        let mut rotated = settings("k2", 9);
        rotated.previous_keys = vec![VerificationKey {
            key_id: "k1".into(),
            secret: vec![7; 32],
        }];
        let rotated = Tokens::new(rotated);
        let old = tokens("k1")
            .issue_for(&user(), Uuid::new_v4())
            .expect("signs");
        rotated.verify(&old.token).expect("a previous key verifies");
        let new = rotated.issue_for(&user(), Uuid::new_v4()).expect("signs");
        let header = jsonwebtoken::decode_header(&new.token).expect("a header");
        assert_eq!(header.kid.as_deref(), Some("k2"));
        rotated
            .verify(&new.token)
            .expect("the current key verifies");
        assert!(matches!(
            tokens("k1").verify(&new.token),
            Err(AuthError::InvalidToken)
        ));

        // A known kid with the wrong key, and an unknown kid with a known key, are refused.
        let later = jsonwebtoken::get_current_timestamp() + 60;
        for (key_id, secret) in [("k1", 9), ("k3", 9), ("k3", 7)] {
            let (token, ..) = signed(key_id, secret, later);
            assert!(
                matches!(rotated.verify(&token), Err(AuthError::InvalidToken)),
                "{key_id} signed with {secret}"
            );
        }
    }

    #[test]
    fn expiry_is_forgiven_for_at_most_the_leeway() {
        let now = jsonwebtoken::get_current_timestamp();
        let (token, user_id, session_id) = signed("k1", 7, now - 1);
        let subject = tokens("k1").verify(&token).expect("within the leeway");
        assert_eq!((subject.user_id, subject.session_id), (user_id, session_id));
        let (token, ..) = signed("k1", 7, now - LEEWAY_SECS - 2);
        assert!(matches!(
            tokens("k1").verify(&token),
            Err(AuthError::TokenExpired)
        ));
        const { assert!(LEEWAY_SECS <= 5) };
    }

    #[test]
    fn a_token_without_a_session_is_refused() {
        let claims = serde_json::json!({
            "sub": Uuid::new_v4().to_string(), "iat": 0,
            "exp": jsonwebtoken::get_current_timestamp() + 60,
            "iss": "chat-backend", "aud": "chat-clients",
        });
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some("k1".into());
        let token = jsonwebtoken::encode(&header, &claims, &EncodingKey::from_secret(&[7; 32]))
            .expect("signs");
        assert!(matches!(
            tokens("k1").verify(&token),
            Err(AuthError::InvalidToken)
        ));
    }
}
