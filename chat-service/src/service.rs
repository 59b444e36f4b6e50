//! The gRPC face of the chat service: validates requests and hands them to the store.

use chat_proto::chat::chat_server::Chat;
use chat_proto::chat::{
    CatchUpRequest, CatchUpResponse, Conversation, ConversationList, CreateGroupRequest,
    DeleteGroupRequest, DeleteGroupResponse, GetConversationByExternalIdRequest,
    GetConversationRequest, GetDirectConversationRequest, LatestMessageList,
    ListConversationsRequest, ListLatestMessagesRequest, ListMessagesRequest,
    ListPublicGroupsRequest, LogEntry, LogHeadRequest, LogHeadResponse, MembershipChange,
    MembershipRequest, MessagePage, ReadLogRequest, ReadLogResponse, ReceiptRequest,
    ReceiptResponse, RenameGroupRequest, SendMessageRequest, SendMessageResponse,
};
use chrono::{DateTime, Utc};
use tonic::{Request, Response, Status};
use uuid::Uuid;

use std::sync::Arc;

use tokio::sync::Notify;

use crate::error::ChatError;
use crate::log::{MAX_PAGE, decode_cursor, encode_cursor};
use crate::store::{ChatStore, LogRange, MessageRange, NewGroup, NewMessage, ReceiptKind};

/// Longest message body, in bytes: comfortably inside a 64 KiB WebSocket frame with its envelope.
pub const MAX_BODY_BYTES: usize = 32 * 1024;
pub const MAX_GROUP_NAME_CHARS: usize = 200;
pub const MAX_INITIAL_MEMBERS: usize = 1000;
pub const MAX_CLIENT_MESSAGE_ID_CHARS: usize = 128;

/// Users one gap-repair read may ask about.
pub const MAX_LOG_USERS: usize = 100_000;

/// Most bytes of events in one page of the log: well inside gRPC's default 4 MiB message limit
/// (500 messages of 32 KiB would be 16 MiB).
pub const MAX_PAGE_BYTES: usize = 2 * 1024 * 1024;

/// Events per page of the log: 500 when the request says 0, at most [`MAX_PAGE`].
fn log_page_limit(asked: u32) -> u32 {
    if asked == 0 { 500 } else { asked.min(MAX_PAGE) }
}

/// Cuts `entries` (read with one more than `limit`) to a page of at most `limit` entries and
/// [`MAX_PAGE_BYTES`], never fewer than one; true when more follow.
fn page_to_fit(entries: &mut Vec<LogEntry>, limit: u32) -> bool {
    let mut bytes = 0;
    let mut fit = 0;
    for entry in entries.iter().take(limit as usize) {
        bytes += prost::Message::encoded_len(entry);
        if fit > 0 && bytes > MAX_PAGE_BYTES {
            break;
        }
        fit += 1;
    }
    let more = entries.len() > fit;
    entries.truncate(fit);
    more
}

pub struct ChatService<S> {
    store: S,
    /// Wakes the log relay after a write commits.
    written: Arc<Notify>,
}

impl<S: ChatStore> ChatService<S> {
    /// The service over `store`; `written` is notified after every committed write.
    pub fn new(store: S, written: Arc<Notify>) -> Self {
        Self { store, written }
    }

    /// Passes a write's outcome on, waking the relay when it committed.
    fn wrote<T>(&self, outcome: Result<T, ChatError>) -> Result<Response<T>, Status> {
        let value = outcome?;
        self.written.notify_one();
        Ok(Response::new(value))
    }
}

fn id(value: &str, what: &str) -> Result<Uuid, ChatError> {
    Uuid::parse_str(value).map_err(|_| ChatError::Validation(format!("{what} must be a UUID")))
}

fn time(ms: i64, what: &str) -> Result<Option<DateTime<Utc>>, ChatError> {
    match ms {
        0 => Ok(None),
        ms => DateTime::<Utc>::from_timestamp_millis(ms)
            .map(Some)
            .ok_or_else(|| ChatError::Validation(format!("{what} is out of range"))),
    }
}

/// The actor, group and user of a join or leave.
fn membership(r: MembershipRequest) -> Result<(Uuid, Uuid, Uuid), ChatError> {
    Ok((
        id(&r.actor_id, "actor_id")?,
        id(&r.conversation_id, "conversation_id")?,
        id(&r.user_id, "user_id")?,
    ))
}

