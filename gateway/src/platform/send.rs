//! `POST /messages`: a user's signed messages (one, or a batch) and delivery receipts.
//!
//! Each message is signed by the sender's private key: RSASSA-PKCS1-v1_5 with SHA-256 over the
//! UTF-8 bytes of `chatID + "\n" + clientMessageID + "\n" + text` ([`canonical`]), in base64.
//! A batch is checked whole — its form, its chats, the caller's membership, every signature —
//! before anything is stored: one bad signature refuses it all. Stored messages keep their
//! signature and the id of the key that made it, which every recipient gets.

use std::collections::HashMap;

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use chat_proto::auth::VerifySignatureRequest;
use chat_proto::chat::{
    Conversation, GetConversationByExternalIdRequest, ReceiptRequest, SendMessageRequest,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::backend::{parse, valid_id};
use super::error::{CHAT_NOT_FOUND, ErrorBody, INVALID_PARAMETERS, PlatformError};
use super::user::PlatformUser;
use crate::state::AppState;

/// Most messages plus receipts one request may carry.
const MAX_BATCH: usize = 100;
const MAX_CLIENT_ID_CHARS: usize = 128;
const MAX_TEXT_BYTES: usize = 32 * 1024;

/// The bytes a message's signature signs.
pub fn canonical(chat_id: &str, client_message_id: &str, text: &str) -> Vec<u8> {
    format!("{chat_id}\n{client_message_id}\n{text}").into_bytes()
}

/// What `signature` holds in the shared model: the key's id and the signature.
pub fn stored_signature(key_id: &str, signature: &str) -> String {
    format!("{key_id}:{signature}")
}

/// A message to send.
#[derive(Deserialize, ToSchema, Clone)]
#[schema(as = platform::OutgoingMessage)]
pub struct OutgoingMessage {
    #[serde(rename = "chatID")]
    chat_id: String,
    /// The client's id of the message, `[a-zA-Z0-9._:-]`, 1 to 128: a retry with the same id
    /// stores nothing new and answers the first message.
    #[serde(rename = "clientMessageID")]
    client_message_id: String,
    text: String,
    /// base64 RSASSA-PKCS1-v1_5 SHA-256 signature of `chatID\nclientMessageID\ntext`.
    #[serde(default)]
    signature: Option<String>,
}

/// A delivery receipt for a message received.
#[derive(Deserialize, ToSchema)]
#[schema(as = platform::OutgoingReceipt)]
pub struct OutgoingReceipt {
    #[serde(rename = "messageID")]
    message_id: String,
}

/// A batch: messages and receipts, either may be left out. A single message may also be sent
/// as the body itself.
#[derive(Deserialize, ToSchema)]
#[schema(as = platform::MessageBatch)]
pub struct Batch {
    #[serde(default)]
    messages: Vec<OutgoingMessage>,
    #[serde(default)]
    receipts: Vec<OutgoingReceipt>,
}

#[derive(Serialize, ToSchema)]
#[schema(as = platform::SentMessage)]
pub struct SentMessage {
    #[serde(rename = "messageID")]
    message_id: String,
    #[serde(rename = "chatID")]
    chat_id: String,
    #[serde(rename = "clientMessageID")]
    client_message_id: String,
    /// The message's place in its chat, from 1.
    seq: i64,
    /// Unix ms, as a string.
    #[serde(rename = "creationTime")]
    creation_time: String,
    /// The key the signature was checked with.
    #[serde(rename = "keyID")]
    key_id: String,
    /// True when an earlier send with the same clientMessageID stored it.
    duplicate: bool,
}

#[derive(Serialize, ToSchema)]
#[schema(as = platform::ReceiptAnswer)]
pub struct ReceiptAnswer {
    #[serde(rename = "messageID")]
    message_id: String,
    /// False when the message had already been marked delivered (or a later one).
    advanced: bool,
}

#[derive(Serialize, ToSchema)]
#[schema(as = platform::SendAnswer)]
pub struct SendAnswer {
    messages: Vec<SentMessage>,
    receipts: Vec<ReceiptAnswer>,
}

fn valid_client_id(id: &str) -> bool {
    (1..=MAX_CLIENT_ID_CHARS).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b':' | b'-'))
}

fn batch(body: &[u8]) -> Result<Batch, PlatformError> {
    let value: serde_json::Value = parse(body, INVALID_PARAMETERS)?;
    let single = value.get("messages").is_none() && value.get("receipts").is_none();
    let batch = if single {
        let message = serde_json::from_value(value)
            .map_err(|_| PlatformError::bad_request(INVALID_PARAMETERS))?;
        Batch {
            messages: vec![message],
            receipts: Vec::new(),
        }
    } else {
        serde_json::from_value(value).map_err(|_| PlatformError::bad_request(INVALID_PARAMETERS))?
    };
    let count = batch.messages.len() + batch.receipts.len();
    let fits = (1..=MAX_BATCH).contains(&count)
        && batch.messages.iter().all(|m| {
            valid_id(&m.chat_id)
                && valid_client_id(&m.client_message_id)
                && !m.text.is_empty()
                && m.text.len() <= MAX_TEXT_BYTES
        })
        && batch
            .receipts
            .iter()
            .all(|r| uuid::Uuid::parse_str(&r.message_id).is_ok());
    if fits {
        Ok(batch)
    } else {
        Err(PlatformError::bad_request(INVALID_PARAMETERS))
    }
}

