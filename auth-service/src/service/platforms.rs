//! The platform-backend dialect's credentials (seed 002): API keys of platforms, and token pairs
//! of platforms' users — an access token (JWT naming a session, like every other) and a
//! single-use, rotating refresh token of the same session, which is the token family.

use chat_proto::auth as proto;
use chrono::{Duration, Utc};
use uuid::Uuid;

use super::{AuthService, token_hash};
use crate::error::AuthError;
use crate::model::platform_user_key;
use crate::model::{NewRefreshToken, NewSession, NewUser, RefreshUse, User, UserChanges, fold};
use crate::store::{AuthStore, StoreError};
use crate::{password, validate};

/// How long a refresh token may be exchanged.
pub const REFRESH_TOKEN_TTL: Duration = Duration::days(30);
/// Most users one GetPlatformUsers call may name.
const MAX_PLATFORM_LOOKUP: usize = 1000;
/// What a platform user's session says it is, where other sessions name a device.
const SESSION_PLATFORM: &str = "platform-api";

impl<S: AuthStore> AuthService<S> {
    pub(super) async fn platform_by_key(&self, key: &str) -> Result<proto::Platform, AuthError> {
        if key.is_empty() {
            return Err(AuthError::InvalidApiKey);
        }
        let platform = self.store.platform_by_key_hash(&token_hash(key)).await?;
        let platform = platform.ok_or(AuthError::InvalidApiKey)?;
        Ok(proto::Platform {
            id: platform.id.to_string(),
            name: platform.name,
        })
    }

    pub(super) async fn issue_platform_pair(
        &self,
        request: proto::IssuePlatformTokenRequest,
    ) -> Result<proto::PlatformTokenPair, AuthError> {
        let platform = Uuid::parse_str(&request.platform_id)
            .map_err(|_| AuthError::Validation("platform_id must be a UUID".into()))?;
        validate::platform_id("userID", &request.user_id)?;
        validate::text("displayName", &request.display_name)?;
        let key = platform_user_key(platform, &request.user_id);
        let (mut user, created) = match self.platform_user(&key).await? {
            Some(user) => (user, false),
            None => self.create_platform_user(&request, key).await?,
        };
        if !created && !request.display_name.is_empty() && request.display_name != user.display_name
        {
            let changes = UserChanges {
                display_name: Some(request.display_name.clone()),
                ..UserChanges::default()
            };
            user = self
                .store
                .update_user(user.id, changes)
                .await?
                .ok_or(AuthError::UserNotFound)?;
        }
        let session = self
            .store
            .insert_session(NewSession {
                id: Uuid::new_v4(),
                user_id: user.id,
                connection_id: Uuid::new_v4(),
                device_id: String::new(),
                platform: SESSION_PLATFORM.to_owned(),
                model: String::new(),
                build: 0,
                name: String::new(),
                token_hash: token_hash(&random_token()),
            })
            .await?;
        tracing::info!(user_id = %user.id, session_id = %session.id, created, "platform token issued");
        let mut pair = self.pair(&user, session.id).await?;
        pair.created = created;
        Ok(pair)
    }

    pub(super) async fn refresh_platform_pair(
        &self,
        refresh_token: &str,
    ) -> Result<proto::PlatformTokenPair, AuthError> {
        if refresh_token.is_empty() {
            return Err(AuthError::InvalidToken);
        }
        match self
            .store
            .use_refresh_token(&token_hash(refresh_token))
            .await?
        {
            RefreshUse::Unknown => Err(AuthError::InvalidToken),
            RefreshUse::Reused { session_id } => {
                tracing::warn!(%session_id, "a spent refresh token was reused: session revoked");
                Err(AuthError::RefreshTokenReused)
            }
            RefreshUse::Fresh {
                session_id,
                user_id,
                expires_at,
            } => {
                if expires_at <= Utc::now() {
                    return Err(AuthError::TokenExpired);
                }
                let live = self.store.identity_by_session(session_id).await?;
                if live.is_none_or(|identity| identity.user_id != user_id) {
                    return Err(AuthError::InvalidToken);
                }
                let user = self.store.user_by_id(user_id).await?;
                let user = user.ok_or(AuthError::InvalidToken)?;
                self.pair(&user, session_id).await
            }
        }
    }

