//! `admin.v1.AuthAdmin`: the operator's calls (`chat-backend admin ...`), on the same store and
//! with the same rules as the service's own calls. Only calls with the admin token get here
//! (see [`service_runtime::grpc::AdminGuard`]).

use chat_proto::admin;
use chat_proto::admin::auth_admin_server::AuthAdmin;
use chat_proto::auth as proto;
use chat_proto::auth::auth_server::Auth;
use tonic::{Request, Response, Status};
use uuid::Uuid;

use super::AuthService;
use crate::error::AuthError;
use crate::model::fold;
use crate::store::AuthStore;

/// The operator's side of an [`AuthService`]: clones share its store.
pub struct AuthAdminService<S> {
    service: AuthService<S>,
}

impl<S> Clone for AuthAdminService<S> {
    fn clone(&self) -> Self {
        AuthAdminService {
            service: self.service.clone(),
        }
    }
}

impl<S: AuthStore> AuthAdminService<S> {
    pub fn new(service: AuthService<S>) -> Self {
        AuthAdminService { service }
    }
}

fn user_id(id: &str) -> Result<Uuid, AuthError> {
    Uuid::parse_str(id).map_err(|_| AuthError::UserNotFound)
}

#[tonic::async_trait]
impl<S: AuthStore> AuthAdmin for AuthAdminService<S> {
    async fn create_user(
        &self,
        request: Request<proto::RegisterRequest>,
    ) -> Result<Response<proto::User>, Status> {
        let user = Auth::register(&self.service, request).await?;
        tracing::info!(user_id = %user.get_ref().id, "user created by an operator");
        Ok(user)
    }

    async fn find_user(
        &self,
        request: Request<admin::FindUserRequest>,
    ) -> Result<Response<proto::User>, Status> {
        let wanted = request.into_inner().user;
        let store = &self.service.store;
        let found = if let Ok(id) = Uuid::parse_str(&wanted) {
            store.user_by_id(id).await.map_err(AuthError::from)?
        } else {
            let folded = fold(&wanted);
            match store
                .credentials_by_username(&folded)
                .await
                .map_err(AuthError::from)?
            {
                Some(credentials) => Some(credentials.user),
                None => store
                    .credentials_by_email(&folded)
                    .await
                    .map_err(AuthError::from)?
                    .map(|credentials| credentials.user),
            }
        };
        let user = found.ok_or(AuthError::UserNotFound)?;
        Ok(Response::new(user.into()))
    }

    async fn set_password(
        &self,
        request: Request<admin::SetPasswordRequest>,
    ) -> Result<Response<proto::User>, Status> {
        let request = request.into_inner();
        let user = self
            .service
            .update(proto::UpdateUserRequest {
                user_id: request.user_id,
                password: Some(request.password),
                ..proto::UpdateUserRequest::default()
            })
            .await?;
        tracing::info!(user_id = %user.id, "password set by an operator");
        Ok(Response::new(user))
    }

    async fn list_sessions(
        &self,
        request: Request<admin::ListSessionsRequest>,
    ) -> Result<Response<admin::SessionList>, Status> {
        let user_id = user_id(&request.into_inner().user_id)?;
        let store = &self.service.store;
        if store
            .user_by_id(user_id)
            .await
            .map_err(AuthError::from)?
            .is_none()
        {
            return Err(AuthError::UserNotFound.into());
        }
        let sessions = store
            .live_sessions(user_id)
            .await
            .map_err(AuthError::from)?;
        Ok(Response::new(admin::SessionList {
            sessions: sessions.into_iter().map(Into::into).collect(),
        }))
    }

    async fn revoke_sessions(
        &self,
        request: Request<admin::RevokeSessionsRequest>,
    ) -> Result<Response<admin::RevokeSessionsResponse>, Status> {
        let request = request.into_inner();
        let user_id = user_id(&request.user_id)?;
        let store = &self.service.store;
        if store
            .user_by_id(user_id)
            .await
            .map_err(AuthError::from)?
            .is_none()
        {
            return Err(AuthError::UserNotFound.into());
        }
        let live: Vec<Uuid> = store
            .live_sessions(user_id)
            .await
            .map_err(AuthError::from)?
            .into_iter()
            .map(|session| session.id)
            .collect();
        // Every session named must be live before any is revoked: all or nothing.
        let wanted = if request.session_ids.is_empty() {
            live
        } else {
            let mut wanted = Vec::with_capacity(request.session_ids.len());
            for id in &request.session_ids {
                match Uuid::parse_str(id) {
                    Ok(id) if live.contains(&id) => wanted.push(id),
                    _ => {
                        return Err(Status::not_found(format!(
                            "{id} is not a live session of the user"
                        )));
                    }
                }
            }
            wanted
        };
        let mut revoked = admin::RevokeSessionsResponse::default();
        for session_id in wanted {
            // A session the user logged out of meanwhile is gone already: nothing to add.
            if let Some(connection_id) = store
                .revoke_session(user_id, session_id)
                .await
                .map_err(AuthError::from)?
            {
                revoked.session_ids.push(session_id.to_string());
                revoked.connection_ids.push(connection_id.to_string());
            }
        }
        tracing::info!(%user_id, sessions = revoked.session_ids.len(), "sessions revoked by an operator");
        Ok(Response::new(revoked))
    }

    async fn delete_user(
        &self,
        request: Request<proto::DeleteUserRequest>,
    ) -> Result<Response<proto::DeleteUserResponse>, Status> {
        Ok(Response::new(
            self.service.delete(request.into_inner()).await?,
        ))
    }

    async fn count_users(
        &self,
        _request: Request<admin::CountUsersRequest>,
    ) -> Result<Response<admin::CountUsersResponse>, Status> {
        let users = self
            .service
            .store
            .count_users()
            .await
            .map_err(AuthError::from)?;
        Ok(Response::new(admin::CountUsersResponse { users }))
    }
}
