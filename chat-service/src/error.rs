//! The chat service's errors, and the one place they become gRPC statuses.

pub use chat_proto::errors::ErrorCode;

#[derive(Debug, thiserror::Error)]
pub enum ChatError {
    #[error("{0}")]
    Validation(String),
    #[error("conversation not found")]
    ConversationNotFound,
    #[error("message not found")]
    MessageNotFound,
    #[error("you are not a member of this conversation")]
    NotAMember,
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    WrongKind(String),
    #[error("another conversation has this external id")]
    ExternalIdTaken,
    /// The database cannot be reached now; the caller may try again.
    #[error("storage is unavailable; try again")]
    Unavailable(#[source] anyhow::Error),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl From<sqlx::Error> for ChatError {
    fn from(error: sqlx::Error) -> Self {
        if service_runtime::postgres::is_unavailable(&error) {
            ChatError::Unavailable(error.into())
        } else {
            ChatError::Internal(error.into())
        }
    }
}

impl ChatError {
    /// The same error for another caller (a batch's failure answers each of its items).
    pub fn shared(&self) -> Self {
        match self {
            ChatError::Validation(message) => ChatError::Validation(message.clone()),
            ChatError::ConversationNotFound => ChatError::ConversationNotFound,
            ChatError::MessageNotFound => ChatError::MessageNotFound,
            ChatError::NotAMember => ChatError::NotAMember,
            ChatError::Forbidden(message) => ChatError::Forbidden(message.clone()),
            ChatError::WrongKind(message) => ChatError::WrongKind(message.clone()),
            ChatError::ExternalIdTaken => ChatError::ExternalIdTaken,
            ChatError::Unavailable(cause) => ChatError::Unavailable(anyhow::anyhow!("{cause:#}")),
            ChatError::Internal(cause) => ChatError::Internal(anyhow::anyhow!("{cause:#}")),
        }
    }

    /// The stable snake_case code clients match on.
    pub fn code(&self) -> ErrorCode {
        match self {
            ChatError::Validation(_) => ErrorCode::ValidationFailed,
            ChatError::ConversationNotFound => ErrorCode::ConversationNotFound,
            ChatError::MessageNotFound => ErrorCode::MessageNotFound,
            ChatError::NotAMember => ErrorCode::NotAMember,
            ChatError::Forbidden(_) => ErrorCode::Forbidden,
            ChatError::WrongKind(_) => ErrorCode::WrongConversationKind,
            ChatError::ExternalIdTaken => ErrorCode::ExternalIdTaken,
            ChatError::Unavailable(_) => ErrorCode::ServiceUnavailable,
            ChatError::Internal(_) => ErrorCode::Internal,
        }
    }
}

impl From<ChatError> for tonic::Status {
    fn from(error: ChatError) -> Self {
        let code = error.code();
        let mut status = match &error {
            ChatError::Validation(message) => tonic::Status::invalid_argument(message.clone()),
            ChatError::ConversationNotFound | ChatError::MessageNotFound => {
                tonic::Status::not_found(error.to_string())
            }
            ChatError::NotAMember | ChatError::Forbidden(_) => {
                tonic::Status::permission_denied(error.to_string())
            }
            ChatError::WrongKind(message) => tonic::Status::failed_precondition(message.clone()),
            ChatError::ExternalIdTaken => tonic::Status::already_exists(error.to_string()),
            ChatError::Unavailable(cause) => {
                tracing::warn!(error = %format!("{cause:#}"), "chat store unavailable");
                tonic::Status::unavailable(error.to_string())
            }
            ChatError::Internal(cause) => {
                tracing::error!(error = %format!("{cause:#}"), "chat store failed");
                tonic::Status::internal("internal error")
            }
        };
        code.attach(&mut status);
        status
    }
}
