//! `AuthService`: the `auth.v1.Auth` gRPC service over any [`AuthStore`].

mod accounts;
mod admin;
mod keys;
mod platforms;

pub use admin::AuthAdminService;
pub use platforms::random_token;
mod registration;

use std::sync::Arc;

use chat_proto::auth as proto;
use chat_proto::auth::auth_server::Auth;
use sha2::{Digest, Sha256};
use tonic::{Request, Response, Status};
use uuid::Uuid;

use crate::error::AuthError;
use crate::limiter::{LoginLimit, LoginLimiter};
use crate::model::{NewSession, NewUser, User, fold};
use crate::store::AuthStore;
use crate::token::{TokenSettings, Tokens};
use crate::{password, validate};

/// Search results per page when the client does not say, and the most it may ask for.
const DEFAULT_SEARCH_LIMIT: u32 = 20;
const MAX_SEARCH_LIMIT: u32 = 100;
const DEFAULT_LIST_LIMIT: u32 = 100;
const MAX_LIST_LIMIT: u32 = 1000;
/// Most ids plus numbers one GetUsers call may ask for.
const MAX_LOOKUP: usize = 1000;

/// Users, sessions and tokens. Cheap to clone: clones share the store, keys and login limits.
pub struct AuthService<S> {
    store: Arc<S>,
    tokens: Arc<Tokens>,
    limiter: Arc<LoginLimiter>,
    /// How long a registration's confirmation link works.
    registration_ttl: std::time::Duration,
}

impl<S> Clone for AuthService<S> {
    fn clone(&self) -> Self {
        AuthService {
            store: Arc::clone(&self.store),
            tokens: Arc::clone(&self.tokens),
            limiter: Arc::clone(&self.limiter),
            registration_ttl: self.registration_ttl,
        }
    }
}

impl<S: AuthStore> AuthService<S> {
    /// A service with the default login limit (10 failures per identifier per minute).
    pub fn new(store: S, tokens: TokenSettings) -> Self {
        AuthService {
            store: Arc::new(store),
            tokens: Arc::new(Tokens::new(tokens)),
            limiter: Arc::new(LoginLimiter::default()),
            registration_ttl: registration::REGISTRATION_TTL,
        }
    }

    /// How long a registration's confirmation link works (24 hours unless changed).
    pub fn with_registration_ttl(mut self, ttl: std::time::Duration) -> Self {
        self.registration_ttl = ttl;
        self
    }

    pub fn with_login_limit(mut self, limit: LoginLimit) -> Self {
        self.limiter = Arc::new(LoginLimiter::new(limit));
        self
    }
}

impl<S: AuthStore> AuthService<S> {
    /// A new session of `user` for the device `request` describes (its `user_id` unread), with
    /// its opaque session token and an access token naming it.
    async fn open_session(
        &self,
        user: &User,
        request: proto::CreateSessionRequest,
    ) -> Result<proto::Session, AuthError> {
        validate::text("device_id", &request.device_id)?;
        validate::text("platform", &request.platform)?;
        validate::text("model", &request.model)?;
        validate::text("name", &request.name)?;
        // The token is shown once; a leaked table must not yield usable tokens.
        let token = hex::encode(rand::random::<[u8; 32]>());
        let session = self
            .store
            .insert_session(NewSession {
                id: Uuid::new_v4(),
                user_id: user.id,
                connection_id: Uuid::new_v4(),
                device_id: request.device_id,
                platform: request.platform,
                model: request.model,
                build: request.build,
                name: request.name,
                token_hash: token_hash(&token),
            })
            .await?;
        let access = self.tokens.issue_for(user, session.id)?;
        tracing::info!(user_id = %user.id, session_id = %session.id, "session created");
        Ok(proto::Session {
            session_token: token,
            access_token: access.token,
            expires_at_ms: i64::try_from(access.expires_at.saturating_mul(1000))
                .unwrap_or(i64::MAX),
            ..session.into()
        })
    }
}

#[tonic::async_trait]
impl<S: AuthStore> Auth for AuthService<S> {
    async fn register(
        &self,
        request: Request<proto::RegisterRequest>,
    ) -> Result<Response<proto::User>, Status> {
        let request = request.into_inner();
        if request.service_account {
            validate::service_account_username(&request.username)?;
            if !request.email.is_empty() {
                let message = "a service account has no email".to_owned();
                return Err(AuthError::Validation(message).into());
            }
        } else {
            validate::username(&request.username)?;
        }
        validate::password(&request.password)?;
        let email = validate::email(&request.email)?.map(str::to_owned);
        validate::text("first_name", &request.first_name)?;
        validate::text("last_name", &request.last_name)?;
        validate::text("display_name", &request.display_name)?;
        let password_hash = password::hash(request.password).await?;
        let user = self
            .store
            .insert_user(NewUser {
                id: Uuid::new_v4(),
                username_folded: fold(&request.username),
                username: request.username,
                email_folded: email.as_deref().map(fold),
                email,
                password_hash,
                first_name: request.first_name,
                last_name: request.last_name,
                display_name: request.display_name,
                external_id: None,
            })
            .await
            .map_err(AuthError::from)?;
        tracing::info!(user_id = %user.id, number = user.number, "user registered");
        Ok(Response::new(user.into()))
    }