fn positive(value: i64) -> Option<i64> {
    (value > 0).then_some(value)
}

/// Postgres text cannot hold NUL: refuse it here rather than fail in the store.
fn without_nul(text: &str, what: &str) -> Result<(), ChatError> {
    if text.contains('\0') {
        return Err(ChatError::Validation(format!(
            "{what} must not contain NUL characters"
        )));
    }
    Ok(())
}

fn optional(text: String) -> Option<String> {
    (!text.is_empty()).then_some(text)
}

#[tonic::async_trait]
impl<S: ChatStore> Chat for ChatService<S> {
    async fn create_group(
        &self,
        request: Request<CreateGroupRequest>,
    ) -> Result<Response<Conversation>, Status> {
        let r = request.into_inner();
        let name = Self::group_name(&r.name)?;
        if r.member_ids.len() > MAX_INITIAL_MEMBERS {
            return Err(ChatError::Validation(format!(
                "a group starts with at most {MAX_INITIAL_MEMBERS} members"
            ))
            .into());
        }
        let members = r
            .member_ids
            .iter()
            .map(|m| id(m, "user_ids[]"))
            .collect::<Result<Vec<_>, _>>()?;
        let group = NewGroup {
            creator: id(&r.creator_id, "creator_id")?,
            name,
            members,
            is_public: r.is_public,
            external_id: optional(r.external_id),
        };
        if let Some(external) = &group.external_id {
            without_nul(external, "external_id")?;
        }
        self.wrote(self.store.create_group(group).await)
    }

    async fn join_group(
        &self,
        request: Request<MembershipRequest>,
    ) -> Result<Response<MembershipChange>, Status> {
        let (actor, conversation, user) = membership(request.into_inner())?;
        self.wrote(self.store.join_group(actor, conversation, user).await)
    }

    async fn leave_group(
        &self,
        request: Request<MembershipRequest>,
    ) -> Result<Response<MembershipChange>, Status> {
        let (actor, conversation, user) = membership(request.into_inner())?;
        self.wrote(self.store.leave_group(actor, conversation, user).await)
    }

    async fn list_conversations(
        &self,
        request: Request<ListConversationsRequest>,
    ) -> Result<Response<ConversationList>, Status> {
        let user = id(&request.into_inner().user_id, "user_id")?;
        let conversations = self.store.list_conversations(user).await?;
        Ok(Response::new(ConversationList { conversations }))
    }

    async fn get_conversation(
        &self,
        request: Request<GetConversationRequest>,
    ) -> Result<Response<Conversation>, Status> {
        let r = request.into_inner();
        let user = id(&r.user_id, "user_id")?;
        let conversation = self.named(&r.conversation_id, r.number).await?;
        let found = self.store.get_conversation(user, conversation).await?;
        let user = user.to_string();
        if r.members_only && !found.members.iter().any(|m| m.user_id == user) {
            return Err(ChatError::NotAMember.into());
        }
        Ok(Response::new(found))
    }

    async fn send_message(
        &self,
        request: Request<SendMessageRequest>,
    ) -> Result<Response<SendMessageResponse>, Status> {
        let r = request.into_inner();
        if r.body.is_empty() || r.body.len() > MAX_BODY_BYTES {
            return Err(ChatError::Validation(format!(
                "a message must be 1 to {MAX_BODY_BYTES} bytes"
            ))
            .into());
        }
        if r.client_message_id.chars().count() > MAX_CLIENT_MESSAGE_ID_CHARS {
            return Err(ChatError::Validation(format!(
                "client_message_id must be at most {MAX_CLIENT_MESSAGE_ID_CHARS} characters"
            ))
            .into());
        }
        without_nul(&r.body, "body")?;
        without_nul(&r.client_message_id, "client_message_id")?;
        without_nul(&r.signature, "signature")?;
        if r.sender_number < 0 {
            return Err(ChatError::Validation("sender_number must not be negative".into()).into());
        }
        let message = NewMessage {
            sender: id(&r.sender_id, "sender_id")?,
            sender_number: r.sender_number,
            conversation: self.named(&r.conversation_id, r.number).await?,
            body: r.body,
            client_message_id: optional(r.client_message_id),
            signature: optional(r.signature),
            origin: r.origin,
        };
        let sent = self.store.send_message(message).await?;
        if sent.duplicate {
            metrics::counter!("chat_messages_duplicate_total").increment(1);
        } else {
            metrics::counter!("chat_messages_accepted_total").increment(1);
        }
        self.wrote(Ok(sent))
    }