    pub(super) async fn platform_users(
        &self,
        request: proto::GetPlatformUsersRequest,
    ) -> Result<proto::UserList, AuthError> {
        let platform = Uuid::parse_str(&request.platform_id)
            .map_err(|_| AuthError::Validation("platform_id must be a UUID".into()))?;
        if request.user_ids.len() > MAX_PLATFORM_LOOKUP {
            let message = format!("at most {MAX_PLATFORM_LOOKUP} users per request");
            return Err(AuthError::Validation(message));
        }
        let keys: Vec<String> = request
            .user_ids
            .iter()
            .map(|id| platform_user_key(platform, id))
            .collect();
        let users = self.store.users_by_external_ids(&keys).await?;
        Ok(super::user_list(users))
    }

    async fn platform_user(&self, key: &str) -> Result<Option<User>, AuthError> {
        let found = self.store.users_by_external_ids(&[key.to_owned()]).await?;
        Ok(found.into_iter().next())
    }

    /// A new user for the platform's `user_id`, named `<userID>@<platform name>` (with a suffix
    /// when another user's name folds to the same), with a random password nobody knows: a
    /// platform's users sign in only through their platform's backend.
    async fn create_platform_user(
        &self,
        request: &proto::IssuePlatformTokenRequest,
        key: String,
    ) -> Result<(User, bool), AuthError> {
        let password_hash = password::hash(random_token()).await?;
        let base = format!("{}@{}", request.user_id, request.platform_name);
        for attempt in 0..4 {
            let username = match attempt {
                0 => base.clone(),
                _ => format!("{base}.{}", &random_token()[..6]),
            };
            let inserted = self
                .store
                .insert_user(NewUser {
                    id: Uuid::new_v4(),
                    username_folded: fold(&username),
                    username,
                    email: None,
                    email_folded: None,
                    password_hash: password_hash.clone(),
                    first_name: String::new(),
                    last_name: String::new(),
                    display_name: request.display_name.clone(),
                    external_id: Some(key.clone()),
                })
                .await;
            match inserted {
                Ok(user) => {
                    tracing::info!(user_id = %user.id, "platform user created");
                    return Ok((user, true));
                }
                Err(StoreError::UsernameTaken) => continue,
                // Another call created them first.
                Err(StoreError::ExternalIdTaken) => {
                    let user = self.platform_user(&key).await?;
                    return Ok((user.ok_or(AuthError::UserNotFound)?, false));
                }
                Err(error) => return Err(error.into()),
            }
        }
        Err(AuthError::internal("no free username for a platform user"))
    }

    /// An access token of `session_id` and a new refresh token of it.
    async fn pair(
        &self,
        user: &User,
        session_id: Uuid,
    ) -> Result<proto::PlatformTokenPair, AuthError> {
        let access = self.tokens.issue_for(user, session_id)?;
        let refresh = random_token();
        let refresh_expires_at = Utc::now() + REFRESH_TOKEN_TTL;
        self.store
            .insert_refresh_token(NewRefreshToken {
                token_hash: token_hash(&refresh),
                session_id,
                user_id: user.id,
                expires_at: refresh_expires_at,
            })
            .await?;
        Ok(proto::PlatformTokenPair {
            access_token: access.token,
            access_expires_at_ms: i64::try_from(access.expires_at.saturating_mul(1000))
                .unwrap_or(i64::MAX),
            refresh_token: refresh,
            refresh_expires_at_ms: refresh_expires_at.timestamp_millis(),
            user: Some(user.clone().into()),
            created: false,
        })
    }
}

/// 256 random bits in hex: session and refresh tokens, API keys.
pub fn random_token() -> String {
    hex::encode(rand::random::<[u8; 32]>())
}
