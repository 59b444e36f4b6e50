//! The gRPC adapter: validates `presence.v1.Presence` requests and hands them to a store.

use std::sync::Arc;
use std::time::Duration;

use chat_proto::presence::presence_server::Presence;
use chat_proto::presence::{
    ListTypingRequest, LocateRequest, LocateResponse, PresenceAck, RefreshRequest, SessionPresence,
    TypingList, TypingRequest, UserLocation,
};
use tonic::{Request, Response, Status};

use crate::error::PresenceError;
use crate::store::PresenceStore;
use crate::validate;

type Outcome<T> = Result<T, PresenceError>;

/// `presence.v1.Presence` over any [`PresenceStore`].
pub struct PresenceService<S> {
    store: Arc<S>,
}

impl<S: PresenceStore> PresenceService<S> {
    pub fn new(store: S) -> Self {
        Self {
            store: Arc::new(store),
        }
    }

    async fn mark_online(&self, request: SessionPresence) -> Outcome<PresenceAck> {
        session_ids(&request)?;
        let ttl = validate::ttl(request.ttl_ms)?;
        let SessionPresence {
            user_id,
            session_id,
            node_id,
            ..
        } = &request;
        self.store
            .session_online(user_id, session_id, node_id, ttl)
            .await?;
        tracing::debug!(%user_id, %session_id, %node_id, "session online");
        Ok(PresenceAck {})
    }

    async fn mark_offline(&self, request: SessionPresence) -> Outcome<PresenceAck> {
        session_ids(&request)?;
        let SessionPresence {
            user_id,
            session_id,
            node_id,
            ..
        } = &request;
        self.store
            .session_offline(user_id, session_id, node_id)
            .await?;
        tracing::debug!(%user_id, %session_id, %node_id, "session offline");
        Ok(PresenceAck {})
    }

    async fn refresh_node(&self, request: RefreshRequest) -> Outcome<PresenceAck> {
        validate::node_id(&request.node_id)?;
        validate::batch("sessions", request.sessions.len())?;
        let ttl = validate::ttl(request.ttl_ms)?;
        let sessions = request
            .sessions
            .into_iter()
            .map(|session| {
                validate::id("sessions.user_id", &session.user_id)?;
                validate::id("sessions.session_id", &session.session_id)?;
                Ok((session.user_id, session.session_id))
            })
            .collect::<Outcome<Vec<_>>>()?;
        self.store.refresh(&request.node_id, &sessions, ttl).await?;
        Ok(PresenceAck {})
    }

    async fn locate_users(&self, request: LocateRequest) -> Outcome<LocateResponse> {
        validate::batch("user_ids", request.user_ids.len())?;
        for user_id in &request.user_ids {
            validate::id("user_ids", user_id)?;
        }
        let online = self
            .store
            .locate(&request.user_ids)
            .await?
            .into_iter()
            .map(|location| UserLocation {
                user_id: location.user_id,
                node_ids: location.node_ids,
                sessions: location.sessions,
            })
            .collect();
        Ok(LocateResponse { online })
    }

    async fn mark_typing(&self, request: TypingRequest) -> Outcome<PresenceAck> {
        validate::id("conversation_id", &request.conversation_id)?;
        validate::id("user_id", &request.user_id)?;
        // Stopping needs no expiry, so callers may leave ttl_ms at 0 then.
        let ttl = match request.typing {
            true => validate::ttl(request.ttl_ms)?,
            false => Duration::ZERO,
        };
        self.store
            .set_typing(
                &request.conversation_id,
                &request.user_id,
                request.typing,
                ttl,
            )
            .await?;
        Ok(PresenceAck {})
    }

    async fn typing_users(&self, request: ListTypingRequest) -> Outcome<TypingList> {
        validate::id("conversation_id", &request.conversation_id)?;
        let user_ids = self.store.list_typing(&request.conversation_id).await?;
        Ok(TypingList { user_ids })
    }
}

fn session_ids(request: &SessionPresence) -> Outcome<()> {
    validate::id("user_id", &request.user_id)?;
    validate::id("session_id", &request.session_id)?;
    validate::node_id(&request.node_id)
}

fn reply<T>(outcome: Outcome<T>) -> Result<Response<T>, Status> {
    outcome.map(Response::new).map_err(Status::from)
}

#[tonic::async_trait]
impl<S: PresenceStore> Presence for PresenceService<S> {
    async fn session_online(
        &self,
        request: Request<SessionPresence>,
    ) -> Result<Response<PresenceAck>, Status> {
        reply(self.mark_online(request.into_inner()).await)
    }

    async fn session_offline(
        &self,
        request: Request<SessionPresence>,
    ) -> Result<Response<PresenceAck>, Status> {
        reply(self.mark_offline(request.into_inner()).await)
    }

    async fn refresh(
        &self,
        request: Request<RefreshRequest>,
    ) -> Result<Response<PresenceAck>, Status> {
        reply(self.refresh_node(request.into_inner()).await)
    }

    async fn locate(
        &self,
        request: Request<LocateRequest>,
    ) -> Result<Response<LocateResponse>, Status> {
        reply(self.locate_users(request.into_inner()).await)
    }

    async fn set_typing(
        &self,
        request: Request<TypingRequest>,
    ) -> Result<Response<PresenceAck>, Status> {
        reply(self.mark_typing(request.into_inner()).await)
    }

    async fn list_typing(
        &self,
        request: Request<ListTypingRequest>,
    ) -> Result<Response<TypingList>, Status> {
        reply(self.typing_users(request.into_inner()).await)
    }
}

/// `admin.v1.PresenceAdmin`: the operator's counts. Open like `Locate`: it tells how many, not
/// who.
pub struct PresenceAdminService<S> {
    store: Arc<S>,
}

impl<S: PresenceStore> PresenceAdminService<S> {
    /// The admin side of `service`, over the same store.
    pub fn of(service: &PresenceService<S>) -> Self {
        Self {
            store: Arc::clone(&service.store),
        }
    }
}

#[tonic::async_trait]
impl<S: PresenceStore> chat_proto::admin::presence_admin_server::PresenceAdmin
    for PresenceAdminService<S>
{
    async fn online_by_node(
        &self,
        _request: Request<chat_proto::admin::OnlineByNodeRequest>,
    ) -> Result<Response<chat_proto::admin::OnlineByNodeResponse>, Status> {
        let online = self
            .store
            .online_by_node()
            .await
            .map_err(PresenceError::from)?
            .into_iter()
            .map(|(node_id, sessions)| chat_proto::admin::NodeSessions { node_id, sessions })
            .collect();
        Ok(Response::new(chat_proto::admin::OnlineByNodeResponse {
            online,
        }))
    }
}
