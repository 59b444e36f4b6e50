//! Changing and deleting accounts: `UpdateUser` and `DeleteUser`.

use chat_proto::auth as proto;
use uuid::Uuid;

use super::AuthService;
use crate::error::AuthError;
use crate::model::UserChanges;
use crate::store::AuthStore;
use crate::{password, validate};

impl<S: AuthStore> AuthService<S> {
    /// Validates every field given (as registration does), hashes a new password, and applies
    /// the changes.
    pub(super) async fn update(
        &self,
        request: proto::UpdateUserRequest,
    ) -> Result<proto::User, AuthError> {
        let user_id = Uuid::parse_str(&request.user_id).map_err(|_| AuthError::UserNotFound)?;
        if let Some(username) = &request.username {
            validate::username(username)?;
        }
        let email = match &request.email {
            Some(email) => Some(validate::email(email)?.map(str::to_owned)),
            None => None,
        };
        for (field, value) in [
            ("first_name", &request.first_name),
            ("last_name", &request.last_name),
            ("display_name", &request.display_name),
        ] {
            if let Some(value) = value {
                validate::text(field, value)?;
            }
        }
        let password_hash = match request.password {
            Some(new) => {
                validate::password(&new)?;
                Some(password::hash(new).await?)
            }
            None => None,
        };
        let changes = UserChanges {
            username: request.username,
            email,
            password_hash,
            first_name: request.first_name,
            last_name: request.last_name,
            display_name: request.display_name,
        };
        let user = self.store.update_user(user_id, changes).await?;
        let user = user.ok_or(AuthError::UserNotFound)?;
        tracing::info!(%user_id, "user updated");
        Ok(user.into())
    }

    /// Deletes the user and revokes their sessions; the caller closes their sockets.
    pub(super) async fn delete(
        &self,
        request: proto::DeleteUserRequest,
    ) -> Result<proto::DeleteUserResponse, AuthError> {
        let user_id = Uuid::parse_str(&request.user_id).map_err(|_| AuthError::UserNotFound)?;
        let revoked = self.store.delete_user(user_id).await?;
        let revoked = revoked.ok_or(AuthError::UserNotFound)?;
        tracing::info!(%user_id, sessions = revoked.len(), "user deleted");
        Ok(proto::DeleteUserResponse {
            session_ids: revoked.iter().map(|s| s.session_id.to_string()).collect(),
            connection_ids: revoked
                .iter()
                .map(|s| s.connection_id.to_string())
                .collect(),
        })
    }
}