    async fn list_messages(
        &self,
        request: Request<ListMessagesRequest>,
    ) -> Result<Response<MessagePage>, Status> {
        let r = request.into_inner();
        let range = MessageRange {
            before_seq: positive(r.before_seq),
            after_seq: positive(r.after_seq),
            before: time(r.before_ms, "before")?,
            after: time(r.after_ms, "after")?,
            limit: if r.limit == 0 { 50 } else { r.limit.min(100) },
        };
        let user = id(&r.user_id, "user_id")?;
        let conversation = self.named(&r.conversation_id, r.number).await?;
        Ok(Response::new(
            self.store.list_messages(user, conversation, range).await?,
        ))
    }

    async fn mark_delivered(
        &self,
        request: Request<ReceiptRequest>,
    ) -> Result<Response<ReceiptResponse>, Status> {
        self.receipt(request.into_inner(), ReceiptKind::Delivered)
            .await
    }

    async fn mark_read(
        &self,
        request: Request<ReceiptRequest>,
    ) -> Result<Response<ReceiptResponse>, Status> {
        self.receipt(request.into_inner(), ReceiptKind::Read).await
    }

    async fn catch_up(
        &self,
        request: Request<CatchUpRequest>,
    ) -> Result<Response<CatchUpResponse>, Status> {
        let r = request.into_inner();
        let user = id(&r.user_id, "user_id")?;
        let after = match (r.cursor.as_str(), r.after_position) {
            ("", Some(position)) if position < 0 => {
                return Err(
                    ChatError::Validation("after_position must not be negative".into()).into(),
                );
            }
            ("", Some(position)) => position,
            ("", None) => {
                let since = time(r.since_ms.max(1), "since")?.unwrap_or_default();
                self.store.log_position_before(since).await?
            }
            (cursor, _) => decode_cursor(cursor)?,
        };
        let limit = log_page_limit(r.limit);
        let range = LogRange {
            after,
            up_to: positive(r.up_to_position),
            limit: limit + 1,
        };
        let mut entries = self.store.read_log(&[user], range).await?;
        let more = page_to_fit(&mut entries, limit);
        let next_cursor = match (more, entries.last()) {
            (true, Some(last)) => encode_cursor(last.position),
            _ => String::new(),
        };
        Ok(Response::new(CatchUpResponse {
            events: entries.into_iter().filter_map(|e| e.event).collect(),
            next_cursor,
        }))
    }

    async fn log_head(
        &self,
        _request: Request<LogHeadRequest>,
    ) -> Result<Response<LogHeadResponse>, Status> {
        let position = self.store.log_head().await?;
        Ok(Response::new(LogHeadResponse { position }))
    }

    async fn read_log(
        &self,
        request: Request<ReadLogRequest>,
    ) -> Result<Response<ReadLogResponse>, Status> {
        let r = request.into_inner();
        if r.user_ids.len() > MAX_LOG_USERS {
            return Err(
                ChatError::Validation(format!("at most {MAX_LOG_USERS} users per read")).into(),
            );
        }
        let users = r
            .user_ids
            .iter()
            .map(|u| id(u, "user_ids[]"))
            .collect::<Result<Vec<_>, _>>()?;
        let limit = log_page_limit(r.limit);
        let range = LogRange {
            after: r.after_position.max(0),
            up_to: positive(r.up_to_position),
            limit: limit + 1,
        };
        let mut entries = if users.is_empty() {
            Vec::new()
        } else {
            self.store.read_log(&users, range).await?
        };
        let has_more = page_to_fit(&mut entries, limit);
        Ok(Response::new(ReadLogResponse { entries, has_more }))
    }

