//! Registration confirmed by email: `StartRegistration` keeps the account waiting under a
//! random token (stored hashed), `ConfirmRegistration` creates it, once, within the expiry.

use chat_proto::auth as proto;
use std::time::Duration;

use chrono::Utc;
use uuid::Uuid;

use super::{AuthService, token_hash};
use crate::error::AuthError;
use crate::model::{NewUser, PendingRegistration, fold};
use crate::store::AuthStore;
use crate::{password, validate};

/// How long a confirmation link works by default.
pub const REGISTRATION_TTL: Duration = Duration::from_secs(24 * 60 * 60);

impl<S: AuthStore> AuthService<S> {
    /// Validates the account as registration does (the email, required, is its username too),
    /// and stores it pending under a new token.
    pub(super) async fn start(
        &self,
        request: proto::StartRegistrationRequest,
    ) -> Result<proto::PendingRegistration, AuthError> {
        let Some(email) = validate::email(&request.email)? else {
            return Err(AuthError::Validation("email is required".to_owned()));
        };
        // The email becomes the username: it must be one.
        validate::username(email)?;
        validate::password(&request.password)?;
        validate::text("first_name", &request.first_name)?;
        validate::text("last_name", &request.last_name)?;
        let email = email.to_owned();
        let password_hash = password::hash(request.password).await?;
        let token = hex::encode(rand::random::<[u8; 32]>());
        let ttl_ms = i64::try_from(self.registration_ttl.as_millis()).unwrap_or(i64::MAX);
        let expires_at_ms = Utc::now().timestamp_millis().saturating_add(ttl_ms);
        self.store
            .put_pending_registration(PendingRegistration {
                email_folded: fold(&email),
                email: email.clone(),
                password_hash,
                first_name: request.first_name,
                last_name: request.last_name,
                token_hash: token_hash(&token),
                expires_at_ms,
            })
            .await?;
        tracing::info!("registration pending its email's confirmation");
        Ok(proto::PendingRegistration {
            token,
            expires_at_ms,
            email,
        })
    }

    /// Takes the pending registration (so the token works once) and creates its user.
    pub(super) async fn confirm(
        &self,
        request: proto::ConfirmRegistrationRequest,
    ) -> Result<proto::User, AuthError> {
        if request.token.is_empty() || request.token.chars().any(char::is_control) {
            return Err(AuthError::RegistrationNotFound);
        }
        let pending = self
            .store
            .take_pending_registration(&token_hash(&request.token))
            .await?
            .ok_or(AuthError::RegistrationNotFound)?;
        if pending.expires_at_ms <= Utc::now().timestamp_millis() {
            return Err(AuthError::RegistrationNotFound);
        }
        let display_name = format!("{} {}", pending.first_name, pending.last_name)
            .trim()
            .to_owned();
        let user = self
            .store
            .insert_user(NewUser {
                id: Uuid::new_v4(),
                username_folded: pending.email_folded.clone(),
                username: pending.email.clone(),
                email: Some(pending.email),
                email_folded: Some(pending.email_folded),
                password_hash: pending.password_hash,
                first_name: pending.first_name,
                last_name: pending.last_name,
                display_name,
                external_id: None,
            })
            .await?;
        tracing::info!(user_id = %user.id, number = user.number, "registration confirmed");
        Ok(user.into())
    }
}