    async fn login(
        &self,
        request: Request<proto::LoginRequest>,
    ) -> Result<Response<proto::LoginResponse>, Status> {
        let request = request.into_inner();
        validate::password(&request.password)?;
        // Usernames and emails are counted apart: "a@b" may be both someone's username and
        // someone else's email.
        let (by_email, folded) = match (request.username.as_str(), request.email.as_str()) {
            ("", "") => {
                let message = "username or email is required".to_owned();
                return Err(AuthError::Validation(message).into());
            }
            ("", email) => {
                validate::login_name("email", email)?;
                (true, fold(email))
            }
            (username, _) => {
                validate::login_name("username", username)?;
                (false, fold(username))
            }
        };
        let limit_key = format!("{}:{folded}", if by_email { "email" } else { "username" });
        self.limiter.check(&limit_key)?;
        let found = if by_email {
            self.store.credentials_by_email(&folded).await
        } else {
            self.store.credentials_by_username(&folded).await
        };
        let Some(credentials) = found.map_err(AuthError::from)? else {
            self.limiter.record_failure(&limit_key);
            return Err(AuthError::UserNotFound.into());
        };
        if !password::verify(request.password, credentials.password_hash).await? {
            self.limiter.record_failure(&limit_key);
            tracing::info!(user_id = %credentials.user.id, "login with a wrong password");
            return Err(AuthError::WrongCredentials.into());
        }
        self.limiter.clear(&limit_key);
        let device = request.session.unwrap_or_default();
        let session = self.open_session(&credentials.user, device).await?;
        Ok(Response::new(proto::LoginResponse {
            access_token: session.access_token.clone(),
            expires_at_ms: session.expires_at_ms,
            user: Some(credentials.user.into()),
            session: Some(session),
        }))
    }

    async fn create_session(
        &self,
        request: Request<proto::CreateSessionRequest>,
    ) -> Result<Response<proto::Session>, Status> {
        let request = request.into_inner();
        let user_id = Uuid::parse_str(&request.user_id)
            .map_err(|_| AuthError::Validation("user_id must be a UUID".into()))?;
        let user = self.store.user_by_id(user_id).await;
        let user = user
            .map_err(AuthError::from)?
            .ok_or(AuthError::UserNotFound)?;
        Ok(Response::new(self.open_session(&user, request).await?))
    }

    async fn verify_token(
        &self,
        request: Request<proto::VerifyTokenRequest>,
    ) -> Result<Response<proto::Identity>, Status> {
        let subject = self.tokens.verify(&request.get_ref().token)?;
        // Every check reads the session, so a revocation holds at once on every replica of
        // every service, including ones started after it; it costs the one indexed lookup the
        // check of a live user cost before.
        let identity = self.store.identity_by_session(subject.session_id).await;
        let identity = identity
            .map_err(AuthError::from)?
            .filter(|identity| identity.user_id == subject.user_id)
            .ok_or(AuthError::InvalidToken)?;
        Ok(Response::new(identity.into()))
    }

    async fn resolve_connection(
        &self,
        request: Request<proto::ResolveConnectionRequest>,
    ) -> Result<Response<proto::Identity>, Status> {
        let connection_id = Uuid::parse_str(&request.get_ref().connection_id)
            .map_err(|_| AuthError::ConnectionNotFound)?;
        let identity = self.store.identity_by_connection(connection_id).await;
        let identity = identity.map_err(AuthError::from)?;
        Ok(Response::new(
            identity.ok_or(AuthError::ConnectionNotFound)?.into(),
        ))
    }

    async fn resolve_session_token(
        &self,
        request: Request<proto::ResolveSessionTokenRequest>,
    ) -> Result<Response<proto::Identity>, Status> {
        let token = &request.get_ref().session_token;
        if token.is_empty() {
            return Err(AuthError::SessionNotFound.into());
        }
        let identity = self.store.identity_by_token_hash(&token_hash(token)).await;
        let identity = identity.map_err(AuthError::from)?;
        Ok(Response::new(
            identity.ok_or(AuthError::SessionNotFound)?.into(),
        ))
    }

    async fn revoke_session(
        &self,
        request: Request<proto::RevokeSessionRequest>,
    ) -> Result<Response<proto::RevokeSessionResponse>, Status> {
        let request = request.into_inner();
        let (Ok(user_id), Ok(session_id)) = (
            Uuid::parse_str(&request.user_id),
            Uuid::parse_str(&request.session_id),
        ) else {
            return Err(AuthError::SessionNotFound.into());
        };
        let revoked = self.store.revoke_session(user_id, session_id).await;
        let connection_id = revoked
            .map_err(AuthError::from)?
            .ok_or(AuthError::SessionNotFound)?;
        tracing::info!(%user_id, %session_id, "session revoked");
        Ok(Response::new(proto::RevokeSessionResponse {
            connection_id: connection_id.to_string(),
        }))
    }