    async fn get_direct_conversation(
        &self,
        request: Request<GetDirectConversationRequest>,
    ) -> Result<Response<Conversation>, Status> {
        let r = request.into_inner();
        let user = id(&r.user_id, "user_id")?;
        let peer = id(&r.peer_id, "peer_id")?;
        if user == peer {
            return Err(ChatError::Validation(
                "a direct or bot conversation is between two different users".into(),
            )
            .into());
        }
        let found = if r.bot {
            self.store.bot_conversation(user, peer, r.create).await?
        } else {
            self.store.direct_conversation(user, peer, r.create).await?
        };
        Ok(Response::new(found.ok_or(ChatError::ConversationNotFound)?))
    }

    async fn list_latest_messages(
        &self,
        request: Request<ListLatestMessagesRequest>,
    ) -> Result<Response<LatestMessageList>, Status> {
        let r = request.into_inner();
        let user = id(&r.user_id, "user_id")?;
        let limit = match r.limit {
            0 => 20,
            limit => limit.min(100),
        };
        Ok(Response::new(
            self.store.latest_messages(user, limit, r.offset).await?,
        ))
    }

    async fn list_public_groups(
        &self,
        _request: Request<ListPublicGroupsRequest>,
    ) -> Result<Response<ConversationList>, Status> {
        let conversations = self.store.public_groups().await?;
        Ok(Response::new(ConversationList { conversations }))
    }

    async fn rename_group(
        &self,
        request: Request<RenameGroupRequest>,
    ) -> Result<Response<Conversation>, Status> {
        let r = request.into_inner();
        let actor = id(&r.actor_id, "actor_id")?;
        let name = Self::group_name(&r.name)?;
        let group = self.named(&r.conversation_id, r.number).await?;
        Ok(Response::new(
            self.store.rename_group(actor, group, name).await?,
        ))
    }

    async fn get_conversation_by_external_id(
        &self,
        request: Request<GetConversationByExternalIdRequest>,
    ) -> Result<Response<Conversation>, Status> {
        let external = request.into_inner().external_id;
        if external.is_empty() || external.contains('\0') {
            return Err(ChatError::ConversationNotFound.into());
        }
        let found = self.store.conversation_by_external_id(&external).await?;
        Ok(Response::new(found.ok_or(ChatError::ConversationNotFound)?))
    }

    async fn delete_group(
        &self,
        request: Request<DeleteGroupRequest>,
    ) -> Result<Response<DeleteGroupResponse>, Status> {
        let r = request.into_inner();
        let actor = id(&r.actor_id, "actor_id")?;
        let conversation =
            Uuid::parse_str(&r.conversation_id).map_err(|_| ChatError::ConversationNotFound)?;
        let removed = self.store.delete_group(actor, conversation).await;
        self.wrote(removed.map(|users| DeleteGroupResponse {
            removed_user_ids: users.iter().map(Uuid::to_string).collect(),
        }))
    }
}

impl<S: ChatStore> ChatService<S> {
    /// A group's name as a request gives it: trimmed, 1 to [`MAX_GROUP_NAME_CHARS`].
    fn group_name(name: &str) -> Result<String, ChatError> {
        let name = name.trim().to_owned();
        if name.is_empty() || name.chars().count() > MAX_GROUP_NAME_CHARS {
            return Err(ChatError::Validation(format!(
                "name must be 1 to {MAX_GROUP_NAME_CHARS} characters"
            )));
        }
        without_nul(&name, "name")?;
        Ok(name)
    }

    /// The conversation a request names: by its id, or by its number when the id is empty.
    async fn named(&self, conversation_id: &str, number: i64) -> Result<Uuid, ChatError> {
        if conversation_id.is_empty() && number > 0 {
            let found = self.store.conversation_by_number(number).await?;
            return found.ok_or(ChatError::ConversationNotFound);
        }
        Uuid::parse_str(conversation_id).map_err(|_| ChatError::ConversationNotFound)
    }

    async fn receipt(
        &self,
        r: ReceiptRequest,
        kind: ReceiptKind,
    ) -> Result<Response<ReceiptResponse>, Status> {
        let user = id(&r.user_id, "user_id")?;
        let message = id(&r.message_id, "message_id").map_err(|_| ChatError::MessageNotFound)?;
        self.wrote(self.store.mark(user, message, kind).await)
    }
}