#[utoipa::path(post, path = "/messages", tag = "platform",
    summary = "Send signed messages (one, or a batch) and delivery receipts",
    description = "The body is one message, or `{\"messages\": [...], \"receipts\": [...]}`. \
        Each message's `signature` is the base64 RSASSA-PKCS1-v1_5 SHA-256 signature, by the \
        sender's newest registered key, of the UTF-8 bytes of \
        `chatID + \"\\n\" + clientMessageID + \"\\n\" + text`. The batch is checked whole \
        before anything is stored.",
    operation_id = "platform_send_messages", security(("bearer" = [])),
    request_body = Batch,
    responses((status = 200, description = "what was stored, in the order sent", body = SendAnswer),
        (status = 400, description = "`Invalid parameters`, `Missing signature`, `Invalid \
            signature` or `No public key registered`: nothing was stored", body = ErrorBody),
        (status = 401, description = "`Unauthorized`", body = ErrorBody),
        (status = 403, description = "`Not a platform user`, `Not a member of the chat`",
            body = ErrorBody),
        (status = 404, description = "`ChatID not found` (also another platform's chat), \
            `Message not found` (a receipt's)", body = ErrorBody),
        (status = 500, description = "`Internal server error`", body = ErrorBody)))]
pub async fn send_messages(
    State(state): State<AppState>,
    caller: PlatformUser,
    body: Bytes,
) -> Result<Json<SendAnswer>, PlatformError> {
    let batch = batch(&body)?;
    let chats = chats_of(&state, &caller, &batch.messages).await?;
    let mut keys = Vec::with_capacity(batch.messages.len());
    for message in &batch.messages {
        keys.push(verify(&state, &caller, message).await?);
    }
    let mut chat = state.services.chat.clone();
    let mut sent = Vec::with_capacity(batch.messages.len());
    for (message, key_id) in batch.messages.into_iter().zip(keys) {
        let conversation = &chats[&message.chat_id];
        let answer = chat
            .send_message(SendMessageRequest {
                sender_id: caller.user.id.clone(),
                conversation_id: conversation.id.clone(),
                body: message.text,
                client_message_id: message.client_message_id.clone(),
                signature: stored_signature(&key_id, message.signature.as_deref().unwrap_or("")),
                sender_number: caller.user.number,
                number: 0,
                origin: None,
            })
            .await
            .map_err(|status| PlatformError::status(status, INVALID_PARAMETERS))?
            .into_inner();
        let stored = answer.message.unwrap_or_default();
        sent.push(SentMessage {
            message_id: stored.id,
            chat_id: message.chat_id,
            client_message_id: message.client_message_id,
            seq: stored.seq,
            creation_time: stored.created_at_ms.to_string(),
            key_id,
            duplicate: answer.duplicate,
        });
    }
    let mut receipts = Vec::with_capacity(batch.receipts.len());
    for receipt in batch.receipts {
        let answer = chat
            .mark_delivered(ReceiptRequest {
                user_id: caller.user.id.clone(),
                message_id: receipt.message_id.clone(),
            })
            .await
            .map_err(|status| match status.code() {
                tonic::Code::NotFound | tonic::Code::PermissionDenied => {
                    PlatformError::new(StatusCode::NOT_FOUND, "Message not found")
                }
                _ => PlatformError::status(status, INVALID_PARAMETERS),
            })?
            .into_inner();
        receipts.push(ReceiptAnswer {
            message_id: receipt.message_id,
            advanced: answer.advanced,
        });
    }
    Ok(Json(SendAnswer {
        messages: sent,
        receipts,
    }))
}

/// The chats the messages go to, by chatID: each the caller's platform's, with the caller a
/// member.
async fn chats_of(
    state: &AppState,
    caller: &PlatformUser,
    messages: &[OutgoingMessage],
) -> Result<HashMap<String, Conversation>, PlatformError> {
    let mut chats = HashMap::new();
    for message in messages {
        if chats.contains_key(&message.chat_id) {
            continue;
        }
        let found = state
            .services
            .chat
            .clone()
            .get_conversation_by_external_id(GetConversationByExternalIdRequest {
                external_id: caller.chat_key(&message.chat_id),
            })
            .await
            .map_err(|status| match status.code() {
                tonic::Code::NotFound => PlatformError::chat_not_found(),
                _ => PlatformError::status(status, CHAT_NOT_FOUND),
            })?
            .into_inner();
        if !found.members.iter().any(|m| m.user_id == caller.user.id) {
            return Err(PlatformError::new(
                StatusCode::FORBIDDEN,
                "Not a member of the chat",
            ));
        }
        chats.insert(message.chat_id.clone(), found);
    }
    Ok(chats)
}

/// The id of the key the message's signature verifies with.
async fn verify(
    state: &AppState,
    caller: &PlatformUser,
    message: &OutgoingMessage,
) -> Result<String, PlatformError> {
    let signature = message
        .signature
        .as_deref()
        .filter(|s| !s.trim().is_empty())
        .ok_or_else(|| PlatformError::bad_request("Missing signature"))?;
    let key = state
        .services
        .auth
        .clone()
        .verify_signature(VerifySignatureRequest {
            user_id: caller.user.id.clone(),
            message: canonical(&message.chat_id, &message.client_message_id, &message.text),
            signature: signature.to_owned(),
        })
        .await
        .map_err(|status| match crate::error::ApiError::from_status(status) {
            error if error.service == Some(crate::error::ErrorCode::BadSignature) => {
                PlatformError::bad_request("Invalid signature")
            }
            error if error.service == Some(crate::error::ErrorCode::NoPublicKey) => {
                PlatformError::bad_request("No public key registered")
            }
            error => PlatformError::of(error, INVALID_PARAMETERS),
        })?
        .into_inner();
    Ok(key.id)
}