    async fn get_users(
        &self,
        request: Request<proto::GetUsersRequest>,
    ) -> Result<Response<proto::UserList>, Status> {
        let request = request.into_inner();
        if request.user_ids.len() + request.numbers.len() > MAX_LOOKUP {
            let message = format!("at most {MAX_LOOKUP} users per request");
            return Err(AuthError::Validation(message).into());
        }
        let ids: Vec<Uuid> = request
            .user_ids
            .iter()
            .filter_map(|id| Uuid::parse_str(id).ok())
            .collect();
        if ids.is_empty() && request.numbers.is_empty() {
            return Ok(Response::new(proto::UserList::default()));
        }
        let users = self.store.users_by_ids(&ids, &request.numbers).await;
        Ok(Response::new(user_list(users.map_err(AuthError::from)?)))
    }

    async fn start_registration(
        &self,
        request: Request<proto::StartRegistrationRequest>,
    ) -> Result<Response<proto::PendingRegistration>, Status> {
        Ok(Response::new(self.start(request.into_inner()).await?))
    }

    async fn confirm_registration(
        &self,
        request: Request<proto::ConfirmRegistrationRequest>,
    ) -> Result<Response<proto::User>, Status> {
        Ok(Response::new(self.confirm(request.into_inner()).await?))
    }

    async fn search_users(
        &self,
        request: Request<proto::SearchUsersRequest>,
    ) -> Result<Response<proto::UserList>, Status> {
        let request = request.into_inner();
        validate::text("query", &request.query)?;
        let limit = match request.limit {
            0 => DEFAULT_SEARCH_LIMIT,
            limit => limit.min(MAX_SEARCH_LIMIT),
        };
        let users = self.store.search_users(&fold(&request.query), limit).await;
        Ok(Response::new(user_list(users.map_err(AuthError::from)?)))
    }

    async fn list_users(
        &self,
        request: Request<proto::ListUsersRequest>,
    ) -> Result<Response<proto::UserList>, Status> {
        let request = request.into_inner();
        let limit = match request.limit {
            0 => DEFAULT_LIST_LIMIT,
            limit => limit.min(MAX_LIST_LIMIT),
        };
        let users = self.store.list_users(request.after_number, limit).await;
        Ok(Response::new(user_list(users.map_err(AuthError::from)?)))
    }

    async fn update_user(
        &self,
        request: Request<proto::UpdateUserRequest>,
    ) -> Result<Response<proto::User>, Status> {
        Ok(Response::new(self.update(request.into_inner()).await?))
    }

    async fn delete_user(
        &self,
        request: Request<proto::DeleteUserRequest>,
    ) -> Result<Response<proto::DeleteUserResponse>, Status> {
        Ok(Response::new(self.delete(request.into_inner()).await?))
    }

    async fn verify_platform_key(
        &self,
        request: Request<proto::VerifyPlatformKeyRequest>,
    ) -> Result<Response<proto::Platform>, Status> {
        Ok(Response::new(
            self.platform_by_key(&request.get_ref().key).await?,
        ))
    }

    async fn issue_platform_token(
        &self,
        request: Request<proto::IssuePlatformTokenRequest>,
    ) -> Result<Response<proto::PlatformTokenPair>, Status> {
        Ok(Response::new(
            self.issue_platform_pair(request.into_inner()).await?,
        ))
    }

    async fn refresh_platform_token(
        &self,
        request: Request<proto::RefreshPlatformTokenRequest>,
    ) -> Result<Response<proto::PlatformTokenPair>, Status> {
        let token = &request.get_ref().refresh_token;
        Ok(Response::new(self.refresh_platform_pair(token).await?))
    }

    async fn get_platform_users(
        &self,
        request: Request<proto::GetPlatformUsersRequest>,
    ) -> Result<Response<proto::UserList>, Status> {
        Ok(Response::new(
            self.platform_users(request.into_inner()).await?,
        ))
    }

    async fn register_public_key(
        &self,
        request: Request<proto::RegisterPublicKeyRequest>,
    ) -> Result<Response<proto::PublicKey>, Status> {
        Ok(Response::new(
            self.register_key(request.into_inner()).await?,
        ))
    }

    async fn verify_signature(
        &self,
        request: Request<proto::VerifySignatureRequest>,
    ) -> Result<Response<proto::PublicKey>, Status> {
        Ok(Response::new(
            self.check_signature(request.into_inner()).await?,
        ))
    }

    async fn get_public_key(
        &self,
        request: Request<proto::GetPublicKeyRequest>,
    ) -> Result<Response<proto::PublicKey>, Status> {
        Ok(Response::new(
            self.key_by_id(&request.get_ref().key_id).await?,
        ))
    }
}

/// What is stored of a session token: its SHA-256, in hex.
pub(crate) fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

fn user_list(users: Vec<crate::model::User>) -> proto::UserList {
    proto::UserList {
        users: users.into_iter().map(Into::into).collect(),
    }
}
