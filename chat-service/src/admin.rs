//! `admin.v1.ChatAdmin`: the operator's calls (`chat-backend admin ...`) on conversations and
//! messages, the counts, and closing a user's sockets on every gateway replica. Only calls
//! with the admin token get here (see [`service_runtime::grpc::AdminGuard`]).

use std::collections::BTreeSet;

use chat_proto::admin::chat_admin_server::ChatAdmin;
use chat_proto::admin::{
    CloseSocketsRequest, CloseSocketsResponse, ExportMessagesRequest, ExportPage,
    OnlineByNodeRequest, Stats, StatsRequest,
};
use chat_proto::chat::{ConversationList, ListConversationsRequest};
use chat_proto::events::bus_message::Kind;
use chat_proto::events::delivery::Payload;
use chat_proto::events::{BusMessage, Delivery, SessionRevoked, UserRevoked};
use chat_proto::presence::LocateRequest;
use prost::Message as _;
use tonic::{Request, Response, Status};
use uuid::Uuid;

use crate::error::ChatError;
use crate::relay::Publisher;
use crate::store::ChatStore;

/// Messages per export page when the caller does not say, and the most it may ask for.
const DEFAULT_EXPORT_PAGE: u32 = 500;
const MAX_EXPORT_PAGE: u32 = 1000;

/// The operator's side of the chat service. Without a publisher (a chat-service that relays
/// nowhere) there are no gateways to close sockets on and nobody online to count.
#[derive(Clone)]
pub struct ChatAdminService<S> {
    store: S,
    publisher: Option<Publisher>,
}

impl<S: ChatStore> ChatAdminService<S> {
    pub fn new(store: S, publisher: Option<Publisher>) -> Self {
        Self { store, publisher }
    }
}

fn user_id(value: &str) -> Result<Uuid, ChatError> {
    Uuid::parse_str(value).map_err(|_| ChatError::Validation("user_id must be a UUID".into()))
}

fn unavailable(what: &str, status: &Status) -> Status {
    Status::unavailable(format!("{what}: {}", status.message()))
}

#[tonic::async_trait]
impl<S: ChatStore> ChatAdmin for ChatAdminService<S> {
    async fn list_user_conversations(
        &self,
        request: Request<ListConversationsRequest>,
    ) -> Result<Response<ConversationList>, Status> {
        let user = user_id(&request.into_inner().user_id)?;
        let conversations = self.store.list_conversations(user).await?;
        Ok(Response::new(ConversationList { conversations }))
    }

    async fn export_messages(
        &self,
        request: Request<ExportMessagesRequest>,
    ) -> Result<Response<ExportPage>, Status> {
        let r = request.into_inner();
        let conversation = if r.conversation_id.is_empty() && r.number > 0 {
            self.store
                .conversation_by_number(r.number)
                .await?
                .ok_or(ChatError::ConversationNotFound)?
        } else {
            Uuid::parse_str(&r.conversation_id).map_err(|_| ChatError::ConversationNotFound)?
        };
        let limit = match r.limit {
            0 => DEFAULT_EXPORT_PAGE,
            limit => limit.min(MAX_EXPORT_PAGE),
        };
        // One more than asked tells whether more follow.
        let mut messages = self
            .store
            .export_messages(conversation, r.after_seq.max(0), limit + 1)
            .await?
            .ok_or(ChatError::ConversationNotFound)?;
        let has_more = messages.len() > limit as usize;
        messages.truncate(limit as usize);
        Ok(Response::new(ExportPage {
            messages,
            has_more,
            conversation_id: conversation.to_string(),
        }))
    }

    async fn stats(&self, _request: Request<StatsRequest>) -> Result<Response<Stats>, Status> {
        let (conversations, messages) = self.store.counts().await?;
        let online = match &self.publisher {
            Some(publisher) => {
                publisher
                    .presence_admin
                    .clone()
                    .online_by_node(OnlineByNodeRequest {})
                    .await
                    .map_err(|status| unavailable("cannot ask presence-service", &status))?
                    .into_inner()
                    .online
            }
            None => Vec::new(),
        };
        Ok(Response::new(Stats {
            conversations,
            messages,
            online,
        }))
    }

    async fn close_sockets(
        &self,
        request: Request<CloseSocketsRequest>,
    ) -> Result<Response<CloseSocketsResponse>, Status> {
        let r = request.into_inner();
        let user = user_id(&r.user_id)?.to_string();
        let Some(publisher) = &self.publisher else {
            return Ok(Response::new(CloseSocketsResponse {}));
        };
        let located = publisher
            .presence
            .clone()
            .locate(LocateRequest {
                user_ids: vec![user.clone()],
            })
            .await
            .map_err(|status| unavailable("cannot ask presence-service", &status))?
            .into_inner();
        let nodes: BTreeSet<String> = located
            .online
            .into_iter()
            .flat_map(|location| location.node_ids)
            .collect();
        // What the gateways send each other when a session is logged out or a user deleted:
        // each replica closes the matching sockets (1008).
        let payloads: Vec<Payload> = if r.session_ids.is_empty() {
            vec![Payload::UserRevoked(UserRevoked {
                user_id: user.clone(),
            })]
        } else {
            r.session_ids
                .iter()
                .map(|session_id| {
                    Payload::SessionRevoked(SessionRevoked {
                        session_id: session_id.clone(),
                    })
                })
                .collect()
        };
        for node in &nodes {
            for payload in &payloads {
                let message = BusMessage {
                    kind: Some(Kind::Delivery(Box::new(Delivery {
                        user_ids: vec![user.clone()],
                        payload: Some(payload.clone()),
                        ..Delivery::default()
                    }))),
                };
                publisher
                    .bus
                    .publish(node, message.encode_to_vec())
                    .await
                    .map_err(|error| {
                        Status::unavailable(format!("cannot publish to replica {node}: {error:#}"))
                    })?;
            }
        }
        tracing::info!(user_id = %user, replicas = nodes.len(), "sockets closed by an operator");
        Ok(Response::new(CloseSocketsResponse {}))
    }
}
